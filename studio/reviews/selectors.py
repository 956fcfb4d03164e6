"""Reads of reviews that pages, the navigation and the API share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet

from studio.audit.models import AuditEvent
from studio.builds.models import Build
from studio.catalog.models import Provider, ProviderBaseline, Team
from studio.pluginfmt.diff import PluginView, subject_of, value_at, value_digest

from .diff import Base, RevisionDiff, revision_diff
from .models import REVIEW_ROLES, Comment, Revision

__all__ = [
    "Base",
    "CommentView",
    "Inbox",
    "Release",
    "RevisionDiff",
    "audit_for_provider",
    "audit_for_team",
    "baseline_of",
    "comments_for_revision",
    "default_base",
    "draft_base",
    "inbox_counts",
    "inbox_for_user",
    "last_approved",
    "releases_for_provider",
    "revision_diff",
    "revisions_for_provider",
]

AUDIT_LENGTH = 200


def _revisions() -> QuerySet[Revision]:
    return Revision.objects.select_related(
        "provider", "provider__team", "submitted_by", "source"
    ).prefetch_related("decisions__reviewer")


def revisions_for_provider(provider: Provider) -> list[Revision]:
    """The provider's revisions, newest first, decisions prefetched."""
    return list(_revisions().filter(provider=provider).order_by("-number"))


def last_approved(provider: Provider, *, before: int | None = None) -> Revision | None:
    """The newest approved revision (older than number `before`, if given)."""
    found = Revision.objects.filter(provider=provider, status=Revision.Status.APPROVED)
    if before is not None:
        found = found.filter(number__lt=before)
    return found.select_related("source").order_by("-number").first()


def baseline_of(provider: Provider) -> ProviderBaseline | None:
    """The files the provider had when it entered the studio (None for
    providers created before baselines were recorded)."""
    return (
        ProviderBaseline.objects.filter(provider=provider)
        .select_related("created_by")
        .defer("archive")
        .first()
    )


def default_base(
    revision: Revision, baseline: ProviderBaseline | None = None
) -> Base | None:
    """What a revision is compared with unless asked: the last approved one
    before it, else the one just before it; a first revision, the provider's
    baseline (`baseline`, if the caller has it), else nothing."""
    approved = last_approved(revision.provider, before=revision.number)
    if approved is not None:
        return approved
    previous = (
        Revision.objects.filter(
            provider_id=revision.provider_id, number__lt=revision.number
        )
        .select_related("source")
        .order_by("-number")
        .first()
    )
    if previous is not None:
        return previous
    return baseline or baseline_of(revision.provider)


def draft_base(
    provider: Provider, revisions: list[Revision], baseline: ProviderBaseline | None
) -> Base | None:
    """What the Review tab compares the draft with: the last approved
    revision, else the newest, else the baseline, else nothing."""
    approved = next((r for r in revisions if r.is_approved), None)
    return approved or (revisions[0] if revisions else None) or baseline


# ---------------------------------------------------------------- comments


@dataclass(frozen=True)
class CommentView:
    """A comment (a thread's first) as seen from one revision, with its replies."""

    comment: Comment
    outdated: bool  # the value at its place changed since it was written
    carried: bool  # written on an earlier revision
    replies: tuple[Comment, ...] = ()

    @property
    def subject(self) -> tuple[str, ...]:
        return subject_of(self.comment.anchor_tuple)


def comments_for_revision(
    revision: Revision, view: PluginView | None
) -> list[CommentView]:
    """The comments a revision shows: its own, and the pinned ones of earlier
    revisions (still attached to their place), each marked outdated when the
    value at its place in `revision` differs from when it was written, each
    with its replies (which are on their thread's revision)."""
    comments = (
        Comment.objects.filter(provider_id=revision.provider_id)
        .filter(revision__number__lte=revision.number)
        .select_related("author", "resolved_by", "revision")
        .order_by("created_at", "id")
    )
    roots: list[Comment] = []
    replies: dict[int, list[Comment]] = {}
    for comment in comments:
        if comment.parent_id is None:
            roots.append(comment)
        else:
            replies.setdefault(comment.parent_id, []).append(comment)
    out = []
    for comment in roots:
        carried = comment.revision_id != revision.pk
        if carried and not comment.anchor:
            continue  # a comment on an earlier revision as a whole stays there
        outdated = False
        if comment.anchor and comment.value_digest and view is not None:
            now = value_at(view, comment.anchor_tuple)
            outdated = value_digest(now) != comment.value_digest
        out.append(
            CommentView(
                comment,
                outdated=outdated,
                carried=carried,
                replies=tuple(replies.get(comment.pk, ())),
            )
        )
    return out


