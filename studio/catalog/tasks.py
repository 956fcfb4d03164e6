"""Background work of the catalog: thin wrappers around one service call each."""

from __future__ import annotations

import logging

from celery import shared_task

from studio.catalog.services import import_jobs, members

log = logging.getLogger(__name__)


@shared_task(name="studio.catalog.tasks.import_job_run")
def import_job_run(*, job_id: int) -> None:
    """Import the stored upload of an ImportJob (large browser uploads)."""
    import_jobs.import_job_run(job_id=job_id)


@shared_task(name="studio.catalog.tasks.import_jobs_expire")
def import_jobs_expire() -> None:
    """Give up abandoned imports and delete their uploads (beat)."""
    done = import_jobs.import_jobs_expire()
    log.info(
        "upkeep: imports: %d cancelled, %d failed, %d stray upload(s) deleted",
        done.cancelled,
        done.failed,
        done.stray_uploads,
        extra={
            "upkeep": "import_jobs_expire",
            "count": done.cancelled + done.failed + done.stray_uploads,
        },
    )


@shared_task(name="studio.catalog.tasks.invitations_purge")
def invitations_purge() -> None:
    """Delete invitations that stopped working long ago (beat)."""
    count = members.invitations_purge()
    log.info(
        "upkeep: deleted %d old invitation(s)",
        count,
        extra={"upkeep": "invitations_purge", "count": count},
    )
