"""Model-file discovery exactly as the daemon does it (Go `filepath.Match`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=1024)
def go_pattern(pattern: str) -> re.Pattern[str] | None:
    """Go `filepath.Match` (Unix) as a regex; None for a malformed pattern.

    `*` and `?` never match `/`; Go's malformed patterns match nothing.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            i += 1
            if i >= n:
                return None
            out.append(re.escape(pattern[i]))
        elif c == "[":
            i += 1
            negated = i < n and pattern[i] == "^"
            if negated:
                i += 1
            ranges: list[str] = []
            while True:
                if i < n and pattern[i] == "]" and ranges:
                    break
                lo, i = _class_char(pattern, i)
                if lo is None:
                    return None
                hi = lo
                if pattern[i] == "-":
                    end, i = _class_char(pattern, i + 1)
                    if end is None:
                        return None
                    hi = end
                if lo > hi:
                    ranges.append("")  # an empty range matches nothing
                else:
                    ranges.append(f"{re.escape(lo)}-{re.escape(hi)}")
            body = "".join(r for r in ranges if r)
            if negated:
                out.append(f"[^/{body}]" if body else "[^/]")
            else:
                out.append(f"[{body}]" if body else "(?!)")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _class_char(pattern: str, i: int) -> tuple[str | None, int]:
    """Go's `getEsc`: one (possibly escaped) class character, then the next index."""
    n = len(pattern)
    if i >= n or pattern[i] in "-]":
        return None, i
    if pattern[i] == "\\":
        i += 1
        if i >= n:
            return None, i
    char = pattern[i]
    i += 1
    if i >= n:  # the class is never closed
        return None, i
    return char, i


def glob_match(pattern: str, path: str) -> bool:
    """Whether `path` matches `pattern`, where `*` and `?` never cross `/`."""
    regex = go_pattern(pattern.removeprefix("./"))
    return bool(regex and regex.fullmatch(path))


def glob_files(patterns: Iterable[str], paths: Iterable[str]) -> list[str]:
    """Paths matched by any of `patterns`, skipping `_position.yaml` files, sorted."""
    patterns = list(patterns)
    return sorted(
        p
        for p in paths
        if not p.endswith("_position.yaml") and any(glob_match(g, p) for g in patterns)
    )
