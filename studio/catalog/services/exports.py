"""Export a provider's files back to a folder, exactly as stored; and find a
provider by id or author/name for the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.catalog.models import Provider
from studio.catalog.services import provider_files
from studio.pluginfmt.files import UnsafeInput
from studio.pluginfmt.render import render_tree


class ExportFailed(Exception):
    """The provider could not be found or written out."""


@dataclass(frozen=True)
class ExportResult:
    provider: Provider
    path: Path
    files: int
    total_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "provider_id": self.provider.pk,
            "plugin": self.provider.plugin_id,
            "output": str(self.path),
            "files": self.files,
            "bytes": self.total_bytes,
        }


def provider_lookup(*, ref: str, team_slug: str | None = None) -> Provider:
    """A provider by numeric id or `author/name` (within `team_slug` if given)."""
    providers = Provider.objects.select_related("team")
    if team_slug:
        providers = providers.filter(team__slug=team_slug)
    if ref.isdigit():
        found = list(providers.filter(pk=int(ref)))
    else:
        author, sep, name = ref.partition("/")
        if not sep or not author or not name:
            raise ExportFailed(f"{ref!r}: give a provider id or author/name")
        found = list(providers.filter(author=author, name=name)[:2])
    if not found:
        raise ExportFailed(f"no provider {ref}")
    if len(found) > 1:
        raise ExportFailed(f"{ref} exists in several teams: name one with --team SLUG")
    return found[0]


def provider_export(
    *, provider: Provider, dest: str | os.PathLike[str], overwrite: bool = False
) -> ExportResult:
    """Write the provider's files under `dest`, exactly as stored."""
    files = provider_files(provider)
    try:
        render_tree(files, dest, overwrite=overwrite)
    except (FileExistsError, UnsafeInput) as exc:
        raise ExportFailed(str(exc)) from None
    except OSError as exc:
        raise ExportFailed(f"{dest}: {exc.strerror or exc}") from None
    return ExportResult(
        provider=provider,
        path=Path(dest),
        files=len(files),
        total_bytes=sum(len(c) for c in files.values()),
    )
