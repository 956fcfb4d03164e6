"""Revisions, their diffs, and releases (studio.reviews)."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header

from studio.builds import services as build_services
from studio.builds.models import Build
from studio.pluginfmt.document import DocumentError
from studio.reviews import kit
from studio.reviews import selectors as review_selectors
from studio.reviews import services as review_services
from studio.reviews.models import Revision
from studio.reviews.release_notes import draft_release_notes

from ..errors import ApiError, not_found
from ..pagination import PageQuery, paginate
from ..routing import BINARY, ApiRequest, operation
from ..schemas import (
    BuildOut,
    DiffOut,
    DiffQuery,
    NotesComparedWith,
    ReleaseCreate,
    ReleaseNotesOut,
    ReleaseOut,
    ReleasePage,
    RevisionOut,
    RevisionPage,
)
from .builds import record_download
from .lookups import get_build_for_token, get_provider_for_token, reply
from .shapes import build_out

MAX_NUMBER = 2**31 - 1


def revision_out(revision: Revision) -> RevisionOut:
    return RevisionOut(
        number=revision.number,
        label=revision.label,
        status=revision.status,
        version=revision.version,
        message=revision.message,
        submitted_by=(
            revision.submitted_by.get_username() if revision.submitted_by else None
        ),
        submitted_at=revision.submitted_at,
        decided_at=revision.decided_at,
        required_approvals=revision.required_approvals,
        approvers=[
            d.reviewer.get_username() if d.reviewer else "(deleted user)"
            for d in revision.approvers()
        ],
        error_count=revision.error_count,
        warning_count=revision.warning_count,
    )


def _get_revision(provider_id: int, number: int) -> Revision:
    found = (
        Revision.objects.select_related("provider", "source", "submitted_by")
        .filter(provider_id=provider_id, number=number)
        .first()
        if number <= MAX_NUMBER
        else None
    )
    if found is None:
        raise not_found("revision")
    return found


@operation(
    "GET",
    summary="List a provider's revisions",
    tag="reviews",
    query=PageQuery,
    responses={200: RevisionPage},
    errors=(404,),
)
def revision_list(
    request: ApiRequest, provider_id: int, *, query: PageQuery
) -> HttpResponse:
    """Revisions submitted for review, newest first, with their status and
    approvers: find the approved one to release."""
    provider = get_provider_for_token(request, provider_id)
    revisions = (
        Revision.objects.filter(provider=provider)
        .select_related("submitted_by")
        .prefetch_related("decisions__reviewer")
    )
    page = paginate(request, revisions, query, ["-number"])
    return reply(
        RevisionPage(items=[revision_out(r) for r in page.items], **page.meta())
    )


@operation(
    "GET",
    summary="Read the diff of a revision",
    tag="reviews",
    query=DiffQuery,
    responses={200: DiffOut},
    errors=(404, 409),
)
def revision_diff(
    request: ApiRequest, provider_id: int, number: int, *, query: DiffQuery
) -> HttpResponse:
    """The schema-aware diff of revision `number` against `base` (default:
    the last approved revision before it, else the one before it; for a
    first revision the provider's baseline): each change classified
    breaking, notable or cosmetic, and the version the changes call for."""
    provider = get_provider_for_token(request, provider_id)
    head = _get_revision(provider.pk, number)
    base: review_selectors.Base | None
    if query.base is None:
        base = review_selectors.default_base(head)
    elif query.base == "none":
        base = None
    elif query.base == "baseline":
        base = review_selectors.baseline_of(provider)
        if base is None:
            raise not_found("baseline")
    else:
        base = _get_revision(provider.pk, query.base)
    try:
        diff = review_selectors.revision_diff(base=base, head=head)
    except DocumentError as exc:
        raise ApiError(
            "conflict", f"A revision's files cannot be read: {exc}"
        ) from None
    return reply(DiffOut.model_validate(diff.as_dict()))


@operation(
    "GET",
    summary="List a provider's releases",
    tag="reviews",
    query=PageQuery,
    responses={200: ReleasePage},
    errors=(404,),
)
def release_list(
    request: ApiRequest, provider_id: int, *, query: PageQuery
) -> HttpResponse:
    """Release builds, newest first, each with its revision, version and
    approvers; a succeeded one has its artifact to download."""
    provider = get_provider_for_token(request, provider_id)
    releases = {r.build.pk: r for r in review_selectors.releases_for_provider(provider)}
    page = paginate(
        request,
        Build.objects.filter(provider=provider, kind=Build.Kind.RELEASE),
        query,
        ["-id"],
    )
    items = []
    for build in page.items:
        release = releases.get(build.pk)
        revision = release.revision if release else None
        items.append(
            ReleaseOut(
                build=build_out(build),
                revision=revision.number if revision else None,
                revision_label=build.revision_label,
                version=release.version if release else build.plugin_version,
                approvers=list(release.approvers) if release else [],
                release_notes=build.release_notes,
                submission_kit=reverse(
                    "api:build-submission-kit", kwargs={"build_id": build.pk}
                )
                if build.has_artifact
                else None,
            )
        )
    return reply(ReleasePage(items=items, **page.meta()))


@operation(
    "POST",
    summary="Start a release build",
    tag="reviews",
    body=ReleaseCreate,
    responses={202: BuildOut},
    errors=(404, 409, 503),
    write=True,
)
def release_create(
    request: ApiRequest, provider_id: int, *, body: ReleaseCreate
) -> HttpResponse:
    """Queue a release build of an approved revision's frozen files (signed
    when the team has a key). A release is started by a person: use a
    personal token of an owner or author. 409 when the revision is not
    approved or a build is in progress."""
    provider = get_provider_for_token(request, provider_id, write=True)
    revision = _get_revision(provider.pk, body.revision)
    user = request.actor.user
    if user is None:
        raise ApiError(
            "forbidden",
            "A release is started by a person: use a personal token of an owner "
            "or author (team tokens build drafts and read releases).",
        )
    try:
        build = review_services.release_start(
            revision=revision,
            user=user,
            smoke=body.smoke,
            release_notes=body.release_notes,
        )
    except review_services.NotAllowed as exc:
        raise ApiError("forbidden", str(exc)) from None
    except review_services.NotApproved as exc:
        raise ApiError("conflict", str(exc)) from None
    except build_services.BuildInProgress as exc:
        raise ApiError(
            "conflict",
            str(exc),
            context={"build_id": exc.build.pk} if exc.build else None,
        ) from None
    except build_services.QueueUnavailable as exc:
        raise ApiError("queue_unavailable", str(exc), context=exc.context) from None
    response = reply(build_out(build), status=202)
    response["Location"] = reverse("api:build-read", kwargs={"build_id": build.pk})
    return response


@operation(
    "GET",
    summary="Generate the release notes of a revision",
    tag="reviews",
    responses={200: ReleaseNotesOut},
    errors=(404,),
)
def revision_release_notes(
    request: ApiRequest, provider_id: int, number: int
) -> HttpResponse:
    """The release notes releasing revision `number` would get by default:
    generated from the schema-aware diff with the previous release (else the
    provider's baseline; else a first release listing its models). Edit them
    and send them as `release_notes` when starting the release."""
    provider = get_provider_for_token(request, provider_id)
    revision = _get_revision(provider.pk, number)
    draft = draft_release_notes(revision, review_selectors.baseline_of(provider))
    base = draft.compared
    if base.previous is not None:
        compared = NotesComparedWith(
            kind="release",
            revision=base.previous.number,
            version=base.previous.version,
        )
    elif base.base is not None:
        version = getattr(base.base, "plugin_version", None)
        compared = NotesComparedWith(kind="baseline", revision=None, version=version)
    else:
        compared = NotesComparedWith(kind="none", revision=None, version=None)
    return reply(
        ReleaseNotesOut(
            revision=revision.number,
            version=revision.version,
            compared_with=compared,
            release_notes=draft.text,
        )
    )


@operation(
    "GET",
    summary="Download a release's Marketplace submission kit",
    tag="reviews",
    responses={200: BINARY},
    errors=(404, 409),
)
def build_submission_kit(request: ApiRequest, build_id: int) -> HttpResponse:
    """A zip for a pull request to langgenius/dify-plugins: the package at
    `<author>/<name>/<name>-<version>.difypkg`, RELEASE_NOTES.md,
    PULL_REQUEST.md and CHECKLIST.md. 404 for a draft build; 409 for a
    release that did not succeed."""
    build = get_build_for_token(request, build_id)
    if build.kind != Build.Kind.RELEASE:
        raise ApiError("not_found", "This build is not a release.")
    try:
        found = kit.submission_kit(build)
    except kit.KitUnavailable as exc:
        raise ApiError("conflict", str(exc)) from None
    record_download(request, build, what=f"submission kit {found.filename}")
    response = HttpResponse(found.content, content_type=BINARY)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=found.filename
    )
    return response
