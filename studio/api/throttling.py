"""Per-token rate limiting: a fixed-window counter in Redis.

Each token may make `API_RATE_LIMIT` requests per `API_RATE_WINDOW` seconds.
The counter lives in Redis (settings.REDIS_URL) so every web process shares
it. When Redis cannot be reached the API still answers: requests are allowed
(fail open) and Redis is not tried again for `RETRY_AFTER_OUTAGE` seconds, so
an outage costs one short connect timeout, not one per request.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings

log = logging.getLogger(__name__)

KEY_PREFIX = "studio:api:rate"
RETRY_AFTER_OUTAGE = 30.0
CONNECT_TIMEOUT = 0.25

_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}
_down_until = 0.0


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_in: int  # seconds until the window ends
    counted: bool  # False when Redis was unavailable (allowed anyway)


def _client(url: str) -> redis.Redis:
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=CONNECT_TIMEOUT,
                socket_timeout=CONNECT_TIMEOUT,
            )
            _clients[url] = client
        return client


def rate_check(key: str, *, now: float | None = None) -> RateDecision:
    """Count one request of `key` (a token's prefix) in the current window."""
    global _down_until
    limit = max(1, settings.API_RATE_LIMIT)
    window = max(1, settings.API_RATE_WINDOW)
    now = time.time() if now is None else now
    start = math.floor(now / window) * window
    reset_in = max(1, math.ceil(start + window - now))
    if time.monotonic() < _down_until:
        return RateDecision(True, limit, limit, reset_in, counted=False)
    name = f"{KEY_PREFIX}:{key}:{start}"
    try:
        pipe = _client(settings.REDIS_URL).pipeline()
        pipe.incr(name)
        pipe.expire(name, window + 1)
        count = int(pipe.execute()[0])
    except (redis.RedisError, OSError) as exc:
        log.warning("API rate limiting is off for %s s: %s", RETRY_AFTER_OUTAGE, exc)
        _down_until = time.monotonic() + RETRY_AFTER_OUTAGE
        return RateDecision(True, limit, limit, reset_in, counted=False)
    return RateDecision(
        allowed=count <= limit,
        limit=limit,
        remaining=max(0, limit - count),
        reset_in=reset_in,
        counted=True,
    )


def rate_reset_outage() -> None:
    """Try Redis again at the next request (tests, and after a fixed outage)."""
    global _down_until
    _down_until = 0.0
