"""A team's members page (Settings → Team): roles, removals, leaving, invitations."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studio.lib.http import AuthedHttpRequest, redirect_page, render_page

from ..access import get_team_membership_for_user
from ..forms.members import InviteForm, RoleForm
from ..models import Invitation, Membership, Role
from ..selectors import members as selectors
from ..services import members as services

TEMPLATE = "catalog/team_members.html"
OWNER_REASON = "Only an owner of the team manages its members and invitations."


def _get_membership_for_user(
    request: AuthedHttpRequest, team_slug: str, *, owner: bool = False
) -> Membership:
    """The user's membership of the team (404 if none); 403 unless an owner
    when `owner`."""
    return get_team_membership_for_user(
        request, team_slug, owner=owner, owner_reason=OWNER_REASON
    )


def _get_member_of_team(mine: Membership, membership_id: int) -> Membership:
    member = (
        Membership.objects.select_related("user", "team")
        .filter(pk=membership_id, team=mine.team)
        .first()
        if membership_id < 2**63
        else None
    )
    if member is None:
        raise Http404("No such member.")
    return member


def _get_invitation_of_team(mine: Membership, invitation_id: int) -> Invitation:
    invitation = (
        Invitation.objects.select_related("team")
        .filter(pk=invitation_id, team=mine.team)
        .first()
        if invitation_id < 2**63
        else None
    )
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation


def _context(mine: Membership, **extra: Any) -> dict[str, Any]:
    team = mine.team
    is_owner = mine.role == Role.OWNER
    return {
        "membership": mine,
        "team": team,
        "is_owner": is_owner,
        "members": selectors.team_members(team),
        "owner_count": selectors.owner_count(team),
        "role_choices": Role.choices,
        "invitations": selectors.pending_invitations(team) if is_owner else [],
        "invite_form": extra.pop("invite_form", None) or InviteForm(),
        **extra,
    }


def _render(
    request: AuthedHttpRequest,
    context: dict[str, Any],
    *,
    partial: str = "members",
    status: int = 200,
) -> HttpResponse:
    return render_page(request, TEMPLATE, context, partial=partial, status=status)


def _members_url(membership: Membership) -> str:
    return reverse("catalog:team-members", kwargs={"team_slug": membership.team.slug})


@require_GET
@login_required
def team_members(request: AuthedHttpRequest, team_slug: str) -> HttpResponse:
    mine = _get_membership_for_user(request, team_slug)
    return _render(request, _context(mine))


@require_POST
@login_required
def member_role(
    request: AuthedHttpRequest, team_slug: str, membership_id: int
) -> HttpResponse:
    mine = _get_membership_for_user(request, team_slug, owner=True)
    member = _get_member_of_team(mine, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _render(
            request, _context(mine, error="Choose one of the roles."), status=400
        )
    try:
        changed = services.membership_change_role(
            membership=member, role=form.cleaned_data["role"], by=request.user
        )
    except services.NotOwner as exc:  # demoted meanwhile
        return _render(request, _context(mine, error=exc.message), status=403)
    except services.MemberGone as exc:
        return _render(request, _context(mine, error=exc.message), status=404)
    except services.LastOwner as exc:
        return _render(request, _context(mine, error=exc.message), status=409)
    notice = f"{changed.user.get_username()} is now {changed.role}."
    if changed.user == request.user and changed.role != Role.OWNER:
        # No longer an owner: the page to show is a member's.
        messages.success(request, notice)
        return redirect_page(request, _members_url(mine))
    if not request.htmx:
        messages.success(request, notice)
        return redirect(_members_url(mine))
    mine.refresh_from_db()
    return _render(request, _context(mine, notice=notice))


@require_POST
@login_required
def member_remove(
    request: AuthedHttpRequest, team_slug: str, membership_id: int
) -> HttpResponse:
    mine = _get_membership_for_user(request, team_slug, owner=True)
    member = _get_member_of_team(mine, membership_id)
    try:
        services.membership_remove(membership=member, by=request.user)
    except services.NotOwner as exc:
        return _render(request, _context(mine, error=exc.message), status=403)
    except services.MemberGone as exc:
        return _render(request, _context(mine, error=exc.message), status=404)
    except services.LastOwner as exc:
        return _render(request, _context(mine, error=exc.message), status=409)
    if member.user == request.user:
        messages.success(request, f"You left {mine.team.name}.")
        return redirect_page(request, reverse("home"))
    notice = f"{member.user.get_username()} was removed from {mine.team.name}."
    if not request.htmx:
        messages.success(request, notice)
        return redirect(_members_url(mine))
    return _render(request, _context(mine, notice=notice))


@require_POST
@login_required
def member_leave(request: AuthedHttpRequest, team_slug: str) -> HttpResponse:
    mine = _get_membership_for_user(request, team_slug)
    try:
        services.membership_leave(membership=mine)
    except services.MemberGone:
        raise Http404("No such team.") from None
    except services.LastOwner as exc:
        return _render(request, _context(mine, error=exc.message), status=409)
    messages.success(request, f"You left {mine.team.name}.")
    return redirect_page(request, reverse("home"))


@require_POST
@login_required
def invitation_create(request: AuthedHttpRequest, team_slug: str) -> HttpResponse:
    mine = _get_membership_for_user(request, team_slug, owner=True)
    form = InviteForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            issued = services.invitation_create(
                team=mine.team,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                by=request.user,
            )
        except services.NotOwner as exc:
            form.add_error(None, exc.message)
            status = 403
        except services.InvitationRefused as exc:
            form.add_error("email", exc.message)
        except services.AlreadyMember as exc:
            form.add_error("email", exc.message)
            status = 409
        else:
            context = _context(
                mine,
                issued=issued,
                issued_url=request.build_absolute_uri(issued.path),
            )
            response = _render(request, context, partial="invitations")
            # The link is in this page only: never from a cache or the back button.
            response["Cache-Control"] = "no-store"
            return response
    return _render(
        request, _context(mine, invite_form=form), partial="invitations", status=status
    )


@require_POST
@login_required
def invitation_revoke(
    request: AuthedHttpRequest, team_slug: str, invitation_id: int
) -> HttpResponse:
    mine = _get_membership_for_user(request, team_slug, owner=True)
    invitation = _get_invitation_of_team(mine, invitation_id)
    status = 200
    try:
        services.invitation_revoke(invitation=invitation, by=request.user)
    except services.NotOwner as exc:
        context = _context(mine, invitation_error=exc.message)
        status = 403
    except services.NotPending as exc:
        context = _context(mine, invitation_error=exc.message)
        status = 409
    else:
        notice = f"The invitation to {invitation.email} was revoked."
        if not request.htmx:
            messages.success(request, notice)
            return redirect(_members_url(mine))
        context = _context(mine, invitation_notice=notice)
    return _render(request, context, partial="invitations", status=status)
