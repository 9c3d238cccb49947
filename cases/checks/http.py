"""The one HTTP client for every outbound call the checks make.

A requests.Session with connect and read timeouts and a User-Agent that names the tool
and a contact address. Connection errors, timeouts, 429 and 5xx are retried with
exponential backoff and jitter (a Retry-After header wins), a bounded number of times;
400, 401, 403, 404 and bodies that cannot be parsed are permanent and never retried.
Every attempt first takes a slot from the source's shared rate limiter.
"""

import json
import random
import re
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from requests.exceptions import ChunkedEncodingError

from cases.checks.ratelimit import RateLimiter, get_limiter

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 120.0  # seconds; a longer wait is reported as rate limited instead

# A source whose requests keep failing on the network (offline, DNS gone) is not tried
# for a while, so a run over hundreds of cases records fast failures instead of
# spending every case's full retry budget. Kept per process.
BREAKER_THRESHOLD = 3  # requests in a row that failed on the network after all retries
BREAKER_COOL_OFF = 60.0  # seconds
_breaker_lock = threading.Lock()
_network_failures: dict[str, tuple[int, float]] = {}  # source: (failures, open until)


def reset_breakers() -> None:
    with _breaker_lock:
        _network_failures.clear()


def _breaker_check(source: str, url: str) -> None:
    with _breaker_lock:
        failures, open_until = _network_failures.get(source, (0, 0.0))
    remaining = open_until - time.monotonic()
    if failures >= BREAKER_THRESHOLD and remaining > 0:
        raise TransientHttpError(
            f"{source} unreachable: {failures} requests in a row failed on the network; "
            f"not tried again for {remaining:.0f} s",
            url=url,
        )


def _breaker_record(source: str, *, network_failure: bool) -> None:
    with _breaker_lock:
        if not network_failure:
            _network_failures.pop(source, None)
            return
        failures = _network_failures.get(source, (0, 0.0))[0] + 1
        _network_failures[source] = (failures, time.monotonic() + BREAKER_COOL_OFF)


class HttpError(Exception):
    """A request that did not give a usable response."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None, body: str = ""):
        super().__init__(message)
        self.url = url
        self.status = status
        # The start of an error response's body: some APIs say there why they refused
        # (a 404 for "no matching records" as against a path that does not exist).
        self.body = body


class PermanentHttpError(HttpError):
    """Retrying will not help: a 4xx other than 429, or a body that cannot be parsed."""


class TransientHttpError(HttpError):
    """The source failed for now (network, timeout, 5xx) and retries ran out."""


class RateLimitedError(TransientHttpError):
    """The source kept answering 429, or asked us to wait too long."""


def user_agent() -> str:
    return f"Wishlist/0.1 (foreign technology referral follow-up; {settings.WISHLIST_CONTACT})"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_SECRET_PARAM = re.compile(r"key|token|secret|password", re.IGNORECASE)


def _masked(url: str) -> str:
    """A URL as sent, credential-like query parameters masked: error messages carry it to
    the CheckRun, the log and the case page, none of which may show an API key."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    shown = [(name, "***" if _SECRET_PARAM.search(name) else value) for name, value in pairs]
    return urlunsplit(parts._replace(query=urlencode(shown)))


