"""Who may do what in a team's reviews (services check it again after views)."""

from __future__ import annotations

from collections.abc import Collection

from django.contrib.auth.models import User

from studio.catalog.models import Membership, Team


class NotAllowed(Exception):
    """The user's role in the team does not allow this."""


def require_role(
    *, team: Team, user: User, roles: Collection[str], doing: str
) -> Membership:
    """The user's membership of `team` if its role is one of `roles`."""
    membership = Membership.objects.filter(team=team, user=user).first()
    if membership is None:
        raise NotAllowed(f"Only members of {team.name} can {doing}.")
    if membership.role not in roles:
        raise NotAllowed(f"Your role ({membership.role}) cannot {doing}.")
    return membership
