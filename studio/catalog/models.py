"""Teams, providers (one plugin each), their models and files.

The files of a provider are the truth: every file of the plugin is a
`ProviderFile` row holding its exact bytes, so an imported plugin exports
byte for byte and the files tab shows exactly what a build packages. Edits go
through services that rewrite the one YAML file concerned and, in the same
transaction, the denormalised copies on `Provider` and `ProviderModel` that
pages read (lists, tables, forms) without parsing YAML.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.package import read_zip


class Team(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner"
    AUTHOR = "author"
    REVIEWER = "reviewer"
    VIEWER = "viewer"


EDITING_ROLES = frozenset({Role.OWNER, Role.AUTHOR})


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AUTHOR)
    created_at = models.DateTimeField(default=timezone.now)
    # The member's last request in the studio, written at most every few
    # minutes (catalog.middleware); empty until then.
    last_active_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def can_edit(self) -> bool:
        return self.role in EDITING_ROLES


class Invitation(models.Model):
    """An owner's invitation to join a team with a role, by a single-use link.

    The link's token is shown once and mailed; only its SHA-256 is stored,
    with its first characters (`prefix`) as the lookup key, like API tokens.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class State(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        REVOKED = "revoked"
        EXPIRED = "expired"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(secret_hash=""), name="invitation_has_hash"
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="invitation_accepted_or_revoked",
            ),
        ]
        indexes = [models.Index(fields=["team", "email"])]

    def __str__(self) -> str:
        return f"{self.email} to {self.team} ({self.role}, {self.state})"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or timezone.now())

    @property
    def state(self) -> str:
        if self.accepted_at is not None:
            return self.State.ACCEPTED
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.is_expired():
            return self.State.EXPIRED
        return self.State.PENDING

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING


class Runtime(models.TextChoices):
    OPENAI_COMPATIBLE = "openai-compatible", "OpenAI-compatible (generated)"
    CUSTOM = "custom", "Custom skeleton (generated)"
    IMPORTED = "imported", "Imported (carried as is)"


class Provider(models.Model):
    """One Dify model plugin: a manifest, one provider YAML, its models and files."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="providers")
    author = models.CharField(max_length=64)
    name = models.CharField(max_length=128)
    version = models.CharField(max_length=64, blank=True)
    provider_key = models.CharField(max_length=255, blank=True)
    label = models.CharField(max_length=1024, blank=True)
    runtime = models.CharField(
        max_length=32, choices=Runtime.choices, default=Runtime.OPENAI_COMPATIBLE
    )
    # Path of the provider YAML inside the plugin (manifest plugins.models[0]).
    provider_path = models.CharField(max_length=1024, blank=True)
    # Parsed copies of manifest.yaml and the provider YAML (unknown keys kept).
    manifest = models.JSONField(default=dict, blank=True)
    declaration = models.JSONField(default=dict, blank=True)
    model_types = models.JSONField(default=list, blank=True)
    configurate_methods = models.JSONField(default=list, blank=True)
    # ",llm,rerank,predefined-model," for portable filtering (JSON `contains`
    # does not exist on SQLite).
    kinds = models.CharField(max_length=512, blank=True)
    # Verifier summary of the current files, refreshed on every save.
    error_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    # Every finding of that same run (`findings_to_json`), so pages can place
    # findings next to the fields they concern without re-running the verifier.
    findings = models.JSONField(default=list, blank=True)
    # Bumped by every edit: a form posted with an older value is stale.
    lock_version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["author", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "author", "name"], name="provider_unique_plugin_id"
            )
        ]

    def __str__(self) -> str:
        return self.plugin_id

    @property
    def plugin_id(self) -> str:
        return f"{self.author}/{self.name}"

    def touch(self) -> None:
        self.lock_version += 1
        self.updated_at = timezone.now()


class ProviderModel(models.Model):
    """A predefined model: a denormalised copy of one model YAML of the provider."""

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="models"
    )
    model_type = models.CharField(max_length=32)  # hyphenated: llm, text-embedding…
    model = models.CharField(max_length=255)
    label = models.CharField(max_length=1024, blank=True)
    path = models.CharField(max_length=1024)
    position = models.IntegerField(default=0)
    deprecated = models.BooleanField(default=False)
    spec = models.JSONField(default=dict, blank=True)
    lock_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["model_type", "position", "model"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "path"], name="provider_model_unique_path"
            )
        ]
        indexes = [models.Index(fields=["provider", "model_type", "position"])]

    def __str__(self) -> str:
        return f"{self.model_type}/{self.model}"


class ProviderFile(models.Model):
    """One file of a provider's plugin, byte for byte."""

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="files"
    )
    path = models.CharField(max_length=1024)
    content = models.BinaryField()
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "path"], name="provider_file_unique_path"
            ),
            models.CheckConstraint(
                condition=~Q(path__startswith="/")
                & ~Q(path__startswith="../")
                & ~Q(path__contains="/../"),
                name="provider_file_relative_path",
            ),
        ]

    def __str__(self) -> str:
        return self.path

    def set_content(self, content: bytes) -> None:
        self.content = content
        self.size = len(content)
        self.sha256 = hashlib.sha256(content).hexdigest()
        self.updated_at = timezone.now()


