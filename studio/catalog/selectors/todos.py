"""The provider page's to-do list: the `AUTHOR:` markers left in the draft's
Python files (pluginfmt.scaffold.todos), each linking to its line in the
editor, until the author has written that code.

Cheap on every visit: one query reads the Python files' paths and checksums;
the markers are cached under a digest of those, so the files' contents are
read only after one of them changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote

from django.core.cache import cache
from django.urls import reverse

from studio.catalog.models import Provider
from studio.pluginfmt.scaffold.todos import author_todos

CACHE_PREFIX = "author-todos:v1:"
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class TodoRow:
    """A marker as the provider page lists it."""

    path: str
    line: int
    text: str
    url: str  # the file in the files tab (the editor, for editors) at the line


def provider_todos(provider: Provider) -> list[TodoRow]:
    """The `AUTHOR:` markers in the provider's Python files, by path and line."""
    python = provider.files.filter(path__endswith=".py")
    stamps = sorted(python.values_list("path", "sha256"))
    if not stamps:
        return []
    digest = hashlib.sha256(repr(stamps).encode()).hexdigest()
    key = f"{CACHE_PREFIX}{digest}"
    found: list[tuple[str, int, str]] | None = cache.get(key)
    if found is None:
        rows = python.values_list("path", "content")
        files = {path: bytes(content) for path, content in rows}
        found = [(t.path, t.line, t.text) for t in author_todos(files)]
        cache.set(key, found, CACHE_SECONDS)
    view = reverse("catalog:provider-file", kwargs={"provider_id": provider.pk})
    return [
        TodoRow(path, line, text, f"{view}?path={quote(path, safe='/')}&line={line}")
        for path, line, text in found
    ]
