"""Browser imports: an upload imported now, or stored and imported by a worker.

Uploads up to `INLINE_IMPORT_MAX_BYTES` are imported while the user waits;
larger ones are saved in default storage and imported by a worker
(`import_job_run`), which deletes the stored upload once the job is done or
failed. An upload of a plugin the team already has is kept until the user
chooses a new version or a copy (`import_job_choose`) or cancels; beat's
`import_jobs_expire` gives up on the ones nobody finished within
IMPORT_ABANDONED_HOURS and deletes their uploads.

Handing an import to a worker asks the broker first (QueueUnavailable, nothing
saved, when it is down); a publish that fails after the commit fails the job
and deletes its upload (`studio.lib.queue`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from studio.catalog.models import ImportJob, Team
from studio.catalog.services import StaleEdit
from studio.catalog.services.imports import (
    ImportConflict,
    ImportFailed,
    check_upload,
    import_plugin,
    read_upload,
    upload_suffix,
)
from studio.lib.queue import (
    Publication,
    QueueUnavailable,
    queue_after_commit,
    require_broker,
)
from studio.lib.storage import stored_delete
from studio.pluginfmt.files import PluginFiles

logger = logging.getLogger(__name__)

# Uploads above this are imported by a worker (Django has them on disk anyway).
INLINE_IMPORT_MAX_BYTES = 2 * 1024 * 1024
UPLOAD_FOLDER = "imports"


def _inline_hint() -> str:
    return (
        f"Uploads up to {INLINE_IMPORT_MAX_BYTES // 1024 // 1024} MiB are "
        "imported at once, without the queue."
    )


def import_upload(*, team: Team, user: User | None, upload: UploadedFile) -> ImportJob:
    """Import an uploaded plugin: small ones now, large ones by a worker.

    Returns the job: done (with its report), queued, or waiting for a choice
    because the team already has the plugin. Raises ImportRefused (nothing
    saved, nothing stored) for input refused before the worker's turn, and
    QueueUnavailable when a large upload cannot be queued.
    """
    name = Path(upload.name or "upload").name
    size = upload.size or 0
    check_upload(name, size)
    if size > INLINE_IMPORT_MAX_BYTES:
        return store_and_queue(team=team, user=user, upload=upload, name=name)
    upload.seek(0)
    files = read_upload(name, upload)
    try:
        report = import_plugin(team=team, user=user, files=files, source=name)
    except ImportConflict as conflict:
        return _store_for_choice(
            team=team, user=user, upload=upload, name=name, conflict=conflict
        )
    assert report.job_id is not None  # import_plugin records the job it saved
    return ImportJob.objects.get(pk=report.job_id)


def _store(upload: UploadedFile, name: str) -> str:
    upload.seek(0)
    stored = f"{UPLOAD_FOLDER}/{uuid.uuid4().hex}{upload_suffix(name)}"
    return default_storage.save(stored, upload)


def store_and_queue(
    *,
    team: Team,
    user: User | None,
    upload: UploadedFile,
    name: str,
    mode: str = ImportJob.Mode.NEW,
) -> ImportJob:
    """Store a large upload and queue its import by a worker with `mode`.

    Raises QueueUnavailable: before anything is stored when the broker is
    down, or with the job failed and its upload deleted when the publish
    fails after the commit.
    """
    require_broker(hint=_inline_hint())
    stored = _store(upload, name)
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                team=team,
                user=user,
                mode=mode,
                source_name=name,
                source_size=upload.size or 0,
                source_path=stored,
            )
            job.mark_progress(0, "waiting for a worker")
            job.save(update_fields=["progress", "progress_text"])
            publication = _queue(job)
    except BaseException:
        stored_delete([stored])
        raise
    if publication.failed:
        raise _not_queued(job, publication.error)
    return job


def _queue(job: ImportJob) -> Publication:
    from studio.catalog.tasks import import_job_run as task

    return queue_after_commit(
        task,
        kwargs={"job_id": job.pk},
        on_failure=partial(_queue_failed, job_id=job.pk),
    )


def _queue_failed(reason: str, *, job_id: int) -> None:
    """The job's task never reached the broker: fail it, drop its upload."""
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update()
            .filter(pk=job_id, status=ImportJob.Status.QUEUED)
            .first()
        )
        if job is None:  # a worker got it after all, or it was cancelled
            return
        job.mark_failed(reason)
        _discard_upload(job)
        job.save()


