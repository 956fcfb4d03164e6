from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .access import current_membership, memberships_of


def teams(request: HttpRequest) -> dict[str, Any]:
    """The user's teams and current team, for the navigation's team switcher."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "nav_memberships": lambda: list(memberships_of(request)),  # type: ignore[arg-type]
        "nav_membership": lambda: current_membership(request),  # type: ignore[arg-type]
    }
