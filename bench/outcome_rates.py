"""Benchmark the cohort table: selectors.outcome_rates per dimension on 100,000 cases and
500,000 findings, against the same aggregate written as one plain SQL GROUP BY over the
same tables in the same run. The target is at most 1.5 times the plain SQL and well
under a second; both must give the same numbers, or the run fails.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python bench/outcome_rates.py

A database of its own (wishlist_bench_rates) is created, filled with seeded synthetic
data and dropped afterwards; with --reuse it is kept, and the next --reuse run measures
it again without generating. --explain year,cohort prints EXPLAIN ANALYZE of both
queries for those dimensions; --no-jit turns PostgreSQL's JIT compilation off for the
run. Every query is timed as the best and the median of --runs runs after a warm-up.

The plain SQL is written twice, the way a DBA would: the confirmed and rejected findings
pre-aggregated per case in a CTE and LEFT JOINed ("pre-agg"), and the same correlated
subqueries as the ORM's, written once each in a derived table ("correlated"). The
faster of the two is the baseline; the table shows the other's best time too. The ORM
and the two SQL queries take turns in each round of runs, so that the load of anything
else running on the machine falls on all three alike.

Generating the data takes about half a minute; deriving index dates, timings and blocs
with derived.case_index_dates_refresh() about four more on a 2-core machine.
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")
# A developer's tool, run like `make run`: DEBUG is otherwise off and needs a SECRET_KEY.
os.environ.setdefault("DEBUG", "1")

BENCH_DB = "wishlist_bench_rates"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases (100000)")
    parser.add_argument("--findings", type=int, default=500_000, help="findings (500000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query (5)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database, and use a kept one as it is"
    )
    parser.add_argument(
        "--no-jit", action="store_true", help="run every query with the session's jit off"
    )
    parser.add_argument(
        "--explain", default="", help="comma-separated dimensions to EXPLAIN ANALYZE"
    )
    args = parser.parse_args()
    if args.cases < 100 or args.findings < 0 or args.runs < 1:
        parser.error("--cases must be at least 100, --runs at least 1")
    return args


# Imported by bench/analytics_page.py for its data set: the options are this script's own.
args = parse_args() if __name__ == "__main__" else None
if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    sys.exit("This benchmark measures PostgreSQL: set DATABASE_URL=postgres://...")

import django

django.setup()

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import derived, rules
from cases.analytics import cohorts
from cases.analytics import selectors as analytics_selectors
from cases.bulk import bulk_insert
from cases.models import (
    Case,
    CheckRun,
    Cohort,
    CooperationMethod,
    Entity,
    Finding,
    Post,
    Referral,
    Team,
)

# Host countries: NATO members (Montenegro joined in 2017), Major Non-NATO Allies
# (Brazil from 2019), Russia, and others.
HOSTS = "RU US GB JP DE FR IT ES NL BE SE FI NO DK PL CZ AT CH IE PT GR HU RO BG IL"
HOSTS += " TR AU NZ CA KR SG IN BR AR ZA EG ME TH UA KZ"
COUNTRIES = HOSTS.split()
FIELDS = [
    "biotechnology",
    "artificial intelligence",
    "new materials",
    "energy",
    "aerospace",
    "advanced manufacturing",
    "agriculture",
    "medical devices",
    "ict",
]
ENTITY_KINDS = ["company"] * 14 + ["university"] * 3 + ["research_institute"] * 2 + ["other"]
STATUSES = ["open"] * 8 + ["monitoring"] * 4 + ["in_review"] * 3 + ["concluded"] * 4 + ["closed"]
FINDING_KINDS = Finding.Kind.values
REVIEW_STATES = ["lead"] * 5 + ["confirmed"] * 3 + ["rejected"] * 2
COUNTERPARTIES = ["CN"] * 7 + ["HK"] * 2 + ["MO", "US", "US", "DE", "DE", "JP", "GB", ""]
METHODS = CooperationMethod.values
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def partial_date(rng: random.Random, day: date) -> tuple[date, str]:
    """The first day of the period a date is known to: day, month or year."""
    roll = rng.random()
    if roll < 0.6:
        return day, "day"
    if roll < 0.9:
        return day.replace(day=1), "month"
    return day.replace(month=1, day=1), "year"


def generate(rng: random.Random, n_cases: int, n_findings: int) -> dict[str, float]:
    """Fill the empty database; return seconds per step."""
    timings = {}
    start = time.perf_counter()
    teams = Team.objects.bulk_create([Team(name=f"Team {n}") for n in range(1, 5)])
    posts = [Post(name=f"Embassy in {c}", kind="embassy", host_country=c) for c in COUNTRIES]
    posts += [
        Post(name=f"Consulate-General {n} in {c}", kind="consulate_general", host_country=c)
        for c in COUNTRIES[:10]
        for n in (1, 2)
    ]
    posts = Post.objects.bulk_create(posts)

    # Entities and cases: one case each, a tenth of them controls matched to a referred case.
    countries = [rng.choice(COUNTRIES) for _ in range(n_cases)]
    entity_rows = [
        (f"Bench Entity {n:06d} Ltd", f"bench entity {n:06d}", rng.choice(ENTITY_KINDS), country)
        + (NOW, NOW)
        for n, country in enumerate(countries)
    ]
    bulk_insert(
        Entity, ["name", "name_key", "kind", "country", "created_at", "updated_at"], entity_rows
    )
    entity_ids = dict(Entity.objects.values_list("name_key", "id"))
    entities = [entity_ids[row[1]] for row in entity_rows]
    is_control = [rng.random() < 0.1 for _ in range(n_cases)]

    def case_row(n: int, matched: int | None) -> tuple:
        team = rng.choice(teams).pk if rng.random() < 0.95 else None
        status = rng.choice(STATUSES)
        kind = "control" if matched else "referred"
        return (entities[n], kind, matched, team, status, rng.randint(1, 4), NOW, NOW)

    case_fields = ["entity", "kind", "matched_case", "team", "status", "priority"]
    case_fields += ["created_at", "updated_at"]
    referred = [n for n in range(n_cases) if not is_control[n]]
    bulk_insert(Case, case_fields, [case_row(n, None) for n in referred])
    case_of = dict(Case.objects.values_list("entity_id", "id"))
    referred_cases = [case_of[entities[n]] for n in referred]
    bulk_insert(
        Case,
        case_fields,
        [case_row(n, rng.choice(referred_cases)) for n in range(n_cases) if is_control[n]],
    )
    case_of = dict(Case.objects.values_list("entity_id", "id"))
    timings["entities and cases"] = time.perf_counter() - start

    # Referrals: one or two per referred case, 2015-2020, mostly from the same post.
    start = time.perf_counter()
    posts_in = defaultdict(list)
    for post in posts:
        posts_in[post.host_country].append(post)
    referral_rows = []
    first_referral: dict[int, tuple[date, str]] = {}  # case id -> (date, precision)
    rank = {"day": 0, "month": 1, "year": 2}
    span = (date(2020, 12, 31) - date(2015, 1, 1)).days
    for n in referred:
        case_id = case_of[entities[n]]
        post = rng.choice(posts_in[countries[n]])
        for _ in range(1 if rng.random() < 0.67 else 2):
            if rng.random() < 0.2:
                post = rng.choice(posts)
            when, precision = partial_date(
                rng, date(2015, 1, 1) + timedelta(days=rng.randint(0, span))
            )
            methods = rng.sample(METHODS, rng.choice([0, 1, 1, 1, 2, 2, 3]))
            referral_rows.append(
                (
                    f"R{len(referral_rows):07d}",
                    entities[n],
                    post.pk,
                    when,
                    precision,
                    post.host_country,
                    rng.choice(FIELDS),
                    methods,
                    NOW,
                )
            )
            best = first_referral.get(case_id)
            if best is None or (when, rank[precision]) < (best[0], rank[best[1]]):
                first_referral[case_id] = (when, precision)
    bulk_insert(
        Referral,
        [
            "external_id",
            "entity",
            "post",
            "date",
            "date_precision",
            "host_country",
            "technology_field",
            "cooperation_methods",
            "created_at",
        ],
        referral_rows,
    )
    timings["referrals"] = time.perf_counter() - start

    # Findings: skewed over cases (many have none), dated around the case's index date.
    start = time.perf_counter()
    matched = dict(Case.objects.filter(kind="control").values_list("id", "matched_case_id"))
    all_cases = sorted(case_of.values())
    index_of = {case_id: first_referral[matched.get(case_id, case_id)][0] for case_id in all_cases}
    weights = [rng.expovariate(1.0) ** 2 for _ in all_cases]
    finding_rows = []
    for case_id in rng.choices(all_cases, weights, k=n_findings):
        state = rng.choice(REVIEW_STATES)
        if rng.random() < 0.03:
            event, precision = None, ""
        else:
            event, precision = partial_date(
                rng, index_of[case_id] + timedelta(days=rng.randint(-1200, 1800))
            )
        finding_rows.append(
            (
                case_id,
                rng.choice(FINDING_KINDS),
                rng.choice(COUNTERPARTIES),
                event,
                precision,
                state,
                NOW if state != "lead" else None,
                rng.choice(["manual", "gleif", "opencorporates", "openalex"]),
                NOW,
                NOW,
            )
        )
    bulk_insert(
        Finding,
        [
            "case",
            "kind",
            "counterparty_country",
            "event_date",
            "event_date_precision",
            "review_state",
            "reviewed_at",
            "source",
            "created_at",
            "updated_at",
        ],
        finding_rows,
    )
    timings["findings"] = time.perf_counter() - start

    # One check run for seven cases in ten; ten named cohorts of 1,000 referred cases.
    start = time.perf_counter()
    run_rows = []
    for case_id in all_cases:
        if rng.random() < 0.7:
            finished = datetime(2021, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randint(0, 30000))
            status = rng.choice(["ok"] * 8 + ["no_results", "error"])
            run_rows.append((case_id, "gleif", finished, finished, finished, status, 1))
    bulk_insert(
        CheckRun,
        ["case", "source", "queued_at", "started_at", "finished_at", "status", "attempts"],
        run_rows,
    )
    cohorts = Cohort.objects.bulk_create([Cohort(name=f"Cohort {n:02d}") for n in range(1, 11)])
    size = min(1000, len(referred_cases))
    bulk_insert(
        Cohort.cases.through,
        ["cohort", "case"],
        [(c.pk, case_id) for c in cohorts for case_id in rng.sample(referred_cases, size)],
    )
    timings["check runs and cohorts"] = time.perf_counter() - start
    return timings


def derive() -> float:
    """Index dates, index referrals, finding timings and blocs, by the service."""
    start = time.perf_counter()
    derived.case_index_dates_refresh()
    elapsed = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return elapsed


def data_ready(n_cases: int, n_findings: int) -> bool:
    """A kept database holds this benchmark's data, with every derived value set."""
    return (
        Case.objects.count() == n_cases
        and Finding.objects.count() == n_findings
        and not Case.objects.filter(index_date__isnull=True).exists()
        and not Referral.objects.filter(alliance_bloc="").exists()
    )


