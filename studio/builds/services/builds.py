"""Starting, cancelling, retrying, reaping and pruning builds.

The pipeline itself (what a worker does with a queued build) is in
`pipeline.py`. Everything here runs in the web process, the command line or
the worker's housekeeping, and owns its transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from studio.catalog.models import Provider
from studio.catalog.services import provider_files
from studio.lib import queue
from studio.lib.storage import stored_delete
from studio.pluginfmt.checksum import files_checksum
from studio.pluginfmt.package import write_zip
from studio.pluginfmt.yamlio import load_yaml

from ..models import WORKER_LOST, Build, BuildSource
from ..steps import StepStatus
from . import notices


class QueueUnavailable(queue.QueueUnavailable):
    """The broker cannot take the build now: nothing was queued, and `build`,
    when set, is the build marked failed because its publish failed after the
    commit."""

    def __init__(self, detail: str, build: Build | None = None) -> None:
        super().__init__(
            detail,
            kept=f"build {build.pk} was marked failed" if build else "",
            hint="Editing still works.",
            context={"build_id": build.pk} if build else None,
        )
        self.build = build


class BuildInProgress(Exception):
    """The provider already has a queued or running build."""

    def __init__(self, build: Build | None) -> None:
        which = f" (build {build.pk}, {build.status})" if build else ""
        super().__init__(
            f"A build of this provider is already in progress{which}; "
            "wait for it to end or cancel it."
        )
        self.build = build


class NotCancellable(Exception):
    """The build already ended."""


class NotRetryable(Exception):
    """Only a failed or cancelled build can be retried."""


# ---------------------------------------------------------------- start


def build_start(
    *,
    provider: Provider,
    user: User | None,
    smoke: bool = True,
    kind: str = Build.Kind.DEV,
    revision_label: str = "",
    release_notes: str = "",
    source: BuildSource | None = None,
    retry_of: Build | None = None,
) -> Build:
    """Snapshot the provider's files into a queued build and queue it.

    Refused with BuildInProgress while another build of the provider is
    queued or running, and with QueueUnavailable (no row left behind) when
    the broker cannot be reached.
    """
    builds_reap_stale()
    try:
        queue.require_broker()
    except queue.QueueUnavailable as exc:
        raise QueueUnavailable(exc.detail) from None
    try:
        with transaction.atomic():
            locked = Provider.objects.select_for_update().get(pk=provider.pk)
            active = Build.objects.filter(
                provider=locked, status__in=Build.ACTIVE
            ).first()
            if active is not None:
                raise BuildInProgress(active)
            build = Build.objects.create(
                provider=locked,
                team_id=locked.team_id,
                source=source or snapshot(locked),
                kind=kind,
                revision_label=revision_label,
                release_notes=release_notes,
                run_smoke=smoke,
                retry_of=retry_of,
                created_by=user,
            )
            build.plugin_version = build.source.plugin_version
            build.save(update_fields=["plugin_version"])
            publication = publish(build_id=build.pk, attempt=1)
    except IntegrityError:
        # Another request created the active build between our check and insert.
        raise BuildInProgress(
            Build.objects.filter(provider=provider, status__in=Build.ACTIVE).first()
        ) from None
    if publication.failed:
        build.refresh_from_db()
        raise QueueUnavailable(publication.error, build)
    return build


def snapshot(provider: Provider) -> BuildSource:
    """The provider's current files as a BuildSource (reused when unchanged)."""
    files = provider_files(provider)
    digest = files_checksum(files)
    existing = BuildSource.objects.filter(provider=provider, sha256=digest).first()
    if existing is not None:
        return existing
    order = sorted(files, key=lambda p: p.encode("utf-8", "surrogateescape"))
    return BuildSource.objects.create(
        provider=provider,
        sha256=digest,
        archive=write_zip((path, files[path]) for path in order),
        file_count=len(files),
        size=sum(len(c) for c in files.values()),
        plugin_version=_manifest_version(files.get("manifest.yaml", b"")),
    )


def _manifest_version(manifest: bytes) -> str:
    try:
        data = load_yaml(manifest).data
    except Exception:  # an unreadable manifest fails the verify step, not this
        return ""
    version = data.get("version") if isinstance(data, dict) else None
    return str(version)[:64] if version is not None else ""


