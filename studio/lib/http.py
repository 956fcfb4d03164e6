"""The request type our views declare."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails


class AuthedHttpRequest(HttpRequest):
    """A request that went through login_required and django-htmx's middleware."""

    user: User  # type: ignore[assignment]
    htmx: HtmxDetails