# ----------------------------------------------------------------- the plain SQL

REFERRAL = "LEFT JOIN cases_referral r ON r.id = c.index_referral_id"
# Text values as the selectors group them: an empty value and none are one "(none)".
GROUPS = {
    "year": ("extract(year FROM c.index_date)::int", ""),
    "host_country": ("nullif(r.host_country, '')", REFERRAL),
    "bloc": ("nullif(r.alliance_bloc, '')", REFERRAL),
    "post": ("nullif(p.name, '')", f"{REFERRAL} LEFT JOIN cases_post p ON p.id = r.post_id"),
    "technology_field": ("nullif(r.technology_field, '')", REFERRAL),
    "entity_type": ("nullif(e.kind, '')", "JOIN cases_entity e ON e.id = c.entity_id"),
    # The stored ",a,b," list, one row per method.
    "cooperation_method": (
        "m.method",
        f"{REFERRAL} CROSS JOIN LATERAL "
        "unnest(string_to_array(trim(both ',' FROM r.cooperation_methods), ',')) AS m(method)",
    ),
    "team": ("nullif(t.name, '')", "LEFT JOIN cases_team t ON t.id = c.team_id"),
    "cohort": (
        "nullif(co.name, '')",
        "JOIN cases_cohort_cases cc ON cc.case_id = c.id "
        "JOIN cases_cohort co ON co.id = cc.cohort_id",
    ),
}
POSITIVE = (
    "review_state = 'confirmed' AND timing = 'after' AND counterparty_country IN ('CN', 'HK', 'MO')"
)

