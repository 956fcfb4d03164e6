"""Reading, bumping and checking `x.y.z` manifest versions."""

from __future__ import annotations

import re

from .levels import BUMP_RANK, Bump, Level

_VERSION = re.compile(r"^\s*v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?\s*$")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of `x.y.z` (a pre-release suffix is ignored)."""
    match = _VERSION.match(str(text))
    if not match:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def bump_version(version: str, bump: Bump) -> str | None:
    """`version` bumped: 1.4.2 + minor = 1.5.0; None when it is not x.y.z."""
    parsed = parse_version(version)
    if parsed is None:
        return None
    major, minor, patch = parsed
    if bump == Bump.MAJOR:
        return f"{major + 1}.0.0"
    if bump == Bump.MINOR:
        return f"{major}.{minor + 1}.0"
    if bump == Bump.PATCH:
        return f"{major}.{minor}.{patch + 1}"
    return f"{major}.{minor}.{patch}"


def version_bump(old: str, new: str) -> Bump | None:
    """Which part of the version went up; None if unreadable or went down."""
    a, b = parse_version(old), parse_version(new)
    if a is None or b is None or b < a:
        return None
    if b[0] > a[0]:
        return Bump.MAJOR
    if b[1] > a[1]:
        return Bump.MINOR
    if b[2] > a[2]:
        return Bump.PATCH
    return Bump.NONE


def version_warnings(
    base: str | None, head: str, level: Level | None, suggestion: Bump
) -> list[str]:
    """What is wrong with the version bump for changes of `level`."""
    if base is None or level is None:
        return []
    suggested = bump_version(base, suggestion)
    if parse_version(base) is None or parse_version(head) is None:
        return [
            f"The versions {base!r} → {head!r} are not x.y.z: cannot check the "
            f"bump; the changes are {level} (a {suggestion} release)."
        ]
    moved = version_bump(base, head)
    if moved is None:
        return [
            f"The manifest version went backwards ({base} → {head}); the changes "
            f"are {level}: use {suggested} or higher."
        ]
    if moved == Bump.NONE:
        return [
            f"The manifest version is still {head} but the changes are {level}: "
            f"bump it to {suggested} (a {suggestion} release)."
        ]
    if BUMP_RANK[moved] < BUMP_RANK[suggestion]:
        return [
            f"The manifest version was bumped too little ({base} → {head}, a "
            f"{moved} release) for {level} changes: use {suggested} or higher "
            f"(a {suggestion} release)."
        ]
    return []
