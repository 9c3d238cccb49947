"""The outcome_rates command: its JSON output checked, for every dimension, against rates
worked out here in plain Python from the raw rows (the outcome rule of DOMAIN.md, the
Wilson interval in closed form, statistics.median); CSV and table output; bad arguments."""

import calendar
import csv
import datetime
import io
import json
import math
import re
import statistics
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command

from cases import blocs, derived, rules
from cases.analytics import selectors
from cases.analytics import services as analytics_services
from cases.casework import services as casework_services
from cases.models import Case, CheckRun, CooperationMethod, Entity, Finding, Referral
from tests import commented_csv
from tests.factories import (
    CaseFactory,
    CheckRunFactory,
    EntityFactory,
    PostFactory,
    ReferralFactory,
    TeamFactory,
)
from wishlist.version import code_version

pytestmark = pytest.mark.django_db

D = datetime.date
Z = 1.959963984540054
KEYS = ["cohort", "cases", "reviewed", "positive", "rate", "ci_low", "ci_high", "median_days"]
# The keys issue 13's contract adds, worked out below from the raw rows.
CONTRACT = ["checked", "concluded", "bound_low", "bound_high", "small"]
CONFIRMED = Finding.ReviewState.CONFIRMED
REJECTED = Finding.ReviewState.REJECTED
LEAD = Finding.ReviewState.LEAD
JV = Finding.Kind.JOINT_VENTURE

# The host countries' blocs on the referral dates used below (all inside 2016-2019).
BLOC_LABEL = {"GB": "NATO", "US": "NATO", "DE": "NATO", "JP": "US Major Non-NATO Ally"}
BLOC_LABEL["RU"] = "Russia"


@pytest.fixture(autouse=True)
def _reference_lists():
    """Blocs come from the shipped reference lists, read afresh for each test."""
    blocs.memberships.cache_clear()
    yield
    blocs.memberships.cache_clear()


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("outcome_rates", *args, stdout=out)
    return out.getvalue()


# ------------------------------------------------------------------------ the data set


def _case(name, *, kind, team, status, referrals):
    entity = EntityFactory(name=name, kind=kind, country=referrals[0]["host_country"])
    for values in referrals:
        ReferralFactory(entity=entity, **values)
    return CaseFactory(entity=entity, team=team, status=status)


def _control(name: str, matched: Case, **kwargs) -> Case:
    country, kind, fields = rules.matched_profile(matched)
    return analytics_services.control_case_create(
        name=name,
        country=country,
        kind=kind,
        technology_fields="; ".join(sorted(fields)),
        matched_case=matched,
        **kwargs,
    )


def _finding(case, kind, country, on, state):
    derived.finding_create(
        case=case,
        kind=kind,
        counterparty_name=f"Counterparty in {country}",
        counterparty_country=country,
        event_date=on,
        event_date_precision="day",
        review_state=state,
    )


