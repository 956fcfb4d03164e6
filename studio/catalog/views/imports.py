"""Import screens: upload a plugin, follow its import, read its report."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studio.lib.http import (
    AuthedHttpRequest,
    redirect_page,
    render_page,
    render_polling,
)
from studio.lib.queue import QueueUnavailable

from .. import services
from ..access import get_provider_for_user, require_membership
from ..forms.imports import ImportChoiceForm, ImportUploadForm
from ..models import ImportJob, Membership
from ..provider_page import provider_context
from ..services import import_jobs, imports

RECENT_JOBS = 10


class LimitedUploadHandler(FileUploadHandler):
    """Drops an uploaded file as soon as it streams past `limit` bytes.

    Django would otherwise write the whole upload to a temporary file before
    the view could look at its size.
    """

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.too_large = False
        self._size = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self._size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self._size += len(raw_data)
        if self._size > self.limit:
            self.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _get_job_for_user(
    request: AuthedHttpRequest, job_id: int, *, write: bool = False
) -> tuple[ImportJob, Membership]:
    """The import job if the user is in its team (404 otherwise); 403 to act on
    it as a reviewer or viewer."""
    job = ImportJob.objects.select_related("team", "provider").filter(pk=job_id)
    found = job.first()
    if found is None:
        raise Http404("No such import.")
    membership = (
        Membership.objects.filter(user=request.user, team_id=found.team_id)
        .select_related("team")
        .first()
    )
    if membership is None:
        raise Http404("No such import.")
    if write and not membership.can_edit:
        raise PermissionDenied("Your role in this team can only read.")
    return found, membership


# ------------------------------------------------------------------ upload


@csrf_exempt  # the upload handler must be in place before CSRF reads the body
@require_http_methods(["GET", "POST"])
@login_required
def provider_import(request: AuthedHttpRequest) -> HttpResponse:
    handler = LimitedUploadHandler(request, imports.MAX_UPLOAD_BYTES)
    request.upload_handlers.insert(0, handler)
    return _provider_import(request, handler)


@csrf_protect
def _provider_import(
    request: AuthedHttpRequest, handler: LimitedUploadHandler
) -> HttpResponse:
    membership = require_membership(request)
    if not membership.can_edit:
        return render(request, "catalog/read_only.html", status=403)
    status = 200
    if request.method == "POST":
        form = ImportUploadForm(
            request.POST, request.FILES, too_large=handler.too_large
        )
        status = 400
        if form.is_valid():
            try:
                job = import_jobs.import_upload(
                    team=membership.team,
                    user=request.user,
                    upload=form.cleaned_data["file"],
                )
            except imports.ImportRefused as exc:
                form.add_error("file", f"Not imported: {exc}")
            except QueueUnavailable as exc:
                form.add_error(None, str(exc))
                status = 503
            else:
                return _after_upload(request, job)
    else:
        form = ImportUploadForm()
    context = {
        "form": form,
        "membership": membership,
        "jobs": ImportJob.objects.filter(team=membership.team).select_related(
            "provider"
        )[:RECENT_JOBS],
        "max_mib": imports.MAX_UPLOAD_BYTES // 1024 // 1024,
    }
    return render_page(
        request, "catalog/import_upload.html", context, partial="form", status=status
    )


def _after_upload(request: AuthedHttpRequest, job: ImportJob) -> HttpResponse:
    if job.status == ImportJob.Status.DONE and job.provider_id:
        messages.success(request, f"{job.provider} imported.")
        url = reverse(
            "catalog:provider-import-report", kwargs={"provider_id": job.provider_id}
        )
    else:
        url = reverse("catalog:import-job", kwargs={"job_id": job.pk})
    return redirect_page(request, url)


# ------------------------------------------------------------------ job


@require_GET
@login_required
def import_job(request: AuthedHttpRequest, job_id: int) -> HttpResponse:
    job, membership = _get_job_for_user(request, job_id)
    context = _job_context(job, membership)
    return render_polling(
        request,
        "catalog/import_job.html",
        context,
        partial="status",
        done=not job.is_active,
    )


def _job_context(
    job: ImportJob, membership: Membership, **extra: Any
) -> dict[str, Any]:
    form = extra.pop("choice_form", None)
    if form is None and job.status == ImportJob.Status.NEEDS_CHOICE:
        form = ImportChoiceForm(
            initial={
                "mode": ImportJob.Mode.NEW_VERSION,
                "lock_version": job.provider.lock_version if job.provider else None,
            }
        )
    return {
        "job": job,
        "membership": membership,
        "report": imports.report_of(job),
        "choice_form": form,
        **extra,
    }


@require_POST
@login_required
def import_job_choose(request: AuthedHttpRequest, job_id: int) -> HttpResponse:
    job, membership = _get_job_for_user(request, job_id, write=True)
    form = ImportChoiceForm(request.POST)
    status = 400
    error = ""
    if form.is_valid():
        try:
            job = import_jobs.import_job_choose(job=job, choice=form.choice())
        except services.StaleEdit as exc:
            status = 409
            job.refresh_from_db()
            error = (
                f"{exc.provider.plugin_id} changed since this page was loaded (now "
                f"version {exc.provider.version or '?'}, saved "
                f"{exc.provider.updated_at:%Y-%m-%d %H:%M}). Your choice was "
                f"{form.cleaned_data['mode']}: check the provider and choose again."
            )
            form = ImportChoiceForm(
                initial={
                    "mode": form.cleaned_data["mode"],
                    "lock_version": exc.provider.lock_version,
                }
            )
        except imports.ImportFailed as exc:
            error = exc.message
        except QueueUnavailable as exc:
            status, error = 503, str(exc)
            job.refresh_from_db()
        else:
            return _after_upload(request, job)
    context = _job_context(job, membership, choice_form=form, error=error)
    return render_page(
        request, "catalog/import_job.html", context, partial="status", status=status
    )


@require_POST
@login_required
def import_job_cancel(request: AuthedHttpRequest, job_id: int) -> HttpResponse:
    job, membership = _get_job_for_user(request, job_id, write=True)
    try:
        import_jobs.import_job_cancel(job=job)
    except imports.ImportFailed as exc:
        context = _job_context(job, membership, error=exc.message)
        return render(request, "catalog/import_job.html", context, status=400)
    messages.info(request, f"Import of {job.source_name} cancelled.")
    return redirect_page(request, reverse("catalog:provider-import"))


# ------------------------------------------------------------------ report


@require_GET
@login_required
def provider_import_report(
    request: AuthedHttpRequest, provider_id: int
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    job = (
        ImportJob.objects.filter(provider=provider, status=ImportJob.Status.DONE)
        .order_by("-finished_at", "-pk")
        .first()
    )
    context = provider_context(
        provider,
        membership,
        "import-report",
        job=job,
        report=imports.report_of(job) if job else None,
    )
    return render_page(request, "catalog/import_report.html", context, partial="report")
