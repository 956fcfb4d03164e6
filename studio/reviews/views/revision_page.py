"""The revision page's context: the diff against a chosen base, comments in
place, decisions and release builds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from studio.builds.models import Build
from studio.builds.selectors import active_signing_key
from studio.catalog.models import Membership, Provider
from studio.catalog.provider_page import provider_context
from studio.lib.http import AuthedHttpRequest
from studio.pluginfmt.diff import PluginView, SubjectChanges, comment_places
from studio.pluginfmt.document import DocumentError

from .. import selectors
from ..diff import revision_diff, revision_text_diff, revision_view
from ..forms import CommentForm, DecisionForm, ReleaseForm
from ..models import REVIEW_ROLES, Revision


def revision_url(revision: Revision, **query: str) -> str:
    """The revision page's address, with the compare settings that are set."""
    url = reverse(
        "reviews:revision-detail",
        kwargs={"provider_id": revision.provider_id, "number": revision.number},
    )
    query = {k: v for k, v in query.items() if v}
    return f"{url}?{urlencode(query)}" if query else url


@dataclass(frozen=True)
class Group:
    """A subject's changes with the comments pinned to it."""

    changes: SubjectChanges
    comments: list[selectors.CommentView]


def _pick_base(
    revision: Revision, revisions: list[Revision], raw: str
) -> tuple[Revision | None, str]:
    """The base asked for (`?base=<n>` or `none`), else the default; and the
    value the compare form shows."""
    if raw == "none":
        return None, "none"
    if raw.isdigit():
        for other in revisions:
            if other.number == int(raw):
                return other, raw
    base = selectors.default_base(revision)
    return base, str(base.number) if base else "none"


def revision_context(
    request: AuthedHttpRequest,
    revision: Revision,
    provider: Provider,
    membership: Membership,
    *,
    base_param: str = "",
    view_param: str = "",
    **extra: Any,
) -> dict[str, Any]:
    revisions = selectors.revisions_for_provider(provider)
    base, base_value = _pick_base(revision, revisions, base_param)
    mode = "text" if view_param == "text" else "changes"
    head_view: PluginView | None = None
    diff = None
    diff_error = ""
    text = []
    try:
        head_view = revision_view(revision)
        diff = revision_diff(base=base, head=revision).diff
        if mode == "text":
            text = revision_text_diff(base=base, head=revision)
    except DocumentError as exc:
        diff_error = f"This revision's files cannot be compared: {exc}"
    comments = selectors.comments_for_revision(revision, head_view)
    sections: list[tuple[str, list[Group]]] = []
    placed: set[int] = set()
    if diff is not None:
        for section, groups in diff.by_section():
            rows = []
            for group in groups:
                pinned = [
                    c
                    for c in comments
                    if c.comment.anchor and c.subject == group.subject
                ]
                placed.update(c.comment.pk for c in pinned)
                rows.append(Group(group, pinned))
            sections.append((section, rows))
    can_review = membership.role in REVIEW_ROLES
    own = revision.submitted_by_id == request.user.pk
    return provider_context(
        provider,
        membership,
        "reviews",
        revision=revision,
        revisions=revisions,
        base=base,
        base_value=base_value,
        is_default_base=base_param == "",
        mode=mode,
        diff=diff,
        diff_error=diff_error,
        sections=sections,
        text=text,
        comments=comments,
        # The text view has no places to pin comments to: all of them go below.
        other_comments=[
            c for c in comments if mode == "text" or c.comment.pk not in placed
        ],
        places=comment_places(head_view) if head_view else [],
        decisions=list(revision.decisions.all()),
        approvers=revision.approvers(),
        change_requests=revision.change_requests(),
        can_review=can_review,
        can_approve=can_review and revision.is_open and not own,
        own=own,
        can_release=membership.can_edit and revision.is_approved,
        release_builds=list(
            Build.objects.filter(
                provider=provider,
                kind=Build.Kind.RELEASE,
                revision_label=revision.label,
            )
            .defer("steps", "findings", "smoke", "events")
            .order_by("-created_at", "-id")
        ),
        signing_key=active_signing_key(provider.team),
        comment_form=extra.pop("comment_form", None) or CommentForm(),
        decision_form=extra.pop("decision_form", None) or DecisionForm(),
        release_form=extra.pop("release_form", None) or ReleaseForm(),
        **extra,
    )


def posted_compare(request: AuthedHttpRequest) -> dict[str, str]:
    """The compare settings a form posts back, so the page comes back the same."""
    base = request.POST.get("base", "")
    view = request.POST.get("view", "")
    return {
        "base": base if base == "none" or base.isdigit() else "",
        "view": "text" if view == "text" else "",
    }
