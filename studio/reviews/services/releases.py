"""Release builds: only an approved revision, from its frozen files."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from studio.audit.models import AuditEvent
from studio.audit.services import audit_record
from studio.builds.models import Build
from studio.builds.services import build_start, signature_note
from studio.catalog.models import EDITING_ROLES

from .. import release_notes as notes
from ..models import Revision
from ..selectors import baseline_of
from .roles import require_role


class NotApproved(Exception):
    """Only an approved revision can be released."""


def release_start(
    *,
    revision: Revision,
    user: User,
    smoke: bool = True,
    release_notes: str | None = None,
) -> Build:
    """Queue a release build of an approved revision's frozen files, with its
    release notes (Markdown; None: the generated ones).

    The builds pipeline signs it when the team has an active key. Raises
    NotApproved, ValueError for blank or overlong notes, or what
    `build_start` raises (BuildInProgress, QueueUnavailable).
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
    if release_notes is None:
        release_notes = notes.draft_release_notes(current, baseline_of(provider)).text
    if not release_notes.strip():
        raise ValueError("Release notes cannot be empty.")
    if len(release_notes) > notes.MAX_NOTES:
        raise ValueError(f"Release notes are limited to {notes.MAX_NOTES} characters.")
    build = build_start(
        provider=provider,
        user=user,
        smoke=smoke,
        kind=Build.Kind.RELEASE,
        revision_label=current.label,
        release_notes=notes.clean_notes(release_notes),
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


def kit_download_record(*, build: Build, user: User, filename: str) -> AuditEvent:
    """Log that `user` downloaded the submission kit of a release build."""
    with transaction.atomic():
        return audit_record(
            action=AuditEvent.Action.DOWNLOAD,
            actor=user,
            team=build.provider.team,
            provider=build.provider,
            build=build,
            summary=f"{filename} (submission kit of release {build.revision_label}, "
            f"build {build.pk}{signature_note(build)})",
        )
