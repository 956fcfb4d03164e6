"""The builds the playground runs: which one, and its package bytes."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Max, QuerySet

from studio.builds.models import Build
from studio.playground.sessions import PlaygroundError


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
