"""Record when members were last active, for the members page.

One UPDATE of the user's memberships at most every ACTIVITY_EVERY per session
(the time of the last one is kept in the session), not one per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import Membership

ACTIVITY_EVERY = 300  # seconds
SESSION_ACTIVITY = "activity_at"


def membership_activity(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or session is None or not user.is_authenticated:
            return response
        now = time.time()
        last = session.get(SESSION_ACTIVITY)
        if not isinstance(last, (int, float)) or now - last >= ACTIVITY_EVERY:
            Membership.objects.filter(user=user).update(last_active_at=timezone.now())
            session[SESSION_ACTIVITY] = now
        return response

    return middleware
