"""Importing plugins: upload, follow, choose what to do with a conflict."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from django.urls import reverse

from studio.catalog.models import ImportJob
from studio.catalog.services import StaleEdit, import_jobs, imports
from studio.lib.queue import QueueUnavailable

from .. import services
from ..errors import ApiError
from ..routing import ApiRequest, Upload, operation, require_write
from ..schemas import ImportChoice, ImportForm, ImportOut
from .lookups import get_import_for_token, reply
from .shapes import import_out


@operation(
    "POST",
    summary="Import a plugin",
    tag="imports",
    upload=Upload(
        form=ImportForm,
        max_bytes=imports.MAX_UPLOAD_BYTES,
        file_description="A .difypkg package or a .zip of a plugin folder.",
    ),
    responses={201: ImportOut, 202: ImportOut},
    errors=(409, 503),
    write=True,
)
def import_create(
    request: ApiRequest, *, upload: tuple[ImportForm, UploadedFile]
) -> HttpResponse:
    """Upload a plugin into the token's team: 201 when imported at once, 202
    when a worker imports it (poll the import). A plugin the team already has
    answers 409 unless `mode` is `new-version` or `copy`. An upload a worker
    would import answers 503 while the job queue is down."""
    require_write(request.actor)
    form, file = upload
    try:
        job = services.api_import(
            team=request.actor.team,
            user=request.actor.user,
            upload=file,
            mode=form.mode,
        )
    except imports.ImportRefused as exc:
        raise ApiError(
            "invalid_request",
            f"Not imported: {exc}",
            context={"entry": exc.entry, "line": exc.line, "rules": exc.rules},
        ) from None
    except QueueUnavailable as exc:
        raise ApiError("queue_unavailable", str(exc), context=exc.context) from None
    except imports.ImportFailed as exc:
        raise ApiError("conflict", f"Not imported: {exc}") from None
    return _import_reply(job)


def _import_reply(job: ImportJob) -> HttpResponse:
    if job.status == ImportJob.Status.NEEDS_CHOICE:
        raise ApiError(
            "conflict",
            f"{job.plugin_id} already exists in this team: POST "
            f"{reverse('api:import-choice', kwargs={'import_id': job.pk})} with "
            'mode "new-version" or "copy" (or "cancel"), or upload again with '
            "that mode.",
            context={"import_id": job.pk, "provider_id": job.provider_id},
        )
    if job.status == ImportJob.Status.FAILED:
        raise ApiError(
            "conflict", f"Not imported: {job.error}", context={"import_id": job.pk}
        )
    response = reply(
        import_out(job), status=201 if job.status == ImportJob.Status.DONE else 202
    )
    response["Location"] = reverse("api:import-read", kwargs={"import_id": job.pk})
    return response


@operation(
    "GET",
    summary="Read an import",
    tag="imports",
    responses={200: ImportOut},
    errors=(404,),
)
def import_read(request: ApiRequest, import_id: int) -> HttpResponse:
    """An import's progress and, once done, its report and provider."""
    return reply(import_out(get_import_for_token(request, import_id)))


@operation(
    "POST",
    summary="Choose how an import goes on",
    tag="imports",
    body=ImportChoice,
    responses={200: ImportOut, 201: ImportOut, 202: ImportOut},
    errors=(404, 409, 503),
    write=True,
)
def import_choice(
    request: ApiRequest, import_id: int, *, body: ImportChoice
) -> HttpResponse:
    """For an import waiting for a choice: import it as a new version of the
    existing provider, as a separate copy, or cancel it. A large upload goes
    back to a worker (202); 503 when the job queue is down (the import still
    waits for a choice)."""
    job = get_import_for_token(request, import_id, write=True)
    try:
        if body.mode == "cancel":
            job = import_jobs.import_job_cancel(job=job)
            return reply(import_out(job))
        job = import_jobs.import_job_choose(
            job=job, choice=import_jobs.Choice(mode=body.mode)
        )
    except (imports.ImportFailed, StaleEdit) as exc:
        raise ApiError("conflict", str(exc)) from None
    except QueueUnavailable as exc:
        raise ApiError("queue_unavailable", str(exc), context=exc.context) from None
    return _import_reply(job)
