"""Workflows of the core app."""

from __future__ import annotations

from functools import partial

from django.contrib.auth.models import User
from django.db import transaction

from studio.lib.queue import QueueUnavailable, queue_after_commit, require_broker

from . import health
from .models import WorkerCheck


def worker_check_start(*, user: User | None, queue: str = "default") -> WorkerCheck:
    """Record a worker check and queue it once the row is committed.

    Raises QueueUnavailable: with no row when the broker is down, or with the
    check failed when the publish fails after the commit.
    """
    from .tasks import worker_check_run

    require_broker()
    with transaction.atomic():
        check = WorkerCheck.objects.create(requested_by=user, queue=queue)
        publication = queue_after_commit(
            worker_check_run,
            kwargs={"check_id": check.pk},
            on_failure=partial(_queue_failed, check_id=check.pk),
            queue=queue,
        )
    if publication.failed:
        raise QueueUnavailable(
            publication.error, kept=f"worker check {check.pk} was marked failed"
        )
    return check


def _queue_failed(reason: str, *, check_id: int) -> None:
    with transaction.atomic():
        check = (
            WorkerCheck.objects.select_for_update()
            .filter(pk=check_id, status=WorkerCheck.Status.QUEUED)
            .first()
        )
        if check is not None:
            check.mark_failed(reason)
            check.save(update_fields=["status", "error", "completed_at"])


def worker_check_complete(*, check_id: int, worker: str) -> WorkerCheck | None:
    """Mark a worker check as done by `worker`; None if the row is gone."""
    with transaction.atomic():
        check = WorkerCheck.objects.select_for_update().filter(pk=check_id).first()
        if check is None:
            return None
        check.mark_done(worker=worker)
        check.save(update_fields=["status", "worker", "completed_at"])
    return check


def beat_tick() -> float:
    """Record that a beat task ran now (Unix time, read by /healthz and /metrics)."""
    return health.beat_tick_record()
