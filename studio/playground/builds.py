"""The builds the playground runs: which one, and its package bytes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Max, QuerySet

from studio.builds.models import Build
from studio.catalog.models import Provider
from studio.catalog.services import draft_checksum
from studio.lib.http import whole_number
from studio.playground.sessions import PlaygroundError
from studio.reviews.models import Revision


def runnable_builds() -> QuerySet[Build]:
    return Build.objects.filter(status=Build.Status.SUCCEEDED).exclude(artifact="")


def latest_build(provider_id: int) -> Build | None:
    """The provider's newest succeeded build with a package, if any."""
    return runnable_builds().filter(provider_id=provider_id).order_by("-pk").first()


def latest_build_ids(provider_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        runnable_builds()
        .filter(provider_id__in=list(provider_ids))
        .values("provider_id")
        .annotate(newest=Max("pk"))
    )
    return {row["provider_id"]: row["newest"] for row in rows}


def package_of(build_id: int) -> tuple[int, bytes]:
    build = runnable_builds().filter(pk=build_id).first()
    if build is None:
        raise PlaygroundError("that build has no package to run", 404)
    with build.artifact.open("rb") as handle:
        return build.provider_id, handle.read()


@dataclass(frozen=True)
class Choice:
    """Which build the Try it tab offers, and how it relates to the draft.

    `build`: the succeeded build to try (None: none yet). `revision`: the
    revision asked for (`?revision=N`), whose build is one made from exactly
    its frozen files (a release or a dev build of the same `BuildSource`).
    `pending`: a queued or running build of the same files the page waits
    for. `draft_differs`: the draft's files are not the files of `build`.
    """

    build: Build | None
    revision: Revision | None
    pending: Build | None
    draft_differs: bool


def choose_build(
    provider: Provider, *, build_id: str = "", revision_number: str = ""
) -> Choice:
    """The build to try: `?build=ID`, else the revision's, else the newest."""
    revision = None
    number = whole_number(revision_number, digits=9)
    if number is not None:
        revision = (
            Revision.objects.filter(provider=provider, number=number)
            .select_related("source")
            .first()
        )
    builds = runnable_builds().filter(provider=provider).select_related("source")
    build = None
    pk = whole_number(build_id)
    if pk is not None:
        build = builds.filter(pk=pk).first()
    draft_sum = draft_checksum(provider)
    if revision is not None:
        source_id = revision.source_id
        build = build if build and build.source_id == source_id else None
        build = build or builds.filter(source_id=source_id).order_by("-pk").first()
        wanted = source_id
    else:
        build = build or builds.order_by("-pk").first()
        wanted = None
    active = (
        Build.objects.filter(provider=provider, status__in=Build.ACTIVE)
        .order_by("-pk")
        .first()
    )
    # Offer a running build (of the same files, for a revision) when it is
    # newer than what there is to try.
    pending = None
    same = active is not None and (wanted is None or active.source_id == wanted)
    if active is not None and same and (build is None or active.pk > build.pk):
        pending = active
    differs = build is None or build.source.sha256 != draft_sum
    return Choice(
        build=build, revision=revision, pending=pending, draft_differs=differs
    )


def revision_of_build(build: Build) -> Revision | None:
    """The newest revision frozen from exactly this build's files, if any."""
    return (
        Revision.objects.filter(
            provider_id=build.provider_id, source_id=build.source_id
        )
        .order_by("-number")
        .first()
    )
