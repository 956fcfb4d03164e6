"""In-app notifications and who wants which of them by email.

The app sits below catalog, builds and reviews (docs/architecture.md): a
notification names its team by a lazy foreign key and carries plain text (a
title, a relative link, the actor's name), so it imports none of them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Kind(models.TextChoices):
    """What happened; each kind has its own mail preference."""

    REVISION_SUBMITTED = "revision-submitted", "A revision waits for your review"
    COMMENT = "comment", "A comment on your revision"
    REPLY = "reply", "A reply to your comment"
    DECISION = "decision", "A decision on your revision"
    BUILD_FINISHED = "build-finished", "Your build finished"
    RELEASE_FINISHED = "release-finished", "Your release build finished"
    INVITATION_ACCEPTED = "invitation-accepted", "Someone accepted your invitation"
    CATALOGUE_DRIFT = "catalogue-drift", "A drift watch found catalogue changes"


# Mailed unless the user turned it off. Dev builds are started and watched on
# their page many times a day, so their mail is off; a release build is rarer
# and slower (signing, smoke test) and worth a mail when it ends.
EMAIL_BY_DEFAULT: dict[str, bool] = {
    Kind.REVISION_SUBMITTED: True,
    Kind.COMMENT: True,
    Kind.REPLY: True,
    Kind.DECISION: True,
    Kind.BUILD_FINISHED: False,
    Kind.RELEASE_FINISHED: True,
    Kind.INVITATION_ACCEPTED: True,
    Kind.CATALOGUE_DRIFT: True,
}

TITLE_LENGTH = 200
BODY_LENGTH = 500
URL_LENGTH = 500


class Notification(models.Model):
    """Something that happened which one user should know about."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    team = models.ForeignKey(
        "catalog.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=TITLE_LENGTH)
    body = models.CharField(max_length=BODY_LENGTH, blank=True)
    # A path in the studio ("/providers/3/revisions/2/"); mail makes it absolute.
    url = models.CharField(max_length=URL_LENGTH)
    actor_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(url__startswith="/") & ~Q(url__startswith="//"),
                name="notification_url_is_a_path",
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient", "read_at", "-created_at"],
                name="notification_inbox",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """A user's choice to be mailed a kind or not (no row: the default)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    email = models.BooleanField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], name="notification_preference_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {'mail' if self.email else 'no mail'}"
