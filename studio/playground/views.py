"""The Try it tab: the page, starting and ending a session (panels: panels.py)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studio.catalog.access import get_provider_for_user
from studio.catalog.models import Membership, Provider, Role
from studio.catalog.provider_page import provider_context
from studio.catalog.selectors.credentials import (
    INPUT_PREFIX,
    credential_preview,
    schema_available,
)
from studio.lib.http import AuthedHttpRequest, redirect_page, render_page
from studio.playground import chat, client
from studio.playground.builds import latest_build, runnable_builds
from studio.playground.models_info import (
    ModelInfo,
    build_document,
    models_of,
    panel_lists,
)
from studio.playground.sessions import PlaygroundError

PAGE = "playground/try.html"
PROVIDER = "provider"


def _session_for(
    request: AuthedHttpRequest, provider: Provider, session_id: str
) -> dict[str, Any]:
    try:
        mine = client.sessions(request.user.pk)
    except PlaygroundError:
        raise Http404("the playground server is not running") from None
    for session in mine:
        if session["id"] == session_id and session["provider_id"] == provider.pk:
            return session
    raise Http404("no such playground session (it may have ended)")


def _page(
    request: AuthedHttpRequest,
    provider: Provider,
    membership: Membership,
    *,
    session_id: str = "",
    posted: Any = None,
    notice: str = "",
    status: int = 200,
    partial: str = "section",
    **extra: Any,
) -> HttpResponse:
    build = None
    chosen = request.GET.get("build") or (posted or {}).get("build")
    if chosen and str(chosen).isdigit():
        build = runnable_builds().filter(provider=provider, pk=int(chosen)).first()
    build = build or latest_build(provider.pk)
    sessions: list[dict[str, Any]] = []
    server_error = ""
    try:
        sessions = [
            s
            for s in client.sessions(request.user.pk)
            if s["provider_id"] == provider.pk
        ]
    except PlaygroundError as error:
        server_error = error.message
    session = next((s for s in sessions if s["id"] == session_id), None)
    if session is None and sessions and not session_id:
        session = sessions[0]
    models: list[ModelInfo] = []
    if session is not None:
        models = models_of(build_document(session["build_id"]))
    elif build is not None:
        models = models_of(build_document(build.pk))
    preview = (
        credential_preview(provider, PROVIDER, posted)
        if schema_available(provider, PROVIDER)
        else None
    )
    picked = str((posted or {}).get("model") or request.GET.get("model") or "")
    lists = panel_lists(models)
    llms = lists["llms"]
    llm = next((m for m in llms if m.model == picked), llms[0] if llms else None)
    history = extra.pop("history", None)
    if history is None:
        history = chat.parse_history(str((posted or {}).get("history", "")))
    context = provider_context(
        provider,
        membership,
        "try",
        history=history,
        history_json=json.dumps(history),
        build=build,
        sessions=sessions,
        session=session,
        server_error=server_error,
        preview=preview,
        llm=llm,
        caps=chat.CAPS,
        **lists,
        notice=notice,
        **extra,
    )
    return render_page(request, PAGE, context, status=status, partial=partial)


@require_GET
@login_required
def try_page(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    return _page(
        request, provider, membership, session_id=request.GET.get("session", "")
    )


@require_POST
@login_required
def session_start(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    if membership.role == Role.VIEWER:
        return _page(
            request,
            provider,
            membership,
            posted=request.POST,
            notice="A viewer may not run plugins in the playground; owners, "
            "authors and reviewers may.",
            status=403,
        )
    build_text = request.POST.get("build", "")
    build = (
        runnable_builds().filter(provider=provider, pk=int(build_text)).first()
        if build_text.isdigit()
        else None
    )
    if build is None:
        return _page(
            request,
            provider,
            membership,
            posted=request.POST,
            notice="Choose a succeeded build to try.",
            status=400,
        )
    credentials = {
        name[len(INPUT_PREFIX) :]: value
        for name, value in request.POST.items()
        if name.startswith(INPUT_PREFIX) and value != ""
    }
    target = "endpoint" if request.POST.get("target") == "endpoint" else "mock"
    try:
        started = client.start_session(
            owner=request.user.pk,
            build_id=build.pk,
            credentials=credentials,
            target=target,
        )
    except PlaygroundError as error:
        status = error.status if 400 <= error.status < 600 else 400
        return _page(
            request,
            provider,
            membership,
            posted=request.POST,
            notice=error.message,
            status=status,
        )
    url = reverse("playground:try", kwargs={"provider_id": provider.pk})
    return redirect_page(request, f"{url}?session={started['id']}")


@require_POST
@login_required
def session_end(
    request: AuthedHttpRequest, provider_id: int, session_id: str
) -> HttpResponse:
    provider, _ = get_provider_for_user(request, provider_id)
    # Already ended (idle, a new build): the page says so by its absence.
    with contextlib.suppress(PlaygroundError):
        client.end_session(request.user.pk, session_id)
    return redirect_page(
        request, reverse("playground:try", kwargs={"provider_id": provider.pk})
    )
