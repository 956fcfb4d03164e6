"""The inbox: revisions waiting for you, and yours."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from studio.lib.http import AuthedHttpRequest, render_page

from .. import selectors


@require_GET
@login_required
def inbox(request: AuthedHttpRequest) -> HttpResponse:
    context = {"inbox": selectors.inbox_for_user(request.user)}
    return render_page(request, "reviews/inbox.html", context, partial="inbox")