@pytest.fixture
def dataset():
    london = PostFactory(name="Embassy in London", host_country="GB", city="London")
    houston = PostFactory(name="Consulate-General in Houston", host_country="US", city="Houston")
    berlin = PostFactory(name="Embassy in Berlin", host_country="DE", city="Berlin")
    tokyo = PostFactory(name="Embassy in Tokyo", host_country="JP", city="Tokyo")
    moscow = PostFactory(name="Embassy in Moscow", host_country="RU", city="Moscow")
    alpha = TeamFactory(name="Team Alpha")
    beta = TeamFactory(name="Team Beta")

    def ref(post, on, precision, field, methods):
        return {
            "post": post,
            "host_country": post.host_country if post else "GB",
            "date": on,
            "date_precision": precision,
            "technology_field": field,
            "cooperation_methods": methods,
        }

    company, university = Entity.Kind.COMPANY, Entity.Kind.UNIVERSITY
    institute, individual = Entity.Kind.RESEARCH_INSTITUTE, Entity.Kind.INDIVIDUAL
    monitoring, concluded = Case.Status.MONITORING, Case.Status.CONCLUDED
    cases = {
        # Referred twice: the earlier referral places it (2016, London, biotechnology).
        "a": _case(
            "Alpha Bio",
            kind=company,
            team=alpha,
            status=monitoring,
            referrals=[
                ref(houston, D(2018, 5, 1), "month", "robotics", ["patent_licence"]),
                ref(
                    london,
                    D(2016, 3, 15),
                    "day",
                    "biotechnology",
                    ["joint_venture", "equity_purchase"],
                ),
            ],
        ),
        "b": _case(
            "Beta University",
            kind=university,
            team=alpha,
            status=monitoring,
            referrals=[
                ref(houston, D(2016, 7, 1), "month", "artificial intelligence", ["joint_rd"])
            ],
        ),
        "c": _case(
            "Gamma AI",
            kind=company,
            team=beta,
            status=monitoring,
            referrals=[
                ref(
                    houston,
                    D(2017, 2, 1),
                    "month",
                    "artificial intelligence",
                    ["investment", "joint_venture"],
                )
            ],
        ),
        # Concluded without findings: reviewed, negative.
        "d": _case(
            "Delta Institut",
            kind=institute,
            team=beta,
            status=concluded,
            referrals=[ref(berlin, D(2017, 5, 3), "day", "biotechnology", ["patent_licence"])],
        ),
        # Only a lead: not reviewed.
        "e": _case(
            "Epsilon Materials",
            kind=company,
            team=alpha,
            status=monitoring,
            referrals=[ref(berlin, D(2017, 9, 1), "month", "new materials", ["joint_venture"])],
        ),
        "f": _case(
            "Foxtrot Robotics",
            kind=company,
            team=None,
            status=monitoring,
            referrals=[
                ref(
                    tokyo,
                    D(2018, 1, 10),
                    "day",
                    "artificial intelligence",
                    ["joint_venture", "production_in_china"],
                )
            ],
        ),
        # Dated to the year only, no field, no method.
        "g": _case(
            "Golf Sensors",
            kind=company,
            team=beta,
            status=monitoring,
            referrals=[ref(london, D(2018, 1, 1), "year", "", [])],
        ),
        # No post.
        "h": _case(
            "Hotel Person",
            kind=individual,
            team=alpha,
            status=concluded,
            referrals=[ref(None, D(2016, 11, 1), "month", "quantum", ["rd_staff_hiring"])],
        ),
        "j": _case(
            "Juliet Aero",
            kind=company,
            team=beta,
            status=monitoring,
            referrals=[ref(moscow, D(2019, 4, 1), "month", "aerospace", ["technology_transfer"])],
        ),
    }
    # Never referred and not a control: no index date, so nothing can be "after" it.
    cases["i"] = CaseFactory(entity=EntityFactory(name="India Labs"), team=alpha)
    derived.case_index_dates_refresh()
    for case in cases.values():
        case.refresh_from_db()

    c = cases
    _finding(c["a"], JV, "CN", D(2017, 1, 10), CONFIRMED)
    _finding(c["a"], Finding.Kind.PARTNERSHIP, "CN", D(2016, 6, 1), REJECTED)
    # Same month as a month-precision referral: timing unknown, not an outcome.
    _finding(c["b"], Finding.Kind.PARTNERSHIP, "HK", D(2016, 7, 20), CONFIRMED)
    _finding(c["b"], Finding.Kind.CO_PUBLICATION, "CN", D(2018, 2, 1), CONFIRMED)
    _finding(c["c"], JV, "US", D(2018, 1, 1), CONFIRMED)
    _finding(c["e"], JV, "CN", D(2018, 5, 5), LEAD)
    _finding(c["f"], JV, "MO", D(2018, 6, 30), CONFIRMED)
    _finding(c["f"], Finding.Kind.SUBSIDIARY, "CN", D(2019, 1, 1), CONFIRMED)
    _finding(c["f"], Finding.Kind.PARTNERSHIP, "CN", D(2017, 12, 1), CONFIRMED)
    _finding(c["g"], JV, "CN", D(2018, 8, 1), CONFIRMED)
    _finding(c["g"], JV, "CN", D(2019, 3, 1), CONFIRMED)
    _finding(c["h"], Finding.Kind.RD_STAFF, "CN", D(2020, 2, 2), CONFIRMED)
    _finding(c["i"], JV, "CN", D(2019, 1, 1), CONFIRMED)
    _finding(c["j"], Finding.Kind.ACQUISITION, "HK", D(2020, 1, 15), CONFIRMED)

    # Control cases, positive and negative: never counted among the referred. Each is
    # matched on its referred case's host country, kind and field.
    for matched, name in [(c["c"], "Control One"), (c["d"], "Control Two")]:
        control = _control(name, matched)
        _finding(control, JV, "CN", D(2019, 6, 1), CONFIRMED)
    control = _control("Control Three", c["a"], team=alpha)
    casework_services.case_set_status(case=control, status=concluded, actor=None)

    analytics_services.cohort_save(
        name="Sample 2021",
        cases=Case.objects.filter(pk__in=[c["a"].pk, c["b"].pk, c["c"].pk, c["f"].pk, control.pk]),
        actor=None,
    )
    analytics_services.cohort_save(
        name="Houston follow-up",
        cases=Case.objects.filter(pk__in=[c["b"].pk, c["c"].pk]),
        actor=None,
    )
    # Checked: a successful check on d, only a failed one on e (not checked).
    CheckRunFactory(case=c["d"], status=CheckRun.Status.OK)
    CheckRunFactory(case=c["e"], status=CheckRun.Status.ERROR)
    return cases


