"""Reads of a team's people: members, pending invitations, an invitation's link."""

from __future__ import annotations

import hashlib
import hmac

from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from ..models import Invitation, Membership, Role, Team

# An invitation token is `secrets.token_urlsafe(32)`: 43 characters of
# [A-Za-z0-9_-]. Its first KEY_LENGTH characters are the row's lookup key.
TOKEN_LENGTH = 43
KEY_LENGTH = 12
_TOKEN_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)
ROLE_ORDER = [Role.OWNER, Role.AUTHOR, Role.REVIEWER, Role.VIEWER]


def invitation_hash(token: str) -> str:
    """The SHA-256 (hex) an invitation token is stored as."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_by_token(token: str, *, for_update: bool = False) -> Invitation | None:
    """The invitation a link's token names, in any state; None for a token the
    studio never issued (compared in constant time, like API tokens)."""
    if len(token) != TOKEN_LENGTH or not set(token) <= _TOKEN_CHARS:
        return None
    rows = Invitation.objects.select_related("team", "invited_by")
    if for_update:
        rows = rows.select_for_update(of=("self",))
    invitation = rows.filter(prefix=token[:KEY_LENGTH]).first()
    # Compare even when no row matched, so timing says nothing either way.
    expected = invitation.secret_hash if invitation else "0" * 64
    if not hmac.compare_digest(expected, invitation_hash(token)) or invitation is None:
        return None
    return invitation


def team_members(team: Team) -> list[Membership]:
    """The team's members, owners first, then by username."""
    rank = Case(
        *(When(role=role, then=Value(i)) for i, role in enumerate(ROLE_ORDER)),
        default=Value(len(ROLE_ORDER)),
        output_field=IntegerField(),
    )
    return list(
        Membership.objects.filter(team=team)
        .select_related("user")
        .annotate(role_rank=rank)
        .order_by("role_rank", "user__username")
    )


def pending_invitations(team: Team) -> list[Invitation]:
    """Invitations of the team that can still be accepted, newest first."""
    return list(
        Invitation.objects.filter(
            team=team,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).select_related("invited_by")
    )


def owner_count(team: Team) -> int:
    return Membership.objects.filter(team=team, role=Role.OWNER).count()
