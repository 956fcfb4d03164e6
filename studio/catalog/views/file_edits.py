"""Views of the files tab that write: save a text, add, upload, rename, delete.

Each posts a plain form (the page works without JavaScript) and answers htmx
in place. A refused operation answers 400 with the reason next to its form; a
text save made on a file that changed since answers 409 with both versions
side by side; nothing is written in either case (services.files).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from studio.lib.http import AuthedHttpRequest, render_page

from ..access import get_provider_for_user
from ..models import Membership, Provider, ProviderFile
from ..provider_page import provider_context
from ..selectors import files as file_selectors
from ..selectors.findings import findings_for_file, stored_findings
from ..services import files as file_services
from ..services.files import FileChanged, FileRefused, Upload
from .imports import LimitedUploadHandler

PAGE = "catalog/provider_files.html"
EDITOR = "catalog/files/editor.html#file-status"


def file_url(provider: Provider, path: str | None) -> str:
    url = reverse("catalog:provider-file", kwargs={"provider_id": provider.pk})
    if path is None:
        return reverse("catalog:provider-files", kwargs={"provider_id": provider.pk})
    return f"{url}?path={quote(path, safe='/')}"


def editor_state(
    provider: Provider,
    row: ProviderFile | None,
    *,
    text: str | None = None,
    sha256: str | None = None,
    **extra: Any,
) -> dict[str, Any] | None:
    """What the editor form shows: the text, the version it edits, the marks."""
    if row is None:
        return None
    content = bytes(row.content)
    if text is None:
        text = file_services.decode_text(content)
    if text is None or len(content) > file_selectors.MAX_SHOWN_BYTES:
        return None
    findings = [
        {"line": f.line, "severity": f.severity, "message": f.message}
        for f in findings_for_file(stored_findings(provider), row.path)
    ]
    return {
        "text": text,
        "sha256": sha256 or row.sha256,
        "lock_version": provider.lock_version,
        "findings": findings,
        "errors": [],
        "protected": row.path in file_services.protected_paths(provider),
        **extra,
    }


def files_context(
    provider: Provider,
    membership: Membership,
    row: ProviderFile | None,
    *,
    markdown_text: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The files tab with `row` open (or none), for readers and editors alike.

    A Markdown file comes rendered too (`rendered`): its saved text, or
    `markdown_text` when given (a preview of unsaved text).
    """
    listing = file_selectors.file_listing(provider)
    preview = file_selectors.file_preview(row) if row is not None else None
    markdown = (
        row is not None
        and preview is not None
        and preview.is_text
        and file_selectors.is_markdown(row.path)
    )
    context = provider_context(provider, membership, "files") | {
        "listing": listing,
        "preview": preview,
        "edit": None,
        "markdown": markdown,
        "rendered": None,
    }
    if row is not None and markdown:
        if markdown_text is None:
            content = bytes(row.content)
            if len(content) <= file_selectors.MAX_MARKDOWN_BYTES:
                markdown_text = file_selectors.text_of(content)
        if markdown_text is not None:
            paths = {r.path for r in listing.rows if not r.is_dir}
            context["rendered"] = file_selectors.markdown_html(
                provider, row.path, markdown_text, paths
            )
    if membership.can_edit:
        context |= {
            "protected_paths": file_services.protected_paths(provider),
            "path_rules": f"use {file_services.ALLOWED_CHARACTERS}.",
            "max_file_bytes": file_services.MAX_FILE_BYTES,
        }
    if row is not None and membership.can_edit:
        context["edit"] = editor_state(provider, row)
    return context | extra


def _answer_done(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    path: str | None,
    notice: str,
) -> HttpResponse:
    """After an operation: the file (or the list) again, in place for htmx."""
    url = file_url(provider, path)
    if not request.htmx:
        messages.success(request, notice)
        return redirect(url)
    provider.refresh_from_db()
    row = file_selectors.provider_file(provider, path) if path else None
    context = files_context(provider, membership, row, notice=notice)
    response = render_page(request, PAGE, context)
    response["HX-Push-Url"] = url
    response["HX-Trigger"] = "findings-changed"
    return response


