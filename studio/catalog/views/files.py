"""Views of the provider page: the files and findings sections (the reads;
file_edits.py writes).

Files are looked up among the provider's own rows by exact path, never on a
file system. The raw endpoint serves bytes under a Content-Security-Policy
that runs nothing, so an SVG icon opened directly cannot script the studio.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from studio.lib.http import AuthedHttpRequest, render_page
from studio.pluginfmt.verify import SEVERITIES, severity_counts

from ..access import get_provider_for_user
from ..models import Membership, Provider, ProviderFile
from ..provider_page import provider_context
from ..selectors import files as file_selectors
from ..selectors import findings as finding_selectors
from .file_edits import files_context

# Nothing runs and nothing loads: an SVG may only use its inline styles.
RAW_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _get_file_for_user(
    request: AuthedHttpRequest, provider_id: int
) -> tuple[ProviderFile, Provider, Membership]:
    provider, membership = get_provider_for_user(request, provider_id)
    row = file_selectors.provider_file(provider, request.GET.get("path", ""))
    if row is None:
        raise Http404("No such file.")
    return row, provider, membership


def _line_param(request: AuthedHttpRequest) -> int | None:
    value = request.GET.get("line", "")
    ok = value.isascii() and value.isdigit() and len(value) < 9
    return int(value) if ok else None


@require_GET
@login_required
def provider_files(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    context = files_context(provider, membership, None)
    return render_page(request, "catalog/provider_files.html", context)


@require_GET
@login_required
def provider_file_view(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    row, provider, membership = _get_file_for_user(request, provider_id)
    line = _line_param(request)
    # Readers see a Markdown file rendered unless they ask for its source (a
    # line number is a place in the source).
    show_source = request.GET.get("view") == "source" or line is not None
    context = files_context(
        provider, membership, row, line=line, show_source=show_source
    )
    # htmx gets the whole section, so the tree marks the file now selected.
    return render_page(request, "catalog/provider_files.html", context)


@require_GET
@login_required
def provider_file_raw(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    row, _, _ = _get_file_for_user(request, provider_id)
    content = bytes(row.content)
    media_type = file_selectors.media_type_of(row.path, content)
    filename = row.path.rsplit("/", 1)[-1]
    if media_type is not None:
        disposition = content_disposition_header(False, filename)
    elif file_selectors.text_of(content) is not None:
        media_type = "text/plain; charset=utf-8"
        disposition = content_disposition_header(False, filename)
    else:
        media_type = "application/octet-stream"
        disposition = content_disposition_header(True, filename)
    response = HttpResponse(content, content_type=media_type)
    response["Content-Security-Policy"] = RAW_CSP
    response["X-Content-Type-Options"] = "nosniff"
    if disposition is not None:  # None only for a file without a name
        response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
@login_required
def provider_files_download(
    request: AuthedHttpRequest, provider_id: int
) -> HttpResponse:
    provider, _ = get_provider_for_user(request, provider_id)
    response = HttpResponse(
        file_selectors.source_zip(provider), content_type="application/zip"
    )
    response["Content-Disposition"] = content_disposition_header(
        True, file_selectors.source_zip_name(provider)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
@login_required
def provider_findings(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    # The findings of the last save, as stored with it: the header's counts,
    # the markers beside the fields and this list always describe one run.
    findings = finding_selectors.stored_findings(provider)
    paths = set(provider.files.values_list("path", flat=True))
    severity = request.GET.get("severity", "")
    if severity not in SEVERITIES:
        severity = ""
    rows = finding_selectors.finding_rows(
        (f for f in findings if not severity or f.severity == severity), paths
    )
    groups = [
        (level, [r for r in rows if r.finding.severity == level])
        for level in SEVERITIES
        if not severity or level == severity
    ]
    context = provider_context(provider, membership, "findings") | {
        "severity": severity,
        "counts": severity_counts(findings),
        "total": len(findings),
        "groups": groups,
    }
    return render_page(
        request, "catalog/provider_findings.html", context, partial="findings"
    )


@require_GET
@login_required
def provider_findings_summary(
    request: AuthedHttpRequest, provider_id: int
) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    if not request.htmx:
        # A badge alone is no page: without htmx, show the findings.
        return redirect("catalog:provider-findings", provider_id=provider.pk)
    return render(
        request,
        "catalog/files/findings_badge.html",
        {"provider": provider, "membership": membership},
    )
