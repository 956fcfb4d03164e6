"""Release builds: only an approved revision, from its frozen files."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from studio.audit.models import AuditEvent
from studio.audit.services import audit_record
from studio.builds.models import Build
from studio.builds.services import build_start
from studio.catalog.models import EDITING_ROLES

from ..models import Revision
from .roles import require_role


class NotApproved(Exception):
    """Only an approved revision can be released."""


def release_start(*, revision: Revision, user: User, smoke: bool = True) -> Build:
    """Queue a release build of an approved revision's frozen files.

    The builds pipeline signs it when the team has an active key. Raises
    NotApproved, or what `build_start` raises (BuildInProgress,
    QueueUnavailable).
    """
    provider = revision.provider
    require_role(
        team=provider.team, user=user, roles=EDITING_ROLES, doing="release plugins"
    )
    current = Revision.objects.get(pk=revision.pk)
    if not current.is_approved:
        raise NotApproved(
            f"{current.label} is {current.get_status_display()}: only an approved "
            "revision can be released."
        )
    build = build_start(
        provider=provider,
        user=user,
        smoke=smoke,
        kind=Build.Kind.RELEASE,
        revision_label=current.label,
        source=current.source,
    )
    with transaction.atomic():
        audit_record(
            action=AuditEvent.Action.RELEASE,
            actor=user,
            team=provider.team,
            provider=provider,
            revision=current,
            build=build,
            summary=f"{current.label} (version {current.version}) as build {build.pk}",
        )
    return build
