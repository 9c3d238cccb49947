"""Comments, watches and notifications in the admin: listed and searched; a comment is
never changed there (only its author edits it), notifications and watches are read-only."""

import pytest
from django.urls import reverse

from cases.casework import comments
from cases.models import Comment
from cases.notifications import services
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def comment(analyst, colleague, team):
    case = CaseFactory(team=team)
    services.watch_start(user=colleague, case=case)
    return comments.comment_add(case=case, author=analyst, body="<b>@bob</b> see").comment


@pytest.mark.parametrize("model", ["comment", "watch", "notification"])
def test_the_admin_lists_them(admin_client, comment, model):
    response = admin_client.get(reverse(f"admin:cases_{model}_changelist"), {"q": "bob"})

    assert response.status_code == 200
    assert "<b>@bob</b>" not in response.content.decode()


def test_a_comment_cannot_be_changed_in_the_admin(admin_client, comment):
    url = reverse("admin:cases_comment_change", args=[comment.pk])

    admin_client.post(url, {"body": "rewritten"})

    assert Comment.objects.get().body == "<b>@bob</b> see"
    assert admin_client.get(reverse("admin:cases_comment_add")).status_code == 403