def publish(*, build_id: int, attempt: int) -> queue.Publication:
    """Send the build's task once the transaction commits; should that fail,
    mark the build failed ("could not queue: ...")."""
    from ..tasks import build_run

    return queue.queue_after_commit(
        build_run,
        kwargs={"build_id": build_id, "attempt": attempt},
        on_failure=partial(_publish_failed, build_id=build_id),
    )


def _publish_failed(reason: str, *, build_id: int) -> None:
    Build.objects.filter(pk=build_id, status=Build.Status.QUEUED).update(
        status=Build.Status.FAILED, error=reason, finished_at=timezone.now()
    )


# ---------------------------------------------------------------- cancel, retry


def build_cancel(*, build: Build) -> Build:
    """Cancel a queued build now; ask a running one to stop at its next check."""
    with transaction.atomic():
        locked = Build.objects.select_for_update().get(pk=build.pk)
        if locked.status == Build.Status.QUEUED:
            locked.mark_cancelled("cancelled before a worker started it")
            locked.save(update_fields=["status", "error", "finished_at"])
        elif locked.status == Build.Status.RUNNING:
            locked.request_cancel()
            locked.save(update_fields=["cancel_requested_at"])
        else:
            raise NotCancellable(f"the build already {locked.status}")
    return locked


def build_retry(*, build: Build, user: User | None) -> Build:
    """A new build of the same files (and kind) as a failed or cancelled one."""
    if build.status not in (Build.Status.FAILED, Build.Status.CANCELLED):
        raise NotRetryable(f"a {build.status} build cannot be retried")
    return build_start(
        provider=build.provider,
        user=user,
        smoke=build.run_smoke,
        kind=build.kind,
        revision_label=build.revision_label,
        release_notes=build.release_notes,
        source=build.source,
        retry_of=build,
    )


# ---------------------------------------------------------------- reaper


