from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from studio.catalog.access import current_membership
from studio.lib.http import AuthedHttpRequest, render_page
from studio.lib.queue import QueueUnavailable

from . import services
from .health import health_report
from .models import WorkerCheck
from .theme import THEME_COOKIE, THEME_COOKIE_AGE, THEMES


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    ok, checks = health_report()
    return JsonResponse({"ok": ok, **checks}, status=200 if ok else 503)


@require_GET
@login_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    # The worker check is an administrator's tool: others see neither its
    # history nor its button (and its poll is refused).
    if request.htmx and not request.user.is_staff:
        raise PermissionDenied("The worker check is for administrators.")
    context = {
        "has_team": current_membership(request) is not None,
        "checks": _recent_checks() if request.user.is_staff else [],
    }
    return render_page(request, "core/home.html", context, partial="worker-checks")


@require_POST
@login_required
def worker_check_create(request: AuthedHttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied("The worker check is for administrators.")
    try:
        services.worker_check_start(user=request.user)
    except QueueUnavailable as exc:
        context = {"checks": _recent_checks(), "error": str(exc)}
        return render_page(
            request, "core/home.html", context, partial="worker-checks", status=503
        )
    if request.htmx:
        context = {"checks": _recent_checks()}
        return render(request, "core/home.html#worker-checks", context)
    return redirect("home")


def _recent_checks() -> list[WorkerCheck]:
    return list(WorkerCheck.objects.select_related("requested_by")[:5])


@require_POST
def theme_set(request: HttpRequest) -> HttpResponse:
    """Keep the picked colour theme in a cookie and go back where the visitor
    was (anyone may pick one: the login page has the switch too)."""
    theme = request.POST.get("theme", "")
    if theme not in THEMES:
        return HttpResponseBadRequest(
            "Unknown theme: pick one of " + ", ".join(THEMES) + ".",
            content_type="text/plain",
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    response = HttpResponseRedirect(back, status=303)
    response.set_cookie(
        THEME_COOKIE,
        theme,
        max_age=THEME_COOKIE_AGE,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages without a <link rel=icon>
    (raw files, JSON): send them to the SVG icon."""
    return HttpResponseRedirect(static("favicon.svg"), status=301)
