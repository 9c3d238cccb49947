"""Load test of the research pages (Wishlist issue 14): gunicorn serving the database
bench/load_fill.py filled, and locust's analysts (bench/load_users.py) reading the case
list, case pages, the review queue and My work; the target is a p95 under 300 ms a page
at 8 concurrent users.

    python bench/load_fill.py                       # once: 100,000 cases, 500,000 findings
    python3 -m venv /tmp/locust-venv
    /tmp/locust-venv/bin/pip install -r bench/requirements-load.txt
    python bench/load_test.py                       # 8 users, 60 s, 1-2 s think time
    python bench/load_test.py --think 0             # the same with no pause between pages

gunicorn (wishlist.wsgi, --workers, 2 by default) is started on a free port of
127.0.0.1 with DEBUG off, as in production less TLS (so the secure-cookie and redirect
settings are turned off), after collectstatic into a temporary STATIC_ROOT; locust runs
headless from --locust (the venv above), and the table of p50/p95/p99 and requests per
page is printed from its CSV (kept under --csv-dir). gunicorn is stopped at the end.
"""

import argparse
import csv
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/wishlist_load"
TARGET_P95_MS = 300


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--duration", default="60s", help="locust's --run-time")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    # Analysts arrive one a second, not all in the same one: each sign-in hashes a
    # password (about 0.7 s of a core), and eight at once held the first pages of the
    # others for 2-3 s, a start no day of work has.
    parser.add_argument("--spawn-rate", type=float, default=1, help="users started a second")
    parser.add_argument(
        "--think",
        default="1-2",
        help="seconds between two pages of a user: MIN-MAX, or 0 for none",
    )
    parser.add_argument("--locust", default="/tmp/locust-venv/bin/locust")
    parser.add_argument("--csv-dir", default=None, help="where locust's CSV is kept")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, static_root: str) -> dict[str, str]:
    """Production settings on plain HTTP over loopback."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "load-test-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
    }


def wait_for(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"gunicorn did not answer {url} in {timeout:.0f} s")


def report(stats_csv: Path) -> bool:
    """Print p50/p95/p99 and the requests per page; whether every page met the target."""
    rows = list(csv.DictReader(stats_csv.open()))
    print(f"\n{'page':<22} {'requests':>8} {'fails':>6} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)")
    met = True
    for row in rows:
        name = f"{row['Type']} {row['Name']}".strip()
        p95 = float(row["95%"])
        page = row["Name"] not in ("login", "Aggregated")
        over = page and p95 >= TARGET_P95_MS
        met &= not over
        print(
            f"{name:<22} {row['Request Count']:>8} {row['Failure Count']:>6} {row['50%']:>6} "
            f"{row['95%']:>6} {row['99%']:>6}{'  over target' if over else ''}"
        )
    return met


def main() -> None:
    args = parse_args()
    low, _, high = args.think.partition("-")
    think = {"LOAD_THINK_MIN": low, "LOAD_THINK_MAX": high or low}
    static_root = tempfile.mkdtemp(prefix="wishlist-load-static-")
    env = server_env(args.database_url, static_root)
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    gunicorn = [
        str(ROOT / ".venv" / "bin" / "gunicorn"), "wishlist.wsgi",
        "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
        "--access-logfile", "-" if os.environ.get("LOAD_ACCESS_LOG") else "/dev/null",
    ]  # fmt: skip
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env)
    try:
        wait_for(f"{host}/accounts/login/", server)
        csv_dir = Path(args.csv_dir or tempfile.mkdtemp(prefix="wishlist-load-"))
        csv_dir.mkdir(parents=True, exist_ok=True)
        prefix = csv_dir / "load"
        print(
            f"{args.users} users, think {args.think} s, {args.duration}, "
            f"gunicorn {args.workers} workers on {host}; CSV in {csv_dir}"
        )
        subprocess.run(
            [
                args.locust, "-f", str(ROOT / "bench" / "load_users.py"), "--headless",
                "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
                "--run-time", args.duration, "--host", host, "--csv", str(prefix),
                "--only-summary", "--loglevel", "WARNING",
            ],
            cwd=ROOT, env={**os.environ, **think}, check=False,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    met = report(Path(f"{prefix}_stats.csv"))
    print(f"\np95 under {TARGET_P95_MS} ms on every page: {'yes' if met else 'NO'}")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
