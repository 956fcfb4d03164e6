"""Scheduled upkeep of catalogue sync: beat runs the due drift watches."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="studio.sync.tasks.sync_watches_run")
def sync_watches_run() -> int:
    """Run every enabled watch whose interval has passed (never edits a draft)."""
    return services.run_due_watches()
