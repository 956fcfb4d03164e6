"""Background work of the API: thin wrappers around one service call each."""

from __future__ import annotations

import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)


@shared_task(name="studio.api.tasks.tokens_purge")
def tokens_purge() -> None:
    """Delete API tokens revoked or expired long ago (beat)."""
    count = services.tokens_purge()
    log.info(
        "upkeep: deleted %d old API token(s)",
        count,
        extra={"upkeep": "tokens_purge", "count": count},
    )
