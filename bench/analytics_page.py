"""Benchmark the whole /analytics/ page: its server time, every panel drawn, at 100,000
cases and 500,000 findings on PostgreSQL, against the sum of the same aggregates written
as plain SQL in the same run (issue 13, item 10). The target is under a second a page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python bench/analytics_page.py

The data set is bench/outcome_rates.py's (its generate() and derive()), with coverage
added so the survival panel has followed cases: every successful check run is given the
period it searched, and a hundredth of the referred cases a recorded second reading. It
lives in a database of its own (bench_analytics) that is kept: the next run measures it
again without generating; --rebuild drops and builds it again. --small builds and
measures 10,000 cases and 50,000 findings instead (bench_analytics_small), for a quick run.

The page is requested through Django's test client, signed in (both factors) as a
supervisor of every team, so it is what a supervisor's browser waits for less the
network: the view, its queries, the statistics, the charts and the template. Each
dimension is timed --runs times after a warm-up; the page and the plain SQL take turns
in each round, so that the load of anything else on the machine falls on both alike.

The plain SQL is what the panels aggregate, each written once: the cohort counts (cases,
checked, reviewed, concluded, positive) of the referred cases per dimension and in all,
of the control cases in all and both kinds per entity type (the control comparison), and
the survival input (first positive finding per case, the searched periods, the members
with their group) per dimension and in all, each read into Python as the page must.

--profile prints cProfile's top 25 of one page per dimension: the project's functions by
cumulative time (which panel), and every function by its own time (which call).
"""

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")
# A developer's tool, run like `make run`: DEBUG is otherwise off and needs a SECRET_KEY.
os.environ.setdefault("DEBUG", "1")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--small", action="store_true", help="10,000 cases and 50,000 findings, for a quick run"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed pages per dimension (5)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--rebuild", action="store_true", help="drop the kept data, build anew")
    parser.add_argument(
        "--dimensions", default="", help="comma-separated dimensions to time (every one)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile top 25 per dimension")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


args = parse_args()
if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    sys.exit("This benchmark measures PostgreSQL: set DATABASE_URL=postgres://...")

import django

django.setup()

from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import setup_test_environment
from django.urls import reverse
from django.utils import timezone

from bench import outcome_rates
from cases import access, rules
from cases.analytics.cohorts import DIMENSIONS
from cases.models import Case, CheckRun, Finding, SecondCoding, Team
from tests.clients import Client

N_CASES, N_FINDINGS = (10_000, 50_000) if args.small else (100_000, 500_000)
BENCH_DB = "bench_analytics_small" if args.small else "bench_analytics"
SUPERVISOR = "bench-supervisor"
CODER = "bench-coder"


# ----------------------------------------------------------------- the data set


def add_coverage() -> None:
    """Give every successful run of a case with an index date the period it searched, and
    the kinds its source detects: from a few days before the index date (most cases) or
    after it (not followed), to some years later."""
    detects = ",".join(Finding.Kind.values)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.5)")
        cursor.execute(
            """
            UPDATE cases_checkrun r
            SET searched_from = c.index_date - 3
                    + CASE WHEN random() < 0.15 THEN 400 ELSE 0 END,
                searched_to = c.index_date + 400 + (random() * 2500)::int,
                detects = %s
            FROM cases_case c
            WHERE c.id = r.case_id AND c.index_date IS NOT NULL AND r.status = ANY(%s)
            """,
            [detects, list(rules.SUCCESSFUL_CHECK_STATES)],
        )


