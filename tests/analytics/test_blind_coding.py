# ruff: noqa: F811  (pytest fixtures imported from the view tests)
"""The second reading is blind: while it is pending, the coder cannot reach the case
through the case page, the list (its outcome filters included) or the list export."""

import pytest
from django.urls import reverse

from cases import access
from cases.analytics import services as analytics_services
from tests.analytics.test_views import assigned, body, decided, world  # noqa: F401 (fixtures)

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

    from cases.models import Case, Finding, SecondCoding

    case, coder = world.cases["a1"], world.user("coder")
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CONCLUDED)
    case.refresh_from_db()
    Finding.objects.filter(case=case).update(reviewed_by=coder)
    with pytest.raises(ValidationError, match="reviewed"):
        analytics_services.second_coding_assign(case=case, coder=coder, actor=None)
    assert not SecondCoding.objects.filter(case=case).exists()


def test_the_blind_page_names_no_source_only_numbered_items(client, decided, assigned):
    """a1 has a confirmed finding entered by hand and two gdelt leads: the page numbers
    them, links their evidence and says nothing of where each came from, since a hand
    entry is most often a confirmed finding."""
    from cases.models import Finding

    client.force_login(decided.user("coder"))
    sources = set(Finding.objects.filter(case=decided.cases["a1"]).values_list("source", flat=True))
    assert sources == {Finding.MANUAL, "gdelt"}

    html = body(client.get(reverse("cases:coding_detail", args=[decided.cases["a1"].pk])))

    table = html.split('id="evidence-table"', 1)[1].split("</table>", 1)[0]
    for source in ("manual", "gdelt", "GDELT", "registry", "by hand"):
        assert source not in table
    assert "manual" not in html.lower() and "gdelt" not in html.lower()
    assert [f"item {n}" in table for n in (1, 2, 3)] == [True, True, True]
    assert 'href="https://news.example.org/two"' in table
    assert ">item 2</a>" in table  # the 2020 item, the one with a link
