"""Who hears of what happens in a review (in the app, and by mail per choice).

Called inside the services' transactions. Only current members of the team
are told: someone who left keeps no window on its reviews.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User

from studio.catalog.models import Team
from studio.notifications.models import Kind
from studio.notifications.services import notify

from ..models import REVIEW_ROLES, Comment, Decision, Revision


def _members(team: Team, users: Iterable[User | None]) -> list[User]:
    ids = {user.pk for user in users if user is not None}
    if not ids:
        return []
    return list(User.objects.filter(pk__in=ids, memberships__team=team))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _subject(revision: Revision) -> str:
    return f"{revision.provider.plugin_id} {revision.label}"


def revision_submitted(*, revision: Revision, user: User) -> None:
    """The team's reviewers (owners, authors, reviewers) but the submitter."""
    team = revision.provider.team
    reviewers = User.objects.filter(
        memberships__team=team, memberships__role__in=REVIEW_ROLES
    )
    notify(
        recipients=reviewers,
        kind=Kind.REVISION_SUBMITTED,
        title=f"{user.get_username()} submitted {_subject(revision)} for review",
        body=_first_line(revision.message),
        url=revision.get_absolute_url(),
        team=team,
        actor=user,
    )


def comment_written(*, comment: Comment, user: User) -> None:
    """The revision's author hears of a comment on it."""
    revision = comment.revision
    team = revision.provider.team
    place = f" ({comment.anchor_label})" if comment.anchor else ""
    notify(
        recipients=_members(team, [revision.submitted_by]),
        kind=Kind.COMMENT,
        title=f"{user.get_username()} commented on {_subject(revision)}{place}",
        body=_first_line(comment.body),
        url=comment.get_absolute_url(),
        team=team,
        actor=user,
    )


def reply_written(*, reply: Comment, to: Comment, root: Comment, user: User) -> None:
    """The authors of the comment replied to and of the thread's first comment
    hear of a reply; the revision's author hears of it as a comment."""
    revision = root.revision
    team = revision.provider.team
    place = f" ({root.anchor_label})" if root.anchor else ""
    repliers = _members(team, [to.author, root.author])
    notify(
        recipients=repliers,
        kind=Kind.REPLY,
        title=f"{user.get_username()} replied to your comment on "
        f"{_subject(revision)}{place}",
        body=_first_line(reply.body),
        url=reply.get_absolute_url(),
        team=team,
        actor=user,
    )
    notify(
        recipients=[
            u for u in _members(team, [revision.submitted_by]) if u not in repliers
        ],
        kind=Kind.COMMENT,
        title=f"{user.get_username()} replied in a thread on "
        f"{_subject(revision)}{place}",
        body=_first_line(reply.body),
        url=reply.get_absolute_url(),
        team=team,
        actor=user,
    )


def decided(*, decision: Decision, revision: Revision, user: User) -> None:
    """The revision's author hears of each decision on it."""
    team = revision.provider.team
    if decision.verdict == Decision.Verdict.APPROVE:
        what = f"approved {_subject(revision)}"
    else:
        what = f"requested changes on {_subject(revision)}"
    body = f"{revision.label} is now {revision.get_status_display()}."
    if decision.note:
        body += f" {_first_line(decision.note)}"
    notify(
        recipients=_members(team, [revision.submitted_by]),
        kind=Kind.DECISION,
        title=f"{user.get_username()} {what}",
        body=body,
        url=revision.get_absolute_url(),
        team=team,
        actor=user,
    )
