"""Health of the studio's dependencies, for /healthz and the status page."""

from __future__ import annotations

import time
from dataclasses import asdict

import redis
from django.conf import settings

from studio.lib.health import (
    Check,
    check_broker,
    check_database,
    queue_depths,
    redis_client,
)

WORKER_SEEN_KEY = "studio:health:worker-seen"
# When a beat task last ran (Unix time), written by `beat_tick_record`.
BEAT_TICK_KEY = "studio:health:beat-tick"


def check_worker(*, broker_ok: bool) -> Check:
    """A worker answered a ping within WORKER_PING_FRESH_SECONDS."""
    if not broker_ok:
        return Check(False, "no broker, so no worker can be reached")
    fresh = settings.WORKER_PING_FRESH_SECONDS
    client = redis_client()
    try:
        seen = client.get(WORKER_SEEN_KEY)
        if seen is not None and time.time() - float(seen) < fresh:
            return Check(True, f"a worker answered within the last {fresh} s")
        from studio.celery import app

        replies = app.control.ping(timeout=1.0) or []
        if replies:
            client.set(WORKER_SEEN_KEY, str(time.time()), ex=fresh)
            names = ", ".join(sorted(name for reply in replies for name in reply))
            return Check(True, f"{len(replies)} worker(s) answered: {names}")
    except redis.RedisError as exc:
        return Check(False, f"could not ping workers: {exc}")
    except OSError as exc:
        return Check(False, f"could not ping workers: {exc}")
    return Check(
        False, "no worker answered a ping (is `celery -A studio worker` running?)"
    )


def beat_tick_record(now: float | None = None) -> float:
    """Record that a beat task ran now (the beat task's whole work)."""
    now = time.time() if now is None else now
    redis_client().set(BEAT_TICK_KEY, repr(now))
    return now


def beat_last_tick() -> float | None:
    """When a beat task last ran (Unix time), or None; raises redis.RedisError."""
    value = redis_client().get(BEAT_TICK_KEY)
    return float(value) if value is not None else None


def check_beat(*, broker_ok: bool) -> Check:
    """A beat task ran within BEAT_STALE_SECONDS (beat, broker and a worker work)."""
    if not broker_ok:
        return Check(False, "no broker, so beat's tick cannot be read")
    stale = settings.BEAT_STALE_SECONDS
    try:
        last = beat_last_tick()
    except redis.RedisError as exc:
        return Check(False, f"could not read beat's tick: {exc}")
    if last is None:
        return Check(
            False,
            "no beat tick recorded (is `celery -A studio beat` running, and a "
            "worker on the default queue?)",
        )
    age = time.time() - last
    if age > stale:
        return Check(
            False,
            f"the last beat tick ran {age:.0f} s ago (stale after {stale} s): is "
            "`celery -A studio beat` running, and a worker on the default queue?",
        )
    return Check(True, f"the last beat tick ran {age:.0f} s ago")


def check_queues(*, broker_ok: bool) -> tuple[Check, dict[str, int]]:
    """The depth of each Celery queue; ok when it could be read."""
    if not broker_ok:
        return Check(False, "no broker, so no queue to measure"), {}
    try:
        depths = queue_depths()
    except redis.RedisError as exc:
        return Check(False, f"could not measure the queues: {exc}"), {}
    detail = ", ".join(f"{name}: {n} waiting" for name, n in depths.items())
    return Check(True, detail), depths


def health_report() -> tuple[bool, dict[str, dict[str, object]]]:
    """Overall state and per-dependency details.

    Beat is reported, and counts in the overall state only with
    HEALTHZ_REQUIRE_BEAT; the queues' depth is reported, never judged.
    """
    database = check_database()
    broker = check_broker()
    worker = check_worker(broker_ok=broker.ok)
    beat = check_beat(broker_ok=broker.ok)
    queues, depths = check_queues(broker_ok=broker.ok)
    counted = [database, broker, worker]
    if settings.HEALTHZ_REQUIRE_BEAT:
        counted.append(beat)
    report: dict[str, dict[str, object]] = {
        "database": asdict(database),
        "broker": asdict(broker),
        "worker": asdict(worker),
        "beat": {**asdict(beat), "required": settings.HEALTHZ_REQUIRE_BEAT},
        "queues": {**asdict(queues), "depth": depths},
    }
    return all(c.ok for c in counted), report
