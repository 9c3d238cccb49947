"""Fetching a lead's page once and keeping it: the fetch (through the one HTTP client,
refusing private addresses at every hop), the WARC of what was said, and a screenshot of
the stored copy. No database here: cases.evidence.services stores what this returns.
"""

import os
import signal
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from cases.checks import addresses as outbound
from cases.checks.addresses import is_public
from cases.checks.http import HttpClient, HttpError, user_agent

NO_CHROMIUM = "no screenshot: Chromium not found"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Dropped from the kept response's headers: requests hands over the body decoded and
# whole, so the stored bytes are neither compressed nor chunked any more.
_TRANSPORT_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


class CaptureRefused(Exception):
    """The page was not captured; the message says why, for the case page."""


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, a redirect or the page itself."""

    url: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes
    at: datetime


@dataclass(frozen=True)
class Page:
    url: str  # as asked
    exchanges: list[Exchange] = field(default_factory=list)  # redirects first, the page last

    @property
    def final(self) -> Exchange:
        return self.exchanges[-1]

    @property
    def content_type(self) -> str:
        return {k.lower(): v for k, v in self.final.response_headers}.get("content-type", "")

    @property
    def media_type(self) -> str:
        return self.content_type.split(";")[0].strip().lower()

    @property
    def is_html(self) -> bool:
        return self.media_type in ("text/html", "application/xhtml+xml")


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the host resolves to (the system resolver)."""
    return outbound.resolve(host, port)


def check_target(
    url: str, *, allow_private: bool, resolve: Callable[[str, int], list[str]] = resolve_host
) -> None:
    """Refuse a URL that is not http(s), or whose host resolves to any private, loopback,
    link-local, reserved or multicast address: a capture must not make the server read
    its own network (a cloud's metadata address, an admin page on localhost).

    The name is resolved again when the client connects, so a DNS answer that changes in
    between (rebinding) is not caught here; a deployment that must rule that out sends
    captures through an egress proxy.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CaptureRefused(f"not a web address: {url[:200]}")
    if allow_private:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(parts.hostname, port)
    except (OSError, UnicodeError):
        raise CaptureRefused(f"{parts.hostname} could not be resolved") from None
    if not addresses:
        raise CaptureRefused(f"{parts.hostname} could not be resolved")
    private = [a for a in addresses if not is_public(a)]
    if private:
        raise CaptureRefused(
            f"{parts.hostname} is a private, loopback or reserved address ({private[0]}); "
            "captures read only the public web (WISHLIST_CAPTURE_ALLOW_PRIVATE)"
        )


def fetch_page(
    url: str,
    *,
    client: HttpClient,
    allow_private: bool,
    max_redirects: int,
    resolve: Callable[[str, int], list[str]] = resolve_host,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Page:
    """GET the page, following redirects by hand so that each one's target is checked
    before it is asked; the client caps the body and sets the timeouts."""
    exchanges: list[Exchange] = []
    current = url
    for _ in range(max_redirects + 1):
        check_target(current, allow_private=allow_private, resolve=resolve)
        try:
            response = client.get(current, allow_redirects=False)
        except HttpError as exc:
            raise CaptureRefused(str(exc)) from None
        host = urlsplit(current).netloc
        exchanges.append(
            Exchange(
                url=current,
                request_headers=[("Host", host), *response.request.headers.items()],
                status=response.status_code,
                reason=response.reason or "",
                response_headers=list(response.headers.items()),
                body=response.content,
                at=now(),
            )
        )
        if not response.is_redirect:
            return Page(url=url, exchanges=exchanges)
        current = urljoin(current, response.headers["Location"])
    raise CaptureRefused(f"more than {max_redirects} redirects from {url[:200]}; not followed")


def build_warc(page: Page) -> bytes:
    """A gzipped WARC of the capture: a warcinfo record, then each exchange's request and
    response records (redirects included), as a web archive's tools read them."""
    out = BytesIO()
    writer = WARCWriter(out, gzip=True)
    writer.write_record(
        writer.create_warcinfo_record(
            "capture.warc.gz", {"software": f"{user_agent()} warcio", "isPartOf": page.url}
        )
    )
    for exchange in page.exchanges:
        date = {"WARC-Date": datetime_to_iso_date(exchange.at)}
        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = writer.create_warc_record(
            exchange.url,
            "request",
            payload=BytesIO(b""),
            length=0,
            warc_headers_dict=date,
            http_headers=StatusAndHeaders(
                f"GET {target} HTTP/1.1", exchange.request_headers, is_http_request=True
            ),
        )
        headers = [
            (k, v) for k, v in exchange.response_headers if k.lower() not in _TRANSPORT_HEADERS
        ]
        headers.append(("Content-Length", str(len(exchange.body))))
        response = writer.create_warc_record(
            exchange.url,
            "response",
            payload=BytesIO(exchange.body),
            length=len(exchange.body),
            warc_headers_dict=date,
            http_headers=StatusAndHeaders(
                f"{exchange.status} {exchange.reason}".strip(), headers, protocol="HTTP/1.1"
            ),
        )
        writer.write_request_response_pair(request, response)
    return out.getvalue()


def _locked_down(body: bytes, charset: str) -> bytes:
    """The stored HTML with a policy in front that lets it load nothing (no frames of
    local files, no images from the network), whatever the browser's flags."""
    head = (
        f'<meta charset="{charset}">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:; font-src data:\">"
    )
    return head.encode("ascii") + body


def screenshot(
    body: bytes, *, charset: str, chromium: str, timeout: float
) -> tuple[bytes | None, str]:
    """A PNG of the stored page rendered by headless Chromium, or (None, why not).

    Chromium opens a temporary copy from disk with JavaScript off, every host name
    unresolvable and every connection sent to a proxy that is not there: it never asks
    the live page or anything the page names. Scripts are off by the copy's own policy
    (_locked_down: no script-src), not by --blink-settings=scriptEnabled=false: with
    that flag, headless Chromium (156) writes no screenshot at all.
    """
    if not (os.path.isfile(chromium) and os.access(chromium, os.X_OK)):
        return None, NO_CHROMIUM
    with tempfile.TemporaryDirectory(prefix="wishlist-shot-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_bytes(_locked_down(body, charset))
        out = Path(tmp) / "shot.png"
        command = [
            chromium,
            "--headless",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            f"--user-data-dir={tmp}/profile",
            "--window-size=1280,2000",
            f"--screenshot={out}",
            page.as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to run as root otherwise
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its helpers share a group, killed together
            )
        except OSError as exc:
            return None, f"no screenshot: Chromium did not start ({type(exc).__name__})"
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return None, f"no screenshot: Chromium took longer than {timeout:g} s"
        shot = out.read_bytes() if out.exists() else b""
        if not shot.startswith(PNG_MAGIC):
            return None, f"no screenshot: Chromium made none (exit status {process.returncode})"
        return shot, ""
