"""The request type our views declare, and the htmx-aware responses they share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails


class AuthedHttpRequest(HttpRequest):
    """A request that went through login_required and django-htmx's middleware."""

    # django-stubs types HttpRequest.user as User | AnonymousUser; login_required
    # narrows it, which the type system cannot see.
    user: User
    htmx: HtmxDetails


def render_page(
    request: AuthedHttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str = "section",
    status: int = 200,
) -> HttpResponse:
    """Render the whole page, or only its `partial` block when htmx asks for it."""
    name = f"{template}#{partial}" if request.htmx else template
    return render(request, name, context, status=status)


def redirect_page(request: AuthedHttpRequest, url: str) -> HttpResponse:
    """Send the browser to `url`: a client redirect for htmx, a plain 302 otherwise."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def render_polling(
    request: AuthedHttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str,
    done: bool,
) -> HttpResponse:
    """Render like render_page; an htmx poll of a finished job also stops polling."""
    if request.htmx and done:
        html = render_to_string(f"{template}#{partial}", context, request=request)
        return HttpResponseStopPolling(html)
    return render_page(request, template, context, partial=partial)


def whole_number(text: str, *, digits: int = 18) -> int | None:
    """`text` as a non-negative whole number written in ASCII digits (at most
    `digits` of them), else None. Unlike `str.isdigit()` alone, a "²" (a
    digit to Unicode, not to `int`) is refused, not a ValueError later."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= digits:
        return int(text)
    return None
