"""Starting the release build of an approved revision."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from studio.builds.services import BuildInProgress, QueueUnavailable
from studio.lib.http import AuthedHttpRequest, redirect_page, render_page

from .. import services
from ..forms import ReleaseForm
from .lookups import get_revision_for_user
from .revision_page import revision_context


@require_POST
@login_required
def revision_release(
    request: AuthedHttpRequest, provider_id: int, number: int
) -> HttpResponse:
    revision, provider, membership = get_revision_for_user(
        request, provider_id, number, write=True
    )
    form = ReleaseForm(request.POST)
    form.is_valid()  # a boolean: never invalid
    try:
        build = services.release_start(
            revision=revision,
            user=request.user,
            smoke=bool(form.cleaned_data.get("smoke")),
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