# ---------------------------------------------------------------- inbox


@dataclass(frozen=True)
class Inbox:
    """A user's reviews: to review, sent back to them, waiting for others."""

    to_review: list[Revision]
    returned: list[Revision]
    waiting: list[Revision]


def _to_review(user: User) -> QuerySet[Revision]:
    # Pending revisions in the user's teams, not their own, that they have not
    # decided on yet (a change request would have sent it back: not pending).
    return (
        Revision.objects.filter(
            status=Revision.Status.PENDING,
            provider__team__memberships__user=user,
            provider__team__memberships__role__in=REVIEW_ROLES,
        )
        .exclude(submitted_by=user)
        .exclude(decisions__reviewer=user)
        .distinct()
    )


def _mine(user: User, status: str) -> QuerySet[Revision]:
    return Revision.objects.filter(
        submitted_by=user,
        status=status,
        provider__team__memberships__user=user,
    )


def inbox_for_user(user: User) -> Inbox:
    """Everything waiting on or for `user`, oldest first."""
    ids = list(_to_review(user).values_list("pk", flat=True))
    return Inbox(
        to_review=list(_revisions().filter(pk__in=ids).order_by("submitted_at")),
        returned=list(
            _revisions()
            .filter(pk__in=_mine(user, Revision.Status.CHANGES_REQUESTED).values("pk"))
            .order_by("submitted_at")
        ),
        waiting=list(
            _revisions()
            .filter(pk__in=_mine(user, Revision.Status.PENDING).values("pk"))
            .order_by("submitted_at")
        ),
    )


def inbox_counts(user: User) -> tuple[int, int]:
    """(revisions waiting for the user's review, the user's revisions sent back)."""
    return (
        _to_review(user).count(),
        _mine(user, Revision.Status.CHANGES_REQUESTED).count(),
    )


# ---------------------------------------------------------------- releases


@dataclass(frozen=True)
class Release:
    """A release build of a provider with the revision it was made from."""

    build: Build
    revision: Revision | None
    approvers: list[str]

    @property
    def version(self) -> str:
        return self.build.plugin_version or (
            self.revision.version if self.revision else ""
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the API)."""
        build = self.build
        return {
            "build_id": build.pk,
            "revision": self.revision.number if self.revision else None,
            "revision_label": build.revision_label,
            "version": self.version,
            "approvers": list(self.approvers),
            "status": build.status,
            "signed": build.signed,
            "key_fingerprint": build.display_key_fingerprint,
            "artifact_name": build.artifact_name if build.has_artifact else None,
            "size": build.size,
            "sha256": build.sha256,
            "identifier": build.identifier,
            "created_at": build.created_at.isoformat(),
            "created_by": build.created_by.get_username() if build.created_by else None,
            "release_notes": build.release_notes,
        }


def releases_for_provider(provider: Provider) -> list[Release]:
    """The provider's release builds, newest first, each with its revision
    (matched by `Build.revision_label`) and the users who approved it."""
    revisions = {r.label: r for r in revisions_for_provider(provider)}
    builds = (
        Build.objects.filter(provider=provider, kind=Build.Kind.RELEASE)
        .select_related("created_by", "signing_key")
        .defer("steps", "findings", "smoke", "events")
        .order_by("-created_at", "-id")
    )
    out = []
    for build in builds:
        revision = revisions.get(build.revision_label)
        approvers = (
            [
                d.reviewer.get_username() if d.reviewer else "(deleted user)"
                for d in revision.approvers()
            ]
            if revision
            else []
        )
        out.append(Release(build=build, revision=revision, approvers=approvers))
    return out


# ---------------------------------------------------------------- audit


def _audit() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.select_related("revision", "build", "provider")


def audit_for_provider(
    provider: Provider, *, action: str = "", limit: int = AUDIT_LENGTH
) -> list[AuditEvent]:
    """The provider's newest audit events (of one action, if given)."""
    events = _audit().filter(provider=provider)
    if action:
        events = events.filter(action=action)
    return list(events.order_by("-created_at", "-id")[:limit])


def audit_for_team(
    team: Team, *, action: str = "", limit: int = AUDIT_LENGTH
) -> list[AuditEvent]:
    """The team's newest audit events (of one action, if given)."""
    events = _audit().filter(team=team)
    if action:
        events = events.filter(action=action)
    return list(events.order_by("-created_at", "-id")[:limit])
