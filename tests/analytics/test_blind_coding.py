# ruff: noqa: F811  (pytest fixtures imported from the view tests)
"""The second reading is blind: while it is pending, the coder cannot reach the case
through the case page, the list (its outcome filters included) or the list export."""

import pytest
from django.urls import reverse

from cases import access
from cases.analytics import services as analytics_services
from tests.analytics.test_views import assigned, body, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def test_the_pending_coder_gets_a_404_on_the_case_page(client, world, assigned):
    client.force_login(world.user("coder"))
    case = world.cases["a1"]
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404
    # The blind page stays open to them.
    assert client.get(reverse("cases:coding_detail", args=[case.pk])).status_code == 200


@pytest.mark.parametrize("query", ["", "?outcome=positive", "?outcome=any", "?q=Alpha"])
def test_the_pending_case_is_left_out_of_the_coders_list(client, world, assigned, query):
    client.force_login(world.user("coder"))
    html = body(client.get(reverse("cases:case_list") + query))
    assert "Alpha Robotics 1 Ltd" not in html


def test_the_pending_case_is_left_out_of_the_coders_export(client, world, assigned):
    client.force_login(world.user("coder"))
    response = client.get(reverse("cases:case_list") + "?format=csv")
    text = b"".join(response.streaming_content).decode()
    assert "Alpha Robotics 1 Ltd" not in text
    assert "Alpha Robotics 2 Ltd" in text


def test_others_still_see_the_case(client, world, assigned):
    client.force_login(world.user("analyst"))
    case = world.cases["a1"]
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 200


def test_once_recorded_the_case_is_visible_again(client, world, assigned):
    coder = world.user("coder")
    assert not access.visible_cases(coder).filter(pk=world.cases["a1"].pk).exists()
    analytics_services.second_coding_record(
        coding=assigned, positive_kinds=[], note="", actor=coder
    )
    client.force_login(coder)
    case = world.cases["a1"]
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 200
    assert client.get(reverse("cases:coding_queue")).status_code == 200


def test_an_analyst_who_reviewed_a_finding_is_refused_as_second_coder(world):
    from django.core.exceptions import ValidationError

    from cases.models import Finding, SecondCoding

    case, coder = world.cases["a1"], world.user("coder")
    Finding.objects.filter(case=case).update(reviewed_by=coder)
    with pytest.raises(ValidationError, match="reviewed"):
        analytics_services.second_coding_assign(case=case, coder=coder, actor=None)
    assert not SecondCoding.objects.filter(case=case).exists()