PRE_AGGREGATED = """
WITH f AS (
    SELECT case_id, min(event_date) FILTER (WHERE {positive}) AS first_positive
    FROM cases_finding
    WHERE review_state IN ('confirmed', 'rejected')
    GROUP BY case_id
)
SELECT {group} AS grp,
       count(*) AS cases,
       count(*) FILTER (WHERE c.status = 'concluded' OR f.case_id IS NOT NULL) AS reviewed,
       count(f.first_positive) AS positive,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY f.first_positive - c.index_date) AS median
FROM cases_case c
LEFT JOIN f ON f.case_id = c.id
{joins}
WHERE c.kind = 'referred'
GROUP BY 1
"""

CORRELATED = """
SELECT grp,
       count(*) AS cases,
       count(*) FILTER (WHERE reviewed) AS reviewed,
       count(first_positive) AS positive,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY first_positive - index_date) AS median
FROM (
    SELECT {group} AS grp,
           c.index_date,
           c.status = 'concluded' OR EXISTS (
               SELECT 1 FROM cases_finding f
               WHERE f.case_id = c.id AND f.review_state IN ('confirmed', 'rejected')
           ) AS reviewed,
           (SELECT min(f.event_date) FROM cases_finding f
            WHERE f.case_id = c.id AND {positive}) AS first_positive
    FROM cases_case c
    {joins}
    WHERE c.kind = 'referred'
) s
GROUP BY grp
"""


