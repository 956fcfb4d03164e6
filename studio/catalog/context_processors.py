from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest

from studio.lib.http import AuthedHttpRequest

from .access import current_membership, memberships_of


def teams(request: HttpRequest) -> dict[str, Any]:
    """The user's teams and current team, for the navigation's team switcher."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    authed = cast(AuthedHttpRequest, request)  # its user is authenticated (above)
    return {
        "nav_memberships": lambda: list(memberships_of(authed)),
        "nav_membership": lambda: current_membership(authed),
    }
