"""Rate limits: never more than the limit in any window, in-process or across processes
through Redis (the Redis test runs when REDIS_URL is set, as in CI)."""

import threading
import time

import pytest
from django.conf import settings

from cases.checks.ratelimit import LocalRateLimiter, RedisRateLimiter, window_for


def max_in_any_window(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    best = start = 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def hammer(limiter, key: str, per_second: float, threads: int, each: int) -> list[float]:
    stamps: list[float] = []
    lock = threading.Lock()

    def work():
        for _ in range(each):
            limiter.acquire(key, per_second)
            with lock:
                stamps.append(time.monotonic())

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return stamps


def test_window_for_slow_and_fast_limits(settings):
    settings.WISHLIST_RATE_MARGIN_MS = 100
    assert window_for(50) == (50, 1.1)
    assert window_for(0.2) == (1, 5.1)
    settings.WISHLIST_RATE_MARGIN_MS = 0
    assert window_for(50) == (50, 1.0)
    with pytest.raises(ValueError):
        window_for(0)


def test_local_limiter_holds_the_limit_across_threads():
    stamps = hammer(LocalRateLimiter(), "local", 20, threads=4, each=10)
    assert len(stamps) == 40
    assert max_in_any_window(stamps, 1.0) <= 20
    # 40 requests at 20 a second need at least one full window of waiting.
    assert max(stamps) - min(stamps) >= 1.0


def test_local_limiter_spaces_slow_sources():
    limiter = LocalRateLimiter()
    start = time.monotonic()
    limiter.acquire("slow", 2.5)  # 2 per second
    limiter.acquire("slow", 2.5)
    limiter.acquire("slow", 2.5)
    assert time.monotonic() - start >= 0.9


@pytest.mark.services
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI sets it)")
def test_redis_limiter_holds_the_limit_for_many_clients_together():
    key = f"test-{time.time_ns()}"
    # Separate limiter objects, as separate worker processes would have.
    limiters = [RedisRateLimiter(settings.REDIS_URL) for _ in range(3)]
    stamps: list[float] = []
    lock = threading.Lock()

    def work(limiter):
        for _ in range(10):
            limiter.acquire(key, 10)
            with lock:
                stamps.append(time.time())

    workers = [threading.Thread(target=work, args=(limiter,)) for limiter in limiters]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(stamps) == 30
    assert max_in_any_window(stamps, 1.0) <= 10
