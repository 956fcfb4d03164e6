"""Model-file discovery exactly as the daemon does it (Go `filepath.Match`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str] | None:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            j = pattern.find("]", i + 2)
            if j == -1:
                return None  # Go: ErrBadPattern, which matches nothing
            body = pattern[i + 1 : j]
            negate = body.startswith("^")
            if negate:
                body = body[1:]
            body = body.replace("\\", "\\\\")
            out.append(f"[{'^' if negate else ''}{body}]")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(pattern: str, path: str) -> bool:
    """Whether `path` matches `pattern`, where `*` and `?` never cross `/`."""
    regex = _compile(pattern.removeprefix("./"))
    return bool(regex and regex.match(path))


def glob_files(patterns: Iterable[str], paths: Iterable[str]) -> list[str]:
    """Paths matched by any of `patterns`, skipping `_position.yaml` files, sorted."""
    patterns = list(patterns)
    return sorted(
        p
        for p in paths
        if not p.endswith("_position.yaml") and any(glob_match(g, p) for g in patterns)
    )
