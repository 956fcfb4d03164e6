"""Releasing an approved revision with its notes, and a release's downloads:
its notes as Markdown and the Marketplace submission kit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from studio.builds.services import BuildInProgress, QueueUnavailable
from studio.lib.http import AuthedHttpRequest, redirect_page, render_page
from studio.pluginfmt.submission import notes_document

from .. import kit, services
from ..forms import ReleaseForm
from ..release_notes import draft_release_notes
from ..selectors import baseline_of
from .lookups import get_release_for_user, get_revision_for_user
from .revision_page import revision_context
from .revisions import reviews_context


@require_POST
@login_required
def revision_release(
    request: AuthedHttpRequest, provider_id: int, number: int
) -> HttpResponse:
    revision, provider, membership = get_revision_for_user(
        request, provider_id, number, write=True
    )
    form = ReleaseForm(request.POST)
    status, error = 400, ""
    if request.POST.get("action") == "regenerate":
        # Start the notes again from the changes; nothing is released.
        notes = draft_release_notes(revision, baseline_of(provider))
        form = ReleaseForm(
            initial={"notes": notes.text, "smoke": bool(request.POST.get("smoke"))}
        )
        context = revision_context(
            request, revision, provider, membership, release_form=form, notes=notes
        )
        return render_page(
            request, "reviews/revision_detail.html", context, partial="decision"
        )
    if form.is_valid():
        try:
            build = services.release_start(
                revision=revision,
                user=request.user,
                smoke=bool(form.cleaned_data.get("smoke")),
                release_notes=form.cleaned_data["notes"],
            )
        except services.NotApproved as exc:
            status, error = 409, str(exc)
        except BuildInProgress as exc:
            status, error = 409, str(exc)
        except QueueUnavailable as exc:
            status, error = 503, str(exc)
        else:
            url = reverse("builds:build-detail", kwargs={"build_id": build.pk})
            if not request.htmx:
                messages.success(
                    request, f"Release build {build.pk} of {revision.label} queued."
                )
            return redirect_page(request, url)
    context = revision_context(
        request, revision, provider, membership, release_form=form, error=error
    )
    return render_page(
        request,
        "reviews/revision_detail.html",
        context,
        partial="decision",
        status=status,
    )


@require_GET
@login_required
def release_notes_download(
    request: AuthedHttpRequest, provider_id: int, build_id: int
) -> HttpResponse:
    """The release's notes as Markdown under `## Release Notes`."""
    build, provider, _ = get_release_for_user(request, provider_id, build_id)
    version = build.plugin_version or build.revision_label
    response = HttpResponse(
        notes_document(build.release_notes),
        content_type="text/markdown; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{provider.name}-{version}-release-notes.md"
    )
    return response


@require_GET
@login_required
def submission_kit_download(
    request: AuthedHttpRequest, provider_id: int, build_id: int
) -> HttpResponse:
    """The zip to open a Marketplace pull request with (409 without a package)."""
    build, provider, membership = get_release_for_user(request, provider_id, build_id)
    try:
        found = kit.submission_kit(build)
    except kit.KitUnavailable as exc:
        context = reviews_context(provider, membership, release_error=str(exc))
        return render_page(
            request, "reviews/provider_reviews.html", context, status=409
        )
    services.kit_download_record(
        build=build, user=request.user, filename=found.filename
    )
    response = HttpResponse(found.content, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=found.filename
    )
    return response
