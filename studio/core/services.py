"""Workflows of the core app."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from .models import WorkerCheck


def worker_check_start(*, user: User | None, queue: str = "default") -> WorkerCheck:
    """Record a worker check and queue it once the row is committed."""
    from .tasks import worker_check_run

    with transaction.atomic():
        check = WorkerCheck.objects.create(requested_by=user, queue=queue)
        transaction.on_commit(
            lambda: worker_check_run.apply_async(
                kwargs={"check_id": check.pk}, queue=queue
            )
        )
    return check


def worker_check_complete(*, check_id: int, worker: str) -> WorkerCheck | None:
    """Mark a worker check as done by `worker`; None if the row is gone."""
    with transaction.atomic():
        check = WorkerCheck.objects.select_for_update().filter(pk=check_id).first()
        if check is None:
            return None
        check.mark_done(worker=worker)
        check.save(update_fields=["status", "worker", "completed_at"])
    return check
