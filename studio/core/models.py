from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class WorkerCheck(models.Model):
    """A trivial job sent through the broker to prove a worker picks work up."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        DONE = "done"
        FAILED = "failed"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    queue = models.CharField(max_length=64, default="default")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    worker = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"worker check {self.pk} ({self.status})"

    def mark_failed(self, reason: str) -> None:
        self.status = self.Status.FAILED
        self.error = reason
        self.completed_at = timezone.now()

    def mark_done(self, *, worker: str) -> None:
        self.status = self.Status.DONE
        self.worker = worker[:255]
        self.completed_at = timezone.now()
