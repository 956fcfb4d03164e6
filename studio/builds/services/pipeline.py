"""What a worker does with a queued build: render → verify → package → sign →
smoke → store, each step timed and logged on the Build row.

A worker owns a build while the row says `running` with the worker's attempt
number: every write is a conditional UPDATE on (id, attempt, running), so a
worker that was given up on (its build re-queued or failed by the reaper)
notices at its next write and stops without touching anything again.
Between steps, and every heartbeat interval during a step, the worker
refreshes `heartbeat_at` and looks for a cancel request.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from studio.lib import metrics
from studio.lib.storage import stored_delete
from studio.pluginfmt import checksum as checksums
from studio.pluginfmt import package as packaging
from studio.pluginfmt import signing
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.render import render_tree
from studio.pluginfmt.verify import findings_to_json, severity_counts, verify
from studio.pluginfmt.yamlio import YamlError, load_yaml

from ..keys import KeyUnreadable, decrypt_private_key
from ..models import (
    WORKER_LOST,
    Build,
    SigningKey,
    artifact_filename,
    artifact_path,
)
from ..steps import StepName, StepRecord, StepStatus
from . import builds as build_services
from . import notices, readiness
from .venvs import sdk_venv_options

log = logging.getLogger(__name__)

# Our key is not Dify's: `langgenius` would claim the plugin is Dify's own and
# `partner` a Marketplace partnership. `community` is the honest category, and
# the daemon's third-party verification accepts any category the key signed.
SIGNING_CATEGORY = "community"


class StepFailed(Exception):
    """A step found the build cannot go on; the message says why."""


class LostOwnership(Exception):
    """The build is no longer ours (re-queued, failed by the reaper, or gone)."""


class CancelRequested(Exception):
    """Someone asked to cancel the build."""


@dataclass
class SmokeOutcome:
    """What the smoke step reports back to the pipeline."""

    status: Literal["passed", "failed", "skipped"]
    summary: str
    report: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def heartbeat_seconds() -> float:
    """How often a running build proves it is alive: well inside the stale limit."""
    return max(0.5, min(10.0, settings.BUILD_STALE_SECONDS / 4))


# ---------------------------------------------------------------- entry point


def build_run(
    *, build_id: int, attempt: int, worker: str, pid: int | None = None
) -> Build | None:
    """Run the queued build `build_id` as its attempt `attempt` on this worker.

    A message for a build that is not queued as that attempt (finished,
    cancelled, or re-queued as a later attempt) is ignored; so is a second
    delivery while the first worker is alive. A redelivery on the same worker
    whose process died (a killed pool child) takes the build over at once.
    """
    pid = os.getpid() if pid is None else pid
    build = _claim(build_id=build_id, attempt=attempt, worker=worker, pid=pid)
    if build is None:
        return None
    _Run(build).run()
    return Build.objects.filter(pk=build_id).first()


def _claim(*, build_id: int, attempt: int, worker: str, pid: int) -> Build | None:
    now = timezone.now()
    with transaction.atomic():
        build = Build.objects.select_for_update().filter(pk=build_id).first()
        if build is None or build.attempt != attempt:
            return None
        if build.status == Build.Status.RUNNING:
            if not _owner_is_dead(build, worker):
                log.info(
                    "build %s: already running on %s", build_id, build.worker_hostname
                )
                return None
            reason = (
                f"{WORKER_LOST}: process {build.worker_pid} on "
                f"{build.worker_hostname} died during "
                f"{build_services.current_step(build)}"
            )
            if build.attempt >= settings.BUILD_MAX_ATTEMPTS:
                build_services.build_lost(build=build, reason=reason, now=now)
                return None
            # Take it over here and now: this delivery is the re-run.
            build.requeue(
                f"{reason}; re-run as attempt {build.attempt + 1} of "
                f"{settings.BUILD_MAX_ATTEMPTS}",
                now,
            )
        if build.status != Build.Status.QUEUED:
            return None
        if build.cancel_requested_at:
            build.mark_cancelled("cancelled before a worker started it", now)
            build.save()
            return None
        build.mark_running(worker=worker, pid=pid, now=now)
        build.save()
    return build


def _owner_is_dead(build: Build, worker: str) -> bool:
    """Whether the process recorded on the build is certainly gone.

    Only knowable on the same worker (same node name, so the same machine);
    elsewhere the reaper decides from the heartbeat.
    """
    if build.worker_hostname != worker or not build.worker_pid:
        return False
    if build.worker_pid == os.getpid():
        return False
    try:
        os.kill(build.worker_pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# ---------------------------------------------------------------- the run


class _Run:
    def __init__(self, build: Build) -> None:
        self.build = build
        self.steps = build.step_records()
        self.files: PluginFiles = {}
        self.manifest: dict[str, Any] = {}
        self.package = b""
        self.cancel = threading.Event()
        self.last_beat = time.monotonic()
        # Fields a step set on the build, saved when the step ends.
        self.changed: list[str] = []

    # ---- persistence

    def save(self, *fields: str) -> None:
        """Write `fields` (and steps, heartbeat) if the build is still ours."""
        build = self.build
        build.heartbeat_at = timezone.now()
        build.set_steps(self.steps)
        names = {*fields, "steps", "heartbeat_at"}
        values = {name: getattr(build, name) for name in names}
        updated = Build.objects.filter(
            pk=build.pk, attempt=build.attempt, status=Build.Status.RUNNING
        ).update(**values)
        if not updated:
            raise LostOwnership
        self.last_beat = time.monotonic()

    def beat(self) -> None:
        """Refresh the heartbeat and read cancel requests (ownership checked)."""
        now = timezone.now()
        updated = Build.objects.filter(
            pk=self.build.pk, attempt=self.build.attempt, status=Build.Status.RUNNING
        ).update(heartbeat_at=now)
        if not updated:
            raise LostOwnership
        self.build.heartbeat_at = now
        self.last_beat = time.monotonic()
        requested = (
            Build.objects.filter(pk=self.build.pk)
            .values_list("cancel_requested_at", flat=True)
            .first()
        )
        if requested:
            self.cancel.set()

    # ---- driving the steps

    def run(self) -> None:
        try:
            for step in self.steps:
                self.beat()
                if self.cancel.is_set():
                    raise CancelRequested
                self.run_step(step)
            self.finish_succeeded()
        except LostOwnership:
            log.warning("build %s: no longer ours; stopping", self.build.pk)
            self.discard_artifact()
        except CancelRequested:
            self.finish(Build.Status.CANCELLED, "cancelled while it ran")
        except StepFailed as exc:
            self.finish(Build.Status.FAILED, str(exc))
        except Exception as exc:
            log.exception("build %s crashed", self.build.pk)
            self.finish(
                Build.Status.FAILED, f"internal error: {type(exc).__name__}: {exc}"
            )

    def run_step(self, step: StepRecord) -> None:
        action: Callable[[StepRecord], StepStatus] = getattr(self, f"step_{step.name}")
        started = time.monotonic()
        step.start(timezone.now())
        self.save()
        try:
            status = action(step)
        except CancelRequested:
            self.end_step(step, StepStatus.CANCELLED, started)
            step.say("cancelled")
            raise
        except StepFailed as exc:
            step.say(str(exc))
            self.end_step(step, StepStatus.FAILED, started)
            raise
        except LostOwnership:
            raise
        except Exception as exc:
            step.say(f"internal error: {type(exc).__name__}: {exc}")
            self.end_step(step, StepStatus.FAILED, started)
            raise
        self.end_step(step, status, started)
        self.save(*self.changed)
        self.changed = []

    def end_step(self, step: StepRecord, status: StepStatus, started: float) -> None:
        elapsed = int((time.monotonic() - started) * 1000)
        step.finish(status, timezone.now(), elapsed_ms=elapsed)
        log.info(
            "build %s: step %s %s in %s ms",
            self.build.pk,
            step.name,
            status,
            elapsed,
            extra={
                "build_id": self.build.pk,
                "step": str(step.name),
                "status": str(status),
                "duration_ms": elapsed,
            },
        )
        if step.name == StepName.SMOKE and status in (
            StepStatus.PASSED,
            StepStatus.FAILED,
        ):
            metrics.SMOKE_DURATION.observe(elapsed / 1000, status=str(status))

    def watched(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` in a thread while this one keeps the heartbeat and watches
        for cancel requests (abandoning `fn` if the build is cancelled)."""
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # handed back to the caller below
                box["error"] = exc

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        interval = heartbeat_seconds()
        while thread.is_alive():
            thread.join(timeout=min(0.25, interval))
            if time.monotonic() - self.last_beat >= interval:
                self.beat()
                if self.cancel.is_set():
                    raise CancelRequested
        if "error" in box:
            raise box["error"]
        return box.get("value")

    # ---- the steps

    def step_render(self, step: StepRecord) -> StepStatus:
        source = self.build.source
        self.files = source.files()
        step.say(
            f"source: {source.file_count} files, {source.size} bytes, "
            f"checksum {source.sha256[:16]}… ({self.build.source_label})"
        )
        try:
            manifest = load_yaml(self.files.get("manifest.yaml", b"")).data
        except YamlError:
            manifest = None  # the verify step says what is wrong with it
        self.manifest = manifest if isinstance(manifest, dict) else {}
        with tempfile.TemporaryDirectory(prefix="studio-build-") as tmp:
            tree = Path(tmp) / "src"
            self.watched(lambda: render_tree(self.files, tree))
            written = sum(1 for p in tree.rglob("*") if p.is_file())
        step.say(f"rendered the source tree: {written} files")
        return StepStatus.PASSED

    def step_verify(self, step: StepRecord) -> StepStatus:
        findings = self.watched(lambda: verify(self.files))
        self.build.findings = findings_to_json(findings)
        self.changed = ["findings"]
        counts = severity_counts(findings)
        errors, warnings = counts["error"], counts["warning"]
        for f in findings:
            if f.severity != "info":
                where = f"{f.file}:{f.line}" if f.line else (f.file or "(plugin)")
                step.say(f"{f.severity} [{f.rule}] {where}: {f.message}")
        step.say(f"{errors} errors, {warnings} warnings, {counts['info']} info")
        if errors:
            raise StepFailed(
                f"the verifier found {errors} error"
                f"{'s' if errors != 1 else ''}: fix them and build again"
            )
        return StepStatus.PASSED

    def step_package(self, step: StepRecord) -> StepStatus:
        try:
            self.package = self.watched(lambda: packaging.package(self.files))
        except packaging.PackageTooLarge as exc:
            raise StepFailed(str(exc).splitlines()[0]) from None
        step.say(f"packaged {len(self.package)} bytes")
        return StepStatus.PASSED

    def step_sign(self, step: StepRecord) -> StepStatus:
        key = SigningKey.objects.filter(
            team_id=self.build.team_id, is_active=True
        ).first()
        if key is None:
            step.say("not signed: the team has no active signing key")
            return StepStatus.SKIPPED
        try:
            private_pem = decrypt_private_key(key.private_key_encrypted)
        except KeyUnreadable as exc:
            raise StepFailed(str(exc)) from None
        self.package = signing.sign(
            self.package, private_pem, category=SIGNING_CATEGORY
        )
        self.build.signed = True
        self.build.signing_key = key
        self.build.key_fingerprint = key.fingerprint
        self.changed = ["signed", "signing_key", "key_fingerprint"]
        step.say(
            f"signed with {key.name} ({key.display_fingerprint}), "
            f"category {SIGNING_CATEGORY}"
        )
        return StepStatus.PASSED

    def step_smoke(self, step: StepRecord) -> StepStatus:
        if not self.build.run_smoke:
            step.say("skipped: the build was started without the smoke test")
            return StepStatus.SKIPPED
        runner = import_string(settings.BUILD_SMOKE_RUNNER)
        package, runtime = self.package, self.build.provider.runtime
        outcome: SmokeOutcome = self.watched(
            lambda: runner(package, runtime=runtime, should_stop=self.cancel.is_set)
        )
        self.build.smoke = outcome.report
        self.changed = ["smoke"]
        for line in outcome.lines:
            step.say(line)
        step.say(outcome.summary)
        if outcome.status == "failed":
            raise StepFailed(f"smoke test failed: {outcome.summary}")
        return StepStatus.SKIPPED if outcome.status == "skipped" else StepStatus.PASSED

    def step_store(self, step: StepRecord) -> StepStatus:
        build, data = self.build, self.package
        digest = checksums.checksum(data)
        author = str(self.manifest.get("author", ""))
        name = str(self.manifest.get("name", ""))
        version = str(self.manifest.get("version", ""))
        build.artifact_name = artifact_filename(
            name=name, version=version, build_id=build.pk, signed=build.signed
        )
        build.size = len(data)
        build.sha256 = hashlib.sha256(data).hexdigest()
        build.checksum = digest
        build.identifier = checksums.unique_identifier(author, name, version, digest)
        stored = default_storage.save(
            artifact_path(build, build.artifact_name), ContentFile(data)
        )
        build.artifact.name = stored
        step.say(f"stored {stored} ({build.size} bytes, sha256 {build.sha256[:16]}…)")
        step.say(f"identifier {build.identifier}")
        self.changed = [
            "artifact",
            "artifact_name",
            "size",
            "sha256",
            "checksum",
            "identifier",
        ]
        return StepStatus.PASSED

    # ---- endings

    def finish_succeeded(self) -> None:
        self.build.mark_succeeded()
        # The Marketplace check is queued with the success, so a page that sees
        # the build succeeded also sees its check coming.
        with transaction.atomic():
            self.save("status", "error", "finished_at")
            readiness.after_build(self.build)
        self.record_end()
        self.tell_starter()
        if self.build.kind == Build.Kind.DEV:
            try:
                pruned = build_services.builds_prune(provider=self.build.provider)
            except Exception:  # pruning is housekeeping; the build stands
                log.exception("build %s: pruning failed", self.build.pk)
            else:
                if pruned:
                    log.info("pruned dev artifacts of builds %s", pruned)

    def finish(self, status: str, message: str) -> None:
        if status == Build.Status.CANCELLED:
            for step in self.steps:
                if step.status == StepStatus.PENDING:
                    step.status = StepStatus.CANCELLED
            self.build.mark_cancelled(message)
        else:
            self.build.mark_failed(message)
        self.discard_artifact()
        try:
            self.save("status", "error", "finished_at", "artifact", *self.changed)
        except LostOwnership:
            log.warning(
                "build %s: ended (%s) but is no longer ours", self.build.pk, status
            )
            return
        self.record_end()
        self.tell_starter()

    def record_end(self) -> None:
        """One log line and the duration metric for the build's end."""
        build = self.build
        run_time = build.run_time()
        seconds = run_time.total_seconds() if run_time is not None else 0.0
        log.info(
            "build %s %s in %.1f s",
            build.pk,
            build.status,
            seconds,
            extra={
                "build_id": build.pk,
                "status": build.status,
                "kind": build.kind,
                "attempt": build.attempt,
                "duration_ms": int(seconds * 1000),
            },
        )
        metrics.BUILD_DURATION.observe(seconds, kind=build.kind, status=build.status)

    def tell_starter(self) -> None:
        """Notify who started the build, now that its end is written (once:
        only the worker that owns the build gets this far)."""
        try:
            with transaction.atomic():
                notices.build_finished(build=self.build)
        except Exception:  # a notification is a courtesy; the build stands
            log.exception("build %s: notifying its starter failed", self.build.pk)

    def discard_artifact(self) -> None:
        if name := self.build.artifact.name:
            stored_delete([name])  # an unreachable storage must not keep it running
            self.build.artifact = ""


