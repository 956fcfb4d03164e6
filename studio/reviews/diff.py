"""Diffs between revisions, the provider's baseline and the draft:
`pluginfmt.diff` over stored files.

Parsing a plugin is what costs (about 2 ms a model file), so views, diffs and
line diffs are cached by the checksum of the files they were made from: a
revision's or a baseline's files never change, and the draft's are read (one
query) and checksummed on every request, so an edit is never missed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.catalog.models import Provider, ProviderBaseline
from studio.catalog.services import draft_checksum, provider_files
from studio.pluginfmt.diff import (
    FileTextDiff,
    PluginDiff,
    PluginView,
    diff_views,
    plugin_view,
    text_diff,
)
from studio.pluginfmt.document import load_document
from studio.pluginfmt.files import PluginFiles

from .models import Revision

# What a revision is compared with: an earlier revision, or the files the
# provider had when it entered the studio. None: nothing (everything is new).
Base = Revision | ProviderBaseline


class _Lru[K, V]:
    """A small thread-safe LRU map (requests share it; values are never mutated)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: a slow parse blocks no other request
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_files: _Lru[str, PluginFiles] = _Lru(8)
_views: _Lru[str, PluginView] = _Lru(16)
_diffs: _Lru[tuple[str, str], PluginDiff] = _Lru(16)
_texts: _Lru[tuple[str, str], list[FileTextDiff]] = _Lru(8)


def clear_caches() -> None:
    """Forget every cached view and diff (tests, benchmarks)."""
    for cache in (_files, _views, _diffs, _texts):
        cache.clear()


def _checksum(side: Base) -> str:
    return side.source.sha256 if isinstance(side, Revision) else side.sha256


def stored_files(side: Base) -> PluginFiles:
    """The frozen files of a revision or a baseline, by path."""
    source = side.source if isinstance(side, Revision) else side
    return _files.get(_checksum(side), source.files)


def _view(side: Base) -> PluginView:
    return _views.get(
        _checksum(side), lambda: plugin_view(load_document(stored_files(side)))
    )


def revision_view(revision: Revision) -> PluginView:
    """The comparable view of a revision's frozen files (DocumentError if
    they cannot be read)."""
    return _view(revision)


def base_view(base: Base | None) -> PluginView | None:
    """The comparable view of a base (None for nothing)."""
    return _view(base) if base is not None else None


@dataclass(frozen=True)
class RevisionDiff:
    """What changed from `base` (None: nothing) to `head`."""

    base: Base | None
    head: Revision
    diff: PluginDiff

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: both sides, then `PluginDiff.as_dict()`."""
        base = self.base
        return {
            "provider": self.head.provider.plugin_id,
            "base": _revision_dict(base) if isinstance(base, Revision) else None,
            "baseline": _baseline_dict(base)
            if isinstance(base, ProviderBaseline)
            else None,
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


def _baseline_dict(baseline: ProviderBaseline) -> dict[str, Any]:
    return {
        "kind": baseline.kind,
        "version": baseline.plugin_version,
        "created_at": baseline.created_at.isoformat(),
        "created_by": baseline.created_by.get_username()
        if baseline.created_by
        else None,
    }


def _check_same_provider(base: Base | None, head: Revision) -> None:
    if base is not None and base.provider_id != head.provider_id:
        raise ValueError("revisions of different providers cannot be compared")


def _key(base: Base | None, head: Revision) -> tuple[str, str]:
    return (_checksum(base) if base is not None else "", head.source.sha256)


def revision_diff(*, base: Base | None, head: Revision) -> RevisionDiff:
    """The schema-aware diff of a revision against an earlier revision or the
    provider's baseline.

    `base` None compares with nothing (everything is new). Raises ValueError
    for sides of different providers, DocumentError for unreadable files.
    """
    _check_same_provider(base, head)
    diff = _diffs.get(
        _key(base, head), lambda: diff_views(base_view(base), revision_view(head))
    )
    return RevisionDiff(base=base, head=head, diff=diff)


def revision_text_diff(*, base: Base | None, head: Revision) -> list[FileTextDiff]:
    """The line diff of every file that differs between a base and a revision."""
    _check_same_provider(base, head)
    return _texts.get(
        _key(base, head),
        lambda: text_diff(
            stored_files(base) if base is not None else None, stored_files(head)
        ),
    )


def draft_diff(*, provider: Provider, base: Base | None) -> PluginDiff:
    """What the working draft changes compared with `base` (DocumentError if
    the draft is unreadable)."""
    digest = draft_checksum(provider)  # the files are read only on a miss
    head = _views.get(
        digest, lambda: plugin_view(load_document(provider_files(provider)))
    )
    return _diffs.get(
        (_checksum(base) if base is not None else "", digest),
        lambda: diff_views(base_view(base), head),
    )
