"""How much a change matters, and the version bump it calls for."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    BREAKING = "breaking"
    NOTABLE = "notable"
    COSMETIC = "cosmetic"


class Bump(StrEnum):
    MAJOR = "major"
    MINOR = "minor"
    PATCH = "patch"
    NONE = "none"


LEVEL_RANK = {Level.COSMETIC: 1, Level.NOTABLE: 2, Level.BREAKING: 3}
BUMP_RANK = {Bump.NONE: 0, Bump.PATCH: 1, Bump.MINOR: 2, Bump.MAJOR: 3}
BUMP_FOR_LEVEL = {
    Level.BREAKING: Bump.MAJOR,
    Level.NOTABLE: Bump.MINOR,
    Level.COSMETIC: Bump.PATCH,
}
