"""Submitting revisions and deciding on them."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from studio.audit.models import AuditEvent
from studio.audit.services import audit_record
from studio.builds.services import snapshot
from studio.catalog.models import EDITING_ROLES, Provider

from ..models import REVIEW_ROLES, Decision, ReviewSettings, Revision
from . import notices
from .roles import NotAllowed, require_role


class NothingToSubmit(Exception):
    """The draft's files are those of the newest revision already."""


class SelfApproval(NotAllowed):
    """An author cannot approve their own revision."""


class RevisionClosed(Exception):
    """The revision takes no more decisions (approved or superseded)."""


def revision_submit(*, provider: Provider, user: User, message: str) -> Revision:
    """Freeze the provider's current files into the next numbered revision.

    Older revisions still waiting for review are superseded. Refused with
    NothingToSubmit when the files equal the newest revision's.
    """
    require_role(
        team=provider.team, user=user, roles=EDITING_ROLES, doing="submit revisions"
    )
    with transaction.atomic():
        locked = (
            Provider.objects.select_for_update()
            .select_related("team")
            .get(pk=provider.pk)
        )
        source = snapshot(locked)
        latest = locked.revisions.order_by("-number").first()
        if latest is not None and latest.source_id == source.pk:
            raise NothingToSubmit(
                f"Nothing changed since {latest.label}: edit the draft first."
            )
        for older in locked.revisions.select_for_update().filter(
            status__in=Revision.OPEN
        ):
            older.supersede()
            older.save(update_fields=["status"])
        revision = Revision.objects.create(
            provider=locked,
            number=latest.number + 1 if latest else 1,
            message=message.strip(),
            source=source,
            version=source.plugin_version,
            required_approvals=ReviewSettings.of(locked.team).required_approvals,
            error_count=locked.error_count,
            warning_count=locked.warning_count,
            submitted_by=user,
        )
        title = message.strip().splitlines()[0] if message.strip() else ""
        audit_record(
            action=AuditEvent.Action.SUBMIT,
            actor=user,
            team=locked.team,
            provider=locked,
            revision=revision,
            summary=f"{revision.label} (version {revision.version}): {title}",
        )
        notices.revision_submitted(revision=revision, user=user)
    return revision


def revision_decide(
    *, revision: Revision, user: User, verdict: str, note: str = ""
) -> Decision:
    """Record `user`'s approval or change request and settle the status.

    The reviewers' latest decisions count: any change request sends the
    revision back; enough approvals (the team's setting when it was
    submitted) approve it, which is final.
    """
    provider = revision.provider
    require_role(
        team=provider.team, user=user, roles=REVIEW_ROLES, doing="review revisions"
    )
    if verdict not in Decision.Verdict.values:
        raise ValueError(f"unknown verdict {verdict!r}")
    if verdict == Decision.Verdict.APPROVE and revision.submitted_by_id == user.pk:
        raise SelfApproval("An author cannot approve their own revision.")
    now = timezone.now()
    with transaction.atomic():
        locked = Revision.objects.select_for_update().get(pk=revision.pk)
        if not locked.is_open:
            raise RevisionClosed(
                f"{locked.label} is {locked.get_status_display()}: it takes no "
                "more decisions."
            )
        decision = Decision.objects.create(
            revision=locked,
            reviewer=user,
            verdict=verdict,
            note=note.strip(),
            created_at=now,
        )
        locked.settle(
            approvals=len(locked.approvers()),
            changes_requested=bool(locked.change_requests()),
            now=now,
        )
        locked.save(update_fields=["status", "decided_at"])
        action = (
            AuditEvent.Action.APPROVE
            if verdict == Decision.Verdict.APPROVE
            else AuditEvent.Action.REQUEST_CHANGES
        )
        audit_record(
            action=action,
            actor=user,
            team=provider.team,
            provider=provider,
            revision=locked,
            summary=f"{locked.label}: now {locked.get_status_display()}"
            + (f" — {decision.note.splitlines()[0]}" if decision.note else ""),
        )
        locked.provider = provider
        notices.decided(decision=decision, revision=locked, user=user)
    revision.refresh_from_db()
    return decision
