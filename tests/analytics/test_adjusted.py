"""The adjusted-comparison rows read from the database, and the models tab's access."""

from datetime import date

import pytest

from cases.analytics import adjusted
from cases.models import Case, CheckRun
from tests.analytics.test_views import checked, confirmed, referred
from tests.factories import CheckRunFactory

pytestmark = pytest.mark.django_db


def test_rows_carry_outcome_covariates_and_durations(team):
    positive = referred("Alpha Ltd", team, on=date(2017, 3, 1), status=Case.Status.CONCLUDED)
    confirmed(positive, on=date(2018, 3, 1))
    negative = referred("Beta Ltd", team, on=date(2018, 1, 1), status=Case.Status.CONCLUDED)
    CheckRunFactory(
        case=negative,
        status=CheckRun.Status.OK,
        searched_from=date(2018, 1, 1),
        searched_to=date(2019, 1, 1),
    )
    referred("Gamma Ltd", team, on=date(2018, 1, 1))  # open, never checked

    logit = {row["positive"]: row for row in adjusted.logit_rows(Case.objects.all())}
    assert set(logit) == {True, False}
    assert logit[True]["year"] == 2017 and logit[True]["post"] == "Embassy in GB"

    cox = {row["id"]: row for row in adjusted.cox_rows(Case.objects.all())}
    assert cox[positive.pk]["duration"] == 365 and cox[positive.pk]["event"]
    assert cox[negative.pk]["duration"] == 365 and not cox[negative.pk]["event"]
    assert len(cox) == 2  # the never-searched case is not followed


def test_cox_rows_take_the_censoring_function_passed_in(team):
    case = referred("Delta Ltd", team, on=date(2018, 1, 1))
    checked(case)
    rows = adjusted.cox_rows(
        Case.objects.all(), censored_at=lambda ids: {case.pk: date(2018, 1, 11)}
    )
    assert rows[0]["duration"] == 10


def test_models_tab_is_for_supervisors(client, analyst, supervisor):
    client.force_login(analyst)
    assert client.get("/analytics/models/").status_code == 403
    client.force_login(supervisor)
    response = client.get("/analytics/models/")
    assert response.status_code == 200
    assert "cannot fit" in response.content.decode().lower()  # no cases: said, not crashed


def test_models_tab_requires_login(client):
    assert client.get("/analytics/models/").status_code == 302
