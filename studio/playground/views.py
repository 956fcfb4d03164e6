"""The Try it tab: the page, starting and ending a session (panels: panels.py)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studio.builds.services import BuildInProgress, QueueUnavailable, build_start
from studio.catalog.access import get_provider_for_user
from studio.catalog.models import Membership, Provider, Role
from studio.catalog.provider_page import provider_context
from studio.catalog.selectors.credentials import (
    INPUT_PREFIX,
    MODEL_NAME_INPUT,
    credential_preview,
    schema_available,
)
from studio.lib.http import (
    AuthedHttpRequest,
    redirect_page,
    render_page,
    whole_number,
)
from studio.playground import chat, client
from studio.playground.builds import choose_build, revision_of_build, runnable_builds
from studio.playground.models_info import (
    ModelInfo,
    build_models,
    panel_lists,
    session_models,
)
from studio.playground.sessions import PlaygroundError
from studio.reviews.models import REVIEW_ROLES, Revision

PAGE = "playground/try.html"
PROVIDER = "provider"
MODEL = "model"


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


def _start_form(provider: Provider, data: Any) -> str:
    """Which credential form starts the session: "provider" or "model" (a
    customizable model of the user's own, when the provider declares one)."""
    can_model = schema_available(provider, MODEL)
    can_provider = schema_available(provider, PROVIDER)
    asked = str((data or {}).get("form") or "")
    if can_model and (asked == "model" or not can_provider):
        return MODEL
    return PROVIDER


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
    asked = posted if posted is not None else request.GET
    choice = choose_build(
        provider,
        build_id=str(request.GET.get("build") or (posted or {}).get("build") or ""),
        revision_number=str(asked.get("revision") or ""),
    )
    build = choice.build
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
    session_revision = None
    if session is not None:
        models = session_models(session)
        tried = runnable_builds().filter(pk=session["build_id"]).first()
        session_revision = revision_of_build(tried) if tried else None
    elif build is not None:
        models = build_models(build.pk)
    form = _start_form(provider, asked)
    preview = (
        credential_preview(provider, form, posted)
        if schema_available(provider, form)
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
        choice=choice,
        revision=choice.revision,
        session_revision=session_revision,
        can_build=(
            membership.role in REVIEW_ROLES
            if choice.revision is not None
            else membership.can_edit
        ),
        start_form=form,
        can_model_form=schema_available(provider, MODEL),
        can_provider_form=schema_available(provider, PROVIDER),
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
    response = render_page(request, PAGE, context, status=status, partial=partial)
    # While a build runs, #try-pending polls the page and swaps only itself
    # (hx-select), so what is typed in the start form stays. Once the build
    # ended, the answer replaces the whole tab instead, offering the new build.
    if request.htmx and request.htmx.target == "try-pending" and not choice.pending:
        response["HX-Retarget"] = "#playground"
        response["HX-Reselect"] = "#playground"
        response["HX-Reswap"] = "outerHTML"
    return response


@require_GET
@login_required
def try_page(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    provider, membership = get_provider_for_user(request, provider_id)
    return _page(
        request, provider, membership, session_id=request.GET.get("session", "")
    )


@require_POST
@login_required
def start_form(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    """The start form again for what was typed (show_on, the model type, the
    form asked for): writes nothing, like the credentials tab's live preview."""
    provider, membership = get_provider_for_user(request, provider_id)
    return _page(request, provider, membership, posted=request.POST)


@require_POST
@login_required
def build_now(request: AuthedHttpRequest, provider_id: int) -> HttpResponse:
    """Queue a build of the draft (owners, authors) or of a revision's frozen
    files (`revision`: owners, authors, reviewers) to try once it succeeds."""
    provider, membership = get_provider_for_user(request, provider_id)
    number = request.POST.get("revision", "")
    revision = None
    if number:
        revision = Revision.objects.filter(
            provider=provider, number=whole_number(number, digits=9) or 0
        ).first()
        if revision is None:
            raise Http404("no such revision")
    allowed = (
        membership.role in REVIEW_ROLES if revision is not None else membership.can_edit
    )
    url = reverse("playground:try", kwargs={"provider_id": provider.pk})
    if revision is not None:
        url += f"?revision={revision.number}"
    if not allowed:
        return _page(
            request,
            provider,
            membership,
            posted=request.POST,
            notice=(
                f"A {membership.role} may not start builds here; "
                + (
                    "owners, authors and reviewers may build a revision."
                    if revision is not None
                    else "owners and authors may build the draft."
                )
            ),
            status=403,
        )
    try:
        build_start(
            provider=provider,
            user=request.user,
            smoke=False,
            source=revision.source if revision is not None else None,
        )
    except (QueueUnavailable, BuildInProgress) as error:
        return _page(
            request,
            provider,
            membership,
            posted=request.POST,
            notice=str(error),
            status=409 if isinstance(error, BuildInProgress) else 503,
        )
    return redirect_page(request, url)


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
    build_pk = whole_number(request.POST.get("build", ""))
    build = (
        runnable_builds().filter(provider=provider, pk=build_pk).first()
        if build_pk is not None
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
    model = model_type = ""
    if _start_form(provider, request.POST) == MODEL:
        preview = credential_preview(provider, MODEL, request.POST)
        model = request.POST.get(MODEL_NAME_INPUT, "").strip()
        model_type = preview.model_type
        if not model or len(model) > 255:
            return _page(
                request,
                provider,
                membership,
                posted=request.POST,
                notice=f"Type the {preview.model_label.lower()} of your model "
                "(at most 255 characters).",
                status=400,
            )
    target = "endpoint" if request.POST.get("target") == "endpoint" else "mock"
    try:
        started = client.start_session(
            owner=request.user.pk,
            build_id=build.pk,
            credentials=credentials,
            target=target,
            model_type=model_type,
            model=model,
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
