"""Background work of the catalog: thin wrappers around one service call each."""

from __future__ import annotations

from celery import shared_task

from studio.catalog.services import import_jobs


@shared_task(name="studio.catalog.tasks.import_job_run")
def import_job_run(*, job_id: int) -> None:
    """Import the stored upload of an ImportJob (large browser uploads)."""
    import_jobs.import_job_run(job_id=job_id)