def _not_queued(job: ImportJob, reason: str) -> QueueUnavailable:
    return QueueUnavailable(
        reason,
        kept=f"import {job.pk} was marked failed and its upload removed",
        context={"import_id": job.pk},
    )


def _store_for_choice(
    *,
    team: Team,
    user: User | None,
    upload: UploadedFile,
    name: str,
    conflict: ImportConflict,
) -> ImportJob:
    stored = _store(upload, name)
    try:
        job = ImportJob.objects.create(
            team=team,
            user=user,
            status=ImportJob.Status.NEEDS_CHOICE,
            source_name=name,
            source_size=upload.size or 0,
            source_path=stored,
            plugin_id=conflict.provider.plugin_id,
            provider=conflict.provider,
            progress_text="waiting for a choice",
        )
    except BaseException:
        stored_delete([stored])
        raise
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Import a stored upload (worker); delete the upload once done or failed."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        # RUNNING too: a worker lost mid-import left nothing behind (atomic).
        if job is None or not job.is_active:
            return job
        job.status = ImportJob.Status.RUNNING
        job.mark_progress(10, "reading the upload")
        job.save(update_fields=["status", "progress", "progress_text"])
    try:
        files = _read_stored(job)
        _progress(job, 40, "checking and storing the files")
        target = job.provider if job.mode == ImportJob.Mode.NEW_VERSION else None
        import_plugin(
            team=job.team,
            user=job.user,
            files=files,
            mode=job.mode,
            target=target,
            source=job.source_name,
            job=job,
        )
    except ImportConflict as conflict:
        job.status = ImportJob.Status.NEEDS_CHOICE
        job.plugin_id = conflict.provider.plugin_id
        job.provider = conflict.provider
        job.mark_progress(0, "waiting for a choice")
        job.save()
        return job
    except ImportFailed as exc:
        job.mark_failed(str(exc))
    except Exception:
        logger.exception("import job %s failed", job_id)
        job.mark_failed("the import failed unexpectedly; nothing was saved")
    _discard_upload(job)
    job.save()
    return job


def _progress(job: ImportJob, percent: int, text: str) -> None:
    job.mark_progress(percent, text)
    ImportJob.objects.filter(pk=job.pk).update(
        progress=job.progress, progress_text=job.progress_text
    )


def _read_stored(job: ImportJob) -> PluginFiles:
    gone = ImportFailed("the uploaded file is gone; upload it again")
    if not job.source_path:
        raise gone
    try:
        stored = default_storage.open(job.source_path, "rb")
    except FileNotFoundError:
        raise gone from None
    with stored as fh:
        return read_upload(job.source_name, fh)


def _discard_upload(job: ImportJob) -> None:
    if job.source_path:
        stored_delete([job.source_path])
        job.source_path = ""


@dataclass(frozen=True)
class Choice:
    mode: str
    lock_version: int | None = None


def import_job_choose(*, job: ImportJob, choice: Choice) -> ImportJob:
    """Go on with an import that met an existing plugin: `new-version` or `copy`.

    Small uploads are imported now; large ones go back to the worker
    (QueueUnavailable, the job still waiting, when the broker is down; the job
    failed when the publish fails after the commit).
    """
    if job.status != ImportJob.Status.NEEDS_CHOICE:
        raise ImportFailed("this import is not waiting for a choice")
    if choice.mode not in (ImportJob.Mode.NEW_VERSION, ImportJob.Mode.COPY):
        raise ImportFailed("choose a new version or a separate copy")
    if choice.mode == ImportJob.Mode.NEW_VERSION:
        target = job.provider
        if target is None:
            raise ImportFailed(
                f"{job.plugin_id} was deleted meanwhile: cancel and upload again"
            )
        target.refresh_from_db(fields=["lock_version"])
        if choice.lock_version is not None and choice.lock_version != (
            target.lock_version
        ):
            raise StaleEdit(target)
    queued = job.source_size > INLINE_IMPORT_MAX_BYTES
    if queued:
        require_broker(hint="Your upload is kept: choose again once it is back.")
    with transaction.atomic():
        job.mode = choice.mode
        job.status = ImportJob.Status.QUEUED
        job.mark_progress(0, "waiting for a worker")
        # Only one of two simultaneous choices goes on (a double copy otherwise).
        taken = ImportJob.objects.filter(
            pk=job.pk, status=ImportJob.Status.NEEDS_CHOICE
        ).update(
            mode=job.mode,
            status=job.status,
            progress=job.progress,
            progress_text=job.progress_text,
        )
        if not taken:
            raise ImportFailed("this import is not waiting for a choice")
        publication = _queue(job) if queued else None
    if publication is None:
        return import_job_run(job_id=job.pk) or job
    if publication.failed:
        raise _not_queued(job, publication.error)
    return job


