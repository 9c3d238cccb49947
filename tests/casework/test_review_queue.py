"""The review queue (/review/): leads that cannot change an outcome last, its filters
(refused when a value is not one of theirs), its pages, a supervisor's read-only view,
and a refused bulk review that keeps the picks and the reason."""

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from cases import derived
from cases.models import Finding
from tests.clients import Client
from tests.factories import AnalystFactory, CaseFactory, EntityFactory, FindingFactory

pytestmark = pytest.mark.django_db

LEAD = Finding.ReviewState.LEAD
CONFIRMED = Finding.ReviewState.CONFIRMED
REJECTED = Finding.ReviewState.REJECTED
QUEUE = "/review/"


@pytest.fixture
def alice(client, analyst):
    client.force_login(analyst)
    return client


def make_case(name: str, team, **fields):
    """A case of the team referred in May 2017."""
    fields.setdefault("index_date", datetime.date(2017, 5, 1))
    fields.setdefault("index_date_precision", "month")
    return CaseFactory(entity=EntityFactory(name=name), team=team, **fields)


def lead(case, key: str, *, score=None, source="gdelt", day=datetime.date(2019, 3, 1)):
    return FindingFactory(
        case=case,
        source=source,
        external_id=key,
        match_score=score,
        event_date=day,
        event_date_precision="day" if day else "",
    )


@pytest.fixture
def leads(team, other_team, analyst, colleague):
    """Leads on alice's case, bob's case and a case of a team alice is not in."""
    mine = make_case("Alpha Robotics", team, assignee=analyst)
    bobs = make_case("Bravo Optics", team, assignee=colleague)
    no_referral = make_case("Delta Lasers", team, index_date=None, index_date_precision="")
    elsewhere = make_case("Foreign Ltd", other_team)
    found = {
        "early": lead(mine, "E", score=99, day=datetime.date(2015, 1, 1)),
        "after": lead(mine, "A", score=80, source="gleif"),
        "undated": lead(bobs, "U", score=60, day=None),
        "bob_after": lead(bobs, "B", score=90),
        "no_referral": lead(no_referral, "N", score=40),
        "foreign": lead(elsewhere, "F", score=100),
    }
    derived.finding_timings_refresh()
    return {key: Finding.objects.get(pk=f.pk) for key, f in found.items()}


def queued(response) -> list[int]:
    return [f.pk for f in response.context["page"].object_list]


def keys(response, leads) -> list[str]:
    by_pk = {f.pk: key for key, f in leads.items()}
    return [by_pk[pk] for pk in queued(response)]


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def body(response) -> str:
    return response.content.decode()


# ------------------------------------------------------------------ order


def test_it_ranks_a_lead_before_the_referral_last_and_says_why(alice, leads):
    response = alice.get(QUEUE)

    assert leads["early"].timing == Finding.Timing.BEFORE
    assert keys(response, leads) == ["bob_after", "after", "undated", "no_referral", "early"]
    row = re.search(
        rf'<tr class="lead-row[^"]*" data-queue-row id="lead-{leads["early"].pk}"'
        r".*?</tr>",
        body(response),
        re.S,
    ).group(0)
    assert "cannot-change" in row
    assert "before the referral: cannot change the outcome" in row
    assert body(response).count("cannot change the outcome") == 1


# ------------------------------------------------------------------ filters


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("source=gleif", ["after"]),
        ("mine=1", ["after", "early"]),
        ("timing=after", ["bob_after", "after"]),
        ("timing=before", ["early"]),
        ("timing=unknown", ["undated", "no_referral"]),
        ("timing=undated", ["undated"]),
        ("min_score=80", ["bob_after", "after", "early"]),
        ("min_score=80.5", ["bob_after", "early"]),
        ("min_score=0&timing=after&mine=1", ["after"]),
        (
            "source=&team=&timing=&min_score=",
            ["bob_after", "after", "undated", "no_referral", "early"],
        ),
    ],
)
def test_it_filters_the_queue(alice, leads, query, expected):
    response = alice.get(f"{QUEUE}?{query}")

    assert response.status_code == 200
    assert keys(response, leads) == expected


