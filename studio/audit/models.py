"""The audit log: who did what and when, kept after what it names is gone.

The app sits below catalog, builds and reviews (docs/architecture.md), so it
names their models by string and imports none of them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """Who did what and when: submits, comments, decisions, releases, downloads,
    invitations, membership changes, file edits and applied sync proposals."""

    class Action(models.TextChoices):
        SUBMIT = "submit", "submitted a revision"
        COMMENT = "comment", "commented"
        RESOLVE = "resolve", "resolved a comment"
        REOPEN = "reopen", "reopened a comment"
        APPROVE = "approve", "approved"
        REQUEST_CHANGES = "request-changes", "requested changes"
        RELEASE = "release", "started a release build"
        DOWNLOAD = "download", "downloaded an artifact"
        SETTINGS = "settings", "changed the review settings"
        INVITE = "invite", "sent an invitation"
        INVITE_ACCEPT = "invite-accept", "accepted an invitation"
        INVITE_REVOKE = "invite-revoke", "revoked an invitation"
        MEMBER_ADD = "member-add", "added a member"
        ROLE_CHANGE = "role-change", "changed a role"
        MEMBER_REMOVE = "member-remove", "removed a member"
        MEMBER_LEAVE = "member-leave", "left the team"
        FILE_EDIT = "file-edit", "edited a file"
        FILE_ADD = "file-add", "added a file"
        FILE_UPLOAD = "file-upload", "uploaded files"
        FILE_RENAME = "file-rename", "renamed a file"
        FILE_DELETE = "file-delete", "deleted a file"
        DEBUG_HOSTS = "debug-hosts", "changed the debugging hosts"
        SYNC_APPLY = "sync-apply", "applied a sync proposal"
        SYNC_WATCH = "sync-watch", "changed the drift watch"

    team = models.ForeignKey(
        "catalog.Team", on_delete=models.CASCADE, related_name="audit"
    )
    # Kept as text too: the log outlives deleted providers, builds and users.
    provider = models.ForeignKey(
        "catalog.Provider",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    plugin_id = models.CharField(max_length=255, blank=True)
    revision = models.ForeignKey(
        "reviews.Revision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    build = models.ForeignKey(
        "builds.Build",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    summary = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The model began in the reviews app; keeping its table (and so the
        # index names derived from it) moved it without touching a row.
        db_table = "reviews_auditevent"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["team", "-created_at"]),
            models.Index(fields=["provider", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} {self.plugin_id}"
