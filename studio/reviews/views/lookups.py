"""Lookups of the review screens: 404 before anything renders, 403 for a reader."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from studio.builds.models import Build
from studio.catalog.access import get_provider_for_user, get_team_membership_for_user
from studio.catalog.models import Membership, Provider
from studio.lib.http import AuthedHttpRequest

from ..models import REVIEW_ROLES, Comment, Revision


def get_revision_for_user(
    request: AuthedHttpRequest,
    provider_id: int,
    number: int,
    *,
    write: bool = False,
    review: bool = False,
) -> tuple[Revision, Provider, Membership]:
    """A revision of a provider the user may see (404 otherwise); 403 to
    change it as a reader (`write`) or to review it as a viewer (`review`)."""
    provider, membership = get_provider_for_user(request, provider_id, write=write)
    if review and membership.role not in REVIEW_ROLES:
        raise PermissionDenied("Your role in this team can only read reviews.")
    revision = (
        Revision.objects.filter(provider=provider, number=number)
        .select_related("source", "submitted_by")
        .prefetch_related("decisions__reviewer")
        .first()
    )
    if revision is None:
        raise Http404("No such revision.")
    revision.provider = provider
    return revision, provider, membership


def get_release_for_user(
    request: AuthedHttpRequest, provider_id: int, build_id: int
) -> tuple[Build, Provider, Membership]:
    """A release build of a provider the user may see (404 otherwise, and for
    a draft build or another provider's)."""
    provider, membership = get_provider_for_user(request, provider_id)
    build = (
        Build.objects.filter(pk=build_id, provider=provider, kind=Build.Kind.RELEASE)
        .select_related("signing_key")
        .defer("findings", "events", "smoke")
        .first()
    )
    if build is None:
        raise Http404("No such release.")
    build.provider = provider
    return build, provider, membership


def get_comment_for_user(
    request: AuthedHttpRequest, provider_id: int, comment_id: int
) -> tuple[Comment, Provider, Membership]:
    """A comment on a provider the user may review (404 if not in its team,
    403 for viewers)."""
    provider, membership = get_provider_for_user(request, provider_id)
    if membership.role not in REVIEW_ROLES:
        raise PermissionDenied("Your role in this team can only read reviews.")
    comment = (
        Comment.objects.filter(pk=comment_id, provider=provider)
        .select_related("revision")
        .first()
    )
    if comment is None:
        raise Http404("No such comment.")
    comment.provider = provider
    comment.revision.provider = provider
    return comment, provider, membership


def get_thread_for_user(
    request: AuthedHttpRequest, provider_id: int, number: int, comment_id: int
) -> tuple[Comment, Revision, Provider, Membership]:
    """A comment shown on revision `number` to reply to, and that revision:
    404 for another team's user or a comment the revision does not show (of
    another provider, a later revision, or an earlier one's comment on it as a
    whole); 403 for readers."""
    revision, provider, membership = get_revision_for_user(
        request, provider_id, number, review=True
    )
    comment = (
        Comment.objects.filter(pk=comment_id, provider=provider)
        .select_related("revision", "author", "parent__revision")
        .first()
    )
    root = (comment.parent or comment) if comment is not None else None
    shown = root is not None and (
        root.revision_id == revision.pk
        or (bool(root.anchor) and root.revision.number < revision.number)
    )
    if comment is None or not shown:
        raise Http404("No such comment on this revision.")
    comment.provider = provider
    return comment, revision, provider, membership


def get_membership_for_user(
    request: AuthedHttpRequest, team_slug: str, *, owner: bool = False
) -> Membership:
    return get_team_membership_for_user(
        request,
        team_slug,
        owner=owner,
        owner_reason="Only an owner of the team changes its review rules.",
    )