def _read_whole(response: requests.Response, limit: int) -> requests.Response:
    """Read a streamed body up to `limit` bytes, refusing a longer one; return the
    response with its content in place, as a non-streamed one would have it."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise PermanentHttpError(
            f"{_masked(response.url)} sent {int(declared):,} bytes, more than the "
            f"{limit:,} a check reads",
            url=_masked(response.url),
            status=response.status_code,
        )
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > limit:
                response.close()
                raise PermanentHttpError(
                    f"{_masked(response.url)} sent more than the {limit:,} bytes a check reads",
                    url=_masked(response.url),
                    status=response.status_code,
                )
            chunks.append(chunk)
    except (requests.ConnectionError, requests.Timeout, ChunkedEncodingError) as exc:
        response.close()
        raise TransientHttpError(
            f"the body from {_masked(response.url)} broke off: {type(exc).__name__}",
            url=_masked(response.url),
        ) from None
    # requests keeps a read body in _content; setting it is how its own .content works.
    response._content = b"".join(chunks)
    return response


def _loggable(url: str, params: dict | None) -> str:
    """The URL with its query, parameters that look like credentials masked."""
    if not params:
        return url
    shown = {
        name: "***" if _SECRET_PARAM.search(str(name)) else value for name, value in params.items()
    }
    return f"{url}?{urlencode(shown, doseq=True)}"


class _Session(requests.Session):
    """A session that, following a redirect to another host, drops every header that
    looks like a credential (requests itself drops only Authorization): an API key sent
    as X-API-KEY must never reach whoever a source redirects to."""

    def rebuild_auth(self, prepared_request, response):
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in [n for n in prepared_request.headers if _SECRET_PARAM.search(n)]:
                del prepared_request.headers[name]


class HttpClient:
    """HTTP for one source: its rate limit, timeouts and retry policy."""

    def __init__(
        self,
        *,
        source: str,
        rate_per_second: float | None = None,
        limiter: RateLimiter | None = None,
        session: requests.Session | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        max_attempts: int | None = None,
        backoff: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_bytes: int | None = None,
    ):
        self.source = source
        # A body past this is refused, read no further: a hostile or broken server must
        # not fill a worker's memory (EDGAR's largest exhibits are tens of megabytes).
        self.max_bytes = max_bytes or settings.WISHLIST_HTTP_MAX_BYTES
        self.rate_per_second = rate_per_second
        self.limiter = limiter if limiter is not None else get_limiter()
        self.session = session or _Session()
        self.session.headers["User-Agent"] = user_agent()
        self.timeout = (
            connect_timeout or settings.WISHLIST_HTTP_CONNECT_TIMEOUT,
            read_timeout or settings.WISHLIST_HTTP_READ_TIMEOUT,
        )
        self.max_attempts = max_attempts or settings.WISHLIST_HTTP_MAX_ATTEMPTS
        self.backoff = settings.WISHLIST_HTTP_BACKOFF if backoff is None else backoff
        self.sleep = sleep
        # Every URL asked, secrets masked: recorded on the CheckRun even when a check
        # fails half-way.
        self.asked: list[str] = []

    def _wait(self, attempt: int, response: requests.Response | None) -> float:
        if response is not None:
            asked = _retry_after(response)
            if asked is not None:
                return asked
        # Exponential backoff with full jitter, so workers that failed together do not
        # come back together.
        return random.uniform(0, self.backoff * (2**attempt))

    def get(
        self,
        url: str,
        *,
        params: dict | None = None,
        headers: dict | None = None,
        allow_redirects: bool = True,
    ) -> requests.Response:
        """GET with retries; return a 2xx response or raise an HttpError.

        Without redirects a 3xx comes back as it is, for a caller that checks where each
        one leads before following it (an evidence capture refuses private addresses).
        """
        return self._send(
            "GET", url, params=params, headers=headers, allow_redirects=allow_redirects
        )

    def post_form(self, url: str, *, form: dict, headers: dict | None = None) -> requests.Response:
        """POST a form with the same retries and errors, for an OAuth token request.

        The form is never recorded: it may hold credentials.
        """
        return self._send("POST", url, form=form, headers=headers)

    def post(self, url: str, *, body: bytes, headers: dict | None = None) -> requests.Response:
        """POST a body as it is (a webhook delivery), with the same errors."""
        return self._send("POST", url, form=body, headers=headers)

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict | None = None,
        headers: dict | None = None,
        form: dict | bytes | None = None,
        allow_redirects: bool = True,
    ) -> requests.Response:
        _breaker_check(self.source, url)
        self.asked.append(("" if method == "GET" else f"{method} ") + _loggable(url, params))
        last_problem = ""
        last_status: int | None = None
        network_only = True  # every attempt failed before any HTTP answer
        for attempt in range(self.max_attempts):
            if self.rate_per_second:
                self.limiter.acquire(self.source, self.rate_per_second)
            response = None
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=form,
                    headers=headers,
                    timeout=self.timeout,
                    stream=True,
                    allow_redirects=allow_redirects,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                # The host and the kind of failure, not urllib3's nested repr: this is
                # what an analyst reads on the case page (offline, DNS, a timeout).
                host = urlsplit(url).hostname or url
                what = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
                last_problem = f"{host} {what} ({type(exc).__name__})"
            except requests.RequestException as exc:
                # Too many redirects, an invalid URL, a body that cannot be decoded:
                # asking again would get the same.
                raise PermanentHttpError(
                    f"{type(exc).__name__} from {_masked(url)}", url=_masked(url)
                ) from None
            else:
                network_only = False
                if response.status_code < 400:
                    try:
                        read = _read_whole(response, self.max_bytes)
                    except TransientHttpError as exc:
                        last_problem = str(exc)  # the body broke off: ask again
                    else:
                        _breaker_record(self.source, network_failure=False)
                        return read
                elif response.status_code not in RETRYABLE_STATUS:
                    start = next(response.iter_content(500), b"")
                    response.close()
                    raise PermanentHttpError(
                        f"HTTP {response.status_code} from {_masked(response.url)}",
                        url=_masked(response.url),
                        status=response.status_code,
                        body=start[:500].decode("utf-8", "replace"),
                    )
                else:
                    response.close()
                    last_problem = f"HTTP {response.status_code}"
                    last_status = response.status_code
            if attempt + 1 == self.max_attempts:
                break
            wait = self._wait(attempt, response)
            if wait > MAX_RETRY_AFTER:
                raise RateLimitedError(f"{url} asked us to wait {wait:.0f} s", url=url, status=429)
            self.sleep(wait)
        _breaker_record(self.source, network_failure=network_only)
        # The status of the last answer, if the last try got one (not a network failure).
        status = last_status if last_problem == f"HTTP {last_status}" else None
        if last_problem == "HTTP 429":
            raise RateLimitedError(
                f"still rate limited after {self.max_attempts} tries", url=url, status=429
            )
        raise TransientHttpError(
            f"{last_problem} after {self.max_attempts} tries", url=url, status=status
        )

    def get_json(self, url: str, **kwargs) -> tuple[object, bytes]:
        """GET and parse JSON; return (data, raw body). A non-JSON body is permanent."""
        response = self.get(url, **kwargs)
        try:
            return json.loads(response.content), response.content
        except ValueError:
            start = response.content[:120].decode("utf-8", "replace").strip()
            shown = _masked(response.url)
            raise PermanentHttpError(
                f"not JSON from {shown}: {start!r}", url=shown, status=200
            ) from None
