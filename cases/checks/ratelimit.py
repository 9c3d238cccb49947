"""Per-source request rate limits shared by every worker.

With Redis configured, a sliding window per source lives in Redis and is checked and
taken in one Lua script, timed by the Redis server's clock, so any number of worker
processes together never send more than the limit in any window. Celery's own
`rate_limit` is per worker and cannot do that. Without Redis (embedded mode) the same
window is kept in this process.
"""

import threading
import time
import uuid
from collections import defaultdict, deque
from functools import cache

from django.conf import settings

# KEYS[1]: the window's sorted set. ARGV: limit, window in ms, member id.
# Returns 0 when a slot was taken, else the milliseconds to wait before trying again.
_TAKE_SLOT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now_ms, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window * 2)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now_ms + 1)
"""


def window_for(per_second: float) -> tuple[int, float]:
    """Return (requests, window in seconds): 50/s is 50 in 1.1 s, 0.2/s is 1 in 5.1 s.

    The window is longer than the limit's by a margin (WISHLIST_RATE_MARGIN_MS,
    100 ms): a request reaches the source some milliseconds after its slot was taken,
    by more when worker threads wait for each other, and without the margin those
    delays could squeeze more than the limit into one second as the source counts it.
    """
    if per_second <= 0:
        raise ValueError("a rate limit must be positive")
    margin = settings.WISHLIST_RATE_MARGIN_MS / 1000
    if per_second >= 1:
        return int(per_second), 1.0 + margin
    return 1, 1 / per_second + margin


class RateLimiter:
    def acquire(self, key: str, per_second: float) -> None:
        """Block until a request to `key` may be sent."""
        raise NotImplementedError


class LocalRateLimiter(RateLimiter):
    """A sliding window in this process (threads share it; processes do not)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sent: dict[str, deque] = defaultdict(deque)

    def acquire(self, key: str, per_second: float) -> None:
        limit, window = window_for(per_second)
        while True:
            with self._lock:
                now = time.monotonic()
                sent = self._sent[key]
                while sent and sent[0] <= now - window:
                    sent.popleft()
                if len(sent) < limit:
                    sent.append(now)
                    return
                wait = sent[0] + window - now
            time.sleep(max(wait, 0.001))


class RedisRateLimiter(RateLimiter):
    """A sliding window in Redis, shared by every worker on every machine."""

    def __init__(self, url: str):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._take = self._redis.register_script(_TAKE_SLOT)

    def acquire(self, key: str, per_second: float) -> None:
        limit, window = window_for(per_second)
        name = f"{settings.WISHLIST_REDIS_PREFIX}:ratelimit:{key}"
        while True:
            wait_ms = int(
                self._take(keys=[name], args=[limit, int(window * 1000), uuid.uuid4().hex])
            )
            if wait_ms == 0:
                return
            time.sleep(wait_ms / 1000)


@cache
def _local() -> LocalRateLimiter:
    return LocalRateLimiter()


@cache
def _redis_limiter(url: str) -> RedisRateLimiter:
    return RedisRateLimiter(url)


def get_limiter() -> RateLimiter:
    if settings.REDIS_URL:
        return _redis_limiter(settings.REDIS_URL)
    return _local()