def plain_sql(template: str, by: str, outcome: str) -> str:
    group, joins = GROUPS[by]
    positive = POSITIVE + ("" if outcome == "any" else f" AND kind = '{outcome}'")
    return template.format(group=group, joins=joins, positive=positive)


def run_sql(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def as_table(by: str, rows) -> dict[str, tuple]:
    """{cohort label: (cases, reviewed, positive, median days)} from either side."""
    if rows and isinstance(rows[0], analytics_selectors.CohortRate):
        return {r.cohort: (r.cases, r.reviewed, r.positive, r.median_days) for r in rows}
    return {
        cohorts.cohort_label(by, group): (cases, reviewed, positive, median)
        for group, cases, reviewed, positive, median in rows
    }


def same(left: dict, right: dict) -> bool:
    if left.keys() != right.keys():
        return False
    for key, (*counts, median) in left.items():
        *other_counts, other_median = right[key]
        if counts != other_counts or (median is None) != (other_median is None):
            return False
        if median is not None and abs(median - other_median) > 1e-9:
            return False
    return True


def measure(runs: int, **candidates) -> dict[str, tuple[float, float, int, object]]:
    """Per candidate: best and median seconds of `runs` runs after a warm-up, the queries
    of the warm-up and its result. The candidates take turns, so that a change in the
    machine's load falls on all of them alike."""
    results, times = {}, {name: [] for name in candidates}
    for name, run in candidates.items():
        with CaptureQueriesContext(connection) as captured:
            results[name] = run()
        results[name] = (len(captured), results[name])
    for _ in range(runs):
        for name, run in candidates.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {
        name: (min(times[name]), statistics.median(times[name]), *results[name])
        for name in candidates
    }


def explain(title: str, sql: str) -> None:
    print(f"\n--- EXPLAIN ANALYZE: {title}\n{sql.strip()}\n")
    for (line,) in run_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql):
        print("  " + line)


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    print(
        f"cases: {args.cases}; findings: {args.findings}; seed: {args.seed}; "
        f"runs: best and median of {args.runs} after a warm-up; "
        f"{os.cpu_count()} CPUs, load average {load()} (1/5/15 min)"
    )
    connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False, keepdb=args.reuse
    )
    try:
        with connection.cursor() as cursor:
            if args.no_jit:
                cursor.execute("SET jit = off")
            cursor.execute("SHOW jit")
            print(f"PostgreSQL jit: {cursor.fetchone()[0]}")
        if args.reuse and data_ready(args.cases, args.findings):
            print(f"reusing the data in {BENCH_DB}")
        else:
            if Case.objects.exists():
                sys.exit(
                    f"{BENCH_DB} holds other or unfinished data: drop it, or run without --reuse"
                )
            start = time.perf_counter()
            steps = generate(random.Random(args.seed), args.cases, args.findings)
            generated = time.perf_counter() - start
            print(
                f"generated in {generated:.1f} s ("
                + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items())
                + ")"
            )
            derived = derive()
            print(
                f"derived with derived.case_index_dates_refresh() over all cases in "
                f"{derived:.1f} s; ANALYZE done"
            )
        print(
            f"in {BENCH_DB}: {Case.objects.count()} cases "
            f"({Case.objects.filter(kind='referred').count()} referred), "
            f"{Referral.objects.count()} referrals, {Finding.objects.count()} findings "
            f"({rules.positive_findings().count()} positive), "
            f"{CheckRun.objects.count()} check runs, {Cohort.objects.count()} cohorts, "
            f"{Cohort.cases.through.objects.count()} cohort memberships"
        )
        benchmark()
    finally:
        if not args.reuse:
            connection.creation.destroy_test_db(old_name, verbosity=0)


