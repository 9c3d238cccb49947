"""The supervisor pages: analytics and its CSV downloads, named cohorts and samples,
control cases, giving a case to a second coder, and the second coder's blind page. Who
may do what is in tests/test_permissions.py; these tests are about what each page does.
"""

import base64
import datetime
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas
import pypdfium2
import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint

from cases import blocs, derived, reference, rules
from cases.analytics import downloads
from cases.analytics import services as analytics_services
from cases.analytics.agreement import Table
from cases.analytics.selectors import RATE_FIELDS
from cases.casework import services as casework_services
from cases.models import Case, CheckRun, Cohort, Entity, Finding, Referral, SecondCoding, Team
from tests import commented_csv
from tests.clients import Client
from tests.factories import (
    AnalystFactory,
    CaseFactory,
    CheckRunFactory,
    EntityFactory,
    PostFactory,
    ReferralFactory,
)
from wishlist.version import code_version

pytestmark = pytest.mark.django_db

D = datetime.date
DIMENSIONS = (
    "year",
    "host_country",
    "bloc",
    "post",
    "technology_field",
    "entity_type",
    "cooperation_method",
    "team",
    "cohort",
)
JV = Finding.Kind.JOINT_VENTURE
PARTNERSHIP = Finding.Kind.PARTNERSHIP
CONFIRMED = Finding.ReviewState.CONFIRMED
REJECTED = Finding.ReviewState.REJECTED
HOSTILE = "<script>alert(1)</script> $\\foo$ & Acme $5M"
HOSTILE_RAW = "<script>alert(1)"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

SURVIVAL_FIELDS = ["cohort", "case_id", "days", "days_earliest", "days_latest", "status"]
CONTROL_FIELDS = [
    "group",
    "pairs",
    "both_positive",
    "referred_only_positive",
    "control_only_positive",
    "both_negative",
    "referred_rate",
    "control_rate",
    "mcnemar_exact_p",
    "difference",
    "difference_low",
    "difference_high",
    "odds_ratio_mh",
    "odds_ratio_low",
    "odds_ratio_high",
    "pairs_not_counted",
    "referred_not_reviewed",
    "control_not_reviewed",
    "controls_left_pair",
    "referred_checks_per_case",
    "control_checks_per_case",
]
AGREEMENT_FIELDS = downloads.AGREEMENT_HEADER
# As the downloads name them: rounded shares carry "_%" (downloads.SPREADSHEET).
HEADERS = {
    kind: downloads.spreadsheet_header(fields)
    for kind, fields in {
        "rates": RATE_FIELDS,
        "survival": SURVIVAL_FIELDS,
        "control": CONTROL_FIELDS,
        "agreement": AGREEMENT_FIELDS,
    }.items()
}

# The evidence on case a1 the second coder reads, and the first analyst's decisions on
# it, which the blind page must not show.
EXCERPT_CONFIRMED = "Alpha Robotics 1 and Shenzhen Evidence One sign a joint venture."
EXCERPT_REJECTED = "A different Alpha Robotics signs with Beijing Evidence Two."
EXCERPT_UNREVIEWED = "Alpha Robotics 1 opens an office with Wuhan Evidence Three."
NOTE_CONFIRMED = "Registry entry CONFNOTE-481 matches"
NOTE_REJECTED = "Wrong company, see REJNOTE-902"


# ------------------------------------------------------------------------------ data


def referred(
    name: str, team: Team, *, on: D, country: str = "GB", status: str = Case.Status.MONITORING
) -> Case:
    """A referred case with one referral, its index date derived by the service."""
    entity = EntityFactory(name=name, country=country)
    ReferralFactory(
        entity=entity,
        post=PostFactory(name=f"Embassy in {country}", host_country=country),
        host_country=country,
        date=on,
        date_precision="day",
    )
    case = CaseFactory(entity=entity, team=team, status=status)
    derived.case_index_dates_refresh(case_ids=[case.pk])
    case.refresh_from_db()
    return case


def confirmed(case: Case, *, kind: str = JV, on: D, name: str = "Shenzhen Example Co.") -> Finding:
    """A positive finding: confirmed, after the referral, with a Chinese counterparty."""
    return derived.finding_create(
        case=case,
        kind=kind,
        counterparty_name=name,
        counterparty_country="CN",
        event_date=on,
        event_date_precision="day",
        review_state=CONFIRMED,
    )


def control(name: str, matched: Case, *, status: str = Case.Status.CONCLUDED) -> Case:
    """A control matched on its referred case's host country, kind and field."""
    country, kind, fields = rules.matched_profile(matched)
    case = analytics_services.control_case_create(
        name=name,
        country=country,
        kind=kind,
        technology_fields="; ".join(sorted(fields)),
        matched_case=matched,
    )
    Case.objects.filter(pk=case.pk).update(status=status)
    return case


def checked(case: Case) -> CheckRun:
    """A successful check that searched from the case's index date to today for every
    kind of finding: the case is followed (survival.followed_until) until today."""
    return CheckRunFactory(
        case=case,
        status=CheckRun.Status.OK,
        searched_from=case.index_date,
        searched_to=datetime.date.today(),
        detects=list(Finding.Kind.values),
    )


@dataclass
class World:
    team: Team
    other_team: Team
    users: dict
    cases: dict  # a1..a3 and control_a of the team; b1..b5 and control_b1/b2 of the other

    def user(self, role: str):
        return self.users[role]


