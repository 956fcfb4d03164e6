"""Login throttling: django-axes wired to the studio (settings under "accounts").

One authentication backend does both jobs, axes' lockout check and Django's
password check, so code that logs a user in with `login(request, user)` (a
sign-up) still finds a single backend and needs no `backend=` argument.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.backends import AxesBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .text import duration_text


class ThrottledModelBackend(AxesBackend):
    """Django's ModelBackend, refusing a username and address that are locked out."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        # A login form always passes its request. Without one the caller is
        # code in this process (the test client's login(), a shell), not a
        # client that could guess passwords, and there is no address to count.
        if request is not None:
            # Raises AxesBackendPermissionDenied when locked out; Django's
            # authenticate() turns that into a failed login.
            super().authenticate(request, username, password, **kwargs)
        return ModelBackend.authenticate(self, request, username, password, **kwargs)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For behind proxies."""
    proxies = settings.LOGIN_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            address.strip()
            for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if address.strip()
        ]
        # Each proxy appends the address it saw; only the last `proxies`
        # entries were written by ours, anything before them by the client.
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page a locked-out login gets instead of the login form (HTTP 429)."""
    cooloff: timedelta = settings.AXES_COOLOFF_TIME
    wait = duration_text(cooloff)
    response = render(
        request,
        "registration/locked_out.html",
        {
            "message": f"Too many failed logins for this account; try again in {wait}.",
            "wait": wait,
        },
        status=429,
    )
    # Each further try restarts the wait, so this holds from now.
    response["Retry-After"] = str(int(cooloff.total_seconds()))
    return response
