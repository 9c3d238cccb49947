"""A check run's state in words for the case page: what happened and, for a skip or a
failure, why and what follows, never an exception's text.

Pure functions of a run's stored fields (status, error, leads filed, whether its task was
sent), so the case page and its live panel say the same. The stored `error` keeps the
technical detail for whoever looks into it; these words are what an analyst reads.
"""

import re
from dataclasses import dataclass

# The statuses, as stored (cases.models.CheckRun.Status); kept as strings so the module
# stays a pure function of values.
QUEUED, RUNNING, OK, NO_RESULTS = "queued", "running", "ok", "no_results"
SKIPPED, ERROR, RATE_LIMITED = "skipped", "error", "rate_limited"


@dataclass(frozen=True)
class RunWords:
    label: str  # a word or two: "queued", "2 new leads", "skipped", "failed"
    detail: str  # a sentence, or "" when the label says it all
    finished: bool


def run_words(*, status: str, error: str = "", leads: int = 0, sent: bool = True) -> RunWords:
    """What a run with these fields did, in words."""
    if status == QUEUED:
        if sent:
            return RunWords("queued", "waiting for a free worker", False)
        return RunWords(
            "waiting for the queue",
            "the check queue could not be reached; the check is sent as soon as it is back",
            False,
        )
    if status == RUNNING:
        return RunWords("running", "", False)
    if status == OK:
        if leads:
            return RunWords(f"{leads} new lead{'s' if leads != 1 else ''}", "", True)
        return RunWords("nothing new", "the source's results are all leads already filed", True)
    if status == NO_RESULTS:
        return RunWords("nothing found", "", True)
    if status == SKIPPED:
        return RunWords("skipped", skip_words(error), True)
    if status == RATE_LIMITED:
        return RunWords(
            "rate limited",
            "the source asked us to slow down; the next scheduled check tries again",
            True,
        )
    return RunWords("failed", failure_words(error), True)


_NOT_CONFIGURED = re.compile(r"^not configured: set (?P<names>.+)$")


def skip_words(reason: str) -> str:
    """Why a source did not run: a missing setting names who can fix it."""
    reason = reason.strip()
    configured = _NOT_CONFIGURED.match(reason)
    if configured:
        names = configured.group("names")
        return f"this source is not set up here: an administrator must set {names}"
    return _sentence(reason) or "the source does not apply to this case"


# Failure texts as cases.checks.http and cases.checks.services write them, each with the
# words an analyst reads. Checked in order; the first that matches speaks.
_FAILURES: list[tuple[re.Pattern, str]] = [
    (
        re.compile(r"^transient: (?P<host>\S+) could not connect \(\w+\) after (?P<n>\d+) tries"),
        "could not reach {host} ({n} tries); the next scheduled check tries again",
    ),
    (
        re.compile(r"^transient: (?P<host>\S+) timed out \(\w+\) after (?P<n>\d+) tries"),
        "{host} did not answer in time ({n} tries); the next scheduled check tries again",
    ),
    (
        re.compile(r"^transient: HTTP (?P<code>\d{3}) after (?P<n>\d+) tries"),
        "the source answered with a server error (HTTP {code}, {n} tries); "
        "the next scheduled check tries again",
    ),
    (
        re.compile(r"^transient: (?P<source>\S+) unreachable: (?P<n>\d+) requests in a row"),
        "{source} is unreachable ({n} failed requests in a row), so it is paused for a "
        "while; the next scheduled check tries again",
    ),
    (
        re.compile(r"^transient: the body from \S+ broke off"),
        "the source's answer broke off; the next scheduled check tries again",
    ),
    (
        re.compile(r"^permanent: HTTP (?P<code>40[13]) from"),
        "the source refused access (HTTP {code}): its key or permission needs an administrator",
    ),
    (
        re.compile(r"^permanent: HTTP (?P<code>\d{3}) from"),
        "the source refused the request (HTTP {code}); asking again would get the same",
    ),
    (
        re.compile(r"^permanent: not JSON from"),
        "the source's answer could not be read (it was not the data it should send)",
    ),
    (
        re.compile(r"^permanent: .*(sent more than|bytes, more than)"),
        "the source's answer was larger than a check reads",
    ),
    (
        re.compile(r"^permanent: TooManyRedirects"),
        "the source's address redirected too many times",
    ),
    (
        re.compile(r"^failed: (?P<kind>\w+)"),
        "an unexpected error ({kind}) stopped the check; the server log has the details",
    ),
    (
        re.compile(r"^unknown source (?P<name>.+)$"),
        "the source {name} is no longer known here",
    ),
]


_CLASS_NAME = re.compile(r"\s*\((?:\w+\.)*\w+(?:Error|Exception|Timeout)\)")


def failure_words(error: str) -> str:
    """Why a run failed, in words, from its stored error."""
    error = " ".join(error.split())
    for pattern, words in _FAILURES:
        found = pattern.search(error)
        if found:
            return words.format(**found.groupdict())
    for prefix in ("transient: ", "permanent: "):
        if error.startswith(prefix):
            # An error these patterns do not know: its text, without the class names.
            return _sentence(_CLASS_NAME.sub("", error[len(prefix) :]))
    return _sentence(error) or "the check failed without saying why"


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:300]
