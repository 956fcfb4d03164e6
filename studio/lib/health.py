"""Checks of the services every process depends on: the database and the broker."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def check_database() -> Check:
    """The database answers a trivial query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not usable"
        return Check(False, f"database unreachable: {type(exc).__name__}: {exc}")
    return Check(True, f"{connection.vendor} answered")


def redis_client() -> redis.Redis:
    """A client of the broker's Redis that gives up after one second."""
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
    )


def check_broker() -> Check:
    """The broker (Redis) answers a ping; callers refuse to queue work otherwise."""
    try:
        redis_client().ping()
    except redis.RedisError as exc:
        return Check(False, f"broker (Redis) unreachable: {exc}")
    return Check(True, "Redis answered a ping")


# kombu's Redis transport keeps a queue's messages of priority p > 0 in a list
# named queue + this separator + p (its default priority steps).
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)


def queue_depths() -> dict[str, int]:
    """Messages waiting in each Celery queue the workers consume (Redis LLEN).

    Raises redis.RedisError when Redis cannot be reached.
    """
    names = list(settings.CELERY_WORKER_QUEUES)
    pipe = redis_client().pipeline(transaction=False)
    for name in names:
        pipe.llen(name)
        for step in _PRIORITY_STEPS:
            pipe.llen(f"{name}{_PRIORITY_SEPARATOR}{step}")
    lengths = pipe.execute()
    per_queue = 1 + len(_PRIORITY_STEPS)
    return {
        name: sum(int(n) for n in lengths[i * per_queue : (i + 1) * per_queue])
        for i, name in enumerate(names)
    }