# --------------------------------------------------------- the independent computation


def period_end(start: datetime.date, precision: str) -> datetime.date:
    if precision == "day":
        return start
    if precision == "month":
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    return start.replace(month=12, day=31)


def wilson(positive: int, total: int) -> tuple[float, float]:
    p = positive / total
    denom = 1 + Z**2 / total
    centre = (p + Z**2 / (2 * total)) / denom
    half = Z * math.sqrt(p * (1 - p) / total + Z**2 / (4 * total**2)) / denom
    return centre - half, centre + half


def cohorts_of(case: Case, index: Referral | None, by: str) -> list[str]:
    """The cohort labels a case falls in, read from its rows."""
    if by == "year":
        return [str(index.date.year)] if index else ["(none)"]
    if by == "bloc":
        return [BLOC_LABEL[index.host_country]] if index else ["(unknown)"]
    if by == "cooperation_method":
        return [CooperationMethod(m).label for m in index.cooperation_methods] if index else []
    if by == "entity_type":
        return [Entity.Kind(case.entity.kind).label]
    if by == "team":
        return [case.team.name if case.team else "(none)"]
    if by == "cohort":
        return [cohort.name for cohort in case.cohorts.all()]
    value = (
        {
            "host_country": lambda r: r.host_country,
            "post": lambda r: r.post.name if r.post else "",
            "technology_field": lambda r: r.technology_field,
        }[by](index)
        if index
        else ""
    )
    return [value or "(none)"]


def expected_rates(by: str, outcome: str, team: str | None = None) -> dict[str, dict]:
    rank = {"day": 0, "month": 1, "year": 2}
    groups: dict[str, list[tuple[bool, int | None]]] = defaultdict(list)
    for case in Case.objects.select_related("entity", "team").order_by("pk"):
        if case.kind != Case.Kind.REFERRED:
            continue
        if team is not None and (case.team is None or case.team.name != team):
            continue
        referrals = list(Referral.objects.filter(entity=case.entity).select_related("post"))
        index = min(referrals, key=lambda r: (r.date, rank[r.date_precision]), default=None)
        findings = list(Finding.objects.filter(case=case))
        concluded = case.status == Case.Status.CONCLUDED
        checked = case.check_runs.filter(status__in=("ok", "no_results")).exists()
        positive_dates = [
            f.event_date
            for f in findings
            if index is not None
            and f.review_state == CONFIRMED
            and (outcome == "any" or f.kind == outcome)
            and f.counterparty_country in ("CN", "HK", "MO")
            and f.event_date is not None
            and f.event_date > period_end(index.date, index.date_precision)
        ]
        days = (min(positive_dates) - index.date).days if positive_dates else None
        # A reviewed negative is a concluded case; a positive one is reviewed by definition.
        reviewed = concluded or days is not None
        for label in [*cohorts_of(case, index, by), "(all)"]:
            groups[label].append((reviewed, days, concluded, checked))
    result = {}
    for label, members in groups.items():
        reviewed = sum(1 for was_reviewed, *_ in members if was_reviewed)
        days = [d for _, d, *_ in members if d is not None]
        low, high = wilson(len(days), reviewed) if reviewed else (None, None)
        cases = len(members)
        result[label] = {
            "checked": sum(1 for *_, was_checked in members if was_checked),
            "concluded": sum(1 for _, _, was_concluded, _ in members if was_concluded),
            "bound_low": len(days) / cases,
            "bound_high": (len(days) + cases - reviewed) / cases,
            "small": reviewed < 10,
            "cohort": label,
            "cases": len(members),
            "reviewed": reviewed,
            "positive": len(days),
            "rate": len(days) / reviewed if reviewed else None,
            "ci_low": low,
            "ci_high": high,
            "median_days": statistics.median(days) if days else None,
        }
    return result


