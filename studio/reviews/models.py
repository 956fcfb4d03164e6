"""Reviews of providers: revisions, decisions, comments, team settings.

A revision freezes the provider's files at "submit for review": it points to
a `builds.BuildSource` (the same zip-in-the-database a build is made from), so
a release build of an approved revision is made from exactly the files that
were reviewed, and never changes afterwards. Editing goes on in the provider's
draft (its `ProviderFile` rows).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from studio.builds.models import BuildSource
from studio.catalog.models import Provider, Role, Team
from studio.pluginfmt.files import PluginFiles

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Who may comment and decide; viewers only read.
REVIEW_ROLES = frozenset({Role.OWNER, Role.AUTHOR, Role.REVIEWER})
MAX_REQUIRED_APPROVALS = 10


class ReviewSettings(models.Model):
    """A team's review rules (a row only once an owner changed the defaults)."""

    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, related_name="review_settings"
    )
    required_approvals = models.PositiveSmallIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "review settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(required_approvals__gte=1)
                & Q(required_approvals__lte=MAX_REQUIRED_APPROVALS),
                name="review_settings_approvals_range",
            )
        ]

    def __str__(self) -> str:
        return f"review settings of {self.team}"

    @classmethod
    def of(cls, team: Team) -> ReviewSettings:
        """The team's settings, or the defaults (unsaved) when it has none."""
        return cls.objects.filter(team=team).first() or cls(team=team)


class Revision(models.Model):
    """An immutable, numbered snapshot of a provider submitted for review."""

    class Status(models.TextChoices):
        PENDING = "pending", "in review"
        CHANGES_REQUESTED = "changes-requested", "changes requested"
        APPROVED = "approved", "approved"
        SUPERSEDED = "superseded", "superseded by a newer revision"

    OPEN = (Status.PENDING, Status.CHANGES_REQUESTED)

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField()
    message = models.TextField()
    # The frozen files. RESTRICT: a reviewed snapshot is never deleted under a
    # revision, yet deleting the provider takes both (they cascade from it).
    source = models.ForeignKey(
        BuildSource, on_delete=models.RESTRICT, related_name="revisions"
    )
    version = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING
    )
    # The team's setting when the revision was submitted.
    required_approvals = models.PositiveSmallIntegerField(default=1)
    # Verifier counts of the frozen files (the draft's, at submit time).
    error_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submitted_revisions",
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["provider", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "number"], name="revision_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="revision_number_from_1"
            ),
            models.CheckConstraint(
                condition=Q(required_approvals__gte=1),
                name="revision_required_approvals_1",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "changes-requested", "superseded"])
                | Q(decided_at__isnull=False),
                name="revision_approved_has_decided_at",
            ),
        ]
        indexes = [models.Index(fields=["status", "-submitted_at"])]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.label}"

    def get_absolute_url(self) -> str:
        return reverse(
            "reviews:revision-detail",
            kwargs={"provider_id": self.provider_id, "number": self.number},
        )

    @property
    def label(self) -> str:
        """The name a release build carries (`Build.revision_label`)."""
        return f"r{self.number}"

    @property
    def is_open(self) -> bool:
        """Waiting for decisions (in review, or sent back but not replaced)."""
        return self.status in self.OPEN

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    def files(self) -> PluginFiles:
        """The frozen files, by path."""
        return self.source.files()

    def latest_decisions(self) -> list[Decision]:
        """Each reviewer's latest decision, oldest first (uses a prefetch)."""
        latest: dict[int | None, Decision] = {}
        for decision in sorted(
            self.decisions.all(), key=lambda d: (d.created_at, d.pk or 0)
        ):
            latest[decision.reviewer_id] = decision
        return sorted(latest.values(), key=lambda d: (d.created_at, d.pk or 0))

    def approvers(self) -> list[Decision]:
        """Latest decisions that approve."""
        return [
            d for d in self.latest_decisions() if d.verdict == Decision.Verdict.APPROVE
        ]

    def change_requests(self) -> list[Decision]:
        """Latest decisions that request changes."""
        return [
            d
            for d in self.latest_decisions()
            if d.verdict == Decision.Verdict.REQUEST_CHANGES
        ]

    # ---- state changes (callers save)

    def settle(
        self, *, approvals: int, changes_requested: bool, now: datetime | None = None
    ) -> None:
        """Set the status from the reviewers' latest decisions."""
        if changes_requested:
            self.status = self.Status.CHANGES_REQUESTED
        elif approvals >= self.required_approvals:
            self.status = self.Status.APPROVED
        else:
            self.status = self.Status.PENDING
        self.decided_at = now or timezone.now()

    def supersede(self) -> None:
        self.status = self.Status.SUPERSEDED


class Decision(models.Model):
    """A reviewer's verdict on a revision; their latest one counts."""

    class Verdict(models.TextChoices):
        APPROVE = "approve", "approved"
        REQUEST_CHANGES = "request-changes", "requested changes"

    revision = models.ForeignKey(
        Revision, on_delete=models.CASCADE, related_name="decisions"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="review_decisions",
    )
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["revision", "reviewer", "created_at"])]

    def __str__(self) -> str:
        return f"{self.reviewer} {self.verdict} {self.revision}"


class Comment(models.Model):
    """A comment on a revision, or pinned to a place in it (an anchor).

    `anchor` is a `pluginfmt.diff` anchor (a list of strings such as
    ["model", "llm", "gpt-4o", "pricing"]); [] means the revision as a whole.
    `value_digest` fingerprints the value at the anchor when the comment was
    written, so later revisions can show the comment as outdated once that
    value changed.
    """

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="review_comments"
    )
    revision = models.ForeignKey(
        Revision, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="review_comments",
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
    )
    body = models.TextField()
    anchor = models.JSONField(default=list, blank=True)
    anchor_label = models.CharField(max_length=1024, blank=True)
    value_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=False) | Q(resolved_by__isnull=True),
                name="comment_resolved_by_only_when_resolved",
            )
        ]
        indexes = [models.Index(fields=["provider", "created_at"])]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.revision}"

    def get_absolute_url(self) -> str:
        """The comment in place on the revision it was written on."""
        return f"{self.revision.get_absolute_url()}#comment-{self.pk}"

    @property
    def anchor_tuple(self) -> tuple[str, ...]:
        return tuple(self.anchor or ())

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def is_reply(self) -> bool:
        return self.parent_id is not None

    def resolve(self, user: User, now: datetime | None = None) -> None:
        self.resolved_at = now or timezone.now()
        self.resolved_by = user

    def reopen(self) -> None:
        self.resolved_at = None
        self.resolved_by = None