def builds_reap_stale(
    *, now: datetime | None = None, dead_worker: str | None = None
) -> list[Build]:
    """Re-queue or fail running builds whose worker stopped sending heartbeats.

    A build counts as lost when its heartbeat is older than
    BUILD_STALE_SECONDS, or when `dead_worker` (a worker that just started
    under the same name) ran it. It is re-queued as its next attempt while
    attempts remain (BUILD_MAX_ATTEMPTS), else failed with "worker lost".
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.BUILD_STALE_SECONDS)
    lost = Q(status=Build.Status.RUNNING) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    if dead_worker:
        lost |= Q(status=Build.Status.RUNNING, worker_hostname=dead_worker)
    reaped = []
    for pk in Build.objects.filter(lost).values_list("pk", flat=True):
        with transaction.atomic():
            build = Build.objects.select_for_update().filter(pk=pk).first()
            if build is None or build.status != Build.Status.RUNNING:
                continue
            dead = bool(dead_worker) and build.worker_hostname == dead_worker
            if not dead and not build.is_stale(now, settings.BUILD_STALE_SECONDS):
                continue
            beat = build.heartbeat_at or build.started_at
            since = f"since {beat:%H:%M:%S}" if beat else "ever"
            reason = (
                f"{WORKER_LOST}: {build.worker_hostname or 'its worker'} stopped "
                f"during {current_step(build)} (no heartbeat {since})"
            )
            build_lost(build=build, reason=reason, now=now)
        reaped.append(build)
    return reaped


def current_step(build: Build) -> str:
    for step in build.step_records():
        if step.status == StepStatus.RUNNING:
            return f"the {step.name} step"
    return "the build"


def build_lost(*, build: Build, reason: str, now: datetime) -> None:
    """Handle a locked running build whose worker is gone (caller's transaction)."""
    if build.cancel_requested_at:
        _stop_running_steps(build, StepStatus.CANCELLED, reason)
        build.mark_cancelled(f"cancelled ({reason})", now)
        build.add_event(reason, now)
    elif build.attempt < settings.BUILD_MAX_ATTEMPTS:
        build.requeue(
            f"{reason}; re-queued as attempt {build.attempt + 1} of "
            f"{settings.BUILD_MAX_ATTEMPTS}",
            now,
        )
        publish(build_id=build.pk, attempt=build.attempt)
    else:
        _stop_running_steps(build, StepStatus.FAILED, reason)
        build.add_event(reason, now)
        build.mark_failed(
            f"{reason}; gave up after {build.attempt} attempt"
            f"{'s' if build.attempt != 1 else ''}",
            now,
        )
    build.save()
    notices.build_finished(build=build)


def _stop_running_steps(build: Build, status: StepStatus, reason: str) -> None:
    steps = build.step_records()
    for step in steps:
        if step.status == StepStatus.RUNNING:
            step.status = status
            step.say(reason)
    build.set_steps(steps)


# ---------------------------------------------------------------- pruning


def builds_prune(*, provider: Provider, keep: int | None = None) -> list[int]:
    """Delete dev artifacts of `provider` beyond the newest `keep`; never releases."""
    keep = max(1, settings.BUILD_DEV_ARTIFACTS_KEEP if keep is None else keep)
    with transaction.atomic():
        old = list(
            Build.objects.select_for_update()
            .filter(provider=provider, kind=Build.Kind.DEV)
            .exclude(artifact="")
            .order_by("-finished_at", "-id")[keep:]
        )
        names = [b.artifact.name for b in old if b.artifact.name]
        now = timezone.now()
        for build in old:
            build.mark_pruned(now)
            build.save(update_fields=["artifact", "pruned_at"])
        transaction.on_commit(partial(_delete_files, names))
    return [b.pk for b in old]


def builds_prune_all(*, keep: int | None = None) -> dict[int, list[int]]:
    """Prune every provider holding more than `keep` dev artifacts (beat's
    upkeep: a build prunes its own provider, but a lowered
    BUILD_DEV_ARTIFACTS_KEEP or a crash between build and prune leaves more).

    Returns the pruned build ids by provider id. Safe to run twice at once:
    `builds_prune` locks the provider's builds and re-reads them.
    """
    keep = max(1, settings.BUILD_DEV_ARTIFACTS_KEEP if keep is None else keep)
    crowded = (
        Build.objects.filter(kind=Build.Kind.DEV)
        .exclude(artifact="")
        .order_by()
        .values("provider")
        .annotate(n=Count("id"))
        .filter(n__gt=keep)
        .values_list("provider", flat=True)
    )
    pruned: dict[int, list[int]] = {}
    for provider in Provider.objects.filter(pk__in=list(crowded)).order_by("pk"):
        ids = builds_prune(provider=provider, keep=keep)
        if ids:
            pruned[provider.pk] = ids
    return pruned


def builds_delete_for_provider(provider: Provider) -> list[str]:
    """Prepare deleting `provider`: refuse while a build of it is queued or
    running (BuildInProgress), else delete its artifacts from storage once the
    caller's transaction commits. Its Build rows go with the provider (cascade).

    Call inside the transaction that deletes the provider, with the provider
    row locked (as `build_start` locks it). Returns the storage names.
    """
    active = Build.objects.filter(provider=provider, status__in=Build.ACTIVE).first()
    if active is not None:
        raise BuildInProgress(active)
    names = list(
        Build.objects.filter(provider=provider)
        .exclude(artifact="")
        .values_list("artifact", flat=True)
    )
    if names:
        transaction.on_commit(partial(_delete_files, names))
    return names


def _delete_files(names: list[str]) -> None:
    # A file that cannot be deleted is logged and left: the rows are gone.
    stored_delete(names)


# ---------------------------------------------------------------- waiting


class WaitTimedOut(Exception):
    """The build did not end within the time given."""


def build_wait(*, build: Build, timeout: float, interval: float = 0.5) -> Build:
    """Poll `build` until it ends (reaping lost workers meanwhile)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        build.refresh_from_db()
        if build.status == Build.Status.RUNNING:
            builds_reap_stale()
            build.refresh_from_db()
        if build.is_finished:
            return build
        if time.monotonic() > deadline:
            raise WaitTimedOut(
                f"build {build.pk} still {build.status} after {timeout:g} s"
            )
        time.sleep(interval)
