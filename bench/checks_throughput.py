"""Benchmark the follow-up checks against a source's rate limit: N cases checked by real
Celery workers against a local HTTP server standing in for GLEIF (with a set latency),
the source's limit set with WISHLIST_GLEIF_RATE. Reports throughput as a fraction of
the limit (the target is at least 0.9) and the most requests the server saw in any one
second (never more than the limit); then checks the same cases again and shows that the
second pass files no new leads.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        python bench/checks_throughput.py --cases 1000 --rate 50 --workers 8 --latency 0.05

It needs PostgreSQL (the worker is a separate process sharing the database) and Redis
(the broker and the shared rate limiter). A throwaway test database
(wishlist_bench_checks) is created and destroyed around the run; one worker process with
a pool of `--workers` threads consumes a queue of its own and keeps its rate-limit window
under a Redis prefix of its own (WISHLIST_REDIS_PREFIX). The stub server answers every
LEI with one child in Shenzhen, so each check makes five requests and files one lead.
"""

import argparse
import gc
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")
# A developer's tool, run like `make run`: DEBUG is otherwise off and needs a SECRET_KEY.
os.environ.setdefault("DEBUG", "1")

BENCH_DB = "wishlist_bench_checks"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases to check (1000)")
    parser.add_argument("--rate", type=float, default=50, help="requests a second (50)")
    parser.add_argument("--workers", type=int, default=8, help="worker threads (8)")
    parser.add_argument("--latency", type=float, default=0.05, help="server latency, s (0.05)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds to wait for a pass (default: 3x the time the limit allows, + 120)",
    )
    args = parser.parse_args()
    if args.cases < 1 or args.rate <= 0 or args.workers < 1 or args.latency < 0:
        parser.error("--cases and --workers must be at least 1, --rate positive")
    return args


def refuse_without_services() -> None:
    database_url = os.environ.get("DATABASE_URL", "").strip()
    redis_url = os.environ.get("REDIS_URL", "").strip()
    if not database_url.startswith(("postgres://", "postgresql://")) or not redis_url:
        sys.exit(
            "This benchmark runs real Celery workers with the Redis rate limiter against "
            "PostgreSQL: set DATABASE_URL=postgres://... and REDIS_URL=redis://..."
        )


args = parse_args()
refuse_without_services()

import django

django.setup()

import redis
from django.conf import settings
from django.db import connection

from cases import (
    derived,
    normalize,
)
from cases.checks import services as checks_services
from cases.models import Case, CheckRun, Entity, Finding, Referral
from cases.tasks import run_check
from tests.checks.test_worker_integration import gleif_route
from tests.stub_server import StubSource

FINISHED = {"ok", "no_results", "skipped", "error", "rate_limited"}


def lei_for(n: int) -> str:
    """A distinct LEI with valid ISO 7064 mod 97-10 check digits."""
    base = f"BENCH{n:013d}"
    digits = "".join(str(int(ch, 36)) for ch in base + "00")
    return f"{base}{98 - int(digits) % 97:02d}"


def make_cases(count: int) -> list[int]:
    """N entities with an LEI, a referral each (May 2017) and a case with its index date."""
    entities = Entity.objects.bulk_create(
        [
            Entity(
                name=f"Bench Robotics {n} Ltd",
                name_key=normalize.name_key(f"Bench Robotics {n} Ltd"),
                country="GB",
                kind=Entity.Kind.COMPANY,
                lei=lei_for(n),
            )
            for n in range(1, count + 1)
        ],
        batch_size=1000,
    )
    Referral.objects.bulk_create(
        [
            Referral(
                external_id=f"BENCH{entity.pk:07d}",
                entity=entity,
                date=date(2017, 5, 1),
                date_precision="month",
                host_country="GB",
                technology_field="robotics",
            )
            for entity in entities
        ],
        batch_size=1000,
    )
    cases = Case.objects.bulk_create([Case(entity=entity) for entity in entities], batch_size=1000)
    ids = [case.pk for case in cases]
    derived.case_index_dates_refresh(case_ids=ids)
    return ids


