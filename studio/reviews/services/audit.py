"""The audit log: every review action, release and download, with who and when."""

from __future__ import annotations

from django.contrib.auth.models import User

from studio.builds.models import Build
from studio.catalog.models import Provider, Team

from ..models import AuditEvent, Revision


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


def download_record(*, build: Build, user: User) -> AuditEvent:
    """Log that `user` downloaded the artifact of `build`."""
    what = (
        f"release {build.revision_label}"
        if build.kind == Build.Kind.RELEASE
        else "draft build"
    )
    return audit_record(
        action=AuditEvent.Action.DOWNLOAD,
        actor=user,
        team=build.provider.team,
        provider=build.provider,
        build=build,
        summary=f"{build.artifact_name} ({what}, build {build.pk})",
    )