def assert_rows_match(rows: list[dict], expected: dict[str, dict], by: str = "") -> None:
    cohorts = [label for label in expected if label != "(all)"]
    if by == "year":
        order = sorted(cohorts, key=lambda label: (not label.isdigit(), label))
    else:
        order = sorted(cohorts, key=lambda label: (-expected[label]["cases"], label))
    assert [row["cohort"] for row in rows] == [*order, "(all)"]
    for row in rows:
        assert list(row)[: len(KEYS)] == KEYS
        assert set(CONTRACT) | {"corrected", "corrected_ci_low", "p_adjusted"} <= set(row)
        want = expected[row["cohort"]]
        for key in ("small",):
            assert row[key] is want[key], (row["cohort"], key)
        for key in ("bound_low", "bound_high"):
            assert row[key] == pytest.approx(want[key], abs=1e-9), (row["cohort"], key)
        for key in ("cases", "reviewed", "positive", "checked", "concluded"):
            assert type(row[key]) is int
            assert row[key] == want[key], (row["cohort"], key)
        for key in ("rate", "ci_low", "ci_high", "median_days"):
            if want[key] is None:
                assert row[key] is None, (row["cohort"], key)
            else:
                assert isinstance(row[key], int | float), (row["cohort"], key)
                assert row[key] == pytest.approx(want[key], abs=1e-9), (row["cohort"], key)


# ------------------------------------------------------------------------------ JSON


@pytest.mark.parametrize("outcome", ["any", "joint_venture"])
@pytest.mark.parametrize("by", list(selectors.DIMENSIONS))
def test_json_matches_a_computation_from_the_raw_rows(dataset, by, outcome):
    rows = json.loads(run("--by", by, "--outcome", outcome, "--format", "json"))

    assert_rows_match(rows, expected_rates(by, outcome), by)


@pytest.mark.parametrize("by", ["year", "cooperation_method", "cohort"])
def test_json_for_one_team_counts_only_its_cases(dataset, by):
    rows = json.loads(run("--by", by, "--team", "Team Alpha", "--format", "json"))

    assert_rows_match(rows, expected_rates(by, "any", team="Team Alpha"), by)


def test_the_data_set_covers_the_edge_cases(dataset):
    """Guard the fixture: the comparison above means little if nothing is positive."""
    by_year = expected_rates("year", "any")
    assert by_year["2016"]["positive"] == 3
    # c (a rejected finding only) is not reviewed: a reviewed negative is concluded (d).
    assert by_year["2017"] == pytest.approx(
        {
            "cohort": "2017",
            "cases": 3,
            "reviewed": 1,
            "positive": 0,
            "rate": 0.0,
            "ci_low": 0.0,
            "ci_high": wilson(0, 1)[1],
            "median_days": None,
            "checked": 1,
            "concluded": 1,
            "bound_low": 0.0,
            "bound_high": 2 / 3,
            "small": True,
        }
    )
    assert (
        by_year["(none)"]["reviewed"] == 0
    )  # its decided finding cannot make it positive (no index date)
    assert by_year["(none)"]["positive"] == 0
    assert sum(group["cases"] for label, group in by_year.items() if label != "(all)") == 10


def test_json_of_an_empty_set_is_an_empty_list(db):
    assert json.loads(run("--by", "year", "--format", "json")) == []


# ------------------------------------------------------------------------------- CSV


def test_csv_has_a_header_and_one_line_per_cohort(dataset):
    text = run("--by", "host_country", "--format", "csv")

    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    assert reader.fieldnames[: len(KEYS)] == KEYS
    assert set(CONTRACT) <= set(reader.fieldnames)
    expected = expected_rates("host_country", "any")
    assert {row["cohort"] for row in rows} == set(expected)
    for row in rows:
        want = expected[row["cohort"]]
        assert int(row["cases"]) == want["cases"]
        assert int(row["positive"]) == want["positive"]
        if want["rate"] is None:
            assert row["rate"] == row["ci_low"] == row["ci_high"] == ""
        else:
            assert float(row["rate"]) == pytest.approx(want["rate"])
            assert float(row["ci_high"]) == pytest.approx(want["ci_high"])
        if want["median_days"] is None:
            assert row["median_days"] == ""
        else:
            assert float(row["median_days"]) == pytest.approx(want["median_days"])


