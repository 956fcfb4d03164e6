"""Downloads of build artifacts go in the team's audit log."""

from __future__ import annotations

from django.contrib.auth.models import User

from studio.audit.models import AuditEvent
from studio.audit.services import audit_record

from ..models import Build


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
        summary=f"{build.artifact_name} "
        f"({what}, build {build.pk}{signature_note(build)})",
    )


def signature_note(build: Build) -> str:
    """`, signed with key <fingerprint>` for a signed build's audit summaries."""
    if not build.signed:
        return ""
    return f", signed with key {build.display_key_fingerprint}"
