"""Comments on revisions, pinned to a place or not, replies (threads one
level deep), and resolving them."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction

from studio.audit.models import AuditEvent
from studio.audit.services import audit_record
from studio.pluginfmt.diff import anchor_label, valid_anchor, value_at, value_digest
from studio.pluginfmt.document import DocumentError

from ..diff import revision_view
from ..models import REVIEW_ROLES, Comment, Revision
from . import notices
from .roles import require_role


class InvalidAnchor(ValueError):
    """The place a comment is pinned to is not a place of a plugin."""


def comment_create(
    *, revision: Revision, user: User, body: str, anchor: Sequence[str] = ()
) -> Comment:
    """Comment on `revision`, on the place `anchor` names (empty: the whole)."""
    provider = revision.provider
    require_role(team=provider.team, user=user, roles=REVIEW_ROLES, doing="comment")
    place = tuple(anchor)
    if place and not valid_anchor(place):
        raise InvalidAnchor(f"not a place in a plugin: {list(place)!r}")
    digest = ""
    if place:
        try:
            digest = value_digest(value_at(revision_view(revision), place))
        except DocumentError:
            digest = ""  # an unreadable snapshot: the comment never goes stale
    with transaction.atomic():
        comment = Comment.objects.create(
            provider=provider,
            revision=revision,
            author=user,
            body=body.strip(),
            anchor=list(place),
            anchor_label=anchor_label(place)[:1024],
            value_digest=digest,
        )
        audit_record(
            action=AuditEvent.Action.COMMENT,
            actor=user,
            team=provider.team,
            provider=provider,
            revision=revision,
            summary=f"{revision.label}, {comment.anchor_label}: {_first_line(body)}",
        )
        notices.comment_written(comment=comment, user=user)
    return comment


def comment_reply(*, comment: Comment, user: User, body: str) -> Comment:
    """Reply to `comment` in its thread: the reply joins the thread's first
    comment (a reply to a reply too), on that comment's revision."""
    provider = comment.provider
    require_role(team=provider.team, user=user, roles=REVIEW_ROLES, doing="comment")
    with transaction.atomic():
        root = (
            Comment.objects.select_related("revision", "author").get(
                pk=comment.parent_id
            )
            if comment.parent_id
            else comment
        )
        root.revision.provider = provider
        reply = Comment.objects.create(
            provider=provider,
            revision=root.revision,
            parent=root,
            author=user,
            body=body.strip(),
        )
        audit_record(
            action=AuditEvent.Action.COMMENT,
            actor=user,
            team=provider.team,
            provider=provider,
            revision=root.revision,
            summary=f"{root.revision.label}, reply to comment {root.pk} on "
            f"{root.anchor_label or 'the revision'}: {_first_line(body)}",
        )
        notices.reply_written(reply=reply, to=comment, root=root, user=user)
    return reply


def comment_resolve(*, comment: Comment, user: User, resolved: bool = True) -> Comment:
    """Mark a comment's thread resolved (or open again with `resolved=False`);
    the state is the first comment's, so a reply resolves its whole thread."""
    provider = comment.provider
    require_role(
        team=provider.team, user=user, roles=REVIEW_ROLES, doing="resolve comments"
    )
    with transaction.atomic():
        locked = Comment.objects.select_for_update().get(
            pk=comment.parent_id or comment.pk
        )
        if locked.is_resolved == resolved:
            return locked
        if resolved:
            locked.resolve(user)
        else:
            locked.reopen()
        locked.save(update_fields=["resolved_at", "resolved_by"])
        audit_record(
            action=AuditEvent.Action.RESOLVE if resolved else AuditEvent.Action.REOPEN,
            actor=user,
            team=provider.team,
            provider=provider,
            revision=locked.revision,
            summary=f"comment {locked.pk} on {locked.anchor_label}: "
            f"{_first_line(locked.body)}",
        )
    return locked


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