def test_it_filters_the_queue_by_team(client, leads, team, other_team):
    both = AnalystFactory(username="tess", teams=[team, other_team])
    client.force_login(both)

    response = client.get(f"{QUEUE}?team={other_team.pk}")

    assert keys(response, leads) == ["foreign"]
    assert f'<option value="{other_team.pk}" selected>' in body(response)


def test_it_keeps_the_filters_in_the_form(alice, leads):
    response = alice.get(f"{QUEUE}?source=gleif&timing=after&min_score=12.5&mine=1")

    html = body(response)
    assert '<option value="gleif" selected>' in html
    assert '<option value="after" selected>' in html
    assert 'value="12.5"' in html
    assert 'name="mine" value="1" id="id_mine" checked' in html


@pytest.mark.parametrize(
    "query",
    [
        "source=nosuch",
        "timing=later",
        "mine=yes",
        "min_score=high",
        "min_score=-1",
        "min_score=101",
        "min_score=nan",
        "min_score=1e400",
        "team=abc",
        "team=999999",
        "timing=after%00",
    ],
)
def test_it_refuses_an_invalid_filter_and_lists_nothing(alice, leads, query):
    alice.raise_request_exception = False

    response = alice.get(f"{QUEUE}?{query}")

    assert response.status_code == 400
    assert queued(response) == []
    assert "No leads are listed until the filter is fixed." in body(response)
    assert "No leads listed: the filter above has an error." in body(response)


@pytest.mark.parametrize("field", ["source", "timing", "min_score", "team", "mine"])
def test_it_escapes_a_hostile_filter_value(alice, leads, field):
    response = alice.get(f"{QUEUE}?{field}=%22%3E%3Cscript%3Ealert(1)%3C/script%3E")

    assert response.status_code == 400
    assert "<script>alert(1)" not in body(response)


def test_it_refuses_another_teams_id_as_if_it_did_not_exist(alice, leads, other_team):
    """Another team's id is as invalid as one that does not exist: it leaks nothing."""
    other = alice.get(f"{QUEUE}?team={other_team.pk}")
    missing = alice.get(f"{QUEUE}?team=999999")

    assert other.status_code == missing.status_code == 400
    assert queued(other) == []
    assert str(other_team) not in body(other)


def test_it_offers_only_the_users_teams(alice, leads, team, other_team):
    html = body(alice.get(QUEUE))

    assert f'<option value="{team.pk}">{team.name}</option>' in html
    assert other_team.name not in html


# ------------------------------------------------------------------ pages


def test_it_shows_the_queue_in_pages_of_25_keeping_the_filters(alice, team):
    case = make_case("Paged Ltd", team)
    for n in range(60):
        lead(case, f"P{n}", score=n)
    derived.finding_timings_refresh()

    first = alice.get(f"{QUEUE}?source=gdelt&min_score=5")
    assert len(queued(first)) == 25
    assert first.context["page"].paginator.count == 55
    next_link = re.search(r'href="\?([^"]*)" rel="next"', body(first)).group(1)
    assert "source=gdelt" in next_link and "min_score=5" in next_link

    second = alice.get(f"{QUEUE}?{next_link.replace('&amp;', '&')}")
    assert len(queued(second)) == 25
    assert not set(queued(first)) & set(queued(second))


# ------------------------------------------------------------------ supervisors


def test_a_supervisor_sees_the_queue_read_only_and_is_told(client, supervisor, leads):
    client.force_login(supervisor)

    response = client.get(QUEUE)

    html = body(response)
    assert response.status_code == 200
    assert len(queued(response)) == 5
    assert "Read-only." in html
    assert "only analysts confirm or reject them" in html
    for control in (
        'id="bulk-form"',
        'name="decision"',
        "Confirm all",
        "Reject all",
        'name="findings"',
    ):
        assert control not in html
    assert "queue_keys.js" not in html


def test_an_analyst_is_not_told_the_queue_is_read_only(alice, leads):
    html = body(alice.get(QUEUE))

    assert "Read-only." not in html
    assert 'id="bulk-form"' in html