def test_csv_does_not_let_a_cohort_name_become_a_formula(dataset):
    analytics_services.cohort_save(name="=HYPERLINK(1)", cases=Case.objects.all(), actor=None)

    rows = list(csv.DictReader(io.StringIO(run("--by", "cohort", "--format", "csv"))))

    assert "'=HYPERLINK(1)" in {row["cohort"] for row in rows}


def test_csv_keeps_its_header_first_unless_metadata_is_asked_for(dataset):
    plain = run("--by", "year", "--format", "csv")
    text = run("--by", "year", "--format", "csv", "--with-metadata", "--team", "Team Alpha")

    assert plain.startswith("cohort,")
    metadata = commented_csv.metadata(text)
    assert metadata["filter dimension"] == "year"
    assert metadata["filter team"] == "Team Alpha"
    assert metadata["code_version"] == code_version()
    assert metadata["extracted_at"].endswith("Z")
    assert list(csv.DictReader(io.StringIO(commented_csv.split_metadata(text)[1])))


def test_csv_for_scripts_has_no_bom_and_unrounded_fractions(dataset):
    """The page's download is rounded and led by a BOM for spreadsheets; this output is
    read by scripts as it always was."""
    for args in ([], ["--with-metadata"]):
        text = run("--by", "year", "--format", "csv", *args)

        assert not text.startswith("\ufeff")
        rows = list(csv.DictReader(io.StringIO(commented_csv.split_metadata(text)[1])))
        assert "rate" in rows[0] and "rate_%" not in rows[0]
        for row in rows:
            if row["rate"]:
                rate = int(row["positive"]) / int(row["reviewed"])
                assert float(row["rate"]) == rate  # every digit, a fraction of 1
        assert rows[-1]["cohort"] == "(all)"
        assert rows[-1]["rate"] == repr(6 / 7)  # 0.8571428571428571, not 85.7


def test_metadata_is_refused_outside_csv(db):
    # The JSON stays a list of rows: scripts index it as one.
    with pytest.raises(CommandError, match="--format csv"):
        run("--by", "year", "--format", "json", "--with-metadata")


# ----------------------------------------------------------------------------- table


def test_table_shows_percentages_and_a_total_row(dataset):
    text = run("--by", "year")

    lines = text.splitlines()
    assert lines[-1].split()[:4] == ["all", "10", "7", "6"]
    # 6 of 7: 85.7 % with its Wilson interval, one decimal.
    low, high = wilson(6, 7)
    assert "85.7%" in lines[-1]
    assert f"{low * 100:.1f}–{high * 100:.1f}%" in lines[-1]
    row_2017 = next(line for line in lines if line.startswith("2017"))
    assert "0.0%" in row_2017
    assert row_2017.rstrip().endswith("—")  # no positive case: no median
    # Columns line up under the rule: names to the left, figures to the right.
    rule = lines[1]
    spans = [(m.start(), m.end()) for m in re.finditer("-+", rule)]
    header = ["year", "cases", "reviewed", "positive", "rate", "95% interval", "median days"]
    assert [lines[0][start:end].strip() for start, end in spans] == header
    for line in [*lines[2:-2], lines[-1]]:
        cells = [line[start:end] for start, end in spans]
        assert [cell.strip() for cell in cells] == line.split()
        assert not cells[0].startswith(" ")
        assert all(not cell.endswith(" ") for cell in cells[1:])


def test_table_marks_a_rate_without_reviewed_cases(db):
    entity = EntityFactory()
    ReferralFactory(entity=entity, date=D(2019, 5, 1))
    CaseFactory(entity=entity)
    derived.case_index_dates_refresh()

    text = run("--by", "year", "--outcome", "acquisition")

    line = next(line for line in text.splitlines() if line.startswith("2019"))
    assert line.split() == ["2019", "1", "0", "0", "—", "—", "—"]


def test_table_of_an_empty_set_still_has_the_total(db):
    lines = run("--by", "team").splitlines()

    assert lines[-1].split() == ["all", "0", "0", "0", "—", "—", "—"]


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "args",
    [
        ["--by", "colour"],
        ["--by", "year", "--outcome", "espionage"],
        ["--by", "year", "--format", "xml"],
        [],
    ],
)
def test_bad_arguments_are_refused(db, args):
    with pytest.raises(CommandError) as error:
        run(*args)

    assert "invalid choice" in str(error.value) or "required" in str(error.value)


def test_an_unknown_team_is_refused(dataset):
    with pytest.raises(CommandError, match="Team Gamma"):
        run("--by", "year", "--team", "Team Gamma")
