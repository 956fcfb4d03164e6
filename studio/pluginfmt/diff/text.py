"""The line diff of every file that differs, a second view of a change."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from studio.pluginfmt.files import PluginFiles


@dataclass(frozen=True)
class TextLine:
    kind: str  # hunk, add, del, ctx
    text: str


@dataclass(frozen=True)
class FileTextDiff:
    """The line diff of one file that differs between two versions."""

    path: str
    status: str  # added, removed, changed
    binary: bool = False
    too_large: bool = False
    lines: list[TextLine] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.kind == "add")

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.kind == "del")

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "binary": self.binary,
            "too_large": self.too_large,
            "unified": "".join(
                f"{_PREFIX[line.kind]}{line.text}\n" for line in self.lines
            ),
        }


_PREFIX = {"hunk": "", "add": "+", "del": "-", "ctx": " "}
MAX_TEXT_LINES = 20_000


def _text(content: bytes) -> list[str] | None:
    if b"\0" in content:
        return None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return text.splitlines()


def text_diff(
    base: PluginFiles | None,
    head: PluginFiles,
    *,
    context: int = 3,
    max_lines: int = MAX_TEXT_LINES,
) -> list[FileTextDiff]:
    """Unified line diffs of every file that differs, by path."""
    old = base or {}
    out = []
    for path in sorted({*old, *head}):
        a, b = old.get(path), head.get(path)
        if a == b:
            continue
        status = "added" if a is None else "removed" if b is None else "changed"
        la = _text(a) if a is not None else []
        lb = _text(b) if b is not None else []
        if la is None or lb is None:
            out.append(FileTextDiff(path, status, binary=True))
            continue
        if len(la) > max_lines or len(lb) > max_lines:
            out.append(FileTextDiff(path, status, too_large=True))
            continue
        lines = []
        for raw in difflib.unified_diff(la, lb, n=context, lineterm=""):
            if raw.startswith(("---", "+++")):
                continue
            if raw.startswith("@@"):
                lines.append(TextLine("hunk", raw))
            elif raw.startswith("+"):
                lines.append(TextLine("add", raw[1:]))
            elif raw.startswith("-"):
                lines.append(TextLine("del", raw[1:]))
            else:
                lines.append(TextLine("ctx", raw[1:]))
        out.append(FileTextDiff(path, status, lines=lines))
    return out
