"""Writing the audit log: every review action, release and download."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from studio.builds.models import Build
    from studio.catalog.models import Provider, Team
    from studio.reviews.models import Revision


def audit_record(
    *,
    action: str,
    actor: User | None,
    team: Team,
    provider: Provider | None = None,
    revision: Revision | None = None,
    build: Build | None = None,
    summary: str = "",
) -> AuditEvent:
    """Append one event to the log (inside the caller's transaction)."""
    return AuditEvent.objects.create(
        team=team,
        provider=provider,
        plugin_id=provider.plugin_id[:255] if provider else "",
        revision=revision,
        build=build,
        actor=actor,
        actor_name=actor.get_username()[:150] if actor else "",
        action=action,
        summary=summary[:500],
    )
