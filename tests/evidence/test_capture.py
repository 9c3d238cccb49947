"""Fetching a page for keeping (cases.evidence.capture): HTTP mocked at the one client,
names resolved by a fake resolver, so nothing here reaches a network."""

import gzip
import io
import os
import stat
import struct
from datetime import UTC, datetime

import pytest
import requests
import responses
from warcio.archiveiterator import ArchiveIterator

from cases.checks.http import HttpClient
from cases.evidence import capture

PUBLIC = "93.184.215.14"
PAGE = b"<html><body><p>Joint venture signed.</p><script>alert(1)</script></body></html>"


def public(host: str, port: int) -> list[str]:
    return [PUBLIC]


def mixed(host: str, port: int) -> list[str]:
    """Made-up names resolve to a public address, address literals to themselves."""
    return [PUBLIC] if host.endswith("example.org") else capture.resolve_host(host, port)


def warc(data: bytes) -> list:
    """The records of a WARC, each read whole (a record's body is gone once the
    iterator moves on)."""
    return [
        (r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read())
        for r in ArchiveIterator(io.BytesIO(data))
    ]


def client(**kwargs) -> HttpClient:
    return HttpClient(
        source="capture:test", max_attempts=1, sleep=lambda s: None, max_bytes=1000, **kwargs
    )


def fetch(url: str, *, resolve=public, allow_private=False, max_redirects=3, **kwargs):
    return capture.fetch_page(
        url,
        client=client(**kwargs),
        allow_private=allow_private,
        max_redirects=max_redirects,
        resolve=resolve,
        now=lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


@responses.activate
def test_it_keeps_the_page_and_what_was_said_in_a_warc():
    responses.get(
        "https://news.example.org/a",
        body=PAGE,
        content_type="text/html; charset=utf-8",
        headers={"X-Served-By": "cache-1"},
    )

    page = fetch("https://news.example.org/a")
    records = warc(capture.build_warc(page))

    assert page.final.body == PAGE and page.final.status == 200 and page.is_html
    # warcio writes each response before its request, as web archives do.
    assert [r[0] for r in records] == ["warcinfo", "response", "request"]
    (_, response, response_http, body), (_, request, request_http, _) = records[1:]
    assert request.get_header("WARC-Target-URI") == "https://news.example.org/a"
    assert request_http.protocol == "GET"
    assert request_http.get_header("User-Agent").startswith("Wishlist/")
    assert response_http.get_statuscode() == "200"
    assert response_http.get_header("X-Served-By") == "cache-1"
    assert response.get_header("WARC-Date") == "2026-01-02T03:04:05Z"
    assert request.get_header("WARC-Concurrent-To") == response.get_header("WARC-Record-ID")
    assert body == PAGE


@responses.activate
def test_a_compressed_body_is_kept_decoded_and_said_so():
    responses.get(
        "https://news.example.org/gz",
        body=gzip.compress(PAGE),
        content_type="text/html",
        headers={"Content-Encoding": "gzip"},
    )

    page = fetch("https://news.example.org/gz")
    _, _, http_headers, body = warc(capture.build_warc(page))[1]

    assert page.final.body == PAGE
    assert http_headers.get_header("Content-Encoding") is None
    assert http_headers.get_header("Content-Length") == str(len(PAGE))
    assert body == PAGE


@responses.activate
def test_it_follows_redirects_and_keeps_each_hop():
    responses.get("https://news.example.org/old", status=301, headers={"Location": "/new?id=1"})
    responses.get("https://news.example.org/new?id=1", body=PAGE, content_type="text/html")

    page = fetch("https://news.example.org/old")
    records = warc(capture.build_warc(page))

    assert page.final.url == "https://news.example.org/new?id=1"
    assert [e.status for e in page.exchanges] == [301, 200]
    assert [r[0] for r in records] == ["warcinfo"] + ["response", "request"] * 2
    assert records[1][2].get_header("Location") == "/new?id=1"
    assert records[3][3] == PAGE


@responses.activate
def test_a_redirect_loop_is_cut_off():
    responses.get(
        "https://a.example.org/", status=302, headers={"Location": "https://b.example.org/"}
    )
    responses.get(
        "https://b.example.org/", status=302, headers={"Location": "https://a.example.org/"}
    )

    with pytest.raises(capture.CaptureRefused, match="more than 3 redirects"):
        fetch("https://a.example.org/")

    assert len(responses.calls) == 4


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
    ],
)
@responses.activate
def test_private_loopback_link_local_and_reserved_addresses_are_refused(url):
    with pytest.raises(capture.CaptureRefused, match="private, loopback or reserved"):
        fetch(url, resolve=capture.resolve_host)

    assert len(responses.calls) == 0


@responses.activate
def test_a_name_that_resolves_to_a_private_address_is_refused():
    with pytest.raises(capture.CaptureRefused, match="intranet.example.org is a private"):
        fetch("https://intranet.example.org/", resolve=lambda h, p: [PUBLIC, "192.168.1.5"])

    assert len(responses.calls) == 0


@responses.activate
def test_a_redirect_to_a_private_address_is_refused_before_it_is_asked():
    responses.get(
        "https://news.example.org/r",
        status=302,
        headers={"Location": "http://169.254.169.254/latest/meta-data/"},
    )
    metadata = responses.get("http://169.254.169.254/latest/meta-data/", body="secret")

    with pytest.raises(capture.CaptureRefused, match="169.254.169.254"):
        fetch("https://news.example.org/r", resolve=mixed)

    assert metadata.call_count == 0


