from __future__ import annotations

import socket

from celery import Task, shared_task

from . import services


@shared_task(bind=True, name="studio.core.tasks.worker_check_run")
def worker_check_run(self: Task, *, check_id: int) -> None:
    worker = self.request.hostname or socket.gethostname()
    services.worker_check_complete(check_id=check_id, worker=worker)


@shared_task(name="studio.core.tasks.beat_tick")
def beat_tick() -> None:
    """Record in Redis that beat (and a worker) ran a task now, for /healthz."""
    services.beat_tick()
