"""My work's dashboard: open cases, leads new since the last visit, second readings owed
and idle cases. Who may open the page is in tests/test_permissions.py."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.casework import dashboard, preferences
from cases.models import Case, CaseStatusChange, Finding, SecondCoding, UserPreferences
from tests.factories import CaseFactory, EntityFactory, FindingFactory, TeamFactory

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
DAY = datetime.timedelta(days=1)


@pytest.fixture
def alice(client, analyst):
    client.force_login(analyst)
    return client


def make_case(name: str, team, **fields) -> Case:
    return CaseFactory(entity=EntityFactory(name=name), team=team, **fields)


def lead(case: Case, external_id: str, *, age: datetime.timedelta | None = None) -> Finding:
    finding = FindingFactory(case=case, source="gdelt", external_id=external_id)
    if age is not None:
        Finding.objects.filter(pk=finding.pk).update(created_at=timezone.now() - age)
    return finding


def aged(case: Case, age: datetime.timedelta) -> Case:
    Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - age)
    return case


def summary_of(client, query: str = ""):
    response = client.get(reverse("cases:my_work") + query)
    assert response.status_code == 200
    return response, response.context["summary"]


def end_the_visit(user, hours: float = 2) -> datetime.datetime:
    """Make the last page view of My work `hours` ago, as if a visit had ended then."""
    then = timezone.now() - datetime.timedelta(hours=hours)
    UserPreferences.objects.filter(user=user).update(my_work_seen_at=then)
    return then


# ------------------------------------------------------------------ new since the last visit


def test_every_waiting_lead_is_new_on_the_first_visit(alice, analyst, team):
    mine = make_case("Mine Ltd", team, assignee=analyst)
    lead(mine, "A")
    lead(mine, "B")
    reviewed = lead(mine, "C")
    Finding.objects.filter(pk=reviewed.pk).update(
        review_state=Finding.ReviewState.REJECTED, reviewed_at=timezone.now()
    )

    response, summary = summary_of(alice)

    assert summary.new_since is None
    assert summary.new_lead_count == 2
    assert [(c.entity.name, c.new_lead_count) for c in summary.new_lead_cases] == [("Mine Ltd", 2)]
    assert "your first visit" in response.content.decode()


def test_a_reload_within_a_visit_keeps_the_leads_that_were_new(alice, analyst, team):
    mine = make_case("Mine Ltd", team, assignee=analyst)
    lead(mine, "A")
    summary_of(alice)

    _, again = summary_of(alice)

    assert again.new_lead_count == 1


def test_after_a_visit_only_leads_filed_since_are_new(alice, analyst, team):
    mine = make_case("Mine Ltd", team, assignee=analyst)
    lead(mine, "OLD", age=datetime.timedelta(hours=3))
    summary_of(alice)
    ended = end_the_visit(analyst, hours=2)
    lead(mine, "NEW", age=datetime.timedelta(minutes=90))

    response, summary = summary_of(alice)

    assert summary.new_since == ended
    assert summary.new_lead_count == 1
    assert [c.new_lead_count for c in summary.new_lead_cases] == [1]
    assert "since your last visit" in response.content.decode()
    # The visit goes on: the next view still shows the lead as new...
    assert summary_of(alice)[1].new_lead_count == 1
    # ... and once it has ended, nothing is.
    end_the_visit(analyst, hours=1)
    assert summary_of(alice)[1].new_lead_count == 0


def test_the_first_visit_after_choosing_a_digest_counts_every_lead_as_new(alice, analyst, team):
    # Preferences made by the settings page carry no visit yet.
    preferences.preferences_digest_set(user=analyst, digest="daily")
    lead(make_case("Mine Ltd", team, assignee=analyst), "A", age=30 * DAY)

    assert summary_of(alice)[1].new_lead_count == 1


def test_new_leads_are_counted_on_my_open_visible_cases_only(alice, analyst, colleague, team):
    lead(make_case("Theirs Ltd", team, assignee=colleague), "T")
    lead(make_case("Closed Ltd", team, assignee=analyst, status=Case.Status.CLOSED), "C")
    lead(make_case("Concluded Ltd", team, assignee=analyst, status=Case.Status.CONCLUDED), "D")
    lead(make_case("Moved Ltd", TeamFactory(name="Elsewhere"), assignee=analyst), "M")
    lead(make_case("Mine Ltd", team, assignee=analyst), "A")

    response, summary = summary_of(alice)

    assert summary.new_lead_count == 1
    assert [c.entity.name for c in summary.new_lead_cases] == ["Mine Ltd"]
    assert summary.open_count == 1
    page = response.content.decode()
    for name in ("Theirs Ltd", "Moved Ltd"):
        assert name not in page


def test_it_escapes_names_in_the_blocks(alice, analyst, team):
    lead(make_case(HOSTILE, team, assignee=analyst), "A")
    aged(make_case(HOSTILE + " idle", team, assignee=analyst), 90 * DAY)

    page = summary_of(alice)[0].content.decode()

    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_open_cases_link_lists_my_open_cases(alice, analyst, colleague, team):
    make_case("Mine Ltd", team, assignee=analyst)
    make_case("Monitored Ltd", team, assignee=analyst, status=Case.Status.MONITORING)
    make_case("Done Ltd", team, assignee=analyst, status=Case.Status.CONCLUDED)
    make_case("Theirs Ltd", team, assignee=colleague)

    response = alice.get(reverse("cases:case_list") + "?" + dashboard.my_open_cases_query(analyst))

    assert sorted(c.entity.name for c in response.context["page"].object_list) == [
        "Mine Ltd",
        "Monitored Ltd",
    ]


# ------------------------------------------------------------------ second readings


def test_it_counts_the_second_readings_i_owe_without_naming_their_cases(
    alice, analyst, colleague, supervisor, team
):
    given = timezone.now() - 3 * DAY
    for name, coder, recorded in [
        ("Owed One Ltd", analyst, None),
        ("Owed Two Ltd", analyst, None),
        ("Recorded Ltd", analyst, timezone.now()),
        ("Bobs Ltd", colleague, None),
    ]:
        SecondCoding.objects.create(
            case=make_case(name, team, status=Case.Status.CONCLUDED),
            coder=coder,
            assigned_by=supervisor,
            assigned_at=given,
            recorded_at=recorded,
        )

    response, summary = summary_of(alice)

    assert summary.reading_count == 2
    assert summary.oldest_reading == given
    page = response.content.decode()
    assert reverse("cases:coding_queue") in page
    # The blind coder must not learn from My work which cases they are reading.
    assert "Owed One Ltd" not in page


# ------------------------------------------------------------------ idle cases


@pytest.fixture
def idle_world(analyst, supervisor, team):
    """Four old open cases of alice's: one idle, three with something recent."""
    idle = aged(make_case("Idle Ltd", team, assignee=analyst), 60 * DAY)
    lead(idle, "I", age=45 * DAY)
    moved = aged(make_case("Moved Status Ltd", team, assignee=analyst), 60 * DAY)
    CaseStatusChange.objects.create(
        case=moved, from_status="open", to_status="monitoring", changed_at=timezone.now() - 5 * DAY
    )
    reviewed = aged(make_case("Reviewed Ltd", team, assignee=analyst), 60 * DAY)
    finding = lead(reviewed, "R", age=50 * DAY)
    Finding.objects.filter(pk=finding.pk).update(
        review_state=Finding.ReviewState.CONFIRMED, reviewed_at=timezone.now() - 2 * DAY
    )
    lead(aged(make_case("Fresh Lead Ltd", team, assignee=analyst), 60 * DAY), "F", age=DAY)
    make_case("New Ltd", team, assignee=analyst)
    aged(make_case("Closed Old Ltd", team, assignee=analyst, status="closed"), 90 * DAY)
    return idle