def import_job_cancel(*, job: ImportJob) -> ImportJob:
    """Drop an import waiting for a choice, and its stored upload."""
    if job.status != ImportJob.Status.NEEDS_CHOICE:
        raise ImportFailed("only an import waiting for a choice can be cancelled")
    job.mark_cancelled()
    _discard_upload(job)
    job.save()
    return job


# ------------------------------------------------------------------ upkeep


@dataclass(frozen=True)
class ImportsExpired:
    """What `import_jobs_expire` did."""

    cancelled: int  # waited for a choice too long
    failed: int  # waited for (or ran on) a worker too long
    stray_uploads: int  # stored files no waiting job names


def import_jobs_expire(*, now: datetime | None = None) -> ImportsExpired:
    """Give up imports nobody finished within IMPORT_ABANDONED_HOURS.

    One waiting for a choice is cancelled, one still queued or running is
    failed, and its stored upload is deleted; so is any upload under
    `imports/` older than that which no waiting job names (a crash between
    storing and recording). Each job is taken by a conditional UPDATE, so two
    runs at once (or a user choosing meanwhile) never handle one twice; a
    file already gone is fine.
    """
    now = now or timezone.now()
    hours = settings.IMPORT_ABANDONED_HOURS
    cutoff = now - timedelta(hours=hours)
    cancelled = _give_up(
        ImportJob.Status.NEEDS_CHOICE,
        ImportJob.Status.CANCELLED,
        f"no choice was made within {hours} hours; the upload was deleted",
        cutoff=cutoff,
        now=now,
    )
    failed = sum(
        _give_up(
            status,
            ImportJob.Status.FAILED,
            f"no worker finished this import within {hours} hours; upload it again",
            cutoff=cutoff,
            now=now,
        )
        for status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
    )
    return ImportsExpired(
        cancelled=cancelled, failed=failed, stray_uploads=_delete_stray(cutoff)
    )


def _give_up(
    status: str, to: str, message: str, *, cutoff: datetime, now: datetime
) -> int:
    done = 0
    old = ImportJob.objects.filter(status=status, created_at__lt=cutoff)
    for pk, stored in old.values_list("pk", "source_path"):
        taken = ImportJob.objects.filter(pk=pk, status=status).update(
            status=to,
            error=message,
            progress_text=to,
            source_path="",
            finished_at=now,
        )
        if taken:
            done += 1
            if stored:
                default_storage.delete(stored)
    return done


def _delete_stray(cutoff: datetime) -> int:
    try:
        _, names = default_storage.listdir(UPLOAD_FOLDER)
    except FileNotFoundError:
        return 0
    paths = [f"{UPLOAD_FOLDER}/{name}" for name in names]
    waiting = set(
        ImportJob.objects.filter(
            source_path__in=paths,
            status__in=[
                ImportJob.Status.QUEUED,
                ImportJob.Status.RUNNING,
                ImportJob.Status.NEEDS_CHOICE,
            ],
        ).values_list("source_path", flat=True)
    )
    deleted = 0
    for path in paths:
        if path in waiting:
            continue
        try:
            if default_storage.get_modified_time(path) >= cutoff:
                continue
        except Exception as exc:  # gone meanwhile (S3 says so with its own error)
            logger.info("stray upload %s: %s; left for the next run", path, exc)
            continue
        default_storage.delete(path)
        deleted += 1
    return deleted
