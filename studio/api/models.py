"""API tokens: how scripts and CI act in one team without a browser session.

A token is shown once when it is created; only the SHA-256 of it is stored,
with its first characters (`prefix`) to find the row without scanning. A
personal token acts as its user, with the user's current role in the team; a
team token belongs to the team (made by an owner) and has a role of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from studio.catalog.models import Role, Team

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class ApiToken(models.Model):
    class Kind(models.TextChoices):
        PERSONAL = "personal", "personal (acts as you)"
        TEAM = "team", "team (belongs to the team)"

    # The roles a team token may have: read (viewer) or write (author).
    TEAM_ROLES = (Role.VIEWER, Role.AUTHOR)

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_tokens")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The user a personal token acts as; empty for team tokens.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    # A team token's role; a personal token follows its user's membership.
    role = models.CharField(max_length=16, choices=Role.choices, blank=True)
    name = models.CharField(max_length=100)
    # The token's first characters ("dps_" + 8), unique: the lookup key.
    prefix = models.CharField(max_length=16, unique=True)
    # SHA-256 (hex) of the whole token.
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Refreshed at most once a minute (see services.token_touch).
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="personal", user__isnull=False, role="")
                    | Q(kind="team", user__isnull=True, role__in=["viewer", "author"])
                ),
                name="api_token_kind_fields",
            ),
            models.CheckConstraint(
                condition=~Q(secret_hash=""), name="api_token_has_hash"
            ),
        ]
        indexes = [models.Index(fields=["team", "kind"])]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (
            now or timezone.now()
        )

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self, *, by: User | None, now: datetime | None = None) -> None:
        self.revoked_at = self.revoked_at or now or timezone.now()
        self.revoked_by = by

    @property
    def state(self) -> str:
        if self.is_revoked:
            return "revoked"
        if self.is_expired():
            return "expired"
        return "active"