# ---------------------------------------------------------------- smoke


def smoke_artifact(
    package: bytes, *, runtime: str, should_stop: Callable[[], bool]
) -> SmokeOutcome:
    """The studio's smoke test of a package (settings.BUILD_SMOKE_RUNNER).

    `smoke.smoke_test` drives plugins with an OpenAI-compatible credential form
    against its mock upstream on loopback and runs only the offline checks of
    the others. It has its own time limit; a cancelled build abandons it.
    """
    from studio.builds import smoke

    venvs = sdk_venv_options()
    try:
        report = smoke.smoke_test(
            package,
            cache_dir=venvs["cache_dir"],
            uv_cache_dir=venvs["uv_cache_dir"],
            max_venv_bytes=venvs["max_bytes"],
            timeout=settings.BUILD_SMOKE_TIMEOUT,
            memory_limit_mb=settings.BUILD_SMOKE_MEMORY_MB,
        )
    except smoke.SmokeInputError as exc:
        return SmokeOutcome("failed", str(exc))
    return smoke_outcome(report)


def smoke_outcome(report: Any) -> SmokeOutcome:
    """A SmokeOutcome from a `smoke.SmokeReport`."""
    lines = []
    failed = []
    for check in report.checks:
        head = (check.detail or "").splitlines()[0] if check.detail else ""
        lines.append(
            f"{check.status}: {check.name} ({check.duration_ms} ms)"
            + (f" — {head}" if head else "")
        )
        if check.status == "failed":
            failed.append(check.name)
    data = report.as_dict()
    if report.ok:
        return SmokeOutcome("passed", f"smoke test: {report.summary}", data, lines)
    return SmokeOutcome(
        "failed", f"{', '.join(failed)} ({report.summary})", data, lines
    )
