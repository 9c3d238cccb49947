"""The analytics form's choices of interval method and of how small cohorts are shown,
and country names beside codes (issue 13, item 6)."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from scipy.stats import beta

from cases.analytics import estimates
from cases.analytics import selectors as analytics_selectors
from cases.analytics.cohorts import cohort_display
from cases.models import Case, Team
from tests.analytics.test_selectors import negative_case, positive_case, referred
from tests.clients import Client
from tests.factories import SupervisorFactory, TeamFactory

pytestmark = pytest.mark.django_db


def clopper_pearson(x: int, n: int) -> tuple[float, float]:
    """Clopper-Pearson limits in their beta-quantile form (Clopper & Pearson 1934)."""
    low = 0.0 if x == 0 else beta.ppf(0.025, x, n - x + 1)
    high = 1.0 if x == n else beta.ppf(0.975, x + 1, n - x)
    return low, high


def jeffreys(x: int, n: int) -> tuple[float, float]:
    """Jeffreys limits: the 2.5 and 97.5 % quantiles of Beta(x + 1/2, n - x + 1/2)."""
    return beta.ppf(0.025, x + 0.5, n - x + 0.5), beta.ppf(0.975, x + 0.5, n - x + 0.5)


def two_of_five(**values) -> None:
    for days in (40, 90):
        positive_case(days, **values)
    for _ in range(3):
        negative_case(**values)


@pytest.mark.parametrize(
    ("method", "expected"), [("beta", clopper_pearson), ("jeffreys", jeffreys)]
)
def test_the_rows_and_total_take_the_interval_method_asked_for(method, expected):
    two_of_five()

    (row,) = analytics_selectors.outcome_rates(Case.objects.all(), by="year", interval=method)
    total = analytics_selectors.outcome_total(Case.objects.all(), interval=method)

    assert (row.positive, row.reviewed) == (2, 5)
    assert (row.ci_low, row.ci_high) == pytest.approx(expected(2, 5))
    assert (total.ci_low, total.ci_high) == pytest.approx(expected(2, 5))
    # The bounds and the corrected estimate do not depend on the interval method.
    wilson = analytics_selectors.outcome_rates(Case.objects.all(), by="year")[0]
    assert (row.bound_low, row.bound_high, row.corrected) == (
        wilson.bound_low,
        wilson.bound_high,
        wilson.corrected,
    )
    assert (row.ci_low, row.ci_high) != (wilson.ci_low, wilson.ci_high)


def test_an_unknown_interval_method_is_refused():
    two_of_five()

    with pytest.raises(ValueError, match="unknown interval method"):
        analytics_selectors.outcome_rates(Case.objects.all(), by="year", interval="normal")


def _three_countries() -> None:
    """GB: 10 reviewed (not small); US 2 of 5 reviewed and JP 1 of 3 (both small)."""
    for _ in range(4):
        positive_case(30, country="GB")
    for _ in range(6):
        negative_case(country="GB")
    two_of_five(country="US")
    positive_case(30, country="JP")
    negative_case(country="JP")
    referred(country="JP")  # unreviewed


def test_small_cohorts_are_flagged_by_default():
    _three_countries()

    rows = analytics_selectors.outcome_rates(Case.objects.all(), by="host_country")

    assert [(r.cohort, r.small) for r in rows] == [
        ("GB", False),
        ("US", True),
        ("JP", True),
    ]


def test_small_cohorts_pooled_are_one_row_of_their_summed_counts_placed_last():
    _three_countries()

    rows = analytics_selectors.outcome_rates(
        Case.objects.all(), by="host_country", group_small=True
    )

    assert [r.cohort for r in rows] == ["GB", "other, small (2 cohorts)"]
    pooled = rows[-1]
    assert (pooled.cases, pooled.reviewed, pooled.positive, pooled.concluded) == (8, 7, 3, 4)
    assert pooled.rate == pytest.approx(3 / 7)
    assert pooled.bound_low == pytest.approx(3 / 8)
    assert pooled.bound_high == pytest.approx((3 + 8 - 7) / 8)
    assert pooled.small is True  # 7 reviewed: still under 10, and still flagged
    # Holm over the two rows the table shows: each against the other, the same Fisher p.
    raw = estimates.versus_rest_p_values([(4, 10), (3, 7)])
    assert rows[0].p_adjusted == pytest.approx(min(1.0, 2 * raw[0]))
    assert rows[1].p_adjusted == pytest.approx(min(1.0, 2 * raw[1]))


def test_a_single_small_cohort_is_not_pooled_alone():
    for _ in range(10):
        negative_case(country="GB")
    two_of_five(country="US")

    rows = analytics_selectors.outcome_rates(
        Case.objects.all(), by="host_country", group_small=True
    )

    assert [r.cohort for r in rows] == ["GB", "US"]


@pytest.mark.parametrize(
    ("by", "label", "shown"),
    [
        ("host_country", "DE", "DE Germany"),
        ("host_country", "KR", "KR South Korea"),
        ("host_country", "(none)", "(none)"),
        ("host_country", "XX", "XX"),  # not a country: the code alone
        ("year", "2017", "2017"),
        ("post", "GB", "GB"),  # only host countries are named
    ],
)
def test_a_country_cohort_shows_its_name_beside_its_code(by, label, shown):
    assert cohort_display(by, label) == shown


@pytest.fixture
def supervisor_client(db):
    team = TeamFactory(name="Alpha")
    client = Client()
    client.force_login(SupervisorFactory(teams=[team]))
    return client, team


def test_the_page_names_countries_and_pools_small_cohorts_when_asked(supervisor_client):
    client, team = supervisor_client
    _three_countries()
    Case.objects.update(team=team)
    url = reverse("cases:analytics")

    flagged = client.get(url, {"dimension": "host_country"}).content.decode()
    pooled = client.get(url, {"dimension": "host_country", "small": "group"}).content.decode()

    assert "GB United Kingdom" in flagged and "US United States" in flagged
    assert "other, small (" not in flagged
    rates = pooled[pooled.index('<section id="rates">') :]
    rates = rates[: rates.index("</section>")]
    assert "other, small (2 cohorts)" in rates
    assert "US United States" not in rates  # pooled in the rates table (the curves are not)


def test_the_page_and_its_csv_follow_the_interval_method(supervisor_client):
    client, team = supervisor_client
    two_of_five()
    Case.objects.update(team=team)
    url = reverse("cases:analytics")

    page = client.get(url, {"interval": "beta"}).content.decode()
    response = client.get(url, {"interval": "beta", "download": "rates"})

    assert "95 % interval (Clopper-Pearson)" in page
    assert 'value="beta" selected' in page
    # The download links carry the choice, so the file matches the page.
    assert "interval=beta" in page
    text = response.content.decode("utf-8-sig")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    rows = {row["cohort"]: row for row in csv.DictReader(io.StringIO("\n".join(lines)))}
    low, high = clopper_pearson(2, 5)
    # Percentages with one decimal: within 0.05 points of the exact interval.
    assert float(rows["2017"]["ci_low_%"]) == pytest.approx(low * 100, abs=0.05)
    assert float(rows["2017"]["ci_high_%"]) == pytest.approx(high * 100, abs=0.05)


def test_a_hostile_choice_is_a_400_that_names_the_field(supervisor_client):
    client, _ = supervisor_client

    response = client.get(reverse("cases:analytics"), {"interval": "<script>x</script>"})

    assert response.status_code == 400
    assert "<script>x" not in response.content.decode()
    assert "Interval" in response.content.decode()
    assert Team.objects.count() == 1


# ------------------------------------------------------------- the outcome_rates command


def _command_json(*args: str) -> list[dict]:
    out = io.StringIO()
    call_command("outcome_rates", "--format", "json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_command_takes_the_interval_method_and_pools_small_cohorts():
    _three_countries()

    rows = {r["cohort"]: r for r in _command_json("--by", "host_country", "--interval", "jeffreys")}
    pooled = [r["cohort"] for r in _command_json("--by", "host_country", "--group-small")]

    assert (rows["US"]["ci_low"], rows["US"]["ci_high"]) == pytest.approx(jeffreys(2, 5))
    assert (rows["(all)"]["ci_low"], rows["(all)"]["ci_high"]) == pytest.approx(jeffreys(7, 17))
    assert pooled == ["GB", "other, small (2 cohorts)", "(all)"]


@pytest.mark.parametrize(
    "args",
    [
        ("--by", "year", "--interval", "normal"),
        ("--by", "cooperation_method", "--group-small"),
    ],
)
def test_the_command_refuses_a_bad_interval_or_pooling_methods(args):
    _three_countries()

    with pytest.raises(CommandError):
        call_command("outcome_rates", *args, stdout=io.StringIO())


def test_the_report_follows_the_pages_choices(supervisor_client):
    client, team = supervisor_client
    _three_countries()
    Case.objects.update(team=team)

    html = client.get(
        reverse("cases:analytics_report"),
        {"dimension": "host_country", "interval": "beta", "small": "group"},
    ).content.decode()

    assert "95 % interval (Clopper-Pearson)" in html
    assert "other, small (2 cohorts)" in html
    assert "GB United Kingdom" in html