@responses.activate
def test_private_addresses_may_be_allowed():
    responses.get("http://127.0.0.1:9/page", body=PAGE, content_type="text/html")

    assert fetch("http://127.0.0.1:9/page", allow_private=True).final.body == PAGE


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)", "http:///x"]
)
def test_only_web_addresses_are_asked(url):
    with pytest.raises(capture.CaptureRefused, match="not a web address"):
        fetch(url)


def test_a_name_that_does_not_resolve_is_refused():
    def nowhere(host, port):
        raise OSError("Name or service not known")

    with pytest.raises(capture.CaptureRefused, match="could not be resolved"):
        fetch("https://gone.example.org/", resolve=nowhere)


@responses.activate
def test_a_body_declared_over_the_limit_is_refused():
    # A body that is streamed past the limit is refused too (tests/evidence/test_services.py).
    responses.get("https://news.example.org/big", body=b"x" * 5000)

    with pytest.raises(capture.CaptureRefused, match="more than the 1,000 bytes"):
        fetch("https://news.example.org/big")


@responses.activate
def test_a_timeout_is_said_in_words():
    responses.get("https://slow.example.org/", body=requests.ReadTimeout("read timed out"))

    with pytest.raises(capture.CaptureRefused, match="slow.example.org timed out"):
        fetch("https://slow.example.org/")


@responses.activate
def test_an_error_status_is_not_kept():
    responses.get("https://news.example.org/gone", status=404, body="Not Found")

    with pytest.raises(capture.CaptureRefused, match="HTTP 404"):
        fetch("https://news.example.org/gone")


@responses.activate
def test_a_pdf_or_binary_junk_is_kept_as_it_came():
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"
    junk = bytes(range(256)) * 3
    responses.get("https://x.example.org/a.pdf", body=pdf, content_type="application/pdf")
    responses.get("https://x.example.org/junk", body=junk, content_type="text/html")

    kept = fetch("https://x.example.org/a.pdf")
    body = warc(capture.build_warc(kept))[1][3]

    assert not kept.is_html and kept.media_type == "application/pdf"
    assert body == pdf
    assert fetch("https://x.example.org/junk").final.body == junk


# Screenshots ------------------------------------------------------------------------------


def fake_chromium(tmp_path, script: str):
    path = tmp_path / "chromium"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_without_chromium_it_says_so():
    shot, note = capture.screenshot(PAGE, charset="utf-8", chromium="/nowhere/chromium", timeout=5)

    assert shot is None
    assert note == "no screenshot: Chromium not found"


def test_chromium_renders_the_stored_copy_with_scripts_and_network_off(tmp_path):
    log = tmp_path / "argv"
    # Records its arguments and the page it was given, and "renders" a PNG.
    chromium = fake_chromium(
        tmp_path,
        f'for a in "$@"; do echo "$a" >> {log}; done\n'
        'for a in "$@"; do case "$a" in --screenshot=*) out="${a#--screenshot=}";; '
        f'file://*) cp "${{a#file://}}" {tmp_path}/seen.html;; esac; done\n'
        "printf '\\211PNG\\r\\n\\032\\nrest' > \"$out\"\n",
    )

    shot, note = capture.screenshot(PAGE, charset="utf-8", chromium=chromium, timeout=30)

    args = log.read_text().splitlines()
    seen = (tmp_path / "seen.html").read_bytes()
    assert shot.startswith(capture.PNG_MAGIC) and note == ""
    assert "--headless" in args
    # Scripts are off by the page's policy: the flag that would do it stops the screenshot.
    assert not any(a.startswith("--blink-settings") for a in args)
    assert "--host-resolver-rules=MAP * ~NOTFOUND" in args
    assert "--proxy-server=127.0.0.1:9" in args
    assert args[-1].startswith("file:///") and "news" not in args[-1]
    assert seen.endswith(PAGE)
    assert b"Content-Security-Policy\" content=\"default-src 'none'" in seen.split(PAGE)[0]
    assert not os.path.exists(args[-1][len("file://") :])  # the copy is removed


def test_a_chromium_that_hangs_is_stopped(tmp_path):
    chromium = fake_chromium(tmp_path, "exec sleep 60\n")

    shot, note = capture.screenshot(PAGE, charset="utf-8", chromium=chromium, timeout=0.5)

    assert shot is None
    assert note == "no screenshot: Chromium took longer than 0.5 s"


def test_a_chromium_that_makes_no_png_is_said_so(tmp_path):
    chromium = fake_chromium(tmp_path, "exit 3\n")

    shot, note = capture.screenshot(PAGE, charset="utf-8", chromium=chromium, timeout=30)

    assert shot is None
    assert note == "no screenshot: Chromium made none (exit status 3)"


def test_a_real_chromium_draws_the_page(tmp_path):
    """Debian's Chromium, when present (always under CI), makes a PNG of the window's size."""
    chromium = "/usr/bin/chromium"
    if not os.path.exists(chromium):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing at /usr/bin/chromium")
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium")

    shot, note = capture.screenshot(PAGE, charset="utf-8", chromium=chromium, timeout=60)

    assert note == ""
    assert shot.startswith(capture.PNG_MAGIC)
    width, height = struct.unpack(">II", shot[16:24])  # the IHDR chunk
    assert (width, height) == (1280, 2000)