@pytest.fixture
def world(team, other_team, users) -> World:
    """Two teams with distinct figures.

    Team A: 3 referred cases of 2017 in GB, 2 reviewed, 1 positive (a1), 2 followed, and
    one reviewed control. Team B: 5 referred cases of 2019 in FR, all reviewed, 2
    positive, all watched, and two reviewed controls. "Mixed" is an admin's cohort of a1
    and b1.
    """
    cases = {}
    for n in (1, 2, 3):
        cases[f"a{n}"] = referred(f"Alpha Robotics {n} Ltd", team, on=D(2017, 5, 1))
    Case.objects.filter(pk__in=[cases["a1"].pk, cases["a2"].pk]).update(assignee=users["analyst"])
    Case.objects.filter(pk=cases["a2"].pk).update(status=Case.Status.CONCLUDED)
    finding = confirmed(cases["a1"], on=D(2019, 3, 1), name="Shenzhen Evidence One")
    Finding.objects.filter(pk=finding.pk).update(excerpt=EXCERPT_CONFIRMED)
    checked(cases["a1"])
    checked(cases["a2"])
    cases["control_a"] = control("Alpha Control Ltd", cases["a1"])
    for n in (1, 2, 3, 4, 5):
        cases[f"b{n}"] = referred(
            f"Bravo Robotics {n} Ltd",
            other_team,
            on=D(2019, 2, 1),
            country="FR",
            status=Case.Status.CONCLUDED,
        )
        checked(cases[f"b{n}"])
    confirmed(cases["b1"], kind=PARTNERSHIP, on=D(2020, 6, 1))
    confirmed(cases["b2"], on=D(2021, 1, 1))
    cases["control_b1"] = control("Bravo Control One Ltd", cases["b1"])
    cases["control_b2"] = control("Bravo Control Two Ltd", cases["b1"])
    analytics_services.cohort_save(
        name="Mixed",
        cases=Case.objects.filter(pk__in=[cases["a1"].pk, cases["b1"].pk]),
        actor=users["admin"],
    )
    for key, case in cases.items():
        cases[key] = Case.objects.select_related("entity").get(pk=case.pk)
    return World(team, other_team, users, cases)


def concluded(world: World, key: str) -> Case:
    """Conclude a case of the world (only a concluded case is read a second time)."""
    Case.objects.filter(pk=world.cases[key].pk).update(status=Case.Status.CONCLUDED)
    world.cases[key].refresh_from_db()
    return world.cases[key]


@pytest.fixture
def coded(world) -> World:
    """Recorded second readings: a1 by bob (agrees), b1 and b2 by olga (b1 disagrees)."""
    bob, olga = world.user("coder"), world.user("other_analyst")
    concluded(world, "a1")
    for key, coder, kinds in (("a1", bob, [JV]), ("b1", olga, []), ("b2", olga, [JV])):
        coding = analytics_services.second_coding_assign(
            case=world.cases[key], coder=coder, actor=None
        )
        analytics_services.second_coding_record(
            coding=coding, positive_kinds=kinds, note="", actor=coder
        )
    return world


@pytest.fixture
def assigned(world) -> SecondCoding:
    """a1, concluded, given to bob for a blind reading, not recorded yet."""
    concluded(world, "a1")
    return analytics_services.second_coding_assign(
        case=world.cases["a1"], coder=world.user("coder"), actor=world.user("supervisor")
    )


# ------------------------------------------------------------------------------ helpers


def client_for(client, world: World, role: str):
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    return client


