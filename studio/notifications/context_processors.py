from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .selectors import unread_count

_CACHE = "_notifications_unread"


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The bell's unread count: counted only when a template shows it, and
    once per request however many templates do."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def unread() -> int:
        if not hasattr(request, _CACHE):
            setattr(request, _CACHE, unread_count(user))
        count: int = getattr(request, _CACHE)
        return count

    return {"nav_unread": unread}
