"""Diffs between revisions (and the draft): `pluginfmt.diff` over stored files."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from studio.builds.models import BuildSource
from studio.catalog.models import Provider
from studio.catalog.services import provider_files
from studio.pluginfmt.diff import (
    FileTextDiff,
    PluginDiff,
    PluginView,
    diff_views,
    plugin_view,
    text_diff,
)
from studio.pluginfmt.document import load_document

from .models import Revision


@lru_cache(maxsize=16)
def _source_view(source_id: int, sha256: str) -> PluginView:
    # A BuildSource never changes (it is keyed by the checksum of its files),
    # so its view can be shared by requests; callers never mutate it.
    return plugin_view(load_document(BuildSource.objects.get(pk=source_id).files()))


def revision_view(revision: Revision) -> PluginView:
    """The comparable view of a revision's frozen files (DocumentError if
    they cannot be read)."""
    return _source_view(revision.source_id, revision.source.sha256)


@dataclass(frozen=True)
class RevisionDiff:
    """What changed from `base` (None: nothing, a first revision) to `head`."""

    base: Revision | None
    head: Revision
    diff: PluginDiff

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: both revisions, then `PluginDiff.as_dict()`."""
        return {
            "provider": self.head.provider.plugin_id,
            "base": _revision_dict(self.base) if self.base else None,
            "head": _revision_dict(self.head),
            **self.diff.as_dict(),
        }


def _revision_dict(revision: Revision) -> dict[str, Any]:
    return {
        "number": revision.number,
        "label": revision.label,
        "version": revision.version,
        "status": revision.status,
    }


def revision_diff(*, base: Revision | None, head: Revision) -> RevisionDiff:
    """The schema-aware diff of two revisions of one provider.

    `base` None compares with nothing (everything is new). Raises ValueError
    for revisions of different providers, DocumentError for unreadable files.
    """
    if base is not None and base.provider_id != head.provider_id:
        raise ValueError("revisions of different providers cannot be compared")
    return RevisionDiff(
        base=base,
        head=head,
        diff=diff_views(revision_view(base) if base else None, revision_view(head)),
    )


def revision_text_diff(*, base: Revision | None, head: Revision) -> list[FileTextDiff]:
    """The line diff of every file that differs between two revisions."""
    if base is not None and base.provider_id != head.provider_id:
        raise ValueError("revisions of different providers cannot be compared")
    return text_diff(base.files() if base else None, head.files())


def draft_diff(*, provider: Provider, base: Revision | None) -> PluginDiff:
    """What the working draft changes compared with `base` (DocumentError if
    the draft is unreadable)."""
    head = plugin_view(load_document(provider_files(provider)))
    return diff_views(revision_view(base) if base else None, head)