class ProviderBaseline(models.Model):
    """What a provider was when it entered the studio, created or imported.

    Its files, frozen as a zip (like `builds.BuildSource`, which the catalog
    cannot use: builds sit above it), are what the provider's first revision
    is compared with, so a review of an imported plugin shows what the team
    changed and not the whole plugin as new. Written in the transaction that
    creates the provider; never changed afterwards (a re-import as a new
    version is a change the review shows). Providers created before baselines
    existed have none.
    """

    class Kind(models.TextChoices):
        CREATED = "created", "created"
        IMPORTED = "imported", "imported"

    provider = models.OneToOneField(
        Provider, on_delete=models.CASCADE, related_name="baseline"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Daemon-style checksum of the files (`pluginfmt.checksum.files_checksum`).
    sha256 = models.CharField(max_length=64)
    archive = models.BinaryField()
    file_count = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)  # uncompressed bytes
    plugin_version = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["created", "imported"]),
                name="provider_baseline_kind",
            )
        ]

    def __str__(self) -> str:
        return f"baseline of {self.provider_id} ({self.kind})"

    @property
    def label(self) -> str:
        """`imported 2026-05-01` (UTC date)."""
        return f"{self.kind} {self.created_at:%Y-%m-%d}"

    def files(self) -> PluginFiles:
        entries, _ = read_zip(bytes(self.archive))
        return dict(entries)


# ---- imports (issue 5)


class ImportJob(models.Model):
    """One import of a plugin into a team: its upload, progress and report.

    A browser upload too large to import inline waits in default storage
    (`source_path`) until the worker has read it; the stored copy is deleted
    once the job is done or failed. Inline and command-line imports record a
    finished job too, so every imported provider has its report.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        NEEDS_CHOICE = "needs-choice", "waiting for a choice"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Mode(models.TextChoices):
        NEW = "new", "a new provider"
        NEW_VERSION = "new-version", "a new version of the existing provider"
        COPY = "copy", "a separate copy"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="imports")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.NEW)
    # What the user gave: a file name or a server path.
    source_name = models.CharField(max_length=1024, blank=True)
    source_size = models.PositiveBigIntegerField(default=0)
    # The upload in default storage while a worker needs it; "" once deleted.
    source_path = models.CharField(max_length=1024, blank=True)
    # author/name read from the manifest (before a copy is renamed).
    plugin_id = models.CharField(max_length=255, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    progress_text = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    # An ImportReport (studio.catalog.services.imports) as JSON.
    report = models.JSONField(default=dict, blank=True)
    provider = models.ForeignKey(
        Provider,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imports",
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="import_job_progress_percent"
            )
        ]

    def __str__(self) -> str:
        return f"import {self.pk} of {self.source_name} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def is_finished(self) -> bool:
        return self.status in (
            self.Status.DONE,
            self.Status.FAILED,
            self.Status.CANCELLED,
        )

    def mark_progress(self, percent: int, text: str) -> None:
        self.progress = max(0, min(100, percent))
        self.progress_text = text[:255]

    def mark_done(self, *, provider: Provider, report: dict) -> None:
        self.status = self.Status.DONE
        self.provider = provider
        self.report = report
        self.error = ""
        self.mark_progress(100, "imported")
        self.finished_at = timezone.now()

    def mark_failed(self, message: str) -> None:
        self.status = self.Status.FAILED
        self.error = message
        self.progress_text = "failed"
        self.finished_at = timezone.now()

    def mark_cancelled(self) -> None:
        self.status = self.Status.CANCELLED
        self.progress_text = "cancelled"
        self.finished_at = timezone.now()
