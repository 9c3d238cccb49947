"""A local HTTP server standing in for a public source, for integration tests and
benchmarks: canned bodies by path, an optional latency, a log of when each request came,
and an optional hang that lets a test kill a worker in the middle of a request."""

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class StubSource:
    def __init__(
        self,
        route: Callable[[str], tuple[int, bytes]],
        *,
        latency: float = 0.0,
    ):
        """`route(path_with_query)` returns (status, body)."""
        self.route = route
        self.latency = latency
        self.hits: list[tuple[float, str]] = []  # (time.time(), path)
        self.hang = threading.Event()  # set: requests wait until release is set
        self.release = threading.Event()
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                with stub._lock:
                    stub.hits.append((time.time(), self.path))
                if stub.hang.is_set():
                    stub.release.wait(timeout=60)
                if stub.latency:
                    time.sleep(stub.latency)
                status, body = stub.route(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        return [urlsplit(path).path for _, path in self.hits]

    def max_in_any_window(self, window: float = 1.0) -> int:
        stamps = sorted(stamp for stamp, _ in self.hits)
        best = start = 0
        for end, stamp in enumerate(stamps):
            while stamp - stamps[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best
