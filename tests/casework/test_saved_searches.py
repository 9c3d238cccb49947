"""Saved searches: saving the case list's filter under a name, sharing it with one of the
owner's teams, applying it live from the list, renaming and deleting it (the owner only),
and refusing parameters the list does not know. Every refusal leaves the database as it
was."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from cases.casework import saved_searches
from cases.models import Case, SavedSearch
from tests.clients import Client
from tests.factories import CaseFactory, EntityFactory, TeamFactory

pytestmark = pytest.mark.django_db


def snapshot() -> list:
    return list(SavedSearch.objects.order_by("id").values())


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def save(client, name, query, team=None):
    data = {"name": name, "query": query}
    if team is not None:
        data["team"] = team.pk
    return client.post(reverse("cases:saved_search_create"), data)


def test_an_analyst_saves_the_filter_without_paging(analyst):
    response = save(signed_in(analyst), "  Open   work ", "status=open&page=3&per_page=25&q=")

    search = SavedSearch.objects.get()
    assert (search.owner, search.name, search.query, search.team) == (
        analyst,
        "Open work",
        "status=open",
        None,
    )
    assert response.url == reverse("cases:case_list") + "?status=open"
    assert said(response) == ["Saved the search “Open work”."]


def test_a_saved_search_is_live_not_a_snapshot(analyst, team):
    CaseFactory(entity=EntityFactory(name="Alpha Ltd"), team=team, status=Case.Status.OPEN)
    alice = signed_in(analyst)
    save(alice, "Open", "status=open")
    search = SavedSearch.objects.get()
    later = CaseFactory(entity=EntityFactory(name="Later Ltd"), team=team)

    page = alice.get(reverse("cases:case_list") + "?" + search.query).content.decode()
    listed = alice.get(reverse("cases:case_list")).content.decode()

    assert "Later Ltd" in page and "Alpha Ltd" in page  # a case made after the save
    assert f'href="/cases/?{search.query}"' in listed
    assert later.pk


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("colour=red", "The case list has no filter called colour; nothing was saved."),
        ("status=open&evil=1&zzz=2", "The case list has no filter called evil, zzz"),
        ("status=nonsense", "The filter could not be read (Status: Select a valid choice."),
        ("year=99999", "The filter could not be read (Referral year:"),
        ("team=999999", "The filter could not be read (Team:"),
        ("tag=nobody-has-this", "The filter could not be read (Tag:"),
    ],
)
def test_an_unknown_or_invalid_parameter_is_refused(analyst, query, message):
    before = snapshot()

    response = save(signed_in(analyst), "Bad", query)

    assert snapshot() == before
    assert said(response)[0].startswith(message), said(response)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the search a name."),
        ("   ", "Give the search a name."),
        ("x" * 101, "A name has at most 100 characters."),
        ("x" * 500, "Ensure this value has at most 200 characters"),
    ],
)
def test_a_bad_name_is_refused(analyst, name, message):
    before = snapshot()

    response = save(signed_in(analyst), name, "status=open")

    assert snapshot() == before
    assert said(response)[0].startswith(message)


def test_a_hostile_name_is_kept_as_text_and_escaped(analyst):
    alice = signed_in(analyst)
    save(alice, "<script>alert(1)</script>", "status=open")

    page = alice.get(reverse("cases:case_list")).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("again", ["Open", "open", " OPEN "])
def test_the_same_name_twice_is_refused_ignoring_case(analyst, again):
    alice = signed_in(analyst)
    save(alice, "Open", "status=open")
    before = snapshot()

    response = save(alice, again, "status=closed")

    assert snapshot() == before
    assert said(response)[-1].startswith("You already have a saved search called")


def test_two_people_may_use_the_same_name(analyst, colleague):
    save(signed_in(analyst), "Open", "status=open")
    save(signed_in(colleague), "Open", "status=open")

    assert SavedSearch.objects.count() == 2


def test_a_shared_search_shows_to_the_team_and_not_beyond(
    analyst, colleague, other_analyst, supervisor, team
):
    save(signed_in(analyst), "Team's open", "status=open", team=team)
    save(signed_in(analyst), "Mine alone", "status=closed")

    def listed(user):
        return {s.name for s in saved_searches.visible_saved_searches(user)}

    assert listed(analyst) == {"Team's open", "Mine alone"}
    assert listed(colleague) == {"Team's open"}
    assert listed(supervisor) == {"Team's open"}
    assert listed(other_analyst) == set()
    page = signed_in(colleague).get(reverse("cases:case_list")).content.decode()
    assert "Team&#x27;s open" in page and "alice’s, shared with Team A" in page
    assert "Mine alone" not in page


def test_sharing_with_a_team_one_is_not_on_is_refused(analyst, other_team):
    before = snapshot()

    response = save(signed_in(analyst), "Theirs", "status=open", team=other_team)

    assert snapshot() == before
    assert said(response) == ["Share only with a team you belong to."]


def test_the_owner_renames_and_reshares(analyst, team):
    alice = signed_in(analyst)
    save(alice, "Open", "status=open")
    search = SavedSearch.objects.get()

    response = alice.post(
        reverse("cases:saved_search_update", args=[search.pk]),
        {"name": "Open ones", "team": team.pk, "next_query": "status=open"},
    )

    search.refresh_from_db()
    assert (search.name, search.team, search.query) == ("Open ones", team, "status=open")
    assert response.url == reverse("cases:case_list") + "?status=open"


def test_renaming_onto_another_of_ones_names_is_refused(analyst):
    alice = signed_in(analyst)
    save(alice, "Open", "status=open")
    save(alice, "Closed", "status=closed")
    search = SavedSearch.objects.get(name="Closed")
    before = snapshot()

    response = alice.post(reverse("cases:saved_search_update", args=[search.pk]), {"name": "OPEN"})

    assert snapshot() == before
    assert said(response)[-1] == "You already have a saved search called “OPEN”."


def test_a_teammate_sees_a_shared_search_but_may_not_change_it(analyst, colleague, team):
    save(signed_in(analyst), "Shared", "status=open", team=team)
    search = SavedSearch.objects.get()
    bob = signed_in(colleague)
    before = snapshot()

    renamed = bob.post(reverse("cases:saved_search_update", args=[search.pk]), {"name": "Bob's"})
    deleted = bob.post(reverse("cases:saved_search_delete", args=[search.pk]))

    assert (renamed.status_code, deleted.status_code) == (403, 403)
    assert snapshot() == before


def test_an_unshared_search_of_another_does_not_exist(analyst, colleague):
    save(signed_in(analyst), "Private", "status=open")
    search = SavedSearch.objects.get()
    before = snapshot()

    response = signed_in(colleague).post(reverse("cases:saved_search_delete", args=[search.pk]))

    assert response.status_code == 404
    assert snapshot() == before


def test_the_owner_deletes_a_search(analyst):
    alice = signed_in(analyst)
    save(alice, "Open", "status=open")
    search = SavedSearch.objects.get()

    response = alice.post(reverse("cases:saved_search_delete", args=[search.pk]))

    assert SavedSearch.objects.count() == 0
    assert said(response)[-1] == "Deleted the saved search “Open”."


def test_a_search_is_applied_to_the_cases_each_viewer_may_see(analyst, colleague, team):
    second = TeamFactory(name="Second")
    second.members.add(analyst)
    CaseFactory(entity=EntityFactory(name="Shared Ltd"), team=team)
    CaseFactory(entity=EntityFactory(name="Alice Only Ltd"), team=second)
    save(signed_in(analyst), "All", "", team=team)
    search = SavedSearch.objects.get()

    page = signed_in(colleague).get(reverse("cases:case_list") + "?" + search.query)

    names = {case.entity.name for case in page.context["page"]}
    assert names == {"Shared Ltd"}


def test_signing_in_is_needed(client):
    response = client.post(reverse("cases:saved_search_create"), {"name": "x"})

    assert response.status_code == 302 and "login" in response.url
    assert snapshot() == []


def test_the_list_reads_saved_searches_in_a_fixed_number_of_queries(analyst, team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    alice = signed_in(analyst)

    def queries(n):
        for _ in range(n):
            saved_searches.saved_search_create(
                owner=analyst, name=f"s{SavedSearch.objects.count()}", query="", team=team
            )
        with CaptureQueriesContext(connection) as captured:
            alice.get(reverse("cases:case_list"))
        return len(captured)

    assert queries(1) == queries(4)