def test_a_supervisor_cannot_review_in_bulk(client, supervisor, leads):
    client.force_login(supervisor)
    client.raise_request_exception = False

    response = client.post(
        reverse("cases:review_bulk"),
        {"findings": [f"{leads['after'].pk}:1"], "decision": CONFIRMED},
    )

    assert response.status_code == 403
    assert Finding.objects.get(pk=leads["after"].pk).review_state == LEAD


# ------------------------------------------------------------------ refused bulk review


def bulk(client, *findings, next_url=QUEUE, **data):
    values = [f"{f.pk}:{f.version}" for f in findings]
    return client.post(reverse("cases:review_bulk"), {"findings": values, "next": next_url, **data})


def picked(response) -> set[int]:
    return {
        int(pk) for pk in re.findall(r'value="(\d+):\d+" form="bulk-form" checked', body(response))
    }


def test_a_reject_without_a_reason_keeps_the_picks_and_says_why(alice, leads):
    before = list(Finding.objects.order_by("pk").values_list("pk", "review_state", "version"))

    refused = bulk(
        alice,
        leads["after"],
        leads["undated"],
        decision=REJECTED,
        note="  ",
        next_url=f"{QUEUE}?min_score=10",
    )

    assert refused.status_code == 302
    assert refused.url == f"{QUEUE}?min_score=10"
    page = alice.get(refused.url)
    assert "Say why the leads are rejected." in messages_of(page)
    assert picked(page) == {leads["after"].pk, leads["undated"].pk}
    assert (
        list(Finding.objects.order_by("pk").values_list("pk", "review_state", "version")) == before
    )
    # Once: a reload shows the queue as it is.
    assert picked(alice.get(refused.url)) == set()


def test_a_refused_bulk_review_keeps_the_typed_reason(alice, leads):
    bulk(alice, leads["after"], decision="maybe", note="Namesakes <b>here</b>")

    page = alice.get(QUEUE)

    assert picked(page) == {leads["after"].pk}
    assert 'name="note" value="Namesakes &lt;b&gt;here&lt;/b&gt;"' in body(page)


def test_a_stale_bulk_review_keeps_the_picks_still_waiting(alice, client, colleague, leads):
    bob = Client()
    bob.force_login(colleague)
    bob.post(
        reverse("cases:finding_review", args=[leads["after"].pk]),
        {"decision": REJECTED, "note": "Not them.", "version": 1},
    )

    bulk(alice, leads["after"], leads["bob_after"], decision=CONFIRMED)
    page = alice.get(QUEUE)

    assert any("None of the picked leads was saved." in m for m in messages_of(page))
    assert picked(page) == {leads["bob_after"].pk}
    assert Finding.objects.get(pk=leads["bob_after"].pk).review_state == LEAD


def test_a_bulk_review_with_another_teams_lead_keeps_only_visible_picks(alice, leads):
    bulk(alice, leads["after"], leads["foreign"], decision=CONFIRMED)
    page = alice.get(QUEUE)

    assert any("not yours" in m for m in messages_of(page))
    assert picked(page) == {leads["after"].pk}
    assert f"lead-{leads['foreign'].pk}" not in body(page)


@pytest.mark.parametrize("bad", ["abc", "1:x", ":", "-1:1", "9" * 40 + ":1"])
def test_an_unreadable_pick_is_refused_and_the_readable_ones_kept(alice, leads, bad):
    response = alice.post(
        reverse("cases:review_bulk"),
        {"findings": [f"{leads['after'].pk}:1", bad], "decision": CONFIRMED, "next": QUEUE},
    )
    page = alice.get(response.url)

    assert any("could not be read" in m for m in messages_of(page))
    assert picked(page) == {leads["after"].pk}
    assert Finding.objects.get(pk=leads["after"].pk).review_state == LEAD


def test_a_successful_bulk_review_keeps_no_picks(alice, leads):
    bulk(alice, leads["after"], decision=REJECTED, note="Namesakes.")
    page = alice.get(QUEUE)

    assert picked(page) == set()
    assert 'name="note" value=""' in body(page)
    assert Finding.objects.get(pk=leads["after"].pk).review_state == REJECTED
