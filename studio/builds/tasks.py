"""Background work of builds: the build task, and the reaper a worker runs.

A worker that starts reaps at once (builds its previous incarnation left
running are failed or re-queued), then every half BUILD_STALE_SECONDS in a
thread of its main process, so a build whose worker died is handled within
about 1.5 times BUILD_STALE_SECONDS as long as any worker is up; pages and the
command line reap lazily too. It also pre-warms the SDK virtualenv of a new
plugin in another thread (SDK_VENV_PREWARM), serving tasks meanwhile.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections, connection

from . import services

log = logging.getLogger(__name__)


@shared_task(bind=True, name="studio.builds.tasks.build_run")
def build_run(self: Task, *, build_id: int, attempt: int = 1) -> None:
    """Run one attempt of a queued build (queue `builds`)."""
    worker = self.request.hostname or socket.gethostname()
    services.build_run(
        build_id=build_id, attempt=attempt, worker=worker, pid=os.getpid()
    )


@shared_task(name="studio.builds.tasks.marketplace_check_run")
def marketplace_check_run(*, check_id: int, attempt: int) -> None:
    """Run one attempt of a build's Marketplace pre-check (queue `builds`)."""
    services.marketplace_check_run(check_id=check_id, attempt=attempt)


_stop_reaping = threading.Event()


def reap_once(dead_worker: str | None = None) -> None:
    close_old_connections()
    try:
        reaped = services.builds_reap_stale(dead_worker=dead_worker)
    except Exception:  # the database may be briefly away; try again next round
        log.exception("reaping stale builds failed")
    else:
        for build in reaped:
            log.warning("build %s: worker lost; now %s", build.pk, build.status)
    finally:
        connection.close()


def _reap_forever() -> None:
    interval = max(1.0, settings.BUILD_STALE_SECONDS / 2)
    while not _stop_reaping.wait(interval):
        reap_once()


@worker_ready.connect
def _reap_on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    hostname = getattr(sender, "hostname", None)
    reap_once(dead_worker=hostname)
    _stop_reaping.clear()
    threading.Thread(target=_reap_forever, name="build-reaper", daemon=True).start()


@worker_ready.connect
def _prewarm_on_worker_ready(**kwargs: Any) -> threading.Thread | None:
    """Build the default SDK venv in the background; the worker serves at once."""
    if not settings.SDK_VENV_PREWARM:
        return None
    thread = threading.Thread(
        target=services.sdk_venv_prewarm, name="sdk-venv-prewarm", daemon=True
    )
    thread.start()
    return thread


@worker_shutdown.connect
def _stop_reaper(**kwargs: Any) -> None:
    _stop_reaping.set()


# ---------------------------------------------------------------- beat's upkeep


@shared_task(name="studio.builds.tasks.builds_reap")
def builds_reap() -> None:
    """Re-queue or fail running builds whose worker vanished (beat)."""
    reaped = services.builds_reap_stale()
    log.info(
        "upkeep: reaped %d stale build(s)%s",
        len(reaped),
        f": {[b.pk for b in reaped]}" if reaped else "",
        extra={"upkeep": "builds_reap", "count": len(reaped)},
    )


@shared_task(name="studio.builds.tasks.builds_prune_all")
def builds_prune_all() -> None:
    """Delete dev artifacts beyond BUILD_DEV_ARTIFACTS_KEEP, every provider (beat)."""
    pruned = services.builds_prune_all()
    count = sum(len(ids) for ids in pruned.values())
    log.info(
        "upkeep: pruned %d dev artifact(s) of %d provider(s)",
        count,
        len(pruned),
        extra={"upkeep": "builds_prune_all", "count": count},
    )


@shared_task(name="studio.builds.tasks.sdk_venvs_evict")
def sdk_venvs_evict() -> None:
    """Evict this machine's least recently used SDK venvs above the cap (beat)."""
    evicted = services.sdk_venvs_evict()
    log.info(
        "upkeep: evicted %d SDK virtualenv(s)%s",
        len(evicted),
        f": {evicted}" if evicted else "",
        extra={"upkeep": "sdk_venvs_evict", "count": len(evicted)},
    )
