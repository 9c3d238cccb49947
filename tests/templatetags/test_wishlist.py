"""Template filters of the research pages: a share as a percentage, a match score, a
link that is http(s) or nothing."""

import pytest
from django.template import engines

from cases.templatetags import wishlist


def render(source: str, **context) -> str:
    return engines["django"].from_string("{% load wishlist %}" + source).render(context)


@pytest.mark.parametrize(
    "share, text", [(None, "—"), (0.0, "0.0"), (0.4, "40.0"), (2 / 3, "66.7"), (1.0, "100.0")]
)
def test_percent_shows_a_share_of_one_as_a_percentage_without_its_sign(share, text):
    assert wishlist.percent(share) == text
    assert render("{{ share|percent }}", share=share) == text


@pytest.mark.parametrize("value, text", [(None, "—"), (88.0, "88"), (91.4, "91"), (100, "100")])
def test_score_shows_a_match_score_out_of_100_rounded(value, text):
    assert render("{{ value|score }}", value=value) == text


@pytest.mark.parametrize(
    "url, shown",
    [
        ("https://example.org/a", "https://example.org/a"),
        (" http://example.org ", "http://example.org"),
        ("javascript:alert(1)", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_http_url_keeps_only_http_links(url, shown):
    assert wishlist.http_url(url) == shown
