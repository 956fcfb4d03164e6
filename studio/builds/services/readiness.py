"""The Marketplace pre-check of a succeeded build (docs/marketplace.md).

It runs on a worker, never in a request: the install test installs the
requirements and starts the plugin, which takes seconds (a minute when the
virtualenv is new). A build that succeeds queues it (`after_build`); anyone
who may build the provider can run it again (`marketplace_check_start`),
for instance after a release raised the version it is compared with.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from studio.lib import queue
from studio.pluginfmt import package as packaging
from studio.pluginfmt.files import UnsafeInput
from studio.pluginfmt.precheck import precheck
from studio.pluginfmt.precheck.manifest import version_key
from studio.pluginfmt.verify import findings_to_json

from ..models import Build, MarketplaceCheck

log = logging.getLogger(__name__)


class NotCheckable(Exception):
    """Only a succeeded build has a package to pre-check."""


def marketplace_check_start(
    *, build: Build, user: User | None, require_queue: bool = True
) -> MarketplaceCheck:
    """Queue the build's Marketplace pre-check (again); return its row.

    A check already queued or running is returned as it is, unless it is
    stale. Raises NotCheckable for a build that did not succeed, and
    QueueUnavailable (nothing saved) when the broker is down and
    `require_queue` (the worker that just built it skips the ping).
    """
    if build.status != Build.Status.SUCCEEDED:
        raise NotCheckable(
            f"build {build.pk} is {build.status}; only a succeeded build is checked"
        )
    if require_queue:
        queue.require_broker()
    now = timezone.now()
    with transaction.atomic():
        check = MarketplaceCheck.objects.select_for_update().filter(build=build).first()
        stale = settings.MARKETPLACE_CHECK_STALE_SECONDS
        if check is not None and check.is_active and not check.is_stale(now, stale):
            return check
        if check is None:
            check = MarketplaceCheck(build=build)
        check.requeue(user=user, now=now)
        check.save()
        publication = _publish(check)
    if publication.failed:
        check.refresh_from_db()
        if require_queue:
            raise queue.QueueUnavailable(
                publication.error,
                kept=f"the Marketplace check of build {build.pk} was marked failed",
                context={"build_id": build.pk},
            )
    return check


def after_build(build: Build) -> MarketplaceCheck | None:
    """Queue the pre-check of a build that just succeeded (if the setting says so).

    Called by the worker that ran the build; the build stands whatever
    happens here, so any error is logged, not raised.
    """
    if not settings.MARKETPLACE_CHECK_AFTER_BUILD:
        return None
    try:
        return marketplace_check_start(
            build=build, user=build.created_by, require_queue=False
        )
    except Exception:
        log.exception("build %s: queueing the Marketplace check failed", build.pk)
        return None


def _publish(check: MarketplaceCheck) -> queue.Publication:
    from ..tasks import marketplace_check_run

    return queue.queue_after_commit(
        marketplace_check_run,
        kwargs={"check_id": check.pk, "attempt": check.attempt},
        on_failure=partial(_publish_failed, check_id=check.pk, attempt=check.attempt),
    )


def _publish_failed(reason: str, *, check_id: int, attempt: int) -> None:
    MarketplaceCheck.objects.filter(
        pk=check_id, attempt=attempt, status=MarketplaceCheck.Status.QUEUED
    ).update(
        status=MarketplaceCheck.Status.FAILED,
        error=reason,
        finished_at=timezone.now(),
    )


def released_versions(build: Build) -> list[str]:
    """Versions of the provider's releases made before this build."""
    return list(
        Build.objects.filter(
            provider_id=build.provider_id,
            kind=Build.Kind.RELEASE,
            status=Build.Status.SUCCEEDED,
            created_at__lt=build.created_at,
        )
        .exclude(pk=build.pk)
        .exclude(plugin_version="")
        .values_list("plugin_version", flat=True)
    )


def last_release(versions: list[str]) -> str:
    """The greatest of these versions ("" when none reads as a version)."""
    known = [(key, v) for v in versions if (key := version_key(v)) is not None]
    return max(known)[1] if known else ""


def _package(build: Build) -> bytes:
    # The stored artifact when it is still there; a pruned dev build's package
    # is made again from its source (the same files, only unsigned).
    if build.artifact.name:
        try:
            with default_storage.open(build.artifact.name, "rb") as stored:
                return bytes(stored.read())
        except FileNotFoundError:
            pass
    return packaging.package(build.source.files())


def marketplace_check_run(*, check_id: int, attempt: int) -> MarketplaceCheck | None:
    """Run one attempt of a queued pre-check (a worker's task).

    A message for a check that is not queued as that attempt (re-queued
    since, or already run) is ignored.
    """
    now = timezone.now()
    claimed = MarketplaceCheck.objects.filter(
        pk=check_id, attempt=attempt, status=MarketplaceCheck.Status.QUEUED
    ).update(status=MarketplaceCheck.Status.RUNNING, started_at=now)
    if not claimed:
        return None
    check = MarketplaceCheck.objects.select_related("build__source").get(pk=check_id)
    build = check.build
    versions = released_versions(build)
    try:
        report = precheck(
            _package(build),
            released_versions=versions,
            cache_dir=Path(settings.SMOKE_VENV_DIR),
            memory_limit_mb=settings.BUILD_SMOKE_MEMORY_MB,
        )
    except (UnsafeInput, OSError, ValueError, packaging.PackageTooLarge) as exc:
        check.mark_failed(f"the package could not be checked: {exc}")
    except Exception as exc:
        log.exception("marketplace check %s crashed", check_id)
        check.mark_failed(f"internal error: {type(exc).__name__}: {exc}")
    else:
        check.record(
            findings=findings_to_json(report.findings),
            install=report.install.as_dict() if report.install else {},
            compared_with=last_release(versions),
        )
    fields = [
        "status",
        "findings",
        "install",
        "blocking_count",
        "advisory_count",
        "compared_with",
        "error",
        "finished_at",
    ]
    written = MarketplaceCheck.objects.filter(
        pk=check_id, attempt=attempt, status=MarketplaceCheck.Status.RUNNING
    ).update(**{name: getattr(check, name) for name in fields})
    if not written:
        log.info("marketplace check %s: re-queued while it ran; dropped", check_id)
        return None
    return check
