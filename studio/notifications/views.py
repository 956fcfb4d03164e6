"""The notification list, opening one, marking read, and mail preferences."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studio.lib.http import AuthedHttpRequest, render_page

from . import selectors, services
from .forms import EmailPreferencesForm
from .models import Notification

PER_PAGE = 25


def _get_notification_for_user(
    request: AuthedHttpRequest, notification_id: int
) -> Notification:
    """One of the user's own notifications; anyone else's is a 404."""
    found = selectors.notifications_for(request.user).filter(pk=notification_id).first()
    if found is None:
        raise Http404("No such notification.")
    return found


def _page(request: AuthedHttpRequest, number: str | None) -> Page[Notification]:
    rows = selectors.notifications_for(request.user).select_related("team")
    paginator = Paginator(rows, PER_PAGE)
    return paginator.get_page(number)


def _list_context(request: AuthedHttpRequest, number: str | None) -> dict[str, Any]:
    page = _page(request, number)
    return {"page": page, "notifications": list(page.object_list)}


def _render_list(request: AuthedHttpRequest, number: str | None) -> HttpResponse:
    return render_page(
        request,
        "notifications/list.html",
        _list_context(request, number),
        partial="notifications",
    )


def _back_to_list(request: AuthedHttpRequest, number: str | None) -> HttpResponse:
    url = reverse("notifications:list")
    return redirect(f"{url}?page={number}" if number and number.isdigit() else url)


@require_GET
@login_required
def notification_list(request: AuthedHttpRequest) -> HttpResponse:
    return _render_list(request, request.GET.get("page"))


@require_GET
@login_required
def notification_open(request: AuthedHttpRequest, notification_id: int) -> HttpResponse:
    """Follow a notification's link, marking it read."""
    notification = _get_notification_for_user(request, notification_id)
    services.notification_mark_read(user=request.user, ids=[notification.pk])
    if not url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect("notifications:list")
    return redirect(notification.url)


@require_POST
@login_required
def notification_read(request: AuthedHttpRequest, notification_id: int) -> HttpResponse:
    notification = _get_notification_for_user(request, notification_id)
    services.notification_mark_read(user=request.user, ids=[notification.pk])
    number = request.POST.get("page")
    if not request.htmx:
        return _back_to_list(request, number)
    return _render_list(request, number)


@require_POST
@login_required
def notification_read_all(request: AuthedHttpRequest) -> HttpResponse:
    marked = services.notification_mark_read(user=request.user, ids="all")
    number = request.POST.get("page")
    if not request.htmx:
        messages.success(
            request, f"Marked {marked} notification{'s' if marked != 1 else ''} read."
        )
        return _back_to_list(request, number)
    return _render_list(request, number)


@require_http_methods(["GET", "POST"])
@login_required
def notification_settings(request: AuthedHttpRequest) -> HttpResponse:
    notice = ""
    status = 200
    if request.method == "POST":
        form = EmailPreferencesForm(request.POST)
        if form.is_valid():
            services.notification_preferences_update(
                user=request.user, email=form.email()
            )
            notice = "Saved: mail follows these choices from now on."
            if not request.htmx:
                messages.success(request, notice)
                return redirect("notifications:settings")
            form = EmailPreferencesForm(initial=form.email())
        else:
            status = 400
    else:
        form = EmailPreferencesForm(initial=services.email_preferences(request.user))
    context = {"form": form, "notice": notice, "address": request.user.email}
    return render_page(
        request,
        "notifications/settings.html",
        context,
        partial="preferences",
        status=status,
    )
