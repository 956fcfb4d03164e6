"""The token's team: its members, and invitations (owners' personal tokens)."""

from __future__ import annotations

from typing import Literal

from django.contrib.auth.models import User
from django.db.models import Q
from django.http import HttpResponse
from django.utils import timezone

from studio.catalog.models import Invitation, Membership, Role
from studio.catalog.services import members as member_services

from ..errors import ApiError, not_found
from ..pagination import PageQuery, paginate
from ..routing import ApiRequest, operation
from ..schemas import (
    InvitationCreate,
    InvitationCreated,
    InvitationOut,
    InvitationPage,
    InvitationRevoke,
    MemberOut,
    MemberPage,
)
from .lookups import MAX_ID, reply


class InvitationQuery(PageQuery):
    state: Literal["pending", "accepted", "revoked", "expired"] | None = None


def _owner(request: ApiRequest) -> User:
    """The owner a token acts as; 403 for any other token (team tokens too)."""
    actor = request.actor
    if actor.role != Role.OWNER or actor.user is None:
        raise ApiError(
            "forbidden",
            f"Only an owner of {actor.team.slug} manages invitations: use a "
            f"personal token of an owner (this token's role is {actor.role}).",
        )
    return actor.user


def _name(user: User | None) -> str | None:
    return user.get_username() if user else None


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.pk,
        email=invitation.email,
        role=invitation.role,
        state=invitation.state,
        invited_by=_name(invitation.invited_by),
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        accepted_at=invitation.accepted_at,
        accepted_by=_name(invitation.accepted_by),
        revoked_at=invitation.revoked_at,
    )


@operation(
    "GET",
    summary="List the team's members",
    tag="members",
    query=PageQuery,
    responses={200: MemberPage},
)
def member_list(request: ApiRequest, *, query: PageQuery) -> HttpResponse:
    """The members of the token's team with role, join date and last activity,
    in the order they joined."""
    members = Membership.objects.filter(team=request.actor.team).select_related("user")
    page = paginate(request, members, query, ["id"])
    return reply(
        MemberPage(
            items=[
                MemberOut(
                    username=m.user.get_username(),
                    name=m.user.get_full_name(),
                    email=m.user.email,
                    role=m.role,
                    joined_at=m.created_at,
                    last_active_at=m.last_active_at,
                )
                for m in page.items
            ],
            **page.meta(),
        )
    )


@operation(
    "GET",
    summary="List the team's invitations",
    tag="members",
    query=InvitationQuery,
    responses={200: InvitationPage},
    errors=(403,),
)
def invitation_list(request: ApiRequest, *, query: InvitationQuery) -> HttpResponse:
    """Invitations of the token's team, newest first (`?state=pending` for
    those that can still be accepted). Owners only."""
    _owner(request)
    now = timezone.now()
    invitations = Invitation.objects.filter(team=request.actor.team).select_related(
        "invited_by", "accepted_by"
    )
    open_ = Q(accepted_at__isnull=True, revoked_at__isnull=True)
    if query.state == "pending":
        invitations = invitations.filter(open_, expires_at__gt=now)
    elif query.state == "expired":
        invitations = invitations.filter(open_, expires_at__lte=now)
    elif query.state == "accepted":
        invitations = invitations.filter(accepted_at__isnull=False)
    elif query.state == "revoked":
        invitations = invitations.filter(revoked_at__isnull=False)
    page = paginate(request, invitations, query, ["-id"])
    return reply(
        InvitationPage(items=[invitation_out(i) for i in page.items], **page.meta())
    )


@operation(
    "POST",
    summary="Invite someone to the team",
    tag="members",
    body=InvitationCreate,
    responses={201: InvitationCreated},
    errors=(409,),
    write=True,
)
def invitation_create(request: ApiRequest, *, body: InvitationCreate) -> HttpResponse:
    """Invite `email` with `role`: the answer holds the link (`url`), returned
    only this once, and the link is mailed unless `mail` is false. A pending
    invitation to the same address is revoked. 409 when the address is a
    member already. Owners only (a personal token of an owner)."""
    owner = _owner(request)
    try:
        issued = member_services.invitation_create(
            team=request.actor.team,
            email=body.email,
            role=body.role,
            by=owner,
            mail=body.mail,
        )
    except member_services.InvitationRefused as exc:
        raise ApiError("invalid_request", exc.message) from None
    except member_services.AlreadyMember as exc:
        raise ApiError("conflict", exc.message) from None
    except member_services.NotOwner as exc:
        raise ApiError("forbidden", exc.message) from None
    out = invitation_out(issued.invitation)
    response = reply(InvitationCreated(**out.model_dump(), url=issued.url), status=201)
    response["Cache-Control"] = "no-store"
    return response


@operation(
    "POST",
    summary="Revoke an invitation",
    tag="members",
    body=InvitationRevoke,
    responses={200: InvitationOut},
    errors=(404, 409),
    write=True,
)
def invitation_revoke(
    request: ApiRequest, invitation_id: int, *, body: InvitationRevoke
) -> HttpResponse:
    """Revoke a pending invitation: its link stops working. 409 when it was
    accepted, revoked or expired already. Owners only."""
    invitation = (
        Invitation.objects.select_related("team")
        .filter(pk=invitation_id, team=request.actor.team)
        .first()
        if invitation_id <= MAX_ID
        else None
    )
    if invitation is None:
        raise not_found("invitation")
    owner = _owner(request)
    try:
        revoked = member_services.invitation_revoke(invitation=invitation, by=owner)
    except member_services.NotPending as exc:
        raise ApiError("conflict", exc.message) from None
    except member_services.NotOwner as exc:
        raise ApiError("forbidden", exc.message) from None
    return reply(invitation_out(revoked))
