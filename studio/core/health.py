"""Health of the studio's dependencies, for /healthz and the status page."""

from __future__ import annotations

import time
from dataclasses import asdict

import redis
from django.conf import settings

from studio.lib.health import Check, check_broker, check_database, redis_client

WORKER_SEEN_KEY = "studio:health:worker-seen"


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


def health_report() -> tuple[bool, dict[str, dict[str, object]]]:
    """Overall state and per-dependency details."""
    database = check_database()
    broker = check_broker()
    worker = check_worker(broker_ok=broker.ok)
    checks = {"database": database, "broker": broker, "worker": worker}
    return all(c.ok for c in checks.values()), {k: asdict(v) for k, v in checks.items()}
