"""Stored SVGs re-checked with the icon checker (`plugin recheck-icons`).

Icons stored before the checker was an allowlist may hold what it now refuses;
this reads them, it never changes or deletes one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from studio.pluginfmt.icons import SvgProblem, icon_problems

from ..models import Provider, ProviderFile, Team


class UnknownTeam(Exception):
    """No team has the slug asked for."""


@dataclass(frozen=True)
class UnsafeIcons:
    """One provider's stored SVGs that the icon checker refuses, by path."""

    provider: Provider
    icons: dict[str, list[SvgProblem]]


def unsafe_stored_icons(
    *, team_slug: str | None = None
) -> tuple[int, list[UnsafeIcons]]:
    """How many providers were checked, and those with unsafe SVGs (by id).

    Reads the files `icon_problems` would check: `.svg` files and `_assets/`.
    """
    providers = Provider.objects.select_related("team").order_by("pk")
    if team_slug:
        if not Team.objects.filter(slug=team_slug).exists():
            raise UnknownTeam(f"no team with the slug {team_slug!r}")
        providers = providers.filter(team__slug=team_slug)
    rows = (
        ProviderFile.objects.filter(provider__in=providers)
        .filter(Q(path__iendswith=".svg") | Q(path__startswith="_assets/"))
        .order_by("provider_id", "path")
        .values_list("provider_id", "path", "content")
    )
    unsafe: dict[int, dict[str, list[SvgProblem]]] = {}
    for provider_id, path, content in rows.iterator():
        found = icon_problems({path: bytes(content)})
        if found:
            unsafe.setdefault(provider_id, {}).update(found)
    by_id = providers.in_bulk(list(unsafe))
    return providers.count(), [
        UnsafeIcons(provider=by_id[pk], icons=icons) for pk, icons in unsafe.items()
    ]