def benchmark() -> None:
    wanted = [(by, "any") for by in analytics_selectors.DIMENSIONS]
    wanted += [(by, "joint_venture") for by in ("year", "entity_type", "cooperation_method")]
    explain_for = {name.strip() for name in args.explain.split(",") if name.strip()}
    header = (
        f"{'dimension':<19}{'outcome':<14}{'groups':>6}  {'ORM ms best/med':>15}{'queries':>8}  "
        f"{'SQL ms best/med':>15}  {'baseline':<11}{'other SQL':>9}  {'ratio':>5}  "
        f"{'<=1.5x':<7}{'<1 s'}"
    )
    print(f"\nload average before timing: {load()}\n")
    print(header)
    print("-" * len(header))
    verdicts = []
    for by, outcome in wanted:
        sqls = {
            "pre-agg": plain_sql(PRE_AGGREGATED, by, outcome),
            "correlated": plain_sql(CORRELATED, by, outcome),
        }
        timed = measure(
            args.runs,
            orm=lambda by=by, outcome=outcome: analytics_selectors.outcome_rates(
                Case.objects.all(), by=by, outcome=outcome
            ),
            **{name: lambda sql=sql: run_sql(sql) for name, sql in sqls.items()},
        )
        orm_best, orm_median, queries, orm_rows = timed.pop("orm")
        orm = as_table(by, orm_rows)
        for name, (*_, rows) in timed.items():
            plain = as_table(by, rows)
            if not same(orm, plain):
                print(f"\nMISMATCH for {by}/{outcome}, ORM against {name} SQL:")
                for key in sorted(orm.keys() | plain.keys()):
                    flag = "" if orm.get(key) == plain.get(key) else "  <--"
                    print(f"  {key}: ORM {orm.get(key)}  SQL {plain.get(key)}{flag}")
                sys.exit(1)
        baseline = min(timed, key=lambda name: timed[name][0])
        other = next(name for name in timed if name != baseline)
        sql_best, sql_median, *_ = timed[baseline]
        ratio = orm_best / sql_best
        within, fast = ratio <= 1.5, orm_best < 1.0
        verdicts.append((by, outcome, ratio, within, fast))
        print(
            f"{by:<19}{outcome:<14}{len(orm):>6}  "
            f"{orm_best * 1000:>6.0f} /{orm_median * 1000:>6.0f}{queries:>8}  "
            f"{sql_best * 1000:>6.0f} /{sql_median * 1000:>6.0f}  {baseline:<11}"
            f"{timed[other][0] * 1000:>9.0f}  {ratio:>5.2f}  "
            f"{'yes' if within else 'NO':<7}{'yes' if fast else 'NO'}",
            flush=True,
        )
        if by in explain_for and outcome == "any":
            with CaptureQueriesContext(connection) as captured:
                analytics_selectors.outcome_rates(Case.objects.all(), by=by, outcome=outcome)
            explain(f"ORM, {by}", captured[-1]["sql"])
            explain(f"plain SQL ({baseline}), {by}", sqls[baseline])

    print(f"\nload average after timing: {load()}\n")
    informational = measure(
        args.runs,
        outcome_total=lambda: analytics_selectors.outcome_total(Case.objects.all()),
        time_to_outcome_by_year=lambda: analytics_selectors.time_to_outcome(
            Case.objects.all(), by="year"
        ),
    )
    for name, (best, median, queries, _) in informational.items():
        print(
            f"{name}: best {best * 1000:.0f} ms, median {median * 1000:.0f} ms, {queries} queries"
        )

    slow = [
        f"{by}/{outcome} {ratio:.2f}x" for by, outcome, ratio, within, _ in verdicts if not within
    ]
    over = [f"{by}/{outcome}" for by, outcome, _, _, fast in verdicts if not fast]
    print(
        f"\nsummary: {len(verdicts) - len(slow)} of {len(verdicts)} within 1.5x of the plain SQL"
        + (f" (over: {', '.join(slow)})" if slow else "")
        + f"; {len(verdicts) - len(over)} under 1 s"
        + (f" (over: {', '.join(over)})" if over else "")
        + "; every table matched the plain SQL"
    )


if __name__ == "__main__":
    main()
