"""Fill a PostgreSQL database for the load test (bench/load_test.py): 100,000 cases and
500,000 findings, with their entities and referrals, posts, teams and the users who sign
in (an analyst and a colleague per team, and a supervisor of every team).

    python bench/load_fill.py [postgres://postgres@127.0.0.1:5432/wishlist_load]

The URL is the argument, else LOAD_DATABASE_URL, else the default above. The database is
created (createdb) when missing and migrated; a database that holds cases already is
left as it is (drop it with dropdb to fill it again). The rows are written set-based,
one INSERT ... SELECT FROM generate_series per table, so filling takes about a minute
rather than the quarter of an hour the ORM's save() would; the values the app derives
(name keys, index dates and periods, timings, blocs) are written as derived here so the
pages show what they would show after an import.

The spread: eight teams of 12,500 cases each, five statuses, fifteen countries, three
priorities; five findings a case, two in five of them leads waiting for review (so the
review queue has work), the others confirmed or rejected; each team's analyst has a
dozen cases, their colleague a third of the team's. Every user's password is the one
given by --password (load-test-password by default).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/wishlist_load"

TEAMS = 8
CASES = 100_000
FINDINGS_PER_CASE = 5
MY_CASES = 12  # cases assigned to each team's analyst
PASSWORD = "load-test-password"

COUNTRIES = [
    "DE",
    "FR",
    "GB",
    "IT",
    "NL",
    "SE",
    "JP",
    "KR",
    "US",
    "CA",
    "AU",
    "PL",
    "ES",
    "IL",
    "CH",
]
WORDS = [
    "Amber",
    "Boreal",
    "Cobalt",
    "Delta",
    "Ember",
    "Fjord",
    "Granite",
    "Helix",
    "Iris",
    "Juniper",
]
TRADES = [
    "Robotics",
    "Optics",
    "Photonics",
    "Semiconductors",
    "Aerospace",
    "Materials",
    "Biotech",
    "Sensors",
]
FIELDS = [
    "robotics",
    "optics",
    "semiconductors",
    "aerospace",
    "advanced materials",
    "biotechnology",
]
KINDS = ["company", "company", "company", "university", "research_institute", "government_lab"]
STATUSES = ["open", "open", "in_review", "monitoring", "concluded", "closed"]
FINDING_KINDS = [
    "partnership",
    "joint_venture",
    "equity_investment",
    "acquisition",
    "ip_licence",
    "co_publication",
    "subsidiary",
    "rd_staff",
]
SOURCES = ["gdelt", "gleif", "opencorporates", "openalex", "manual"]
COUNTERPARTY_COUNTRIES = ["CN", "CN", "CN", "HK", "TW", "US", "DE"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--password", default=PASSWORD)
    return parser.parse_args()


def createdb(url: str) -> None:
    """Create the database named by `url` unless it exists."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    base = [
        "-h", parts.hostname or "127.0.0.1",
        "-p", str(parts.port or 5432),
        "-U", parts.username or "postgres",
    ]  # fmt: skip
    env = {**os.environ, "PGPASSWORD": parts.password or ""}
    query = f"SELECT 1 FROM pg_database WHERE datname = '{name}'"
    exists = subprocess.run(
        ["psql", *base, "-d", "postgres", "-tAc", query],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.strip()  # fmt: skip
    if not exists:
        subprocess.run(["createdb", *base, name], env=env, check=True)
        print(f"created database {name}")


def sql_array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def pick(values: list[str], n: str) -> str:
    """A SQL expression choosing from `values` by the integer expression `n`."""
    return f"({sql_array(values)})[1 + ({n}) % {len(values)}]"


def people(password: str) -> dict:
    """The teams, posts and users, through the ORM: there are few of them."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from cases.access import ANALYST, SUPERVISOR
    from cases.models import Post, Team

    User = get_user_model()
    analyst_role = Group.objects.get_or_create(name=ANALYST)[0]
    supervisor_role = Group.objects.get_or_create(name=SUPERVISOR)[0]

    def user(name: str, role: Group):
        person = User.objects.create_user(name, f"{name}@example.org", password)
        person.groups.add(role)
        return person

    teams, analysts, colleagues = [], [], []
    supervisor = user("load_supervisor", supervisor_role)
    for i in range(1, TEAMS + 1):
        team = Team.objects.create(name=f"Load team {i}")
        analysts.append(user(f"load_analyst_{i}", analyst_role))
        colleagues.append(user(f"load_colleague_{i}", analyst_role))
        team.members.add(analysts[-1], colleagues[-1], supervisor)
        teams.append(team)
    posts = Post.objects.bulk_create(
        Post(name=f"Embassy in {country}", kind=Post.Kind.EMBASSY, host_country=country)
        for country in COUNTRIES
    )
    return {
        "teams": [t.pk for t in teams],
        "analysts": [u.pk for u in analysts],
        "colleagues": [u.pk for u in colleagues],
        "posts": [p.pk for p in posts],
    }


def fill(ids: dict) -> None:
    """The entities, referrals, cases and findings, one statement a table."""
    from django.db import connection

    teams, analysts, colleagues = ids["teams"], ids["analysts"], ids["colleagues"]
    int_array = lambda values: "ARRAY[" + ", ".join(map(str, values)) + "]"  # noqa: E731
    team_of = f"({int_array(teams)})[1 + g % {TEAMS}]"
    statements = {
        "entities": f"""
            INSERT INTO cases_entity (id, name, name_native, aliases, name_key, kind, country,
                city, website, lei, sec_cik, uk_company_number, ror_id, openalex_id,
                wikidata_id, technology_fields, is_demo, created_at, updated_at)
            SELECT g, w || ' ' || t || ' ' || g || ' Ltd', '', '', lower(w || ' ' || t || ' ' || g),
                {pick(KINDS, "h / 7")}, {pick(COUNTRIES, "h / 3")}, '', '', '', '', '', '', '',
                '', {pick(FIELDS, "h / 11")}, false, now(), now()
            FROM generate_series(1, {CASES}) g,
                LATERAL (SELECT (g * 7919) % 100003 AS h) spread,
                LATERAL (SELECT {pick(WORDS, "h")} AS w, {pick(TRADES, "h / 10")} AS t) names
        """,
        # One referral an entity, dated 2012 to 2024; its post is in its host country.
        "referrals": f"""
            INSERT INTO cases_referral (external_id, entity_id, post_id, date, date_precision,
                host_country, alliance_bloc, technology_field, cooperation_methods, currency,
                summary, original_text, source_url, source_reference, created_at)
            SELECT 'LOAD-' || g, g, ({int_array(ids["posts"])})[1 + (h / 3) % {len(COUNTRIES)}],
                DATE '2012-01-01' + (g * 37) % 4700, 'day', {pick(COUNTRIES, "h / 3")},
                CASE WHEN (h / 3) % {len(COUNTRIES)} < 6 THEN 'nato' ELSE 'other' END,
                {pick(FIELDS, "h / 11")}, ',joint_venture,', '', '', '', '', '', now()
            FROM generate_series(1, {CASES}) g, LATERAL (SELECT (g * 7919) % 100003 AS h) spread
        """,
        "cases": f"""
            INSERT INTO cases_case (id, entity_id, kind, match_criteria, match_relaxed,
                match_note, index_referral_id, team_id, status, assignee_id, index_date,
                index_date_precision, index_period_end, priority, notes, version,
                created_at, updated_at)
            SELECT r.entity_id, r.entity_id, 'referred', '', '', '', r.id, {team_of},
                {pick(STATUSES, "g / 8")},
                CASE WHEN g / {TEAMS} < {MY_CASES} THEN ({int_array(analysts)})[1 + g % {TEAMS}]
                     WHEN g % 3 = 0 THEN ({int_array(colleagues)})[1 + g % {TEAMS}] END,
                r.date, 'day', r.date, 1 + g % 4, '', 1,
                now() - (g % 900) * interval '1 day', now() - (g % 90) * interval '1 day'
            FROM cases_referral r, LATERAL (SELECT r.entity_id AS g) n
            WHERE r.external_id LIKE 'LOAD-%'
        """,
        # Five findings a case: the first two leads, the others confirmed or rejected.
        "findings": f"""
            INSERT INTO cases_finding (case_id, kind, counterparty_name, counterparty_country,
                event_date, event_date_precision, timing, source, source_url, excerpt,
                evidence_sha256, external_id, review_state, reviewed_by_id, reviewed_at,
                review_note, confidence, match_score, match_explanation, flags, version,
                created_at, updated_at)
            SELECT c.id, {pick(FINDING_KINDS, "c.id + k")},
                'Shenzhen Counterparty ' || (c.id + k) % 5000,
                {pick(COUNTERPARTY_COUNTRIES, "c.id * 3 + k")},
                c.index_date + ((c.id + k * 97) % 3000 - 900)::int, 'day',
                CASE WHEN c.index_date + ((c.id + k * 97) % 3000 - 900)::int > c.index_period_end
                     THEN 'after' ELSE 'before' END,
                {pick(SOURCES, "c.id + k")}, '', '', '', 'LOADF-' || c.id || '-' || k,
                CASE WHEN k < 2 THEN 'lead' WHEN (c.id + k) % 3 = 0 THEN 'confirmed'
                     ELSE 'rejected' END,
                CASE WHEN k >= 2 THEN ({int_array(colleagues)})[1 + c.id % {TEAMS}] END,
                CASE WHEN k >= 2 THEN now() - ((c.id + k) % 120) * interval '1 day' END,
                '', 'medium', 40 + (c.id * 7 + k * 13) % 61, '', '', 1,
                now() - ((c.id + k * 31) % 400) * interval '1 day', now()
            FROM cases_case c, generate_series(0, {FINDINGS_PER_CASE - 1}) k
        """,
    }
    with connection.cursor() as cursor:
        for table, sql in statements.items():
            started = time.perf_counter()
            cursor.execute(sql)
            print(f"  {table}: {cursor.rowcount:,} rows in {time.perf_counter() - started:.1f} s")
        for table in ("cases_entity", "cases_case"):
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            cursor.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")


def main() -> None:
    args = parse_args()
    os.environ["DATABASE_URL"] = args.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")
    # A developer's tool: the settings want these when DEBUG is off.
    os.environ.setdefault("SECRET_KEY", "load-fill-not-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    started = time.perf_counter()
    createdb(args.url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    print(f"migrated in {migrated - started:.1f} s")

    from django.db import transaction

    from cases.models import Case

    if Case.objects.exists():
        print(f"{Case.objects.count():,} cases there already: left as they are.")
        return
    with transaction.atomic():
        fill(people(args.password))
    # Statistics for the planner, and the visibility map that lets index-only scans skip
    # the table, as autovacuum would give them some time after a real import.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    ended = time.perf_counter()
    print(f"filled in {ended - migrated:.1f} s (total {ended - started:.1f} s)")


if __name__ == "__main__":
    main()