def database_url() -> str:
    """The bench database's URL, for the worker process."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = db.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def start_worker(queue: str, stub: StubSource, log, *, rate: float, threads: int):
    env = {
        **os.environ,
        # Rate-limit keys of this run alone, whatever else shares the Redis.
        "WISHLIST_REDIS_PREFIX": queue,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "WISHLIST_GLEIF_URL": stub.url,
        "WISHLIST_GLEIF_RATE": str(rate),
        # Longer than any pass: a reserved message is never handed out a second time.
        "CELERY_VISIBILITY_TIMEOUT": "7200",
    }
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    command = [
        celery,
        "-A",
        "wishlist",
        "--quiet",  # no banner
        "worker",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        "-l",
        "warning",
        "--pool=threads",
        f"--concurrency={threads}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def run_pass(case_ids, queue, stub, worker, log_path, *, rate: float, timeout: float) -> dict:
    """Queue a gleif check for every case, wait for all to finish, and measure."""
    stub.hits.clear()  # nothing is in flight between passes
    start = time.perf_counter()
    ids = checks_services.checks_queue(pairs=[(case_id, "gleif") for case_id in case_ids])
    for check_run_id in ids:
        run_check.apply_async(args=[check_run_id], queue=queue)
    deadline = time.monotonic() + timeout
    left = len(ids)
    while left:
        if worker.poll() is not None:
            raise RuntimeError(
                f"the worker exited with {worker.returncode}:\n{Path(log_path).read_text()}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"{left} of {len(ids)} checks unfinished after {timeout:.0f} s")
        time.sleep(0.5)
        left = CheckRun.objects.filter(id__in=ids).exclude(status__in=FINISHED).count()
    wall = time.perf_counter() - start

    runs = CheckRun.objects.filter(id__in=ids)
    durations = sorted(
        (finished - started).total_seconds()
        for started, finished in runs.values_list("started_at", "finished_at")
        if started and finished
    )
    stamps = sorted(stamp for stamp, _ in stub.hits)
    elapsed = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    # The limit as the source counts it: `rate` a second, without the margin the
    # limiter adds to its own window (cases.checks.ratelimit.window_for).
    limit, window = (int(rate), 1.0) if rate >= 1 else (1, 1 / rate)
    # The shortest time over which the server saw one request more than the limit allows
    # in a window: at least `window` when the limit was kept.
    spans = [later - earlier for earlier, later in zip(stamps, stamps[limit:], strict=False)]
    return {
        "checks": len(ids),
        "wall": wall,
        "requests": len(stamps),
        "elapsed": elapsed,
        "per_second": len(stamps) / elapsed if elapsed else 0.0,
        "limit": limit,
        "window": window,
        "max_window": stub.max_in_any_window(window),
        "tightest": min(spans) if spans else None,
        "statuses": Counter(runs.values_list("status", flat=True)),
        "leads": sum(runs.values_list("leads_created", flat=True)),
        "attempts": Counter(runs.values_list("attempts", flat=True)),
        "check_mean": sum(durations) / len(durations) if durations else 0.0,
        "check_p95": durations[int(0.95 * (len(durations) - 1))] if durations else 0.0,
        "errors": list(runs.exclude(error="").values_list("error", flat=True)[:3]),
    }


def report(title: str, result: dict, rate: float) -> None:
    fraction = result["per_second"] / rate
    statuses = ", ".join(f"{name} {count}" for name, count in sorted(result["statuses"].items()))
    attempts = ", ".join(f"{n}: {count}" for n, count in sorted(result["attempts"].items()))
    print(f"{title}")
    print(f"  checks finished:          {result['checks']} ({statuses})")
    print(f"  deliveries per check:     {attempts}")
    print(f"  leads created:            {result['leads']}")
    print(
        f"  requests the server saw:  {result['requests']} "
        f"({result['requests'] / result['checks']:.2f} a check)"
    )
    print(f"  first to last request:    {result['elapsed']:.2f} s")
    print(
        f"  throughput:               {result['per_second']:.2f} requests/s = "
        f"{fraction:.3f} of the limit ({'meets' if fraction >= 0.9 else 'BELOW'} 0.9)"
    )
    kept = result["max_window"] <= result["limit"]
    print(
        f"  most in any {result['window']:g} s window: {result['max_window']} "
        f"({'within' if kept else 'OVER'} the limit of {result['limit']})"
    )
    if result["tightest"] is not None:
        print(
            f"  shortest span of {result['limit'] + 1} requests: {result['tightest']:.3f} s "
            f"(the limit needs at least {result['window']:g} s)"
        )
    print(
        f"  check time (claim to finish): mean {result['check_mean'] * 1000:.0f} ms, "
        f"p95 {result['check_p95'] * 1000:.0f} ms; pass wall time {result['wall']:.2f} s"
    )
    for error in result["errors"]:
        print(f"  error: {error[:200]}")


def main() -> None:
    print(
        f"cases: {args.cases}; limit: {args.rate:g} requests/s; worker threads: "
        f"{args.workers}; server latency: {args.latency * 1000:.0f} ms"
    )
    # Every check makes five requests against the stub; the limit alone needs this long.
    timeout = args.timeout or 3 * (5 * args.cases / args.rate) + 120
    broker = redis.Redis.from_url(settings.REDIS_URL)
    queue = f"bench-checks-{uuid.uuid4().hex[:10]}"
    limiter_key = f"{queue}:ratelimit:gleif"  # as cases.checks.ratelimit names it, for the worker
    connection.settings_dict["TEST"]["NAME"] = BENCH_DB
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        start = time.perf_counter()
        case_ids = make_cases(args.cases)
        print(f"{len(case_ids)} cases made in {time.perf_counter() - start:.2f} s")
        # The stub server is the measuring instrument, so it should not stall: Django's
        # objects are moved out of the collector's way (a full collection of this process
        # otherwise pauses every thread for 100-250 ms, and requests that arrive in the
        # pause are stamped together afterwards), and its listen backlog is raised from 5
        # so that connections made during a pause are not dropped and retried a second
        # later by TCP.
        gc.collect()
        gc.freeze()
        with (
            StubSource(gleif_route, latency=args.latency) as stub,
            tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log") as log,
        ):
            stub.server.socket.listen(128)
            worker = start_worker(queue, stub, log, rate=args.rate, threads=args.workers)
            try:
                first = run_pass(
                    case_ids, queue, stub, worker, log.name, rate=args.rate, timeout=timeout
                )
                report("first pass", first, args.rate)
                broker.delete(limiter_key)  # the second pass starts with a free window
                second = run_pass(
                    case_ids, queue, stub, worker, log.name, rate=args.rate, timeout=timeout
                )
                report("second pass (same cases again)", second, args.rate)
            finally:
                stop_worker(worker)
                # The queue's list, kombu's tables of its binding (its exchange has its
                # name) and the run's rate-limit window; nothing else refers to them.
                broker.delete(
                    queue,
                    f"_kombu.binding.{queue}",
                    f"_kombu.binding_permanent.{queue}",
                    limiter_key,
                )
            logged = Path(log.name).read_text(errors="replace").strip()
        if logged:
            print("worker log:\n  " + "\n  ".join(logged.splitlines()[-20:]))
        findings = Finding.objects.count()
        print(
            f"summary: throughput {first['per_second'] / args.rate:.3f} and "
            f"{second['per_second'] / args.rate:.3f} of the limit (target 0.9); most in any "
            f"{first['window']:g} s window {first['max_window']} and {second['max_window']} "
            f"(limit {first['limit']}); "
            f"leads {first['leads']} then {second['leads']} (second pass must be 0); "
            f"{findings} findings in the database"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
