"""Reads of builds and keys that pages and the command line share."""

from __future__ import annotations

from django.conf import settings

from studio.catalog.models import Provider, Team

from .models import Build, SigningKey

HISTORY_LENGTH = 50


def provider_builds(provider: Provider, limit: int = HISTORY_LENGTH) -> list[Build]:
    """The provider's latest builds, newest first."""
    return list(
        Build.objects.filter(provider=provider)
        .select_related("created_by", "signing_key")
        .defer("steps", "findings", "smoke", "events")
        .order_by("-created_at", "-id")[:limit]
    )


def active_signing_key(team: Team) -> SigningKey | None:
    """The key the team's builds are signed with, if any."""
    return SigningKey.objects.filter(team=team, is_active=True).first()


def dev_artifacts_keep() -> int:
    return max(1, settings.BUILD_DEV_ARTIFACTS_KEEP)
