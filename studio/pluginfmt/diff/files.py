"""Changes of the files that are not YAML parts (code, icons, docs, dependencies)."""

from __future__ import annotations

from collections.abc import Iterator

from .changes import Change
from .levels import Level
from .values import MISSING, Anchor, change_kind
from .views import PluginView

_DEPENDENCY_FILES = {"requirements.txt", "pyproject.toml", "uv.lock"}
_DOC_FILES = ("README", "PRIVACY", "LICENSE", "CHANGELOG")


def _file_level(path: str) -> tuple[Level, str]:
    name = path.rsplit("/", 1)[-1]
    if name in _DEPENDENCY_FILES:
        return Level.NOTABLE, "dependencies"
    if path.endswith(".py"):
        return Level.NOTABLE, "Python code"
    if path.startswith("_assets/"):
        return Level.COSMETIC, "icon or asset"
    if name.upper().startswith(_DOC_FILES) or name.endswith((".md", ".txt")):
        return Level.COSMETIC, "documentation"
    return Level.NOTABLE, "file"


def file_changes(old: PluginView, new: PluginView) -> Iterator[Change]:
    """One change per file that is not a YAML part and differs."""
    a, b = old.data["file"], new.data["file"]
    for path in sorted({*a, *b}):
        x, y = a.get(path, MISSING), b.get(path, MISSING)
        if x == y:
            continue
        level, noun = _file_level(path)
        kind = change_kind(x, y)
        subject: Anchor = ("file", path)
        yield Change(
            "files",
            subject,
            subject,
            kind,
            level,
            f"{noun} {path} {kind} (see the text diff)",
            x,
            y,
        )
