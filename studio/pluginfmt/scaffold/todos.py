"""The `AUTHOR:` markers the custom skeleton leaves where the vendor calls go,
found again in a plugin's Python files: the author's to-do list.

A marker is the text `AUTHOR:` anywhere on a line of a `.py` file (a comment,
a docstring, the `NotImplementedError` message). A comment that goes on
over the next comment lines is read whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

AUTHOR_MARKER = "AUTHOR:"
# One line of the list stays short; the editor shows the rest.
MAX_TODO_CHARS = 200


@dataclass(frozen=True)
class AuthorTodo:
    """One `AUTHOR:` marker: where it is and what it asks for."""

    path: str
    line: int  # 1-based
    text: str


def author_todos(files: Mapping[str, bytes]) -> list[AuthorTodo]:
    """Every `AUTHOR:` marker in the `.py` files, by path and line."""
    marker = AUTHOR_MARKER.encode()
    todos: list[AuthorTodo] = []
    for path in sorted(files):
        content = files[path]
        if not path.endswith(".py") or marker not in content:
            continue
        lines = content.decode("utf-8", "replace").splitlines()
        for n, line in enumerate(lines):
            at = line.find(AUTHOR_MARKER)
            if at >= 0:
                todos.append(AuthorTodo(path, n + 1, _what(line, at, lines[n + 1 :])))
    return todos


def _what(line: str, at: int, following: list[str]) -> str:
    text = line[at + len(AUTHOR_MARKER) :].strip()
    if line.lstrip().startswith("#"):
        # A comment may go on over the next lines (without a marker of its own).
        for more in following:
            stripped = more.strip()
            if not stripped.startswith("#") or AUTHOR_MARKER in stripped:
                break
            text = f"{text} {stripped.lstrip('#').strip()}"
    else:
        # The end of a string: `"AUTHOR: implement _invoke")`, `…class."""`.
        text = text.rstrip("\"')").strip()
    if len(text) > MAX_TODO_CHARS:
        text = text[: MAX_TODO_CHARS - 1].rstrip() + "…"
    return text or "(no text after the marker)"
