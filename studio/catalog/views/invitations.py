"""Opening an invitation link, and the open sign-up (off unless OPEN_SIGNUP).

The link page needs no login: a logged-in user joins with a button, a visitor
creates an account for the invited email (or logs in, then comes back). A
GET never uses the link up, so a mail scanner that follows it changes nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ..access import SESSION_TEAM
from ..forms.members import InvitationSignUpForm, SignUpForm
from ..models import Invitation, Membership
from ..selectors.members import invitation_by_token
from ..services import members as services

TEMPLATE = "catalog/invitation.html"


def _unusable(request: HttpRequest, state: str) -> HttpResponse:
    """A clear page for a link that cannot be used: 404 unknown, 410 used,
    revoked or expired."""
    return render(
        request,
        TEMPLATE,
        {"unusable": services.UNUSABLE_MESSAGES[state], "state": state},
        status=404 if state == "unknown" else 410,
    )


def _joined(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    request.session[SESSION_TEAM] = invitation.team_id
    messages.success(
        request, f"You joined {invitation.team.name} as {invitation.role}."
    )
    return redirect("catalog:provider-list")


@require_http_methods(["GET", "POST"])
@never_cache
def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_by_token(token)
    if invitation is None:
        return _unusable(request, "unknown")
    if not invitation.is_pending:
        return _unusable(request, invitation.state)
    context: dict[str, Any] = {"invitation": invitation, "path": request.path}
    if request.user.is_authenticated:
        return _for_user(request, token, invitation, context)
    return _for_visitor(request, token, invitation, context)


def _for_user(
    request: HttpRequest, token: str, invitation: Invitation, context: dict[str, Any]
) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # authenticated (the caller checked)
    member = Membership.objects.filter(team=invitation.team, user=user).first()
    problem = services.wrong_account_message(invitation, user)
    if member is not None:
        context["already"] = (
            f"You are already a member of {invitation.team.name} ({member.role})."
        )
        status = 409 if request.method == "POST" else 200
        return render(request, TEMPLATE, context, status=status)
    if problem:
        context["problem"] = problem
        return render(request, TEMPLATE, context, status=403)
    if request.method == "POST":
        try:
            invitation = services.invitation_accept(token=token, user=user)
        except services.InvitationUnusable as exc:
            return _unusable(request, exc.state)
        except (services.WrongAccount, services.AlreadyMember) as exc:
            context["problem"] = exc.message
            return render(request, TEMPLATE, context, status=409)
        return _joined(request, invitation)
    return render(request, TEMPLATE, context)


def _for_visitor(
    request: HttpRequest, token: str, invitation: Invitation, context: dict[str, Any]
) -> HttpResponse:
    context["login_url"] = f"{reverse('login')}?{urlencode({'next': request.path})}"
    if User.objects.filter(email__iexact=invitation.email).exists():
        context["account_exists"] = True
        status = 409 if request.method == "POST" else 200
        return render(request, TEMPLATE, context, status=status)
    form = InvitationSignUpForm(request.POST or None, email=invitation.email)
    context["form"] = form
    if request.method != "POST":
        return render(request, TEMPLATE, context)
    status = 400
    if form.is_valid():
        try:
            user, invitation = services.invitation_sign_up(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except services.InvitationUnusable as exc:
            return _unusable(request, exc.state)
        except ValidationError as exc:
            form.add_error("password1", exc)
        except services.AccountExists as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            login(request, user)
            return _joined(request, invitation)
    return render(request, TEMPLATE, context, status=status)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Anyone creates an account (no team) when OPEN_SIGNUP is on; else 404."""
    if not settings.OPEN_SIGNUP:
        raise Http404("Accounts are made by invitation.")
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                user = services.account_sign_up(
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password1"],
                )
            except ValidationError as exc:
                form.add_error("password1", exc)
            except (services.AccountExists, services.InvitationRefused) as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                login(request, user)
                messages.success(request, f"Welcome, {user.get_username()}.")
                return redirect("home")
    return render(request, "catalog/signup.html", {"form": form}, status=status)
