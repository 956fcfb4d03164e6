"""Token pages in the browser: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from studio.lib.http import AuthedHttpRequest, render_page

from . import services
from .forms import TokenForm
from .models import ApiToken

TEMPLATE = "api/tokens.html"


def _get_token_for_user(request: AuthedHttpRequest, token_id: int) -> ApiToken:
    """A token the user manages (their own, or one of a team they own); 404
    for any other, existing or not."""
    token = (
        ApiToken.objects.select_related("team").filter(pk=token_id).first()
        if token_id < 2**63
        else None
    )
    if token is None or not services.can_manage(token, request.user):
        raise Http404("No such token.")
    return token


def _context(request: AuthedHttpRequest, **extra: Any) -> dict[str, Any]:
    form = extra.pop("form", None) or TokenForm(user=request.user)
    return {
        "form": form,
        "tokens": services.tokens_for_user(request.user),
        "api_base": request.build_absolute_uri("/api/v1/"),
        **extra,
    }


def _render(
    request: AuthedHttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render_page(request, TEMPLATE, context, partial="tokens", status=status)


@require_GET
@login_required
def token_list(request: AuthedHttpRequest) -> HttpResponse:
    return _render(request, _context(request))


@require_POST
@login_required
def token_create(request: AuthedHttpRequest) -> HttpResponse:
    form = TokenForm(request.POST, user=request.user)
    if not form.is_valid():
        return _render(request, _context(request, form=form), status=400)
    membership = form.cleaned_data["membership"]
    try:
        issued = services.token_create(
            team=membership.team,
            created_by=request.user,
            kind=form.cleaned_data["kind"],
            name=form.cleaned_data["name"],
            role=form.cleaned_data.get("role") or "",
            expires_at=form.expires_at(),
        )
    except services.TokenNotAllowed as exc:
        form.add_error(None, str(exc))
        return _render(request, _context(request, form=form), status=403)
    response = _render(request, _context(request, issued=issued))
    # The secret is in this page only: never from a cache or the back button.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def token_revoke(request: AuthedHttpRequest, token_id: int) -> HttpResponse:
    token = _get_token_for_user(request, token_id)
    token = services.token_revoke(token=token, by=request.user)
    message = f"Token {token.name} ({token.prefix}…) revoked."
    if request.htmx:
        return _render(request, _context(request, notice=message))
    messages.success(request, message)
    return redirect("tokens:token-list")