def test_a_case_is_idle_without_a_finding_review_or_status_change_for_n_days(alice, idle_world):
    _, summary = summary_of(alice)

    assert summary.idle_days == 30
    assert summary.idle_count == 1
    assert [c.entity.name for c in summary.idle_cases] == ["Idle Ltd"]
    assert summary.idle_cases[0].last_activity.date() == (timezone.now() - 45 * DAY).date()


def test_the_idle_days_come_from_the_query(alice, idle_world):
    assert summary_of(alice, "?idle_days=50")[1].idle_count == 0
    nearer = summary_of(alice, "?idle_days=3")[1]
    assert [c.entity.name for c in nearer.idle_cases] == ["Idle Ltd", "Moved Status Ltd"]


@pytest.mark.parametrize("value", ["abc", "0", "-5", "99999", "1e3", HOSTILE, "30;DROP"])
def test_nonsense_idle_days_fall_back_to_the_setting_and_say_so(alice, idle_world, value):
    before = sorted(Case.objects.values_list("id", "status", "updated_at"))

    response, summary = summary_of(alice, "?" + f"idle_days={value}")

    assert summary.idle_days == 30
    assert summary.idle_count == 1
    page = response.content.decode()
    assert "Showing 30 days" in page
    assert HOSTILE not in page
    assert sorted(Case.objects.values_list("id", "status", "updated_at")) == before


def test_the_idle_setting_is_the_default(alice, idle_world, settings):
    settings.WISHLIST_IDLE_DAYS = 50

    assert summary_of(alice)[1].idle_count == 0


# ------------------------------------------------------------------ queries


def _rows(team, analyst, supervisor, n: int, offset: int) -> None:
    """n of alice's cases, each with a new lead, an idle twin and a reading she owes."""
    for i in range(offset, offset + n):
        lead(make_case(f"Case {i}", team, assignee=analyst), f"L{i}")
        aged(make_case(f"Idle {i}", team, assignee=analyst), 90 * DAY)
        SecondCoding.objects.create(
            case=make_case(f"Read {i}", team, status=Case.Status.CONCLUDED),
            coder=analyst,
            assigned_by=supervisor,
        )


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("cases:my_work"))
    assert response.status_code == 200
    return len(queries)


def test_my_work_makes_as_many_queries_for_30_rows_as_for_5(alice, analyst, supervisor, team):
    _rows(team, analyst, supervisor, 5, 0)
    few = _queries(alice)

    _rows(team, analyst, supervisor, 25, 5)
    end_the_visit(analyst)
    many = _queries(alice)
    summary = summary_of(alice)[1]

    assert many == few
    assert summary.idle_count == 30
    assert summary.reading_count == 30
    assert len(summary.idle_cases) == dashboard.LIST_LIMIT
