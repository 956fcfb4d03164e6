"""Sync proposals and drift watches.

A `SyncProposal` is what one check found (its items as JSON, the
`SyncItem.as_dict` shape) and the provider's `lock_version` it was computed
on; it changes the draft only when an author applies it. A `SyncWatch` is a
provider's schedule for re-running a check; the credential it keeps, if the
team chose to, is stored only as a Fernet token (`credential_token`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from studio.catalog.models import Provider
from studio.pluginfmt.sync.items import SyncItem


class Source(models.TextChoices):
    UPSTREAM = "upstream", "Upstream model list"
    PRICES = "prices", "Price table"


class SyncProposal(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        APPLIED = "applied"
        DISCARDED = "discarded"

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="sync_proposals"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    # Where the check looked (base URL or table URL/file name), never a secret.
    origin = models.CharField(max_length=500, blank=True)
    items = models.JSONField(default=list)
    # What the proposal did not turn into items: unchanged models, unmatched
    # table ids, models without a table entry, skipped list entries.
    details = models.JSONField(default=dict)
    new_count = models.PositiveIntegerField(default=0)
    gone_count = models.PositiveIntegerField(default=0)
    update_count = models.PositiveIntegerField(default=0)
    suggested_bump = models.CharField(max_length=8, default="none")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN
    )
    lock_version = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_keys = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["provider", "-created_at"])]

    def __str__(self) -> str:
        return f"sync proposal {self.pk} of provider {self.provider_id}"

    def sync_items(self) -> list[SyncItem]:
        return [SyncItem.from_dict(d) for d in self.items]

    @property
    def summary(self) -> str:
        return summary_text(self.new_count, self.gone_count, self.update_count)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "provider": self.provider_id,
            "source": self.source,
            "origin": self.origin,
            "status": self.status,
            "summary": self.summary,
            "counts": {
                "new": self.new_count,
                "gone": self.gone_count,
                "updated": self.update_count,
            },
            "suggested_bump": self.suggested_bump,
            "lock_version": self.lock_version,
            "items": self.items,
            "details": self.details,
            "created_at": self.created_at.isoformat(),
            "applied_at": self.applied_at.isoformat() if self.applied_at else None,
            "applied_keys": self.applied_keys,
        }


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def summary_text(new: int, gone: int, updated: int) -> str:
    """ "3 new models, 2 price changes" (only the non-zero parts; "no changes")."""
    parts = []
    if new:
        parts.append(_plural(new, "new model", "new models"))
    if gone:
        parts.append(_plural(gone, "model gone upstream", "models gone upstream"))
    if updated:
        parts.append(_plural(updated, "price change", "price changes"))
    return ", ".join(parts) or "no changes"


class SyncWatch(models.Model):
    provider = models.OneToOneField(
        Provider, on_delete=models.CASCADE, related_name="sync_watch"
    )
    enabled = models.BooleanField(default=False)
    interval_hours = models.PositiveIntegerField(default=24)
    source = models.CharField(
        max_length=16, choices=Source.choices, default=Source.UPSTREAM
    )
    base_url = models.CharField(max_length=500, blank=True)
    template = models.CharField(max_length=255, blank=True)
    table_url = models.CharField(max_length=500, blank=True)
    mapping = models.TextField(blank=True)
    # The kept API key as a Fernet token (studio.builds.keys); "" when none.
    credential_token = models.TextField(blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=500, blank=True)
    last_notified_signature = models.CharField(max_length=64, blank=True)
    last_proposal = models.ForeignKey(
        SyncProposal,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    def __str__(self) -> str:
        return f"sync watch of provider {self.provider_id}"

    @property
    def has_credential(self) -> bool:
        return bool(self.credential_token)