def _answer_refused(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    path: str | None,
    exc: FileRefused,
    *,
    where: str,
    values: dict[str, str] | None = None,
) -> HttpResponse:
    """The page again with the reason beside the form that was used (400)."""
    row = file_selectors.provider_file(provider, path) if path else None
    context = files_context(
        provider,
        membership,
        row,
        op_error=str(exc),
        op_where=where,
        op_values=values or {},
    )
    return render_page(request, PAGE, context, status=400)


# ---------------------------------------------------------------- saving


def _error_marks(exc: FileRefused) -> list[dict[str, Any]]:
    if not exc.line:
        return []
    return [
        {
            "line": exc.line,
            "column": exc.column,
            "severity": "error",
            "message": exc.message,
        }
    ]


@require_POST
@login_required
def provider_file_save(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    path = request.POST.get("path", "")
    row = file_selectors.provider_file(provider, path)
    if row is None:
        raise Http404("No such file.")
    text = request.POST.get("content", "")
    base = request.POST.get("sha256", "")
    try:
        your_version = int(request.POST.get("lock_version", ""))
    except ValueError:
        your_version = provider.lock_version
    try:
        result = file_services.file_save(
            provider=provider,
            user=request.user,
            path=path,
            text=text,
            base_sha256=base,
        )
    except FileRefused as exc:
        edit = editor_state(
            provider,
            row,
            text=text,
            sha256=base,
            error=str(exc),
            errors=_error_marks(exc),
            dirty=True,
        )
        return _answer_save(request, provider, membership, row, edit, status=400)
    except FileChanged as exc:
        provider.refresh_from_db()
        saved_text = (
            file_services.decode_text(exc.saved) if exc.saved is not None else None
        )
        conflict = {
            "your_version": your_version,
            "saved_version": provider.lock_version,
            "gone": exc.saved is None,
            "rows": file_selectors.side_by_side(text, saved_text or ""),
        }
        edit = editor_state(
            provider,
            row,
            text=text,
            # Saving again replaces the saved version with yours.
            sha256=file_services.sha256_of(exc.saved) if exc.saved else base,
            conflict=conflict,
            dirty=True,
        )
        return _answer_save(request, provider, membership, row, edit, status=409)
    changed = bool(result.changed_paths)
    notice = f"Saved {path}." if changed else f"No change to {path}."
    if not request.htmx:
        messages.success(request, notice)
        return redirect(file_url(provider, path))
    row.refresh_from_db()
    edit = editor_state(provider, row, saved=notice)
    return _answer_save(request, provider, membership, row, edit, status=200)


def _answer_save(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    row: ProviderFile,
    edit: dict[str, Any] | None,
    *,
    status: int,
) -> HttpResponse:
    """The editor's status block for htmx (tree and badge refreshed), else the page."""
    context = files_context(provider, membership, row, edit=edit)
    if not request.htmx:
        return render_page(request, PAGE, context, status=status)
    context["oob"] = True
    response = render(request, EDITOR, context, status=status)
    if status == 200:
        response["HX-Trigger"] = "findings-changed"
    return response


# ---------------------------------------------------------------- preview

PREVIEW = "catalog/files/markdown_preview.html"


@require_POST
@login_required
def provider_file_preview(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    """The posted (unsaved) text of a Markdown file, rendered; nothing is saved."""
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    path = request.POST.get("path", "")
    row = file_selectors.provider_file(provider, path)
    if row is None:
        raise Http404("No such file.")
    text = request.POST.get("content", "")
    error = ""
    if not file_selectors.is_markdown(path):
        error = f"{path} is not a Markdown file: only .md files have a preview."
    elif len(text.encode()) > file_selectors.MAX_MARKDOWN_BYTES:
        error = (
            f"The text is larger than {file_selectors.MAX_MARKDOWN_BYTES} bytes, "
            "the most the preview renders."
        )
    status = 400 if error else 200
    if request.htmx:
        if error:
            context = {"provider": provider, "preview_error": error}
        else:
            paths = set(provider.files.values_list("path", flat=True))
            rendered = file_selectors.markdown_html(provider, path, text, paths)
            context = {"provider": provider, "rendered": rendered, "unsaved": True}
        return render(request, PREVIEW, context, status=status)
    # Without JavaScript: the page again, the editor holding the posted text.
    edit = editor_state(
        provider,
        row,
        text=text,
        sha256=request.POST.get("sha256", "") or row.sha256,
        dirty=True,
    )
    context = files_context(
        provider,
        membership,
        row,
        markdown_text=None if error else text,
        edit=edit,
        unsaved=not error,
        preview_error=error,
    )
    if error:
        context["rendered"] = None
    return render_page(request, PAGE, context, status=status)


# ---------------------------------------------------------------- operations


@require_POST
@login_required
def provider_file_add(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    path = request.POST.get("path", "").strip()
    try:
        file_services.file_add(provider=provider, user=request.user, path=path)
    except FileRefused as exc:
        return _answer_refused(
            request, provider, membership, None, exc, where="add", values={"path": path}
        )
    return _answer_done(request, provider, membership, path, f"Added {path}.")


@csrf_exempt  # the upload handler must be in place before CSRF reads the body
@require_POST
@login_required
def provider_file_upload(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    handler = LimitedUploadHandler(request, file_services.MAX_FILE_BYTES)
    request.upload_handlers.insert(0, handler)
    return _provider_file_upload(request, provider_id, handler)


@csrf_protect
def _provider_file_upload(
    request: AuthedHttpRequest, provider_id: int, handler: LimitedUploadHandler
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    folder = request.POST.get("folder", "")
    values = {"folder": folder}
    try:
        if handler.too_large:
            raise FileRefused(
                f"an uploaded file is larger than {file_services.MAX_FILE_BYTES} "
                "bytes, the most a plugin file may have"
            )
        uploads = [
            Upload(name=f.name or "", content=f.read())
            for f in request.FILES.getlist("files")
        ]
        result = file_services.file_upload(
            provider=provider,
            user=request.user,
            folder=folder,
            uploads=uploads,
            replace=request.POST.get("replace") == "1",
        )
    except FileRefused as exc:
        return _answer_refused(
            request, provider, membership, None, exc, where="upload", values=values
        )
    placed = [file_services.upload_path(folder, u.name) for u in uploads]
    shown = ", ".join(placed)
    notice = f"Uploaded {shown}." if result.changed_paths else f"No change: {shown}."
    return _answer_done(request, provider, membership, placed[0], notice)


@require_POST
@login_required
def provider_file_rename(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    path = request.POST.get("path", "")
    new_path = request.POST.get("new_path", "").strip()
    if file_selectors.provider_file(provider, path) is None:
        raise Http404("No such file.")
    try:
        file_services.file_rename(
            provider=provider, user=request.user, path=path, new_path=new_path
        )
    except FileRefused as exc:
        return _answer_refused(
            request,
            provider,
            membership,
            path,
            exc,
            where="file",
            values={"new_path": new_path},
        )
    notice = f"Renamed {path} to {new_path}."
    return _answer_done(request, provider, membership, new_path, notice)


@require_POST
@login_required
def provider_file_delete(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id, write=True)
    path = request.POST.get("path", "")
    if file_selectors.provider_file(provider, path) is None:
        raise Http404("No such file.")
    try:
        file_services.file_delete(provider=provider, user=request.user, path=path)
    except FileRefused as exc:
        return _answer_refused(request, provider, membership, path, exc, where="file")
    return _answer_done(request, provider, membership, None, f"Deleted {path}.")