def body(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return commented_csv.table(body(response))


def by_cohort(rows: list[list[str]], column: str, header: list[str]) -> dict[str, str]:
    """One column of a CSV, keyed by its first column."""
    index = header.index(column)
    return {row[0]: row[index] for row in rows[1:]}


def analytics_url(**query) -> str:
    url = reverse("cases:analytics")
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def download(client, kind: str, **query) -> list[list[str]]:
    response = client.get(analytics_url(download=kind, **query))
    assert response.status_code == 200
    rows = csv_rows(response)
    assert rows[0] == HEADERS[kind]
    return rows


# The figures of each viewer's cases, as set up by the world fixture.
FIGURES = {
    #                  referred reviewed positive events controls_reviewed
    "supervisor": (3, 2, 1, 1, 1),
    "other_supervisor": (5, 5, 2, 2, 2),
    "admin": (8, 7, 3, 3, 3),
}
NOT_SEEN = {"supervisor": "Bravo", "other_supervisor": "Alpha", "admin": None}


# ------------------------------------------------------------------ analytics (GET)


@pytest.mark.parametrize("outcome", ["any", JV])
@pytest.mark.parametrize("dimension", DIMENSIONS)
@pytest.mark.parametrize("role", sorted(FIGURES))
def test_every_dimension_counts_only_the_viewers_cases(client, world, role, dimension, outcome):
    referred_cases, reviewed, positive, _, _ = FIGURES[role]
    if outcome == JV:
        positive = {"supervisor": 1, "other_supervisor": 1, "admin": 2}[role]
    client_for(client, world, role)

    page = client.get(analytics_url(dimension=dimension, outcome=outcome))
    rows = download(client, "rates", dimension=dimension, outcome=outcome)

    assert page.status_code == 200
    assert page.context["by"] == dimension
    total = page.context["total"]
    assert (total.cases, total.reviewed, total.positive) == (referred_cases, reviewed, positive)
    assert rows[-1][:4] == ["all", str(referred_cases), str(reviewed), str(positive)]
    # A case counts once per cohort; only a case may sit in several cohorts of one
    # dimension (several methods or named cohorts), so no cohort can be larger.
    assert all(int(row[1]) <= referred_cases for row in rows[1:])
    if NOT_SEEN[role]:
        assert NOT_SEEN[role] not in body(page)


@pytest.fixture
def shipped_lists(settings):
    """The reference lists shipped in cases/reference/, whatever ../shared holds."""
    settings.WISHLIST_REFERENCE_DIR = Path(reference.__file__).resolve().parent
    blocs.memberships.cache_clear()
    yield
    blocs.memberships.cache_clear()


def test_the_bloc_dimension_shows_the_blocs_of_the_shipped_lists(client, shipped_lists, world):
    client_for(client, world, "admin")

    page = client.get(analytics_url(dimension="bloc", outcome="any"))
    rows = download(client, "rates", dimension="bloc", outcome="any")

    # Team A's referrals are in GB (2017), team B's in FR (2019).
    assert [row[:2] for row in rows[1:]] == [["NATO", "8"], ["all", "8"]]
    assert "NATO" in body(page)
    assert "(unknown)" not in body(page)


@pytest.mark.parametrize("role", sorted(FIGURES))
def test_the_cohort_tables_show_only_the_viewers_teams(client, world, role):
    client_for(client, world, role)

    by_team = by_cohort(download(client, "rates", dimension="team"), "cases", RATE_FIELDS)
    by_year = by_cohort(download(client, "rates", dimension="year"), "cases", RATE_FIELDS)
    named = by_cohort(download(client, "rates", dimension="cohort"), "cases", RATE_FIELDS)

    expected = {
        "supervisor": ({"Team A": "3"}, {"2017": "3"}, "1"),
        "other_supervisor": ({"Team B": "5"}, {"2019": "5"}, "1"),
        "admin": ({"Team A": "3", "Team B": "5"}, {"2017": "3", "2019": "5"}, "2"),
    }[role]
    assert by_team == {**expected[0], "all": str(FIGURES[role][0])}
    assert by_year == {**expected[1], "all": str(FIGURES[role][0])}
    # The admin's cohort holds a case of each team: each supervisor counts their own.
    assert named["Mixed"] == expected[2]


@pytest.mark.parametrize("role", sorted(FIGURES))
def test_the_survival_download_counts_only_the_viewers_cases(client, world, role):
    _, _, _, events, _ = FIGURES[role]
    client_for(client, world, role)

    rows = download(client, "survival", dimension="year")
    page = client.get(analytics_url(dimension="year"))

    # One row per case (the file once listed the curve's steps, not its cases).
    assert sum(row[5] == "event" for row in rows[1:]) == events
    watched = {"supervisor": 2, "other_supervisor": 5, "admin": 7}[role]
    assert page.context["overall_curve"].watched == watched
    followed = Counter(row[0] for row in rows[1:] if row[5] != "not followed")
    expected = {
        "supervisor": {"2017": 2},
        "other_supervisor": {"2019": 5},
        "admin": {"2017": 2, "2019": 5},
    }[role]
    assert followed == expected
    visible = {str(case.pk) for case in world.cases.values() if case.kind == Case.Kind.REFERRED}
    seen = {row[1] for row in rows[1:]}
    assert seen <= visible
    assert len(seen) == page.context["total"].cases  # the rate table's cases, each once


@pytest.mark.parametrize("role", sorted(FIGURES))
def test_the_control_download_counts_only_the_viewers_pairs(client, world, role):
    *_, controls = FIGURES[role]
    client_for(client, world, role)

    rows = download(client, "control", dimension="year")

    overall = dict(zip(CONTROL_FIELDS, rows[1], strict=True))
    # Every control is a reviewed negative matched to a positive referred case.
    assert overall["group"] == "all"
    assert [overall[f] for f in CONTROL_FIELDS[1:6]] == [
        str(controls),
        "0",
        str(controls),
        "0",
        "0",
    ]
    assert float(overall["mcnemar_exact_p"]) == pytest.approx(binomtest(0, controls, 0.5).pvalue)
    assert overall["odds_ratio_mh"] == ""  # no pair with only the control positive
    # Each referred case checked once, no control checked.
    assert (overall["referred_checks_per_case"], overall["control_checks_per_case"]) == (
        "1.0",
        "0.0",
    )
    years = [row[0] for row in rows[2:]]
    assert (
        years
        == {"supervisor": ["2017"], "other_supervisor": ["2019"], "admin": ["2017", "2019"]}[role]
    )


def test_the_page_shows_the_pairs_the_checks_per_arm_and_a_control_referred_after_all(
    client, world
):
    for key in ("control_b1", "control_b2"):
        checked(world.cases[key])
        checked(world.cases[key])
    left = world.cases["control_b2"]
    derived.referral_save(
        referral=Referral(
            external_id="LATE-1",
            entity=left.entity,
            date=D(2021, 3, 1),
            date_precision="month",
            host_country="FR",
        )
    )
    client_for(client, world, "other_supervisor")

    page = client.get(analytics_url(dimension="year"))

    (overall, year) = page.context["pairs"]
    assert (overall.pairs, overall.left, year.group) == (1, 1, "2019")
    html = body(page)
    assert "Controls are checked more often than referred cases: 2.0 successful checks" in html
    assert "against 1.0 per referred case" in html
    assert f'<a href="{left.get_absolute_url()}">Bravo Control Two Ltd</a>' in html
    assert "referred (LATE-1, 2021-03)" in html
    detail = client.get(left.get_absolute_url())
    assert "referred after all, out of its pair since" in body(detail)


@pytest.mark.parametrize("role", sorted(FIGURES))
def test_the_agreement_download_counts_only_the_viewers_cases(client, coded, role):
    client_for(client, coded, role)

    rows = download(client, "agreement", dimension="year")
    page = client.get(analytics_url())

    expected = {
        "supervisor": {"all": "1", "2017": "1"},
        "other_supervisor": {"all": "2", "2019": "2"},
        "admin": {"all": "3", "2017": "1", "2019": "2"},
    }[role]
    assert by_cohort(rows, "double_coded", AGREEMENT_FIELDS) == expected
    disagreements = [p.entity_name for p in page.context["disagreements"]]
    assert disagreements == ([] if role == "supervisor" else ["Bravo Robotics 1 Ltd"])
    if NOT_SEEN[role]:
        assert NOT_SEEN[role] not in body(page)


FILE_NAMES = {
    "rates": "outcome-rates-post-joint_venture.csv",
    "survival": "time-to-outcome-post-joint_venture.csv",
    "control": "control-pairs-post-joint_venture.csv",
    "agreement": "agreement-post-joint_venture.csv",
}


@pytest.mark.parametrize("kind", sorted(HEADERS))
def test_each_download_has_its_header_and_a_file_name(client, coded, kind):
    client_for(client, coded, "supervisor")

    response = client.get(analytics_url(download=kind, dimension="post", outcome=JV))

    assert response.status_code == 200
    assert csv_rows(response)[0] == HEADERS[kind]
    assert response["Content-Disposition"] == f'attachment; filename="{FILE_NAMES[kind]}"'


@pytest.mark.parametrize(
    "query",
    [
        {"dimension": "colour"},
        {"dimension": "colour", "download": "rates"},
        {"outcome": "bribery"},
        {"outcome": "bribery", "download": "agreement"},
    ],
)
def test_an_unknown_dimension_or_outcome_is_a_bad_request(client, world, query):
    client_for(client, world, "supervisor")

    response = client.get(analytics_url(**query))

    assert response.status_code == 400
    assert "text/csv" not in response["Content-Type"]
    assert "Alpha" not in body(response)


def test_a_formula_in_a_cohort_name_is_neutralised_in_the_download(client, world):
    analytics_services.cohort_save(
        name="=HYPERLINK(1)", cases=Case.objects.filter(team=world.team), actor=None
    )
    client_for(client, world, "supervisor")

    rows = download(client, "rates", dimension="cohort")

    assert "'=HYPERLINK(1)" in [row[0] for row in rows]
    assert "=HYPERLINK(1)" not in [row[0] for row in rows]


# ------------------------------------------------------------------ cohorts (POST)


def cohort_post(client, **data):
    data.setdefault("filter_query", "")
    return client.post(reverse("cases:cohort_create"), data)


def cohort_ids(name: str) -> set[int]:
    return set(Cohort.objects.get(name=name).cases.values_list("pk", flat=True))


def test_a_supervisor_saves_the_filtered_list_as_a_cohort(client, world):
    client_for(client, world, "supervisor")

    response = cohort_post(
        client, name="Referred 2017", description="From the list", filter_query="kind=referred"
    )

    cohort = Cohort.objects.get(name="Referred 2017")
    assert response.status_code == 302
    assert cohort_ids("Referred 2017") == {world.cases[k].pk for k in ("a1", "a2", "a3")}
    assert (cohort.population, cohort.seed, cohort.sample_size) == (3, None, None)
    assert cohort.filter_query == "kind=referred"
    assert cohort.description == "From the list"
    assert any("Saved 3 case(s)" in m for m in messages_of(response))


def test_a_supervisors_cohort_holds_only_their_teams_cases(client, world):
    """The filter ("Robotics") matches both teams' cases; only the team's are saved."""
    client_for(client, world, "supervisor")

    cohort_post(client, name="All robotics", filter_query="q=Robotics")
    cohort_post(client, name="Robotics sample", filter_query="q=Robotics", size="3", seed="1")

    mine = {world.cases[k].pk for k in ("a1", "a2", "a3")}
    assert cohort_ids("All robotics") == mine
    assert cohort_ids("Robotics sample") == mine
    assert Cohort.objects.get(name="Robotics sample").population == 3
    assert Cohort.objects.get(name="Robotics sample").frame == sorted(mine)


def test_a_sample_larger_than_its_frame_is_refused_with_a_message(client, world):
    client_for(client, world, "supervisor")
    before = list(Cohort.objects.values_list("pk", "name"))

    response = cohort_post(client, name="Too big", filter_query="q=Robotics", size="50", seed="1")

    assert "a sample of 50 cannot be drawn" in " ".join(
        str(m) for m in get_messages(response.wsgi_request)
    )
    assert list(Cohort.objects.values_list("pk", "name")) == before


def test_a_cohort_drawn_from_a_mixed_cohort_keeps_only_the_teams_cases(client, world):
    """The admin's "Mixed" cohort holds a1 and b1; filtering on it gives a1 only."""
    mixed = Cohort.objects.get(name="Mixed")
    client_for(client, world, "supervisor")

    cohort_post(client, name="From mixed", filter_query=f"cohort={mixed.pk}")

    assert cohort_ids("From mixed") == {world.cases["a1"].pk}


def test_a_supervisors_cohort_is_not_listed_for_another_team(client, world):
    client_for(client, world, "supervisor")
    cohort_post(client, name="Team A only", filter_query="kind=referred")

    other = Client()
    other.force_login(world.user("other_supervisor"))
    analytics = other.get(analytics_url(dimension="cohort"))
    listing = other.get(reverse("cases:case_list"))

    assert "Team A only" not in body(analytics)
    assert "Team A only" not in body(listing)
    assert "Mixed" in body(analytics)  # b1 is in it


def test_a_sample_with_the_same_seed_and_filter_draws_the_same_cases(client, world):
    for n in range(20):
        referred(f"Alpha Extra {n} Ltd", world.team, on=D(2018, 1, 1))
    client_for(client, world, "supervisor")

    first = cohort_post(client, name="Sample one", filter_query="year=2018", size="5", seed="42")
    second = cohort_post(client, name="Sample two", filter_query="year=2018", size="5", seed="42")

    assert first.status_code == second.status_code == 302
    one, two = Cohort.objects.get(name="Sample one"), Cohort.objects.get(name="Sample two")
    assert cohort_ids("Sample one") == cohort_ids("Sample two")
    population = Case.objects.filter(team=world.team, index_date__year=2018)
    assert sorted(cohort_ids("Sample one")) == analytics_services.sample_ids(
        population.values_list("pk", flat=True), size=5, seed=42
    )
    assert (one.seed, one.sample_size, one.population) == (42, 5, 20)
    assert (two.seed, two.sample_size, two.population) == (42, 5, 20)
    assert any("Drew 5 of 20 case(s)" in m and "seed 42" in m for m in messages_of(second))


def test_a_sample_without_a_seed_records_the_one_it_drew(client, world):
    client_for(client, world, "supervisor")

    cohort_post(client, name="Unseeded", size="2")

    cohort = Cohort.objects.get(name="Unseeded")
    assert cohort.seed is not None
    assert cohort.sample_size == 2
    population = Case.objects.filter(team=world.team).values_list("pk", flat=True)
    assert sorted(cohort_ids("Unseeded")) == analytics_services.sample_ids(
        population, size=2, seed=cohort.seed
    )


@pytest.mark.parametrize("sample", [{}, {"size": "3", "seed": "7"}], ids=["all", "sample"])
def test_a_cohort_name_already_taken_is_refused(client, world, sample):
    client_for(client, world, "supervisor")
    cohort_post(client, name="Taken", filter_query="kind=referred")
    before = cohort_ids("Taken")

    response = cohort_post(client, name="Taken", filter_query="", **sample)

    assert response.status_code == 302
    assert response.url == reverse("cases:case_list") + "?"
    assert Cohort.objects.filter(name="Taken").count() == 1
    assert Cohort.objects.count() == 2  # "Mixed" and the first "Taken"
    assert cohort_ids("Taken") == before
    assert any("You already have a cohort of this name." in m for m in messages_of(response))


def test_a_seed_without_a_size_is_refused(client, world):
    client_for(client, world, "supervisor")

    response = cohort_post(client, name="Seed only", filter_query="kind=referred", seed="42")

    assert response.status_code == 302
    assert response.url == reverse("cases:case_list") + "?kind=referred"
    assert not Cohort.objects.filter(name="Seed only").exists()
    assert any("give its size" in m for m in messages_of(response))


@pytest.mark.parametrize(
    "data",
    [{"name": ""}, {"name": "   "}, {"name": "Zero", "size": "0"}, {"name": "x" * 201}],
    ids=["empty name", "blank name", "size 0", "long name"],
)
def test_a_cohort_form_with_errors_is_refused(client, world, data):
    client_for(client, world, "supervisor")

    response = cohort_post(client, **data)

    assert response.status_code == 302
    assert Cohort.objects.count() == 1
    assert messages_of(response)


@pytest.mark.parametrize(
    "filter_query",
    ["year=not-a-year", "year=1500", "status=lost", "cohort=999999", "team={other_team}"],
)
def test_a_filter_that_cannot_be_read_is_refused(client, world, filter_query):
    filter_query = filter_query.format(other_team=world.other_team.pk)
    client_for(client, world, "supervisor")

    response = cohort_post(client, name="Unreadable", filter_query=filter_query)

    assert response.status_code == 302
    assert response.url == reverse("cases:case_list") + "?" + filter_query
    assert not Cohort.objects.filter(name="Unreadable").exists()
    assert any("could not be read" in m for m in messages_of(response))


def test_a_hostile_cohort_name_is_stored_verbatim_and_shown_escaped(client, world):
    client_for(client, world, "supervisor")

    listing = client.post(
        reverse("cases:cohort_create"),
        {"name": HOSTILE, "description": HOSTILE, "filter_query": "kind=referred"},
        follow=True,
    )
    analytics = client.get(analytics_url(dimension="cohort"))

    cohort = Cohort.objects.get(description=HOSTILE)
    assert cohort.name == HOSTILE
    # The case list (its message and the cohort filter) and analytics (the cohorts
    # table, the rates table and the chart) all show the name.
    for response in (listing, analytics):
        assert response.status_code == 200
        assert HOSTILE_RAW not in body(response)
        assert HOSTILE_ESCAPED in body(response)
    assert [r.cohort for r in analytics.context["rows"]].count(HOSTILE) == 1
    assert body(analytics).count(HOSTILE_ESCAPED) >= 4  # cohorts, rates, chart, description


# ------------------------------------------------------------------ second coder (POST)


def assign_post(client, case: Case, coder):
    return client.post(reverse("cases:second_coder_assign", args=[case.pk]), {"coder": coder.pk})


@pytest.mark.parametrize("coder", ["analyst", "other_analyst", "supervisor", "no_role", "admin"])
def test_the_second_coder_must_be_another_analyst_of_the_team(client, world, coder):
    """alice is a2's analyst, olga is on the other team, sam is no analyst, nora has no
    role, root is on no team."""
    client_for(client, world, "supervisor")
    case = world.cases["a2"]

    response = assign_post(client, case, world.user(coder))

    assert response.status_code == 302
    assert response.url == case.get_absolute_url() + "#second-coding"
    assert not SecondCoding.objects.exists()
    assert any("valid choice" in m for m in messages_of(response))


def test_a_recorded_reading_cannot_be_given_to_someone_else(client, coded):
    second = AnalystFactory(username="carol", teams=[coded.team])
    client_for(client, coded, "supervisor")

    response = assign_post(client, coded.cases["a1"], second)

    coding = SecondCoding.objects.get(case=coded.cases["a1"])
    assert coding.coder == coded.user("coder")
    assert any("already recorded" in m for m in messages_of(response))


def test_an_unrecorded_reading_can_be_given_to_another_analyst(client, world, assigned):
    second = AnalystFactory(username="carol", teams=[world.team])
    client_for(client, world, "supervisor")

    assign_post(client, world.cases["a1"], second)

    assert SecondCoding.objects.get(case=world.cases["a1"]).coder == second


# ------------------------------------------------------------------ blind reading


def test_a_reading_of_a_case_not_given_is_not_found(client, world, assigned):
    client_for(client, world, "coder")

    response = client.get(reverse("cases:coding_detail", args=[world.cases["a2"].pk]))

    assert response.status_code == 404


@pytest.fixture
def decided(world) -> World:
    """a1's first analyst confirmed one finding, rejected another and left one as a lead."""
    alice = world.user("analyst")
    case = world.cases["a1"]
    first = case.findings.get()
    casework_services.finding_review(
        finding=first, state=CONFIRMED, reviewer=alice, note=NOTE_CONFIRMED
    )
    rejected = derived.finding_create(
        case=case,
        kind=PARTNERSHIP,
        counterparty_name="Beijing Evidence Two",
        counterparty_country="CN",
        event_date=D(2020, 1, 1),
        event_date_precision="day",
        source="gdelt",
        external_id="E-2",
        source_url="https://news.example.org/two",
        excerpt=EXCERPT_REJECTED,
    )
    casework_services.finding_review(
        finding=rejected, state=REJECTED, reviewer=alice, note=NOTE_REJECTED
    )
    derived.finding_create(
        case=case,
        kind=Finding.Kind.SUBSIDIARY,
        counterparty_name="Wuhan Evidence Three",
        counterparty_country="CN",
        event_date=D(2021, 1, 1),
        event_date_precision="day",
        source="gdelt",
        external_id="E-3",
        excerpt=EXCERPT_UNREVIEWED,
    )
    return world


def test_the_blind_page_shows_the_evidence_without_the_first_decisions(client, decided, assigned):
    client_for(client, decided, "coder")

    response = client.get(reverse("cases:coding_detail", args=[decided.cases["a1"].pk]))

    text = body(response)
    assert response.status_code == 200
    for shown in (
        EXCERPT_CONFIRMED,
        EXCERPT_REJECTED,
        EXCERPT_UNREVIEWED,
        "Shenzhen Evidence One",
        "Beijing Evidence Two",
        "Wuhan Evidence Three",
    ):
        assert shown in text
    for hidden in (NOTE_CONFIRMED, NOTE_REJECTED, "CONFNOTE", "REJNOTE"):
        assert hidden not in text
    # No review state, no outcome box, not who reviewed.
    assert not re.search(r"\b(confirmed|rejected|leads?)\b", text, re.IGNORECASE)
    assert 'id="outcome"' not in text
    assert "Outcome: " not in text
    assert "is-positive" not in text
    assert "state-" not in text
    assert "alice" not in text


def test_a_reading_is_recorded_and_shown_to_the_supervisor(client, world, assigned):
    """The whole round: recorded on the blind page, seen on the case page, counted."""
    coder = client_for(client, world, "coder")
    case = world.cases["a1"]

    response = coder.post(
        reverse("cases:coding_detail", args=[case.pk]),
        {"positive_kinds": [PARTNERSHIP, JV], "note": "Joint venture in 2019"},
    )
    queue = coder.get(reverse("cases:coding_queue"))

    assert response.status_code == 302
    assigned.refresh_from_db()
    assert assigned.positive_kinds == [JV, PARTNERSHIP]
    assert assigned.note == "Joint venture in 2019"
    assert "not yet" not in body(queue)

    client.force_login(world.user("supervisor"))
    page = client.get(case.get_absolute_url())
    analytics = client.get(analytics_url())
    rows = download(client, "agreement")

    section = body(page).split('id="second-coding"', 1)[1].split("</section>", 1)[0]
    assert "Given to bob" in section
    assert "recorded" in section
    assert "joint_venture, partnership" in section
    assert "Joint venture in 2019" in section
    assert "Ask for a blind second reading" not in section  # recorded: no more giving
    overall = analytics.context["overall_agreement"]
    assert [a.agreement.n for a in overall] == [1]
    # a1 is positive for a joint venture, and so is the reading: one pair, both positive.
    assert overall[0].agreement.table == Table(a=1, b=0, c=0, d=0)
    assert overall[0].agreement.observed is None  # too few to say
    assert analytics.context["pending_codings"] == 0
    assert by_cohort(rows, "double_coded", AGREEMENT_FIELDS) == {"all": "1", "2017": "1"}
    assert by_cohort(rows, "disagreements", AGREEMENT_FIELDS) == {"all": "0", "2017": "0"}
    # One case read twice: the table, and no figure but the reason.
    any_row = dict(zip(AGREEMENT_FIELDS, rows[1], strict=True))
    assert (any_row["cohort"], any_row["outcome"], any_row["both_positive"]) == ("all", "any", "1")
    assert any_row["too_few"] == "too few to say (n < 10)"
    assert any_row["kappa"] == any_row["pabak"] == ""
    assert "too few to say (n &lt; 10)" in body(analytics)


def test_an_unknown_kind_is_a_bad_request_and_records_nothing(client, world, assigned):
    client_for(client, world, "coder")

    response = client.post(
        reverse("cases:coding_detail", args=[world.cases["a1"].pk]),
        {"positive_kinds": [JV, "bribery"], "note": "x"},
    )

    assert response.status_code == 400
    assigned.refresh_from_db()
    assert assigned.recorded_at is None
    assert assigned.positive_kinds == []
    assert assigned.note == ""


def test_a_pending_reading_is_counted_on_the_analytics_page(client, world, assigned):
    client_for(client, world, "supervisor")

    response = client.get(analytics_url())

    assert response.context["pending_codings"] == 1
    assert response.context["overall_agreement"] == []


# ------------------------------------------------------------------ control cases (POST)


def control_data(matched, **values) -> dict:
    return {
        "name": "Gamma Sensors Ltd",
        "country": "GB",
        "kind": Entity.Kind.COMPANY,
        "technology_fields": "Robotics; sensing",  # the referred case's field among them
        "matched_case": matched if isinstance(matched, int) else matched.pk,
        **values,
    }


def counts() -> tuple[int, int]:
    return Case.objects.count(), Entity.objects.count()


def test_a_control_case_follows_its_matched_case(client, world):
    matched = world.cases["a1"]
    client_for(client, world, "supervisor")

    response = client.post(
        reverse("cases:control_create"), control_data(matched, country="United Kingdom")
    )

    created = Case.objects.select_related("entity").get(entity__name="Gamma Sensors Ltd")
    assert response.status_code == 302
    assert created.kind == Case.Kind.CONTROL
    assert created.matched_case == matched
    assert created.team == world.team
    assert created.index_date == matched.index_date == D(2017, 5, 1)
    assert created.index_date_precision == matched.index_date_precision
    assert created.entity.country == "GB"
    assert created.entity.technology_fields == "Robotics; sensing"
    assert created.match_criteria == ["host_country", "entity_kind", "technology_field"]
    message = " ".join(messages_of(response))
    assert (
        f'Control case Gamma Sensors Ltd added, matched to <a href="{matched.get_absolute_url()}">'
        f"{matched.entity.name}</a> (referred case) on every criterion." in message
    )
    assert f"case {matched.pk}" not in message
    page = client.get(created.get_absolute_url())
    assert page.status_code == 200
    # The message keeps its link through the message storage, and only that is unescaped.
    assert 'role="status">Control case Gamma Sensors Ltd added, matched to <a href=' in body(page)
    assert f'matched to <a href="{matched.get_absolute_url()}">' in body(page)


def test_the_control_message_escapes_the_names_it_gives(client, world):
    matched = world.cases["a1"]
    Entity.objects.filter(pk=matched.entity_id).update(name="<script>alert(1)</script> Ltd")
    client_for(client, world, "supervisor")

    response = client.post(reverse("cases:control_create"), control_data(matched))
    page = client.get(response.url)

    assert "<script>alert(1)</script>" not in body(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ltd</a> (referred case)" in body(page)


def test_a_control_that_misses_a_criterion_is_refused_with_what_differs(client, world):
    client_for(client, world, "supervisor")
    before = counts()

    response = client.post(
        reverse("cases:control_create"),
        control_data(world.cases["a1"], country="FR", kind=Entity.Kind.UNIVERSITY),
    )

    assert response.status_code == 302
    assert response.url == reverse("cases:analytics") + "#control"
    assert counts() == before
    (notice,) = messages_of(response)
    assert "same host country (FR against GB)" in notice
    assert "same entity kind (university against company)" in notice
    assert "technology field" not in notice


def test_a_relaxed_criterion_needs_a_reason_and_is_recorded(client, world):
    client_for(client, world, "supervisor")
    before = counts()
    data = control_data(world.cases["a1"], country="FR", relaxed=["host_country"])

    refused = client.post(reverse("cases:control_create"), data)

    assert counts() == before
    assert any("Say why" in m for m in messages_of(refused))

    response = client.post(
        reverse("cases:control_create"), {**data, "match_note": "No unreferred GB peer."}
    )

    created = Case.objects.get(entity__name="Gamma Sensors Ltd")
    assert response.url == created.get_absolute_url()
    assert created.match_criteria == ["entity_kind", "technology_field"]
    assert (created.match_relaxed, created.match_note) == (
        ["host_country"],
        "No unreferred GB peer.",
    )
    assert any("relaxed: same host country" in m for m in messages_of(response))


@pytest.mark.parametrize(
    "matched",
    ["b1", "control_a", 999999],
    ids=["other team", "a control", "no such case"],
)
def test_a_control_needs_a_referred_case_of_ones_teams(client, world, matched):
    matched_id = world.cases[matched].pk if isinstance(matched, str) else matched
    client_for(client, world, "supervisor")
    before = counts()

    response = client.post(reverse("cases:control_create"), control_data(matched_id))

    assert response.status_code == 302
    assert response.url == reverse("cases:analytics") + "#control"
    assert counts() == before
    assert any(f"No referred case {matched_id}" in m for m in messages_of(response))


@pytest.mark.parametrize(
    "values, field",
    [
        ({"country": "Narnia"}, "country"),
        ({"country": ""}, "country"),
        ({"kind": "spaceship"}, "kind"),
        ({"name": ""}, "name"),
        ({"matched_case": "abc"}, "matched_case"),
    ],
)
def test_a_control_form_with_errors_is_refused(client, world, values, field):
    client_for(client, world, "supervisor")
    before = counts()

    response = client.post(
        reverse("cases:control_create"), control_data(world.cases["a1"], **values)
    )

    assert response.status_code == 302
    assert response.url == reverse("cases:analytics") + "#control"
    assert counts() == before
    assert any(m.startswith(f"{field}:") for m in messages_of(response))


def test_a_control_of_an_entity_already_stored_is_refused(client, world):
    client_for(client, world, "supervisor")
    before = counts()

    response = client.post(
        reverse("cases:control_create"),
        control_data(world.cases["a1"], name="Alpha Robotics 2 Ltd"),
    )

    assert response.status_code == 302
    assert counts() == before
    assert messages_of(response)


# ------------------------------------------------------------------ query counts


def rich_cases(world: World, start: int, count: int) -> None:
    """Team A cases with everything the page reads: referrals, findings, checks, second
    readings, named cohorts and controls."""
    bob = world.user("coder")
    cohort = Cohort.objects.get(name="Mixed")
    for n in range(start, start + count):
        case = referred(f"Query {n:03d} Ltd", world.team, on=D(2017 + n % 3, 5, 1))
        confirmed(case, kind=JV if n % 2 else PARTNERSHIP, on=D(2021, 1, 1))
        checked(case)
        Case.objects.filter(pk=case.pk).update(status=Case.Status.CONCLUDED)
        case.refresh_from_db()
        coding = analytics_services.second_coding_assign(case=case, coder=bob, actor=None)
        if n % 4:
            kinds = [JV] if n % 3 else []
            analytics_services.second_coding_record(
                coding=coding, positive_kinds=kinds, note="", actor=bob
            )
        cohort.cases.add(case)
        if n % 5 == 0:
            control(f"Query Control {n:03d} Ltd", case)


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("dimension", ["year", "cooperation_method", "cohort", "team"])
def test_the_analytics_page_does_not_add_queries_per_case(client, world, dimension):
    client_for(client, world, "supervisor")
    url = analytics_url(dimension=dimension)
    rich_cases(world, 0, 5)
    few = queries(client, url)

    rich_cases(world, 5, 35)
    many = queries(client, url)

    assert many == few


@pytest.mark.parametrize("kind", sorted(HEADERS))
def test_the_downloads_do_not_add_queries_per_case(client, world, kind):
    client_for(client, world, "supervisor")
    url = analytics_url(dimension="year", download=kind)
    rich_cases(world, 0, 5)
    few = queries(client, url)

    rich_cases(world, 5, 35)
    many = queries(client, url)

    assert many == few


def test_the_analytics_page_does_not_add_queries_per_cohort(client, world):
    supervisor = world.user("supervisor")
    client_for(client, world, "supervisor")
    cases = Case.objects.filter(team=world.team)
    analytics_services.cohort_save(name="Cohort 0", cases=cases, actor=supervisor)
    few = queries(client, analytics_url())

    for n in range(1, 8):
        analytics_services.cohort_save(name=f"Cohort {n}", cases=cases, actor=supervisor)
    many = queries(client, analytics_url())

    assert many == few


# ------------------------------------------------------------------ downloads


def test_an_unknown_download_shows_the_page(client, world):
    client_for(client, world, "supervisor")

    response = client.get(analytics_url(download="everything"))

    assert response.status_code == 200
    assert "text/csv" not in response["Content-Type"]
    assert 'id="rates-table"' in body(response)


def test_the_rates_download_ends_with_the_total_row(client, world):
    client_for(client, world, "supervisor")

    rows = download(client, "rates", dimension="year")

    assert [row[:4] for row in rows[1:]] == [["2017", "3", "2", "1"], ["all", "3", "2", "1"]]


@pytest.mark.parametrize("kind", sorted(HEADERS))
def test_each_download_leads_with_its_filters_time_and_code_version(client, world, kind):
    client_for(client, world, "supervisor")

    response = client.get(analytics_url(download=kind, dimension="post", outcome=JV))
    text = body(response)
    metadata = commented_csv.metadata(text)

    # The byte order mark first, so a spreadsheet reads the file as UTF-8, then the
    # metadata block.
    assert response.content.startswith(b"\xef\xbb\xbf# ")
    assert text.startswith("\ufeff# " + downloads.file_name(kind, by="post", outcome=JV) + "\r\n")
    assert metadata["filter dimension"] == "post"
    assert metadata["filter outcome"] == JV
    assert metadata["filter download"] == kind
    assert metadata["filter teams"] == world.team.name
    assert metadata["code_version"] == code_version()
    extracted = datetime.datetime.fromisoformat(metadata["extracted_at"])
    assert extracted.utcoffset() == datetime.timedelta(0)
    assert "definition Reviewed" in metadata
    assert commented_csv.table(text)[0] == HEADERS[kind]


def test_the_rates_download_reads_in_pandas_as_rounded_percentages(client, world):
    """As README says to read it: the BOM and the metadata skipped, the rate of 1 in 2
    reviewed and its Wilson interval (statsmodels) as percentages with one decimal."""
    client_for(client, world, "supervisor")

    data = client.get(analytics_url(download="rates", dimension="year")).content
    table = pandas.read_csv(io.BytesIO(data), comment="#", encoding="utf-8-sig")

    row = table.set_index("cohort").loc["2017"]
    low, high = proportion_confint(1, 2, method="wilson")
    assert list(table.columns) == HEADERS["rates"]
    assert (row["reviewed"], row["positive"], row["rate_%"]) == (2, 1, 50.0)
    assert (row["ci_low_%"], row["ci_high_%"]) == (round(low * 100, 1), round(high * 100, 1))


def test_an_admins_download_says_it_covers_all_teams(client, world):
    client_for(client, world, "admin")

    metadata = commented_csv.metadata(body(client.get(analytics_url(download="rates"))))

    assert metadata["filter teams"] == "all teams"


# ------------------------------------------------------------------ the cohort report


def report_url(**query) -> str:
    return reverse("cases:analytics_report") + "?" + "&".join(f"{k}={v}" for k, v in query.items())


@pytest.mark.parametrize("role", sorted(FIGURES))
def test_the_report_counts_only_the_viewers_cases(client, world, role):
    referred_cases, reviewed, positive, _, _ = FIGURES[role]
    client_for(client, world, role)

    response = client.get(report_url(dimension="year", outcome="any"))

    assert response.status_code == 200
    html = body(response)
    total = re.search(r'<tr class="total"><td>all.*?</tr>', html, re.DOTALL).group(0)
    cells = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", total)]
    assert [cells[1], cells[3], cells[5]] == [str(referred_cases), str(reviewed), str(positive)]
    if NOT_SEEN[role]:
        assert NOT_SEEN[role] not in html


def test_the_report_page_allows_its_own_style_and_nothing_else_inline(client, world):
    client_for(client, world, "supervisor")

    response = client.get(report_url(dimension="post"))

    style = re.search(r"<style>(.*?)</style>", body(response), re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = response["Content-Security-Policy"]
    assert f"'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy


def test_the_report_pdf_is_a_download_that_reads_back_its_title(client, world):
    client_for(client, world, "supervisor")

    response = client.get(report_url(dimension="year", outcome=JV, format="pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    name = f"cohort-report-year-{JV}.pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    page = pypdfium2.PdfDocument(response.content)[0]
    assert "Outcome rates by referral year" in page.get_textpage().get_text_range()


@pytest.mark.parametrize(
    "query", [{"dimension": "colour"}, {"outcome": "bribery"}, {"format": "docx"}]
)
def test_a_bad_report_choice_is_a_400(client, world, query):
    client_for(client, world, "supervisor")

    assert client.get(report_url(**query)).status_code == 400


def test_the_analytics_page_links_its_report(client, world):
    client_for(client, world, "supervisor")

    html = body(client.get(analytics_url(dimension="post", outcome=JV)))

    link = (
        reverse("cases:analytics_report")
        + f"?dimension=post&amp;outcome={JV}&amp;interval=wilson&amp;small=flag"
    )
    assert f'href="{link}"' in html
    assert f'href="{link}&amp;format=pdf"' in html


def test_the_survival_panel_counts_the_rate_tables_cases_and_replaces_the_median_of_positives(
    client, world
):
    client_for(client, world, "supervisor")

    page = client.get(analytics_url(dimension="year"))
    html = page.content.decode()
    panel = html[html.index('<section id="survival">') :]
    panel = panel[: panel.index("</section>")]
    overall = page.context["overall_curve"]

    # a1 positive after 669 days, a2 followed to today, a3 never searched
    assert overall.population == page.context["total"].cases == 3
    assert (overall.watched, overall.unwatched, overall.events) == (2, 1, 1)
    assert overall.median.estimate == (D(2019, 3, 1) - D(2017, 5, 1)).days  # S falls to 1/2
    assert "<td>3</td><td>2</td><td>1</td><td>1</td>" in panel
    assert "669 [" in panel
    assert "same cases as the rate table" in panel
    assert "Median days to first positive" not in html
