"""Reading "@username" mentions out of a comment's text."""

import pytest

from cases.notifications.mentions import mentioned_usernames


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", []),
        ("no mention here", []),
        ("@bob", ["bob"]),
        ("thanks @bob.", ["bob"]),
        ("@bob, @carl; (@dana) and @eve!", ["bob", "carl", "dana", "eve"]),
        ("line one\n@bob\tand @carl\n", ["bob", "carl"]),
        ("@bob @Bob @BOB", ["bob"]),  # once, as first typed
        ("@carl @bob @carl", ["carl", "bob"]),
        ("write to ana@example.org", []),  # an e-mail address is not a mention
        ("@first.last and @a-b_c+d", ["first.last", "a-b_c+d"]),
        ("@bob@example.org", ["bob"]),
        ("@@bob", []),
        ("@ alone, @. and @-", []),
        ("<b>@bob</b>", ["bob"]),
        ("@<script>", []),
    ],
)
def test_it_reads_the_mentions(text, names):
    assert mentioned_usernames(text) == names


def test_a_flood_of_mentions_is_read_in_full_for_the_service_to_refuse():
    text = " ".join(f"@user{n}" for n in range(5000))

    assert len(mentioned_usernames(text)) == 5000
