"""Tags on cases: the name's cleaning, tagging and untagging on the case page (analysts and
admins; supervisors read), the labels and the ?tag= filter of the case list, its CSV, and
a move to another team. Every refusal leaves the database as it was."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.casework import services, tags
from cases.models import CaseTag, Tag
from tests import commented_csv
from tests.clients import Client
from tests.factories import CaseFactory, EntityFactory, TeamFactory

pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    return (
        list(Tag.objects.order_by("id").values()),
        list(CaseTag.objects.order_by("id").values()),
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def case(team):
    return CaseFactory(entity=EntityFactory(name="Alpha Robotics Ltd"), team=team)


def add(client, case, name):
    return client.post(reverse("cases:case_tag_add", args=[case.pk]), {"name": name})


def remove(client, case, name):
    return client.post(reverse("cases:case_tag_remove", args=[case.pk]), {"name": name})


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# ------------------------------------------------------------------ the name


@pytest.mark.parametrize(
    ("raw", "name", "key"),
    [
        ("escalate", "escalate", "escalate"),
        ("  Needs   translation \t", "Needs translation", "needs translation"),
        ("ＥＳＣＡＬＡＴＥ", "ESCALATE", "escalate"),
        ("R&D / export-control", "R&D / export-control", "r&d / export-control"),
        ("需要翻译", "需要翻译", "需要翻译"),
        ("esc\u200balate", "escalate", "escalate"),
    ],
)
def test_a_tag_name_is_tidied_and_folded(raw, name, key):
    assert tags.tag_name_clean(raw) == tags.TagName(name=name, key=key)


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "x" * 51, "x" * 500, "<script>alert(1)</script>", '"quoted"', "-lead", "a\x00b"],
)
def test_a_tag_name_is_refused_when_empty_long_or_markup(raw):
    with pytest.raises(ValidationError):
        tags.tag_name_clean(raw)


def test_the_database_keeps_one_tag_per_team_and_key(team):
    Tag.objects.create(team=team, name="escalate", key="escalate")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(team=team, name="Escalate", key="escalate")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(team=team, name="", key="")


# ------------------------------------------------------------------ the case page


def test_an_analyst_tags_a_case_and_the_team_gets_the_tag(analyst, case):
    response = add(signed_in(analyst), case, "  Needs   translation ")

    assert response.status_code == 302
    assert response.url.endswith("#tags")
    tag = Tag.objects.get()
    assert (tag.team, tag.name, tag.key, tag.created_by) == (
        case.team,
        "Needs translation",
        "needs translation",
        analyst,
    )
    link = CaseTag.objects.get()
    assert (link.case, link.tag, link.added_by) == (case, tag, analyst)
    assert said(response) == ["Tagged “Needs translation”."]


def test_a_case_variant_of_a_team_tag_reuses_it(analyst, case, team):
    other = CaseFactory(team=team)
    alice = signed_in(analyst)
    add(alice, case, "Escalate")

    add(alice, other, "  ESCALATE")

    assert Tag.objects.count() == 1
    assert set(Tag.objects.get().cases.all()) == {case, other}
    assert Tag.objects.get().name == "Escalate"  # the first spelling stays


@pytest.mark.parametrize("again", ["escalate", "Escalate", " escalate  ", "ESCALATE"])
def test_the_same_tag_twice_is_refused_and_nothing_changes(analyst, case, again):
    alice = signed_in(analyst)
    add(alice, case, "escalate")
    before = snapshot()

    response = add(alice, case, again)

    assert snapshot() == before
    assert said(response)[-1] == "The case is tagged “escalate” already."


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the tag a name."),
        ("   ", "Give the tag a name."),
        ("x" * 500, "Ensure this value has at most 200 characters (it has 500)."),
        ("x" * 60, "A tag name has at most 50 characters."),
        ("<script>alert(1)</script>", "A tag name holds letters"),
    ],
)
def test_a_bad_tag_is_refused_and_nothing_changes(analyst, case, name, message):
    alice = signed_in(analyst)
    add(alice, case, "kept")
    before = snapshot()

    response = add(alice, case, name)

    assert response.status_code == 302
    assert snapshot() == before
    assert any(text.startswith(message) for text in said(response)), said(response)


def test_a_case_without_a_team_takes_no_tag(staff):
    case = CaseFactory(team=None)
    before = snapshot()

    response = add(signed_in(staff), case, "escalate")

    assert snapshot() == before
    assert said(response) == ["A case without a team takes no tag: move it to a team first."]


def test_an_analyst_takes_a_tag_off_and_the_team_keeps_it(analyst, case):
    alice = signed_in(analyst)
    add(alice, case, "escalate")

    response = remove(alice, case, "Escalate")

    assert CaseTag.objects.count() == 0
    assert Tag.objects.filter(name="escalate").exists()
    assert said(response)[-1] == "Took off the tag “escalate”."


def test_taking_off_a_tag_the_case_lacks_is_refused(analyst, case):
    alice = signed_in(analyst)
    add(alice, case, "escalate")
    before = snapshot()

    response = remove(alice, case, "translation")

    assert snapshot() == before
    assert said(response)[-1] == "The case is not tagged “translation”."


def test_a_supervisor_reads_tags_but_may_not_change_them(supervisor, analyst, case):
    add(signed_in(analyst), case, "escalate")
    sam = signed_in(supervisor)
    before = snapshot()

    page = sam.get(case.get_absolute_url()).content.decode()

    assert '<span class="tag">escalate' in page
    assert 'id="tag-add"' not in page and "Remove the tag" not in page
    assert add(sam, case, "mine").status_code == 403
    assert remove(sam, case, "escalate").status_code == 403
    assert snapshot() == before


def test_another_teams_case_is_not_found(other_analyst, case):
    before = snapshot()

    assert add(signed_in(other_analyst), case, "escalate").status_code == 404
    assert snapshot() == before


def test_a_get_changes_nothing(analyst, case):
    response = signed_in(analyst).get(reverse("cases:case_tag_add", args=[case.pk]))

    assert response.status_code == 405


def test_the_case_page_offers_the_teams_other_tags(analyst, case, team):
    Tag.objects.create(team=team, name="escalate", key="escalate")
    Tag.objects.create(team=team, name="on it", key="on it")
    Tag.objects.create(team=TeamFactory(name="Elsewhere"), name="secret", key="secret")
    tags.case_tag_add(case=case, name="on it", actor=analyst)

    page = signed_in(analyst).get(case.get_absolute_url()).content.decode()

    assert '<option value="escalate">' in page
    assert '<option value="on it">' not in page  # carried already
    assert "secret" not in page


def test_a_hostile_name_tagged_through_the_service_is_escaped(analyst, case):
    # The form refuses markup; a name that slipped into the table is still only text.
    tag = Tag.objects.create(team=case.team, name="<b>x</b>", key="<b>x</b>")
    CaseTag.objects.create(case=case, tag=tag)

    page = signed_in(analyst).get(reverse("cases:case_list")).content.decode()

    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


# ------------------------------------------------------------------ the case list


def test_the_list_shows_labels_and_filters_by_tag(analyst, team, case):
    other = CaseFactory(entity=EntityFactory(name="Beta Optics Ltd"), team=team)
    tags.case_tag_add(case=case, name="Escalate", actor=analyst)
    alice = signed_in(analyst)

    everything = alice.get(reverse("cases:case_list")).content.decode()
    filtered = alice.get(reverse("cases:case_list"), {"tag": "escalate"}).content.decode()

    assert '<span class="tag">Escalate</span>' in everything
    assert "Beta Optics Ltd" in everything
    assert "Alpha Robotics Ltd" in filtered and "Beta Optics Ltd" not in filtered
    assert other.pk


def test_the_tag_filter_spans_the_users_teams_by_name(analyst, team):
    second = TeamFactory(name="Second")
    second.members.add(analyst)
    mine = CaseFactory(entity=EntityFactory(name="Alpha Ltd"), team=team)
    theirs = CaseFactory(entity=EntityFactory(name="Gamma Ltd"), team=second)
    tags.case_tag_add(case=mine, name="escalate", actor=analyst)
    tags.case_tag_add(case=theirs, name="ESCALATE", actor=analyst)

    page = signed_in(analyst).get(reverse("cases:case_list"), {"tag": "escalate"})

    assert {c.pk for c in page.context["page"]} == {mine.pk, theirs.pk}


def test_another_teams_tag_is_no_choice_of_the_filter(analyst, other_analyst, other_team):
    hidden = CaseFactory(team=other_team)
    tags.case_tag_add(case=hidden, name="their word", actor=other_analyst)

    response = signed_in(analyst).get(reverse("cases:case_list"), {"tag": "their word"})

    assert "their word" not in dict(response.context["filter"].form.fields["tag"].choices)
    assert '<option value="their word"' not in response.content.decode()


def test_the_list_reads_tags_in_a_fixed_number_of_queries(analyst, team):
    alice = signed_in(analyst)

    def queries(n):
        for i in range(n):
            tags.case_tag_add(case=CaseFactory(team=team), name=f"t{i}", actor=analyst)
        with CaptureQueriesContext(connection) as captured:
            alice.get(reverse("cases:case_list"))
        return len(captured)

    assert queries(2) == queries(6)


def test_the_csv_lists_each_cases_tags(analyst, case):
    tags.case_tag_add(case=case, name="escalate", actor=analyst)
    tags.case_tag_add(case=case, name="Needs translation", actor=analyst)

    response = signed_in(analyst).get(reverse("cases:case_list"), {"format": "csv"})
    rows = commented_csv.table(b"".join(response.streaming_content).decode())

    header, row = rows[0], rows[1]
    assert header[-1] == "tags"
    assert row[-1] == "escalate; Needs translation"


# ------------------------------------------------------------------ moving teams


def test_a_move_to_another_team_takes_the_old_teams_tags_off(analyst, case, other_team, staff):
    tags.case_tag_add(case=case, name="escalate", actor=analyst)

    services.cases_move_to_team(cases=[case], team=other_team, actor=staff)

    assert CaseTag.objects.count() == 0
    assert Tag.objects.filter(team=case.team).exists()  # the old team keeps its word
    case.refresh_from_db()
    assert case.history.first().history_user == staff


def test_an_admin_renames_a_tag_and_case_variants_are_refused(team):
    tag = Tag.objects.create(team=team, name="escalate", key="escalate")
    Tag.objects.create(team=team, name="urgent", key="urgent")

    tags.tag_rename(tag=tag, name="  Escalate  now ")
    with pytest.raises(ValidationError):
        tags.tag_rename(tag=tag, name="URGENT")

    tag.refresh_from_db()
    assert (tag.name, tag.key) == ("Escalate now", "escalate now")


def test_the_admin_lists_tags_and_saved_searches(admin_client, team):
    Tag.objects.create(team=team, name="escalate", key="escalate")

    assert admin_client.get(reverse("admin:cases_tag_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:cases_savedsearch_changelist")).status_code == 200
