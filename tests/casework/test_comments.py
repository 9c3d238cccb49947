"""Comments on a case and on its leads: who may leave and edit them, how they are shown
(escaped text, line breaks, who and when, edited), what is refused with the database left
as it was, and whom their mentions tell."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases.casework import comments
from cases.casework.services import EditConflict
from cases.models import Comment, Finding, Notification
from tests.factories import AnalystFactory, CaseFactory, FindingFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def case(team):
    return CaseFactory(team=team)


@pytest.fixture
def lead(case):
    return FindingFactory(case=case, source="gdelt", external_id="g-1", counterparty_name="Huawei")


@pytest.fixture
def foreign_lead(other_team):
    return FindingFactory(case=CaseFactory(team=other_team), source="gdelt", external_id="g-2")


def snapshot() -> tuple:
    return (
        sorted(
            Comment.objects.values_list("id", "case", "finding", "body", "edited_at", "version")
        ),
        sorted(Notification.objects.values_list("id", "recipient", "kind", "read_at")),
        Comment.history.count(),
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def post_comment(client, case, **data):
    return client.post(reverse("cases:comment_add", args=[case.pk]), data)


# ------------------------------------------------------------------------------ adding


def test_an_analyst_comments_on_the_case_and_it_shows_who_and_when(client, analyst, case):
    client.force_login(analyst)

    response = post_comment(client, case, body="Looked at the filings.\nNothing yet.")

    comment = Comment.objects.get()
    assert (comment.case, comment.finding, comment.author) == (case, None, analyst)
    assert response.url == case.get_absolute_url() + f"#comment-{comment.pk}"
    assert comment.history.get().history_user == analyst
    page = client.get(case.get_absolute_url()).content.decode()
    assert f'id="comment-{comment.pk}"' in page
    assert "Looked at the filings.<br>Nothing yet." in page
    assert 'class="comment-author">alice<' in page
    assert "edited" not in page.split(f'id="comment-{comment.pk}"')[1].split("</article>")[0]


def test_a_comment_on_a_lead_shows_under_the_lead(client, analyst, case, lead):
    client.force_login(analyst)

    post_comment(client, case, body="Same JV as in 2019?", finding=lead.pk)

    comment = Comment.objects.get()
    assert comment.finding == lead
    page = client.get(case.get_absolute_url()).content.decode()
    leads, _, rest = page.partition('<section id="comments">')
    assert "Same JV as in 2019?" in leads.split(f'id="lead-{lead.pk}"')[1]
    assert "Same JV as in 2019?" not in rest
    assert f'name="finding" value="{lead.pk}"' in leads


def test_a_comment_on_a_reviewed_finding_shows_in_the_comments_naming_it(client, analyst, case):
    finding = FindingFactory(
        case=case,
        review_state=Finding.ReviewState.CONFIRMED,
        reviewed_at=timezone.now(),
        counterparty_name="ZTE",
    )
    comments.comment_add(
        case=case, author=analyst, body="Confirmed by the registry.", finding=finding
    )
    client.force_login(analyst)

    page = client.get(case.get_absolute_url()).content.decode()

    section = page.split('id="comments"')[1]
    assert "Confirmed by the registry." in section
    assert "on the joint venture with ZTE" in section


def test_a_supervisor_comments_though_they_review_nothing(client, supervisor, case):
    client.force_login(supervisor)

    response = post_comment(client, case, body="Please look at this one first.")

    assert response.status_code == 302
    assert Comment.objects.get().author == supervisor


def test_another_teams_case_is_not_found(client, other_analyst, case):
    client.force_login(other_analyst)
    before = snapshot()

    response = post_comment(client, case, body="hello")

    assert response.status_code == 404
    assert snapshot() == before


def test_a_comment_is_rendered_inert(client, analyst, case, lead):
    comments.comment_add(case=case, author=analyst, body=HOSTILE)
    comments.comment_add(case=case, author=analyst, body=HOSTILE, finding=lead)
    client.force_login(analyst)

    page = client.get(case.get_absolute_url()).content.decode()

    assert "<script>alert" not in page
    assert "<img src=x" not in page
    # Each body, and each again in its author's edit box.
    assert page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") == 4


# ------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("", "Write something"),
        ("   \n\t  ", "Write something"),
        ("x" * (comments.BODY_MAX + 1), "at most 10,000 characters"),
        ("nul \x00 byte", "Null characters are not allowed"),
        (" ".join(f"@user{n}" for n in range(comments.MENTIONS_MAX + 1)), "mentions at most 20"),
    ],
    ids=["empty", "blank", "huge", "nul", "mention-flood"],
)
def test_a_bad_body_is_refused_and_nothing_saved(client, analyst, case, body, said):
    client.force_login(analyst)
    before = snapshot()

    response = post_comment(client, case, body=body)

    assert response.status_code == 302
    assert any(said in m for m in messages_of(response)), messages_of(response)
    assert snapshot() == before


def test_the_service_refuses_what_the_form_would_have(analyst, case):
    before = snapshot()

    for body in ("", " \n ", "x" * (comments.BODY_MAX + 1), "nul \x00 byte"):
        with pytest.raises(ValidationError):
            comments.comment_add(case=case, author=analyst, body=body)

    assert snapshot() == before


def test_the_longest_body_allowed_is_kept(analyst, case):
    body = "y" * comments.BODY_MAX

    assert comments.comment_add(case=case, author=analyst, body=body).comment.body == body


def test_a_comment_on_a_lead_of_another_case_is_refused(client, analyst, case, foreign_lead):
    client.force_login(analyst)
    before = snapshot()

    response = post_comment(client, case, body="sneaky", finding=foreign_lead.pk)

    assert any("not on this case" in m for m in messages_of(response))
    assert snapshot() == before
    with pytest.raises(ValidationError, match="not on this case"):
        comments.comment_add(case=case, author=analyst, body="sneaky", finding=foreign_lead)
    assert snapshot() == before


def test_the_database_refuses_a_comment_on_a_finding_of_another_case(analyst, case, foreign_lead):
    before = snapshot()

    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.create(case=case, finding=foreign_lead, author=analyst, body="x")
    own = Comment.objects.create(
        case=foreign_lead.case, finding=foreign_lead, author=analyst, body="x"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.filter(pk=own.pk).update(case=case)

    assert Comment.objects.get(pk=own.pk).case == foreign_lead.case
    assert snapshot()[0] == sorted(
        [*before[0], (own.pk, foreign_lead.case_id, foreign_lead.pk, "x", None, 1)]
    )


def test_the_database_refuses_an_empty_or_oversized_body(analyst, case):
    for body in ("", "z" * (comments.BODY_MAX + 1)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Comment.objects.create(case=case, author=analyst, body=body)
    assert not Comment.objects.exists()


def test_a_lead_that_does_not_exist_is_refused(client, analyst, case):
    client.force_login(analyst)
    before = snapshot()

    response = post_comment(client, case, body="hm", finding=999_999)

    assert messages_of(response) == [comments.NOT_ON_CASE]
    assert snapshot() == before


def test_a_user_without_a_role_cannot_comment(no_role, case):
    assert not comments.can_comment(no_role)


# ------------------------------------------------------------------------------ editing


@pytest.fixture
def comment(analyst, case):
    return comments.comment_add(case=case, author=analyst, body="First take.").comment


def edit(client, comment, **data):
    return client.post(reverse("cases:comment_edit", args=[comment.pk]), data)


def test_the_author_edits_and_the_page_says_edited(client, analyst, case, comment):
    client.force_login(analyst)

    response = edit(client, comment, body="Second take.", version=comment.version)

    comment.refresh_from_db()
    assert response.status_code == 302
    assert (comment.body, comment.version) == ("Second take.", 2)
    assert comment.edited_at is not None
    assert comment.history.count() == 2
    assert comment.history.first().history_user == analyst
    page = client.get(case.get_absolute_url()).content.decode()
    shown = page.split(f'id="comment-{comment.pk}"')[1].split("</article>")[0]
    assert "Second take." in shown
    assert 'class="edited"' in shown


def test_someone_else_cannot_edit_a_comment(client, colleague, comment):
    client.force_login(colleague)
    before = snapshot()

    response = edit(client, comment, body="Rewritten by bob.", version=comment.version)

    assert response.status_code == 403
    assert snapshot() == before
    with pytest.raises(PermissionDenied):
        comments.comment_edit(comment=comment, editor=colleague, body="no", version=1)
    assert snapshot() == before


def test_another_teams_analyst_does_not_find_the_comment(client, other_analyst, comment):
    client.force_login(other_analyst)

    assert edit(client, comment, body="x", version=1).status_code == 404


def test_a_stale_edit_is_refused_naming_the_last_edit(client, analyst, comment):
    comments.comment_edit(comment=comment, editor=analyst, body="From the other tab.", version=1)
    client.force_login(analyst)
    before = snapshot()

    response = edit(client, comment, body="From this tab.", version=1)

    said = messages_of(response)
    assert any("changed by alice" in m and "not saved" in m for m in said), said
    assert snapshot() == before
    with pytest.raises(EditConflict):
        comments.comment_edit(comment=comment, editor=analyst, body="again", version=1)


@pytest.mark.parametrize("body", ["", "x" * (comments.BODY_MAX + 1)], ids=["empty", "huge"])
def test_a_bad_edit_is_refused_and_nothing_saved(client, analyst, comment, body):
    client.force_login(analyst)
    before = snapshot()

    response = edit(client, comment, body=body, version=comment.version)

    assert response.status_code == 302
    assert messages_of(response)
    assert snapshot() == before


def test_an_edit_without_a_version_is_refused(client, analyst, comment):
    client.force_login(analyst)
    before = snapshot()

    edit(client, comment, body="no version")

    assert snapshot() == before


# ------------------------------------------------------------------------------ mentions


def test_a_mentioned_teammate_is_notified_and_the_author_is_told(client, analyst, colleague, case):
    client.force_login(analyst)

    response = post_comment(client, case, body="@bob can you check the 2019 JV?")

    note = Notification.objects.get()
    assert (note.recipient, note.kind, note.actor, note.case) == (
        colleague,
        Notification.Kind.MENTION,
        analyst,
        case,
    )
    assert note.comment == Comment.objects.get()
    assert note.text.startswith(f"alice mentioned you on {case.entity.name} (case {case.pk}):")
    assert any("bob notified" in m for m in messages_of(response))


def test_a_mention_of_someone_who_cannot_see_the_case_tells_nobody(
    client, analyst, other_analyst, case
):
    client.force_login(analyst)

    response = post_comment(client, case, body="@olga and @nobody_here, thoughts?")

    assert Comment.objects.count() == 1
    assert not Notification.objects.exists()
    said = messages_of(response)
    assert "olga cannot see this case; not notified." in said
    assert "Nobody is called @nobody_here; not notified." in said


def test_an_admin_is_mentioned_and_the_blind_second_coder_is_not(
    analyst, colleague, staff, case, supervisor
):
    from cases.analytics import services as analytics_services

    concluded = CaseFactory(team=case.team, status="concluded")
    analytics_services.second_coding_assign(case=concluded, coder=colleague, actor=supervisor)

    result = comments.comment_add(case=concluded, author=analyst, body="@root @bob @alice")

    assert result.notified == ["root"]
    assert result.not_notified == ["bob cannot see this case; not notified."]
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["root"]


def test_a_mention_in_an_edit_tells_only_the_newly_mentioned(analyst, colleague, supervisor, case):
    comment = comments.comment_add(case=case, author=analyst, body="@bob look").comment

    comments.comment_edit(
        comment=comment, editor=analyst, body="@bob look, and @sam too", version=1
    )

    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "bob",
        "sam",
    ]


def test_watchers_hear_of_a_comment_once_and_the_author_never(analyst, colleague, supervisor, case):
    from cases.notifications import services as notification_services

    for person in (analyst, colleague, supervisor):
        notification_services.watch_start(user=person, case=case)

    comments.comment_add(case=case, author=analyst, body="@bob see this")

    kinds = sorted(Notification.objects.values_list("recipient__username", "kind"))
    assert kinds == [("bob", "mention"), ("sam", "comment_on_watched")]


def test_a_watcher_who_left_the_team_hears_nothing(analyst, case):
    from cases.notifications import services as notification_services

    leaver = AnalystFactory(username="lee", teams=[case.team])
    notification_services.watch_start(user=leaver, case=case)
    case.team.members.remove(leaver)

    comments.comment_add(case=case, author=analyst, body="any news?")

    assert not Notification.objects.exists()


def test_a_merge_carries_the_comments_and_watches_to_the_surviving_case(
    analyst, colleague, staff, team
):
    from cases.identity import merging
    from cases.models import Watch
    from cases.notifications import services as notification_services

    survivor, merged = CaseFactory(team=team), CaseFactory(team=team)
    lead = FindingFactory(case=merged, source="gdelt", external_id="m-1")
    on_case = comments.comment_add(case=merged, author=analyst, body="on the case").comment
    on_lead = comments.comment_add(case=merged, author=analyst, body="on a lead", finding=lead)
    for case in (survivor, merged):
        notification_services.watch_start(user=colleague, case=case)

    merging.entity_merge(survivor_id=survivor.entity_id, merged_id=merged.entity_id, actor=staff)

    assert set(Comment.objects.values_list("pk", "case", "finding")) == {
        (on_case.pk, survivor.pk, None),
        (on_lead.comment.pk, survivor.pk, lead.pk),
    }
    assert list(Watch.objects.values_list("user", "case")) == [(colleague.pk, survivor.pk)]


def test_undoing_the_merge_puts_the_comments_back(analyst, staff, team):
    from cases.identity import merging

    survivor, merged = CaseFactory(team=team), CaseFactory(team=team)
    lead = FindingFactory(case=merged, source="gdelt", external_id="m-1")
    on_lead = comments.comment_add(case=merged, author=analyst, body="on a lead", finding=lead)
    record = merging.entity_merge(
        survivor_id=survivor.entity_id, merged_id=merged.entity_id, actor=staff
    )

    merging.merge_undo(merge=record, actor=staff)

    assert Comment.objects.get(pk=on_lead.comment.pk).case_id == merged.pk
