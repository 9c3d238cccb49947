"""A check run's state in words (cases.checks.wording): from the texts the HTTP client
and the check service really store, never an exception's text on the case page."""

import pytest

from cases.checks import wording
from cases.checks.wording import failure_words, run_words, skip_words


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            "transient: api.gdeltproject.org could not connect (ConnectionError) after 3 tries",
            "could not reach api.gdeltproject.org (3 tries); the next scheduled check tries again",
        ),
        (
            "transient: efts.sec.gov timed out (ReadTimeout) after 4 tries",
            "efts.sec.gov did not answer in time (4 tries); the next scheduled check tries again",
        ),
        (
            "transient: HTTP 503 after 3 tries",
            "the source answered with a server error (HTTP 503, 3 tries); "
            "the next scheduled check tries again",
        ),
        (
            "transient: gleif unreachable: 5 requests in a row failed on the network; "
            "not tried again for 58 s",
            "gleif is unreachable (5 failed requests in a row), so it is paused for a while; "
            "the next scheduled check tries again",
        ),
        (
            "permanent: HTTP 403 from https://api.example.org/search?key=***",
            "the source refused access (HTTP 403): its key or permission needs an administrator",
        ),
        (
            "permanent: HTTP 404 from https://api.example.org/x",
            "the source refused the request (HTTP 404); asking again would get the same",
        ),
        (
            "permanent: not JSON from https://api.example.org/x: b'<html>'",
            "the source's answer could not be read (it was not the data it should send)",
        ),
        (
            "permanent: https://x.example/ sent 90,000,000 bytes, more than the 50,000,000 "
            "a check reads",
            "the source's answer was larger than a check reads",
        ),
        (
            "failed: KeyError: 'hits'",
            "an unexpected error (KeyError) stopped the check; the server log has the details",
        ),
        ("unknown source 'old'", "the source 'old' is no longer known here"),
        # A text no pattern knows keeps its words, without the prefix or class names.
        ("transient: the mirror (ProxyError) went away", "the mirror went away"),
        ("", "the check failed without saying why"),
    ],
)
def test_failures_read_in_words(error, words):
    assert failure_words(error) == words


def test_a_missing_setting_says_who_can_fix_it():
    assert skip_words("not configured: set SEC_USER_AGENT") == (
        "this source is not set up here: an administrator must set SEC_USER_AGENT"
    )
    assert skip_words("the case has no referral date to search from.") == (
        "the case has no referral date to search from"
    )
    assert skip_words("") == "the source does not apply to this case"


@pytest.mark.parametrize(
    ("fields", "label", "finished"),
    [
        ({"status": wording.QUEUED}, "queued", False),
        ({"status": wording.QUEUED, "sent": False}, "waiting for the queue", False),
        ({"status": wording.RUNNING}, "running", False),
        ({"status": wording.OK, "leads": 1}, "1 new lead", True),
        ({"status": wording.OK, "leads": 3}, "3 new leads", True),
        ({"status": wording.OK}, "nothing new", True),
        ({"status": wording.NO_RESULTS}, "nothing found", True),
        ({"status": wording.SKIPPED, "error": "not configured: set X"}, "skipped", True),
        ({"status": wording.RATE_LIMITED, "error": "HTTP 429"}, "rate limited", True),
        ({"status": wording.ERROR, "error": "failed: ValueError"}, "failed", True),
    ],
)
def test_each_status_has_a_label(fields, label, finished):
    words = run_words(**fields)
    assert (words.label, words.finished) == (label, finished)


def test_the_statuses_are_the_models():
    from cases.models import CheckRun

    assert {
        wording.QUEUED,
        wording.RUNNING,
        wording.OK,
        wording.NO_RESULTS,
        wording.SKIPPED,
        wording.ERROR,
        wording.RATE_LIMITED,
    } == set(CheckRun.Status.values)
