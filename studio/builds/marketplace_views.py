"""The "Marketplace readiness" panel of a build page: its poll and its re-run.

The panel itself is `templates/builds/_marketplace_readiness.html`, included
in the build page; a worker fills it (services/readiness.py), so these views
only read the stored check or queue a new run.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studio.catalog.models import Membership
from studio.lib.http import AuthedHttpRequest, render_polling
from studio.lib.queue import QueueUnavailable

from . import services
from .models import Build, MarketplaceCheck
from .views import _build_context, _get_build_for_user

TEMPLATE = "builds/_marketplace_readiness.html"


def _check_of(build: Build) -> MarketplaceCheck | None:
    return MarketplaceCheck.objects.filter(build=build).first()


def _polls(check: MarketplaceCheck | None) -> bool:
    """Whether the panel should ask again: a run is queued or running."""
    return check is not None and check.is_waiting


def _context(
    build: Build, membership: Membership, check: MarketplaceCheck | None, **extra: Any
) -> dict[str, Any]:
    return {
        "build": build,
        "membership": membership,
        "readiness_check": check,
        "readiness_poll": _polls(check),
        **extra,
    }


@require_GET
@login_required
def build_readiness(request: AuthedHttpRequest, build_id: int) -> HttpResponse:
    build, _, membership = _get_build_for_user(request, build_id)
    if not request.htmx:
        url = reverse("builds:build-detail", kwargs={"build_id": build.pk})
        return redirect(f"{url}#marketplace-readiness")
    check = _check_of(build)
    context = _context(build, membership, check)
    done = not context["readiness_poll"]
    return render_polling(request, TEMPLATE, context, partial="readiness", done=done)


@require_POST
@login_required
def build_readiness_check(request: AuthedHttpRequest, build_id: int) -> HttpResponse:
    build, provider, membership = _get_build_for_user(request, build_id, write=True)
    error, status = "", 200
    try:
        check: MarketplaceCheck | None = services.marketplace_check_start(
            build=build, user=request.user
        )
    except services.NotCheckable as exc:
        error, status = f"Not checked: {exc}.", 409
        check = _check_of(build)
    except QueueUnavailable as exc:
        error, status = str(exc), 503
        check = _check_of(build)
    url = reverse("builds:build-detail", kwargs={"build_id": build.pk})
    if request.htmx:
        context = _context(build, membership, check, readiness_error=error)
        return render(request, f"{TEMPLATE}#readiness", context, status=status)
    if not error:
        messages.success(request, "Marketplace check queued.")
        return redirect(f"{url}#marketplace-readiness")
    # Without JavaScript the whole build page comes back, with the error in the panel.
    page = _build_context(build, provider, membership, readiness_error=error)
    return render(request, "builds/build_detail.html", page, status=status)
