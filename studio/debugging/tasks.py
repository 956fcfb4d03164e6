"""The worker side of a remote-debugging session (queue `builds`)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(
    name="studio.debugging.tasks.debug_session_run",
    soft_time_limit=settings.DEBUG_SESSION_MAX_SECONDS + 60,
    time_limit=settings.DEBUG_SESSION_MAX_SECONDS + 120,
)
def debug_session_run(*, session_id: int) -> None:
    """Own the plugin process of one session until it ends."""
    services.debug_session_run(session_id=session_id)
