"""A remote-debugging session: one build's plugin connected to a Dify daemon."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DebugSession(models.Model):
    """State, requests seen and log tail of one remote-debugging run.

    The debugging key is kept only as a Fernet token (`key_token`) until the
    worker reads it, and is blanked when the session ends.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        CONNECTING = "connecting", "Connecting"
        CONNECTED = "connected", "Connected"
        REFUSED = "refused", "Refused"
        ENDED = "ended", "Ended"

    ACTIVE = (State.QUEUED, State.CONNECTING, State.CONNECTED)

    build = models.ForeignKey(
        "builds.Build", on_delete=models.CASCADE, related_name="debug_sessions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True
    )
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField()
    key_token = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    reason = models.TextField(blank=True)
    requests = models.JSONField(default=list)
    log = models.TextField(blank=True)
    stop_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"debug session {self.pk} of build {self.build_id} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class TeamDebugHosts(models.Model):
    """A team's own debugging hosts: private Dify addresses its sessions may
    reach besides what `settings.DEBUG_EGRESS_ALLOW` allows (an owner edits
    it). Entries are host names, IP addresses or CIDR networks, each with an
    optional `:port`, as the egress guard reads them."""

    team = models.OneToOneField(
        "catalog.Team", on_delete=models.CASCADE, related_name="debug_hosts"
    )
    entries = models.JSONField(default=list, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "team debugging hosts"

    def __str__(self) -> str:
        return f"debugging hosts of {self.team_id}"