def add_people(rng: random.Random) -> User:
    """The supervisor of every team who reads the page, and a coder of a hundredth of the
    referred cases, recorded (readings given and not recorded would hide those cases from
    the coder only, not from the supervisor)."""
    supervisor = User.objects.create_user(SUPERVISOR, password=None)
    supervisor.groups.add(Group.objects.get_or_create(name=access.SUPERVISOR)[0])
    coder = User.objects.create_user(CODER, password=None)
    coder.groups.add(Group.objects.get_or_create(name=access.ANALYST)[0])
    for team in Team.objects.all():
        team.members.add(supervisor, coder)
    referred = list(Case.objects.filter(kind="referred").values_list("id", flat=True))
    now = timezone.now()
    kinds = Finding.Kind.values
    SecondCoding.objects.bulk_create(
        SecondCoding(
            case_id=case_id,
            coder=coder,
            assigned_by=supervisor,
            assigned_at=now,
            positive_kinds=rng.sample(kinds, rng.choice([0, 0, 1, 1, 2])),
            recorded_at=now,
        )
        for case_id in rng.sample(referred, len(referred) // 100)
    )
    return supervisor


def build() -> None:
    """Generate and derive the data set, unless it is there already (a build stopped in
    the extras), then add the coverage and the people."""
    start = time.perf_counter()
    rng = random.Random(args.seed)
    steps, derived = {}, 0.0
    if not outcome_rates.data_ready(N_CASES, N_FINDINGS):
        if Case.objects.exists():
            sys.exit(f"{BENCH_DB} holds other or unfinished data: run with --rebuild")
        steps = outcome_rates.generate(rng, N_CASES, N_FINDINGS)
        derived = outcome_rates.derive()
    generated = time.perf_counter() - start - derived
    start = time.perf_counter()
    SecondCoding.objects.all().delete()
    User.objects.filter(username__in=[SUPERVISOR, CODER]).delete()
    add_coverage()
    add_people(rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    extras = time.perf_counter() - start
    print(
        f"built in {generated + derived + extras:.1f} s: generated {generated:.1f} s ("
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items())
        + f"), derived {derived:.1f} s, coverage and second readings {extras:.1f} s"
    )


def ready() -> bool:
    return (
        outcome_rates.data_ready(N_CASES, N_FINDINGS)
        and User.objects.filter(username=SUPERVISOR).exists()
        and CheckRun.objects.filter(searched_from__isnull=False).exists()
    )


# ----------------------------------------------------------------- the plain SQL

COUNTS = """
WITH f AS (
    SELECT case_id, min(event_date) FILTER (WHERE {positive}) AS first_positive
    FROM cases_finding
    GROUP BY case_id
),
k AS (SELECT DISTINCT case_id FROM cases_checkrun WHERE status IN ('ok', 'no_results'))
SELECT {group} AS grp,
       count(*) AS cases,
       count(k.case_id) AS checked,
       count(*) FILTER (WHERE c.status = 'concluded' OR f.first_positive IS NOT NULL)
           AS reviewed,
       count(*) FILTER (WHERE c.status = 'concluded') AS concluded,
       count(f.first_positive) AS positive
FROM cases_case c
LEFT JOIN f ON f.case_id = c.id
LEFT JOIN k ON k.case_id = c.id
{joins}
WHERE c.kind = '{kind}' AND c.team_id IN ({teams})
GROUP BY 1
"""

FIRST_POSITIVE = f"""
SELECT f.case_id, min(f.event_date)
FROM cases_finding f JOIN cases_case c ON c.id = f.case_id
WHERE {outcome_rates.POSITIVE} AND c.team_id IN ({{teams}})
GROUP BY f.case_id
"""

SPANS = """
SELECT r.case_id, r.searched_from, r.searched_to, r.detects
FROM cases_checkrun r JOIN cases_case c ON c.id = r.case_id
WHERE r.status IN ('ok', 'no_results') AND r.searched_from IS NOT NULL
  AND c.team_id IN ({teams})
"""

MEMBERS = """
SELECT c.id, c.index_date, {group}
FROM cases_case c {joins}
WHERE c.kind = 'referred' AND c.index_date IS NOT NULL AND c.team_id IN ({teams})
"""


def plain_sql(by: str, teams: str) -> list[str]:
    """The page's aggregates for dimension `by`, each written once."""

    def counts(by: str | None, kind: str) -> str:
        group, joins = outcome_rates.GROUPS[by] if by else ("'all'", "")
        positive = outcome_rates.POSITIVE
        return COUNTS.format(group=group, joins=joins, kind=kind, positive=positive, teams=teams)

    group, joins = outcome_rates.GROUPS[by]
    if by == "cooperation_method":  # the survival input reads the whole list per case
        group = "r.cooperation_methods"
        joins = outcome_rates.REFERRAL
    sqls = [counts(by, "referred"), counts(None, "referred"), counts(None, "control")]
    if by != "entity_type":
        sqls.append(counts("entity_type", "referred"))
    sqls.append(counts("entity_type", "control"))
    sqls += [FIRST_POSITIVE.format(teams=teams), SPANS.format(teams=teams)]
    sqls += [MEMBERS.format(group=group, joins=joins, teams=teams)]
    sqls += [MEMBERS.format(group="'all'", joins="", teams=teams)]
    return sqls


def run_sql(sqls: list[str]) -> int:
    rows = 0
    with connection.cursor() as cursor:
        for sql in sqls:
            cursor.execute(sql)
            rows += len(cursor.fetchall())
    return rows


# ----------------------------------------------------------------- the page


def page(client: Client, by: str) -> None:
    response = client.get(reverse("cases:analytics"), {"dimension": by, "outcome": "any"})
    if response.status_code != 200:
        sys.exit(f"/analytics/?dimension={by} answered {response.status_code}")


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    print(
        f"target: {N_CASES} cases, {N_FINDINGS} findings; seed {args.seed}; "
        f"median of {args.runs} after a warm-up; {os.cpu_count()} CPUs, "
        f"load average {load()} (1/5/15 min)"
    )
    connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    if args.rebuild:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    else:
        connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=True
        )
    if ready():
        print(f"reusing the data in {BENCH_DB}")
    else:
        build()
    setup_test_environment()
    referred = Case.objects.filter(kind="referred")
    print(
        f"in {BENCH_DB}: {Case.objects.count()} cases ({referred.count()} referred), "
        f"{Finding.objects.count()} findings ({rules.positive_findings().count()} positive), "
        f"{CheckRun.objects.count()} check runs "
        f"({CheckRun.objects.filter(searched_from__isnull=False).count()} with a period), "
        f"{SecondCoding.objects.count()} second readings"
    )
    supervisor = User.objects.get(username=SUPERVISOR)
    client = Client()
    client.force_login(supervisor)
    teams = ", ".join(str(pk) for pk in Team.objects.values_list("pk", flat=True))
    wanted = [d.strip() for d in args.dimensions.split(",") if d.strip()] or list(DIMENSIONS)
    unknown = set(wanted) - set(DIMENSIONS)
    if unknown:
        sys.exit(f"unknown dimension(s): {', '.join(sorted(unknown))}")

    header = f"{'dimension':<19}{'page ms':>9}{'SQL ms':>9}{'ratio':>7}  {'<1 s':<5}"
    print(f"\nload average before timing: {load()}\n\n{header}\n{'-' * len(header)}")
    verdicts = []
    for by in wanted:
        sqls = plain_sql(by, teams)
        page(client, by)  # warm-up
        run_sql(sqls)
        page_times, sql_times = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            page(client, by)
            page_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            run_sql(sqls)
            sql_times.append(time.perf_counter() - start)
        page_ms = statistics.median(page_times) * 1000
        sql_ms = statistics.median(sql_times) * 1000
        verdicts.append((by, page_ms, sql_ms))
        print(
            f"{by:<19}{page_ms:>9.0f}{sql_ms:>9.0f}{page_ms / sql_ms:>7.2f}  "
            f"{'yes' if page_ms < 1000 else 'NO':<5}",
            flush=True,
        )
    print(f"\nload average after timing: {load()}")
    over = [by for by, page_ms, _ in verdicts if page_ms >= 1000]
    print(
        f"summary: {len(verdicts) - len(over)} of {len(verdicts)} dimensions under 1 s"
        + (f" (over: {', '.join(over)})" if over else "")
        + f"; median ratio to the plain SQL "
        f"{statistics.median(p / s for _, p, s in verdicts):.2f}"
    )
    if args.profile:
        for by in wanted:
            profiler = cProfile.Profile()
            profiler.runcall(page, client, by)
            for order, where in (("cumulative", "/cases/"), ("tottime", "")):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(where, 25)
                print(
                    f"\n--- cProfile, /analytics/?dimension={by}: top 25 by {order}"
                    + (f" of {where}" if where else "")
                )
                print(out.getvalue().split("\n\n", 2)[-1].rstrip())


if __name__ == "__main__":
    main()
