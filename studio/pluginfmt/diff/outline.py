"""A diff laid out to be read at the size of real plugins: filtered, counted,
grouped by section and model type, added and removed models on one line each.

`outline(diff, DiffFilter(level=…, model_type=…, text=…))` keeps the changes
that pass the filter and groups them; its counts per class and per model type
are *facets*: each ignores its own filter and applies the others, so a filter
link says how many changes choosing it would show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .changes import Change, PluginDiff, SubjectChanges, group_by_subject
from .levels import LEVEL_RANK, Level

_SECTION_TITLES = {
    "manifest": "Manifest",
    "provider": "Provider",
    "credentials": "Credentials",
    "models": "Models",
    "files": "Other files",
}


def change_model_type(change: Change) -> str | None:
    """The model type a change is about (a model or the order of a type's
    models), None for the manifest, provider, credentials and files."""
    if change.subject[:1] in (("model",), ("position",)) and len(change.subject) > 1:
        return change.subject[1]
    return None


@dataclass(frozen=True)
class DiffFilter:
    """Which changes to show: of one class, of one model type, mentioning a text."""

    level: Level | None = None
    model_type: str = ""
    text: str = ""

    @property
    def active(self) -> bool:
        return bool(self.level or self.model_type or self.text)

    def matches(
        self, change: Change, *, level: bool = True, model_type: bool = True
    ) -> bool:
        """Whether `change` passes (`level`/`model_type` False: ignore that part)."""
        if level and self.level and change.level != self.level:
            return False
        if (
            model_type
            and self.model_type
            and change_model_type(change) != self.model_type
        ):
            return False
        if self.text:
            needle = self.text.casefold()
            if not any(
                needle in part.casefold()
                for part in (change.subject_label, change.message, *change.subject)
            ):
                return False
        return True


def is_model_line(group: SubjectChanges) -> bool:
    """A whole model added or removed: shown on one line, its content folded."""
    return (
        group.section == "models"
        and group.subject[:1] == ("model",)
        and len(group.changes) == 1
        and group.changes[0].anchor == group.subject
        and group.changes[0].kind in ("added", "removed")
    )


@dataclass(frozen=True)
class DiffGroup:
    """One stretch of the outline: a section, or the models of one type."""

    key: str  # "manifest", "credentials", "models-llm", …: unique, for ids
    title: str
    section: str
    model_type: str | None
    subjects: list[SubjectChanges] = field(default_factory=list)  # changed
    added: list[SubjectChanges] = field(default_factory=list)  # one line each
    removed: list[SubjectChanges] = field(default_factory=list)  # one line each

    @property
    def change_count(self) -> int:
        return sum(len(g.changes) for g in (*self.subjects, *self.added, *self.removed))

    @property
    def level(self) -> Level:
        return max(
            (g.level for g in (*self.subjects, *self.added, *self.removed)),
            key=LEVEL_RANK.__getitem__,
        )


@dataclass(frozen=True)
class DiffOutline:
    """The changes that pass a filter, grouped, with facet counts."""

    filter: DiffFilter
    groups: list[DiffGroup]
    shown: int  # changes that pass the filter
    total: int  # changes in the diff
    level_counts: dict[str, int]  # per class, the type and text filters applied
    type_counts: list[tuple[str, int]]  # per model type, class and text applied

    @property
    def filtered_out(self) -> int:
        return self.total - self.shown


def outline(diff: PluginDiff, diff_filter: DiffFilter | None = None) -> DiffOutline:
    """The changes of `diff` that pass `diff_filter`, grouped for reading."""
    f = diff_filter or DiffFilter()
    level_counts = {str(level): 0 for level in Level}
    type_counts: dict[str, int] = {}
    shown: list[Change] = []
    for change in diff.changes:
        if f.matches(change, level=False):
            level_counts[str(change.level)] += 1
        model_type = change_model_type(change)
        if model_type is not None and f.matches(change, model_type=False):
            type_counts[model_type] = type_counts.get(model_type, 0) + 1
        if f.matches(change):
            shown.append(change)
    return DiffOutline(
        filter=f,
        groups=_groups(shown),
        shown=len(shown),
        total=len(diff.changes),
        level_counts=level_counts,
        type_counts=list(type_counts.items()),
    )


def _groups(changes: list[Change]) -> list[DiffGroup]:
    out: list[DiffGroup] = []
    for section, subjects in group_by_subject(changes):
        if section != "models":
            out.append(
                DiffGroup(
                    key=section,
                    title=_SECTION_TITLES[section],
                    section=section,
                    model_type=None,
                    subjects=subjects,
                )
            )
            continue
        by_type: dict[str, DiffGroup] = {}
        for subject in subjects:
            model_type = change_model_type(subject.changes[0]) or ""
            group = by_type.get(model_type)
            if group is None:
                group = by_type[model_type] = DiffGroup(
                    key=f"models-{model_type}",
                    title=f"Models · {model_type}",
                    section=section,
                    model_type=model_type,
                )
            if not is_model_line(subject):
                group.subjects.append(subject)
            elif subject.changes[0].kind == "added":
                group.added.append(subject)
            else:
                group.removed.append(subject)
        out.extend(by_type.values())
    return out
