"""The changes found between two versions, grouped and summarised."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .levels import BUMP_FOR_LEVEL, LEVEL_RANK, Bump, Level
from .values import Anchor, jsonable
from .versions import bump_version, version_bump
from .views import anchor_label

SECTIONS = ("manifest", "provider", "credentials", "models", "files")


@dataclass(frozen=True)
class Change:
    """One difference between two versions, at one place, with its class."""

    section: str
    subject: Anchor  # the thing changed: a model, a credential field, a file…
    anchor: Anchor  # the exact place: subject plus the field path
    kind: str  # added, removed, changed, renamed, reordered, deprecated
    level: Level
    message: str
    old: Any = None
    new: Any = None

    @property
    def field(self) -> str:
        """The field path inside the subject, dotted; "" for the subject itself."""
        return ".".join(self.anchor[len(self.subject) :])

    @property
    def subject_label(self) -> str:
        return anchor_label(self.subject)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the API and stored summaries)."""
        return {
            "section": self.section,
            "subject": list(self.subject),
            "subject_label": self.subject_label,
            "anchor": list(self.anchor),
            "field": self.field,
            "kind": self.kind,
            "level": str(self.level),
            "message": self.message,
            "old": jsonable(self.old),
            "new": jsonable(self.new),
        }


@dataclass(frozen=True)
class SubjectChanges:
    """The changes of one subject (a model, a field, a file), for display."""

    section: str
    subject: Anchor
    changes: list[Change]

    @property
    def label(self) -> str:
        return anchor_label(self.subject)

    @property
    def level(self) -> Level:
        return max((c.level for c in self.changes), key=LEVEL_RANK.__getitem__)


@dataclass(frozen=True)
class PluginDiff:
    """Every change between two versions, the version suggestion and warnings."""

    changes: list[Change]
    base_version: str | None
    head_version: str
    initial: bool = False  # no base: everything is new
    warnings: list[str] = field(default_factory=list)

    @property
    def level(self) -> Level | None:
        """The highest class of change, None when nothing changed."""
        if not self.changes:
            return None
        return max((c.level for c in self.changes), key=LEVEL_RANK.__getitem__)

    @property
    def suggestion(self) -> Bump:
        """The smallest version bump the changes call for."""
        if self.initial or self.level is None:
            return Bump.NONE
        return BUMP_FOR_LEVEL[self.level]

    @property
    def suggested_version(self) -> str | None:
        """The base version bumped as suggested (None without a usable base)."""
        if self.suggestion == Bump.NONE or self.base_version is None:
            return None
        return bump_version(self.base_version, self.suggestion)

    @property
    def version_bump(self) -> Bump | None:
        """How the manifest version moved (None: unreadable or went backwards)."""
        if self.base_version is None:
            return None
        return version_bump(self.base_version, self.head_version)

    def counts(self) -> dict[str, int]:
        """Number of changes per class."""
        out = {str(level): 0 for level in Level}
        for change in self.changes:
            out[str(change.level)] += 1
        return out

    def by_section(self) -> list[tuple[str, list[SubjectChanges]]]:
        """Changes grouped by section, then by subject, in document order."""
        return group_by_subject(self.changes)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the API)."""
        return {
            "initial": self.initial,
            "level": str(self.level) if self.level else None,
            "suggestion": str(self.suggestion),
            "base_version": self.base_version,
            "head_version": self.head_version,
            "version_bump": str(self.version_bump) if self.version_bump else None,
            "suggested_version": self.suggested_version,
            "warnings": list(self.warnings),
            "counts": self.counts(),
            "changes": [c.as_dict() for c in self.changes],
        }


def group_by_subject(
    changes: list[Change],
) -> list[tuple[str, list[SubjectChanges]]]:
    """Changes grouped by section (in `SECTIONS` order), then by subject in
    the order they come."""
    grouped: dict[str, dict[Anchor, list[Change]]] = {s: {} for s in SECTIONS}
    for change in changes:
        grouped.setdefault(change.section, {}).setdefault(change.subject, []).append(
            change
        )
    return [
        (section, [SubjectChanges(section, s, cs) for s, cs in groups.items()])
        for section, groups in grouped.items()
        if groups
    ]
