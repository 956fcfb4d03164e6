"""Debug in your Dify: start a session from a build, watch it, stop it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from studio.builds.models import Build
from studio.catalog.access import get_provider_for_user, get_team_membership_for_user
from studio.catalog.models import Membership, Provider, Role
from studio.catalog.provider_page import provider_context
from studio.lib.http import (
    AuthedHttpRequest,
    redirect_page,
    render_page,
    render_polling,
)

from . import services
from .forms import DebugStartForm
from .models import DebugSession


def _builds(provider: Provider) -> list[Build]:
    return list(
        Build.objects.filter(provider=provider, status=Build.Status.SUCCEEDED)
        .exclude(artifact="")
        .order_by("-created_at")[:20]
    )


def _get_session_for_user(
    request: AuthedHttpRequest, session_id: int, *, write: bool = False
) -> tuple[DebugSession, Provider, Membership]:
    session = DebugSession.objects.select_related("build").filter(pk=session_id).first()
    if session is None:
        raise Http404("No such debugging session.")
    provider, membership = get_provider_for_user(
        request, session.build.provider_id, write=write
    )
    return session, provider, membership


def _page(
    provider: Provider, membership: Membership, form: DebugStartForm, **extra: Any
) -> dict[str, Any]:
    sessions = DebugSession.objects.filter(build__provider=provider).select_related(
        "created_by"
    )[:10]
    return provider_context(
        provider,
        membership,
        "builds",
        form=form,
        sessions=sessions,
        max_minutes=settings.DEBUG_SESSION_MAX_SECONDS // 60,
        **extra,
    )


@require_http_methods(["GET", "POST"])
@login_required
def debug_start(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    write = request.method == "POST"
    provider, membership = get_provider_for_user(request, provider_id, write=write)
    services.debug_sessions_reap()
    builds = _builds(provider)
    initial = {"build": request.GET.get("build")} if request.GET.get("build") else None
    if not write:
        form = DebugStartForm(initial=initial, builds=builds)
        return render_page(
            request, "debugging/start.html", _page(provider, membership, form)
        )
    form = DebugStartForm(request.POST, builds=builds)
    status = 400
    if form.is_valid():
        host, port = form.cleaned_data["address"]
        build = next(b for b in builds if b.pk == form.cleaned_data["build"])
        try:
            session = services.debug_session_start(
                build=build,
                user=request.user,
                host=host,
                port=port,
                key=form.cleaned_data["key"],
            )
        except services.EgressRefused as exc:
            form.add_error("address", str(exc))
        except services.SessionRefused as exc:
            form.add_error(None, str(exc))
            status = 409
        except services.QueueUnavailable as exc:
            form.add_error(None, str(exc))
            status = 503
        else:
            return redirect_page(
                request, reverse("debugging:session", args=[session.pk])
            )
    return render_page(
        request,
        "debugging/start.html",
        _page(provider, membership, form),
        status=status,
    )


@require_http_methods(["GET"])
@login_required
def debug_session(request: AuthedHttpRequest, session_id: int) -> HttpResponse:
    session, provider, membership = _get_session_for_user(request, session_id)
    if session.is_active and services.debug_sessions_reap():
        session.refresh_from_db()
    context = provider_context(provider, membership, "builds", session=session)
    return render_polling(
        request,
        "debugging/session.html",
        context,
        partial="state",
        done=not session.is_active,
    )


@require_POST
@login_required
def debug_stop(request: AuthedHttpRequest, session_id: int) -> HttpResponse:
    session, _, _ = _get_session_for_user(request, session_id, write=True)
    services.debug_session_stop(session=session)
    return redirect_page(request, reverse("debugging:session", args=[session.pk]))


@require_http_methods(["GET", "POST"])
@login_required
def team_hosts(request: AuthedHttpRequest, team_slug: str) -> HttpResponse:
    """The team's own debugging hosts: every member reads them, an owner edits."""
    membership = get_team_membership_for_user(
        request,
        team_slug,
        owner=request.method == "POST",
        owner_reason="Only an owner of the team changes its debugging hosts.",
    )
    team = membership.team
    status = 200
    notice = error = ""
    text = "\n".join(services.team_debug_hosts(team.pk))
    if request.method == "POST":
        text = request.POST.get("hosts", "")
        try:
            row = services.debug_hosts_update(team=team, user=request.user, text=text)
        except ValueError as exc:
            error, status = str(exc), 400
        else:
            text = "\n".join(row.entries)
            count = len(row.entries)
            notice = (
                f"Saved: {count} debugging host{'s' if count != 1 else ''} "
                "this team's sessions may reach."
                if count
                else "Saved: the team lists no debugging hosts of its own."
            )
            if not request.htmx:
                messages.success(request, notice)
                return redirect("debugging:team-hosts", team_slug=team.slug)
    context = {
        "membership": membership,
        "team": team,
        "is_owner": membership.role == Role.OWNER,
        "hosts_text": text,
        "global_hosts": list(settings.DEBUG_EGRESS_ALLOW),
        "notice": notice,
        "error": error,
    }
    return render_page(
        request, "debugging/team_hosts.html", context, partial="hosts", status=status
    )
