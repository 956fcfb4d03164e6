"""Builds of providers into `.difypkg` artifacts, and the keys that sign them.

A build never reads the provider's live files: `build_start` snapshots them
into a `BuildSource` (a zip in the database, shared by every build of the same
files), so an edit made while a build runs cannot leak into it, and a retry
rebuilds exactly what the first attempt built.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from studio.catalog.models import Provider, Team
from studio.pluginfmt import signing
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.package import read_zip
from studio.pluginfmt.precheck import InstallResult
from studio.pluginfmt.verify import Finding, findings_from_json

from .steps import (
    BuildEvent,
    StepRecord,
    dump_steps,
    fresh_steps,
    load_steps,
)

WORKER_LOST = "worker lost"


class BuildSource(models.Model):
    """The exact files a build was made from, as a zip, keyed by their checksum."""

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="build_sources"
    )
    # Daemon-style checksum of the files (paths and contents), before packaging.
    sha256 = models.CharField(max_length=64)
    archive = models.BinaryField()
    file_count = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)  # uncompressed bytes
    plugin_version = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "sha256"], name="build_source_unique_files"
            )
        ]

    def __str__(self) -> str:
        return f"files {self.sha256[:12]} of {self.provider_id}"

    def files(self) -> PluginFiles:
        entries, _ = read_zip(bytes(self.archive))
        return dict(entries)


class SigningKey(models.Model):
    """A team's RSA key pair; the private half is stored encrypted (see keys.py)."""

    class Origin(models.TextChoices):
        GENERATED = "generated"
        UPLOADED = "uploaded"

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="signing_keys"
    )
    # The stem of the public key's file name: `<name>.public.pem`.
    name = models.SlugField(max_length=64)
    public_pem = models.TextField()
    private_key_encrypted = models.TextField()
    # SHA-256 of the public key (DER SubjectPublicKeyInfo), hex.
    fingerprint = models.CharField(max_length=64)
    key_bits = models.PositiveIntegerField(default=0)
    origin = models.CharField(
        max_length=16, choices=Origin.choices, default=Origin.GENERATED
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_active", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team"],
                condition=Q(is_active=True),
                name="signing_key_one_active_per_team",
            ),
            models.CheckConstraint(
                condition=Q(is_active=True) | Q(deactivated_at__isnull=False),
                name="signing_key_deactivated_at_when_inactive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_fingerprint})"

    @property
    def public_filename(self) -> str:
        return f"{self.name}.public.pem"

    @property
    def display_fingerprint(self) -> str:
        return signing.format_fingerprint(self.fingerprint)

    def deactivate(self, now: datetime | None = None) -> None:
        self.is_active = False
        self.deactivated_at = now or timezone.now()


def artifact_path(build: Build, filename: str) -> str:
    return f"builds/{build.team_id}/{build.provider_id}/{build.pk}/{filename}"


def artifact_filename(*, name: str, version: str, build_id: int, signed: bool) -> str:
    """`<name>-<version>-b<build>-signed.difypkg` (or `-unsigned`): two builds
    of one version never share a download name, and the name says which one
    a self-hosted Dify that enforces signatures will install."""
    mark = "signed" if signed else "unsigned"
    return f"{name}-{version}-b{build_id}-{mark}.difypkg"


class Build(models.Model):
    """One build of a provider: its steps, its outcome and its artifact."""

    class Kind(models.TextChoices):
        DEV = "dev", "dev (working draft)"
        RELEASE = "release", "release (approved revision)"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="builds"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="builds")
    source = models.ForeignKey(
        BuildSource, on_delete=models.CASCADE, related_name="builds"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.DEV)
    # The approved revision a release build comes from (issue 7); "" for dev.
    revision_label = models.CharField(max_length=128, blank=True)
    # A release's notes (Markdown, without the `## Release Notes` heading),
    # written or accepted when it was started (issue 17); "" for dev builds.
    release_notes = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    run_smoke = models.BooleanField(default=True)
    # StepRecord list, BuildEvent list (steps.py); verifier findings
    # (pluginfmt `findings_to_json`).
    steps = models.JSONField(default=list, blank=True)
    events = models.JSONField(default=list, blank=True)
    findings = models.JSONField(default=list, blank=True)
    smoke = models.JSONField(default=dict, blank=True)
    artifact = models.FileField(upload_to=artifact_path, max_length=500, blank=True)
    artifact_name = models.CharField(max_length=300, blank=True)
    plugin_version = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    checksum = models.CharField(max_length=64, blank=True)
    identifier = models.CharField(max_length=512, blank=True)
    signed = models.BooleanField(default=False)
    signing_key = models.ForeignKey(
        SigningKey,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="builds",
    )
    key_fingerprint = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    worker_hostname = models.CharField(max_length=255, blank=True)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pruned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two builds of one provider never run interleaved.
            models.UniqueConstraint(
                fields=["provider"],
                condition=Q(status__in=["queued", "running"]),
                name="build_one_active_per_provider",
            ),
            models.CheckConstraint(
                condition=Q(kind="dev", revision_label="")
                | (Q(kind="release") & ~Q(revision_label="")),
                name="build_release_names_its_revision",
            ),
            models.CheckConstraint(condition=Q(attempt__gte=1), name="build_attempt_1"),
        ]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"]),
            models.Index(fields=["provider", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"build {self.pk} of {self.provider_id} ({self.status})"

    # ---- reading

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_finished(self) -> bool:
        return not self.is_active

    @property
    def has_artifact(self) -> bool:
        return bool(self.artifact) and self.status == self.Status.SUCCEEDED

    @property
    def source_label(self) -> str:
        return self.revision_label or "working draft"

    def step_records(self) -> list[StepRecord]:
        return load_steps(self.steps)

    def event_records(self) -> list[BuildEvent]:
        return [BuildEvent.model_validate(e) for e in self.events or []]

    def log_tail(self, lines: int = 30) -> str:
        text = "".join(
            "".join(f"[{s.name}] {line}\n" for line in s.log.splitlines())
            for s in self.step_records()
        )
        return "\n".join(text.splitlines()[-lines:])

    @property
    def display_key_fingerprint(self) -> str:
        """The signing key's fingerprint as shown everywhere; "" when unsigned."""
        if not self.key_fingerprint:
            return ""
        return signing.format_fingerprint(self.key_fingerprint)

    def queue_time(self, now: datetime | None = None) -> timedelta | None:
        """From queued to started (so far, while still queued)."""
        end = self.started_at or self.finished_at
        if end is None and self.status == self.Status.QUEUED:
            end = now or timezone.now()
        return end - self.created_at if end else None

    def run_time(self, now: datetime | None = None) -> timedelta | None:
        """From started to finished (so far, while running)."""
        if self.started_at is None:
            return None
        end = self.finished_at
        if end is None and self.status == self.Status.RUNNING:
            end = now or timezone.now()
        return end - self.started_at if end else None

    def is_stale(self, now: datetime, stale_seconds: int) -> bool:
        beat = self.heartbeat_at or self.started_at
        return (
            self.status == self.Status.RUNNING
            and beat is not None
            and now - beat > timedelta(seconds=stale_seconds)
        )

    # ---- state changes (callers save)

    def set_steps(self, steps: list[StepRecord]) -> None:
        self.steps = dump_steps(steps)

    def add_event(self, message: str, now: datetime | None = None) -> None:
        event = BuildEvent(at=now or timezone.now(), message=message)
        self.events = [*(self.events or []), event.model_dump(mode="json")]

    def mark_running(self, *, worker: str, pid: int, now: datetime) -> None:
        self.status = self.Status.RUNNING
        self.worker_hostname = worker[:255]
        self.worker_pid = pid
        self.started_at = self.started_at or now
        self.heartbeat_at = now
        self.set_steps(fresh_steps())

    def mark_succeeded(self, now: datetime | None = None) -> None:
        self.status = self.Status.SUCCEEDED
        self.error = ""
        self.finished_at = now or timezone.now()

    def mark_failed(self, message: str, now: datetime | None = None) -> None:
        self.status = self.Status.FAILED
        self.error = message
        self.finished_at = now or timezone.now()

    def mark_cancelled(self, message: str = "", now: datetime | None = None) -> None:
        self.status = self.Status.CANCELLED
        self.error = message
        self.finished_at = now or timezone.now()

    def request_cancel(self, now: datetime | None = None) -> None:
        self.cancel_requested_at = self.cancel_requested_at or now or timezone.now()

    def requeue(self, message: str, now: datetime | None = None) -> None:
        """Put a build whose worker vanished back in the queue as its next attempt."""
        self.add_event(message, now)
        self.status = self.Status.QUEUED
        self.attempt += 1
        self.worker_hostname = ""
        self.worker_pid = None
        self.heartbeat_at = None
        self.set_steps(fresh_steps())

    def mark_pruned(self, now: datetime | None = None) -> None:
        self.artifact = ""
        self.pruned_at = now or timezone.now()


class MarketplaceCheck(models.Model):
    """The Marketplace pre-check of a succeeded build (one per build, re-runnable).

    Run by a worker after the build succeeds (and again on request), never in
    a request: the install test starts the plugin. A run owns the row while it
    says `running` with the run's attempt; a re-run bumps the attempt, so an
    older run that finishes late writes nothing.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"  # the check itself could not run (not the plugin's verdict)

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    build = models.OneToOneField(
        Build, on_delete=models.CASCADE, related_name="marketplace_check"
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    # pluginfmt `findings_to_json` of the pre-check; the install test's
    # `InstallResult.as_dict()` ({} until it ran).
    findings = models.JSONField(default=list, blank=True)
    install = models.JSONField(default=dict, blank=True)
    blocking_count = models.PositiveIntegerField(default=0)
    advisory_count = models.PositiveIntegerField(default=0)
    # The last release the version was compared with ("" when there was none).
    compared_with = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(attempt__gte=1), name="marketplace_check_attempt_1"
            ),
        ]

    def __str__(self) -> str:
        return f"marketplace check of build {self.build_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    def is_stale(self, now: datetime, stale_seconds: int) -> bool:
        """Queued or running for longer than any run takes: its worker is gone."""
        return self.is_active and now - self.queued_at > timedelta(
            seconds=stale_seconds
        )

    @property
    def is_waiting(self) -> bool:
        """Queued or running, and not yet given up on (the panel polls)."""
        return self.is_active and not self.is_stale(
            timezone.now(), settings.MARKETPLACE_CHECK_STALE_SECONDS
        )

    def finding_records(self) -> list[Finding]:
        """The stored findings, blocking first."""
        return findings_from_json(self.findings)

    def blocking(self) -> list[Finding]:
        return [f for f in self.finding_records() if f.severity == "error"]

    def advisory(self) -> list[Finding]:
        return [f for f in self.finding_records() if f.severity != "error"]

    def install_result(self) -> InstallResult | None:
        return InstallResult.from_dict(self.install)

    # ---- state changes (callers save)

    def requeue(self, *, user: Any, now: datetime | None = None) -> None:
        """Queue a new run of the check, as its next attempt."""
        now = now or timezone.now()
        if self.pk is not None:
            self.attempt += 1
        self.status = self.Status.QUEUED
        self.requested_by = user
        self.queued_at = now
        self.started_at = None
        self.finished_at = None
        self.error = ""

    def record(
        self,
        *,
        findings: list[dict[str, Any]],
        install: dict[str, Any],
        compared_with: str,
        now: datetime | None = None,
    ) -> None:
        """Keep a finished run's findings and counts."""
        self.status = self.Status.DONE
        self.findings = findings
        self.install = install
        self.blocking_count = sum(1 for f in findings if f.get("severity") == "error")
        self.advisory_count = len(findings) - self.blocking_count
        self.compared_with = compared_with[:64]
        self.error = ""
        self.finished_at = now or timezone.now()

    def mark_failed(self, message: str, now: datetime | None = None) -> None:
        self.status = self.Status.FAILED
        self.error = message
        self.finished_at = now or timezone.now()
