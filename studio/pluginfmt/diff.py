"""Schema-aware comparison of two versions of a model plugin.

`diff_documents(base, head)` compares two `PluginDocument`s section by section
(manifest, provider, credential forms, models, positions, other files) and
classifies every change by what it does to the people who installed the
older version:

- **breaking**: saved credentials or model configurations stop working (a
  credential variable removed or renamed, a field or parameter made required,
  a type changed, a model or a parameter rule removed, a model or provider id
  changed, a parameter range narrowed, a feature or option removed);
- **notable**: behaviour or cost changes but saved settings keep working
  (prices, context size, defaults, new models, fields and rules, code);
- **cosmetic**: what people read, not what runs (labels, descriptions,
  icons, order).

From the highest class it suggests the next version (major / minor / patch)
and warns when the manifest version was not bumped, or bumped too little.
`text_diff` gives the line diff of every changed file, as a second view.

Every change names its place with an *anchor*, a tuple of strings such as
`("model", "llm", "gpt-4o", "pricing", "input")`; `value_at(view, anchor)`
reads the value there, so a review comment can remember what it was about and
notice when that value changed in a later version.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from studio.pluginfmt.document import PluginDocument, load_document, model_type_of
from studio.pluginfmt.files import PluginFiles

Anchor = tuple[str, ...]


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
SECTIONS = ("manifest", "provider", "credentials", "models", "files")


class _Missing:
    """The value at an anchor that does not exist in a version."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


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
            "old": _jsonable(self.old),
            "new": _jsonable(self.new),
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

    def of_level(self, level: str) -> list[Change]:
        return [c for c in self.changes if c.level == level]

    def by_section(self) -> list[tuple[str, list[SubjectChanges]]]:
        """Changes grouped by section, then by subject, in document order."""
        out: list[tuple[str, list[SubjectChanges]]] = []
        for section in SECTIONS:
            groups: dict[Anchor, list[Change]] = {}
            for change in self.changes:
                if change.section == section:
                    groups.setdefault(change.subject, []).append(change)
            if groups:
                out.append(
                    (
                        section,
                        [SubjectChanges(section, s, cs) for s, cs in groups.items()],
                    )
                )
        return out

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


# ---------------------------------------------------------------- versions

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


def _version_warnings(
    base: str | None, head: str, level: Level | None, suggestion: Bump
) -> list[str]:
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


# ---------------------------------------------------------------- views


@dataclass
class PluginView:
    """A version reduced to what the diff compares, addressable by anchors.

    `data` holds: manifest, provider (without the parts compared on their
    own), credential/<schema>/<variable>, credential_model_name, model/<type>/
    <id> (parameter rules by name, with their template merged in),
    position/<type>, file/<path> (SHA-256 of files that are not YAML parts).
    """

    data: dict[str, Any]
    credential_order: dict[str, list[str]]
    model_paths: dict[tuple[str, str], str]
    version: str


_PROVIDER_OWN = {
    "provider_credential_schema",
    "model_credential_schema",
    "models",
    "position",
}


def plugin_view(doc: PluginDocument) -> PluginView:
    """The comparable view of a document."""
    manifest = doc.manifest.spec.to_data()
    declaration = doc.provider.spec.to_data()
    provider = {k: v for k, v in declaration.items() if k not in _PROVIDER_OWN}
    provider["models"] = declaration.get("models") or {}
    provider["position"] = declaration.get("position")
    if provider["position"] is None:
        del provider["position"]

    credentials: dict[str, dict[str, Any]] = {}
    order: dict[str, list[str]] = {}
    for schema, key in (
        ("provider", "provider_credential_schema"),
        ("model", "model_credential_schema"),
    ):
        block = declaration.get(key)
        fields = block.get("credential_form_schemas") if isinstance(block, dict) else []
        credentials[schema] = {}
        order[schema] = []
        for item in fields if isinstance(fields, list) else []:
            if not isinstance(item, dict):
                continue
            name = str(item.get("variable") or "")
            if not name or name in credentials[schema]:
                continue
            credentials[schema][name] = dict(item)
            order[schema].append(name)
    model_block = declaration.get("model_credential_schema")
    model_name = (
        model_block.get("model") if isinstance(model_block, dict) else None
    ) or {}

    models: dict[str, dict[str, Any]] = {}
    paths: dict[tuple[str, str], str] = {}
    for entry in doc.models:
        model_type = model_type_of(entry.type_key)
        data = entry.spec.to_data()
        model_id = str(data.get("model") or "")
        rules: dict[str, Any] = {}
        for rule in entry.spec.parameter_rules or []:
            if rule.name:
                rules[str(rule.name)] = rule.effective()
        if "parameter_rules" in data:
            data["parameter_rules"] = rules
        models.setdefault(model_type, {})[model_id] = data
        paths[(model_type, model_id)] = entry.path

    positions: dict[str, list[str]] = {}
    for key in dict.fromkeys(p.type_key for p in doc.positions):
        position = doc.position_of(key)
        if position is not None:
            positions[model_type_of(key)] = position.names
    files = {
        path: hashlib.sha256(content).hexdigest() for path, content in doc.files.items()
    }
    return PluginView(
        data={
            "manifest": manifest,
            "provider": provider,
            "credential": credentials,
            "credential_model_name": model_name,
            "model": models,
            "position": positions,
            "file": files,
        },
        credential_order=order,
        model_paths=paths,
        version=str(manifest.get("version") or ""),
    )


def empty_view() -> PluginView:
    """The view of nothing (the base of a first version)."""
    return PluginView(
        data={
            "manifest": {},
            "provider": {},
            "credential": {"provider": {}, "model": {}},
            "credential_model_name": {},
            "model": {},
            "position": {},
            "file": {},
        },
        credential_order={"provider": [], "model": []},
        model_paths={},
        version="",
    )


def value_at(view: PluginView, anchor: Anchor) -> Any:
    """The value at `anchor` in `view`, or MISSING."""
    node: Any = view.data
    for part in anchor:
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


def value_digest(value: Any) -> str:
    """A short stable fingerprint of a value (MISSING has its own)."""
    if value is MISSING:
        text = "\x00missing"
    else:
        text = json.dumps(_jsonable(value), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


_SUBJECT_LENGTH = {
    "manifest": 1,
    "provider": 1,
    "credential": 3,
    "credential_model_name": 1,
    "model": 3,
    "position": 2,
    "file": 2,
}
_PLACE_NAMES = {
    "manifest": "Manifest",
    "provider": "Provider",
    "credential_model_name": "Model name field (customizable models)",
}


def subject_of(anchor: Anchor) -> Anchor:
    """The subject part of an anchor: ("model", "llm", "gpt-4o", …) -> 3 parts."""
    if not anchor:
        return ()
    return anchor[: _SUBJECT_LENGTH.get(anchor[0], 1)]


def anchor_label(anchor: Anchor) -> str:
    """A short human name of a place: `llm gpt-4o · pricing.input`."""
    if not anchor:
        return "the revision"
    subject = subject_of(anchor)
    rest = ".".join(anchor[len(subject) :])
    kind = subject[0]
    if kind == "model" and len(subject) == 3:
        name = f"{subject[1]} model {subject[2]}"
    elif kind == "credential" and len(subject) == 3:
        name = f"{subject[1]} credential {subject[2]}"
    elif kind == "credential" and len(subject) == 2:
        name = f"{subject[1]} credential form"
    elif kind == "position" and len(subject) == 2:
        name = f"order of {subject[1]} models"
    elif kind == "file" and len(subject) == 2:
        name = f"file {subject[1]}"
    else:
        name = _PLACE_NAMES.get(kind, " ".join(subject))
    return f"{name} · {rest}" if rest else name


def valid_anchor(anchor: Any) -> bool:
    """Whether `anchor` is a well-formed place (any subject kind this diff knows)."""
    return (
        isinstance(anchor, tuple | list)
        and 0 < len(anchor) <= 12
        and all(isinstance(p, str) and 0 < len(p) <= 255 for p in anchor)
        and anchor[0] in _SUBJECT_LENGTH
        and len(anchor) >= min(2, _SUBJECT_LENGTH[anchor[0]])
    )


def comment_places(view: PluginView) -> list[tuple[Anchor, str]]:
    """The places of a version a reviewer may pin a comment to, with labels:
    the version, the provider, each credential field, and per model the model,
    its pricing, context size, max tokens, features and label."""
    places: list[Anchor] = [("manifest", "version"), ("provider",)]
    for schema in ("provider", "model"):
        places.extend(
            ("credential", schema, name) for name in view.credential_order[schema]
        )
    for model_type, models in view.data["model"].items():
        for model_id, model in models.items():
            subject = ("model", model_type, model_id)
            places.append(subject)
            if "pricing" in model:
                places.append((*subject, "pricing"))
            props = model.get("model_properties")
            if isinstance(props, dict) and "context_size" in props:
                places.append((*subject, "model_properties", "context_size"))
            rules = model.get("parameter_rules")
            for name, rule in (rules or {}).items() if isinstance(rules, dict) else ():
                if name == "max_tokens" or rule.get("use_template") == "max_tokens":
                    places.append((*subject, "parameter_rules", name))
            places.extend((*subject, key) for key in ("features", "label"))
    return [(anchor, anchor_label(anchor)) for anchor in places]


# ---------------------------------------------------------------- diffing


def diff_files(base: PluginFiles | None, head: PluginFiles) -> PluginDiff:
    """`diff_documents` of two sets of files (DocumentError if one is unreadable)."""
    return diff_documents(
        load_document(base) if base is not None else None, load_document(head)
    )


def diff_documents(base: PluginDocument | None, head: PluginDocument) -> PluginDiff:
    """Every change from `base` to `head`, classified (base None: all new)."""
    return diff_views(plugin_view(base) if base else None, plugin_view(head))


def diff_views(base: PluginView | None, head: PluginView) -> PluginDiff:
    """Every change between two views, classified, with version warnings."""
    old = base or empty_view()
    changes = [
        # A first version has no manifest or provider "changes" worth a row
        # each: its models, credential fields and files are what to review.
        *(_manifest_changes(old, head) if base else ()),
        *(_provider_changes(old, head) if base else ()),
        *_credential_changes(old, head, initial=base is None),
        *_model_changes(old, head),
        *_file_changes(old, head),
    ]
    draft = PluginDiff(
        changes=changes,
        base_version=base.version if base else None,
        head_version=head.version,
        initial=base is None,
    )
    return PluginDiff(
        changes=changes,
        base_version=draft.base_version,
        head_version=draft.head_version,
        initial=draft.initial,
        warnings=_version_warnings(
            draft.base_version, draft.head_version, draft.level, draft.suggestion
        ),
    )


# ---- leaf comparison


def _same(a: Any, b: Any) -> bool:
    """Equal as the runtime sees it: '0.50' and 0.5 are the same price."""
    if a is b:
        return True
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            return None
        return number if number.is_finite() else None
    return None


def _leaves(old: Any, new: Any, path: Anchor = ()) -> Iterator[tuple[Anchor, Any, Any]]:
    """(path, old, new) of every differing leaf; dicts are walked, lists are leaves."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            yield from _leaves(
                old.get(key, MISSING), new.get(key, MISSING), (*path, str(key))
            )
        return
    if old is MISSING and isinstance(new, dict) and new:
        for key in new:
            yield from _leaves(MISSING, new[key], (*path, str(key)))
        return
    if new is MISSING and isinstance(old, dict) and old:
        for key in old:
            yield from _leaves(old[key], MISSING, (*path, str(key)))
        return
    if old is MISSING and new is MISSING:
        return
    if not _same(old, new):
        yield path, old, new


def _show(value: Any) -> str:
    if value is MISSING:
        return "(none)"
    if isinstance(value, dict) and "en_US" in value:
        value = value.get("en_US")  # a label: the English text says enough
    text = json.dumps(_jsonable(value), ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "…"


def _move(old: Any, new: Any) -> str:
    if old is MISSING:
        return f"set to {_show(new)}"
    if new is MISSING:
        return f"removed (was {_show(old)})"
    return f"{_show(old)} → {_show(new)}"


def _jsonable(value: Any) -> Any:
    if value is MISSING:
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _kind(old: Any, new: Any) -> str:
    if old is MISSING:
        return "added"
    if new is MISSING:
        return "removed"
    return "changed"


# ---- manifest and provider

_MANIFEST_LEVELS = {
    "author": Level.BREAKING,
    "name": Level.BREAKING,
    "type": Level.BREAKING,
    "label": Level.COSMETIC,
    "description": Level.COSMETIC,
    "icon": Level.COSMETIC,
    "icon_dark": Level.COSMETIC,
    "tags": Level.COSMETIC,
    "created_at": Level.COSMETIC,
    "repo": Level.COSMETIC,
    "privacy": Level.COSMETIC,
    "verified": Level.COSMETIC,
}
_MANIFEST_WHY = {
    "author": "the plugin id changes: Dify installs it as another plugin",
    "name": "the plugin id changes: Dify installs it as another plugin",
    "type": "Dify installs another kind of plugin",
}


def _manifest_changes(old: PluginView, new: PluginView) -> Iterator[Change]:
    subject: Anchor = ("manifest",)
    a, b = old.data["manifest"], new.data["manifest"]
    for path, x, y in _leaves(
        {k: v for k, v in a.items() if k != "version"},
        {k: v for k, v in b.items() if k != "version"},
    ):
        level = _MANIFEST_LEVELS.get(path[0], Level.NOTABLE)
        why = _MANIFEST_WHY.get(path[0])
        yield Change(
            "manifest",
            subject,
            (*subject, *path),
            _kind(x, y),
            level,
            f"{'.'.join(path)} {_move(x, y)}" + (f": {why}" if why else ""),
            x,
            y,
        )


_PROVIDER_LEVELS = {
    "provider": Level.BREAKING,
    "label": Level.COSMETIC,
    "description": Level.COSMETIC,
    "icon_small": Level.COSMETIC,
    "icon_large": Level.COSMETIC,
    "icon_small_dark": Level.COSMETIC,
    "icon_large_dark": Level.COSMETIC,
    "background": Level.COSMETIC,
    "help": Level.COSMETIC,
    # Which files are models is compared model by model; the globs and the
    # inline position are wiring and order.
    "models": Level.COSMETIC,
    "position": Level.COSMETIC,
}
_LIST_KEYS = {
    "supported_model_types": "model type",
    "configurate_methods": "configuration method",
}


def _provider_changes(old: PluginView, new: PluginView) -> Iterator[Change]:
    subject: Anchor = ("provider",)
    a, b = old.data["provider"], new.data["provider"]
    for key, noun in _LIST_KEYS.items():
        yield from _set_changes(
            "provider",
            subject,
            (*subject, key),
            a.get(key, MISSING),
            b.get(key, MISSING),
            noun=noun,
            removed=(Level.BREAKING, "saved configurations that use it stop working"),
            added=Level.NOTABLE,
        )
    rest_a = {k: v for k, v in a.items() if k not in _LIST_KEYS}
    rest_b = {k: v for k, v in b.items() if k not in _LIST_KEYS}
    for path, x, y in _leaves(rest_a, rest_b):
        level = _PROVIDER_LEVELS.get(path[0], Level.NOTABLE)
        why = ""
        if path[0] == "provider":
            why = (
                ": the provider id changed, so credentials and model settings "
                "saved in Dify under the old id are orphaned"
            )
        yield Change(
            "provider",
            subject,
            (*subject, *path),
            _kind(x, y),
            level,
            f"{'.'.join(path)} {_move(x, y)}{why}",
            x,
            y,
        )


def _set_changes(
    section: str,
    subject: Anchor,
    anchor: Anchor,
    old: Any,
    new: Any,
    *,
    noun: str,
    removed: tuple[Level, str],
    added: Level,
) -> Iterator[Change]:
    """Added and removed items of a list compared as a set; order as cosmetic."""
    xs = [str(v) for v in old] if isinstance(old, list) else []
    ys = [str(v) for v in new] if isinstance(new, list) else []
    for item in xs:
        if item not in ys:
            yield Change(
                section,
                subject,
                anchor,
                "removed",
                removed[0],
                f"{noun} {item} removed: {removed[1]}",
                item,
                MISSING,
            )
    for item in ys:
        if item not in xs:
            yield Change(
                section,
                subject,
                anchor,
                "added",
                added,
                f"{noun} {item} added",
                MISSING,
                item,
            )
    common_x = [v for v in xs if v in ys]
    common_y = [v for v in ys if v in xs]
    if common_x != common_y:
        yield Change(
            section,
            subject,
            anchor,
            "reordered",
            Level.COSMETIC,
            f"order of {noun}s changed",
            xs,
            ys,
        )


# ---- credential forms

_CREDENTIAL_COSMETIC = {"label", "placeholder", "help", "url"}


def _credential_changes(
    old: PluginView, new: PluginView, *, initial: bool = False
) -> Iterator[Change]:
    for schema in ("provider", "model"):
        a = old.data["credential"][schema]
        b = new.data["credential"][schema]
        order_a = old.credential_order[schema]
        order_b = new.credential_order[schema]
        removed = [v for v in order_a if v not in b]
        added = [v for v in order_b if v not in a]
        renames = _pair_renames(removed, added, a, b, order_a, order_b)
        for was, now in renames.items():
            subject: Anchor = ("credential", schema, was)
            yield Change(
                "credentials",
                subject,
                (*subject, "variable"),
                "renamed",
                Level.BREAKING,
                f"{schema} credential variable {was} renamed to {now}: values saved "
                f"under {was} are no longer passed to the plugin",
                was,
                now,
            )
            yield from _credential_field_changes(
                schema, ("credential", schema, now), a[was], b[now]
            )
        for name in removed:
            if name in renames:
                continue
            subject = ("credential", schema, name)
            yield Change(
                "credentials",
                subject,
                subject,
                "removed",
                Level.BREAKING,
                f"{schema} credential field {name} removed: saved values are "
                "dropped and the plugin no longer receives them",
                a[name],
                MISSING,
            )
        renamed_to = set(renames.values())
        for name in added:
            if name in renamed_to:
                continue
            subject = ("credential", schema, name)
            field_data = b[name]
            # Without an older version there are no saved credentials to break.
            blocking = (
                not initial
                and field_data.get("required") is True
                and _blank(field_data.get("default"))
            )
            yield Change(
                "credentials",
                subject,
                subject,
                "added",
                Level.BREAKING if blocking else Level.NOTABLE,
                f"{schema} credential field {name} added"
                + (
                    " as required without a default: existing credentials fail "
                    "validation until it is filled in"
                    if blocking
                    else ""
                ),
                MISSING,
                field_data,
            )
        for name in order_b:
            if name in a:
                yield from _credential_field_changes(
                    schema, ("credential", schema, name), a[name], b[name]
                )
        common_a = [v for v in order_a if v in b]
        common_b = [v for v in order_b if v in a]
        if common_a != common_b:
            subject = ("credential", schema)
            yield Change(
                "credentials",
                subject,
                subject,
                "reordered",
                Level.COSMETIC,
                f"order of the {schema} credential fields changed",
                common_a,
                common_b,
            )
    subject = ("credential_model_name",)
    for path, x, y in _leaves(
        old.data["credential_model_name"], new.data["credential_model_name"]
    ):
        yield Change(
            "credentials",
            subject,
            (*subject, *path),
            _kind(x, y),
            Level.COSMETIC,
            f"model name field {'.'.join(path)} {_move(x, y)}",
            x,
            y,
        )


def _blank(value: Any) -> bool:
    return value is None or value is MISSING or value == ""


def _pair_renames(
    removed: list[str],
    added: list[str],
    a: dict[str, Any],
    b: dict[str, Any],
    order_a: list[str],
    order_b: list[str],
) -> dict[str, str]:
    """Removed variables that were renamed: same type at the same place, or
    otherwise identical fields."""
    pairs: dict[str, str] = {}
    taken: set[str] = set()

    def rest(data: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in data.items() if k != "variable"}

    for was in removed:
        for now in added:
            if now not in taken and _same(rest(a[was]), rest(b[now])):
                pairs[was] = now
                taken.add(now)
                break
    for was in removed:
        if was in pairs:
            continue
        for now in added:
            if (
                now not in taken
                and order_a.index(was) == order_b.index(now)
                and a[was].get("type") == b[now].get("type")
            ):
                pairs[was] = now
                taken.add(now)
                break
    return pairs


def _credential_field_changes(
    schema: str, subject: Anchor, old: dict[str, Any], new: dict[str, Any]
) -> Iterator[Change]:
    name = subject[2]
    what = f"{schema} credential {name}"
    for key in [*old, *(k for k in new if k not in old)]:
        if key == "variable":
            continue
        x, y = old.get(key, MISSING), new.get(key, MISSING)
        anchor = (*subject, key)
        if key == "required":
            was, now = x is True, y is True
            if was == now:
                continue
            yield Change(
                "credentials",
                subject,
                anchor,
                "changed",
                Level.BREAKING if now else Level.NOTABLE,
                f"{what} made {'required' if now else 'optional'}"
                + (": existing credentials without it fail validation" if now else ""),
                x,
                y,
            )
        elif key == "options":
            yield from _option_changes("credentials", subject, anchor, x, y, what=what)
        elif key == "type":
            if not _same(x, y):
                yield Change(
                    "credentials",
                    subject,
                    anchor,
                    _kind(x, y),
                    Level.BREAKING,
                    f"{what} type {_move(x, y)}: saved values may no longer fit",
                    x,
                    y,
                )
        else:
            level = Level.COSMETIC if key in _CREDENTIAL_COSMETIC else Level.NOTABLE
            for path, p, q in _leaves(x, y, (key,)):
                yield Change(
                    "credentials",
                    subject,
                    (*subject, *path),
                    _kind(p, q),
                    level,
                    f"{what} {'.'.join(path)} {_move(p, q)}",
                    p,
                    q,
                )


def _option_changes(
    section: str, subject: Anchor, anchor: Anchor, old: Any, new: Any, *, what: str
) -> Iterator[Change]:
    def by_value(options: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for option in options if isinstance(options, list) else []:
            if isinstance(option, dict):
                out[str(option.get("value"))] = option
            else:
                out[str(option)] = option
        return out

    xs, ys = by_value(old), by_value(new)
    for value in xs:
        if value not in ys:
            yield Change(
                section,
                subject,
                anchor,
                "removed",
                Level.BREAKING,
                f"{what} option {value!r} removed: settings saved with it are refused",
                value,
                MISSING,
            )
    for value in ys:
        if value not in xs:
            yield Change(
                section,
                subject,
                anchor,
                "added",
                Level.NOTABLE,
                f"{what} option {value!r} added",
                MISSING,
                value,
            )
    for value in ys:
        if value in xs and isinstance(xs[value], dict) and isinstance(ys[value], dict):
            for path, p, q in _leaves(xs[value], ys[value]):
                level = Level.COSMETIC if path[0] == "label" else Level.NOTABLE
                yield Change(
                    section,
                    subject,
                    anchor,
                    _kind(p, q),
                    level,
                    f"{what} option {value!r} {'.'.join(path)} {_move(p, q)}",
                    p,
                    q,
                )
    common_x = [v for v in xs if v in ys]
    common_y = [v for v in ys if v in xs]
    if common_x != common_y:
        yield Change(
            section,
            subject,
            anchor,
            "reordered",
            Level.COSMETIC,
            f"order of the {what} options changed",
            common_x,
            common_y,
        )


# ---- models

_MODEL_COSMETIC = {"label", "description", "icon"}


def _model_changes(old: PluginView, new: PluginView) -> Iterator[Change]:
    a_models: dict[str, dict[str, Any]] = old.data["model"]
    b_models: dict[str, dict[str, Any]] = new.data["model"]
    for model_type in [*a_models, *(t for t in b_models if t not in a_models)]:
        a = a_models.get(model_type, {})
        b = b_models.get(model_type, {})
        removed = [m for m in a if m not in b]
        added = [m for m in b if m not in a]
        # A model file that now declares another id: the same model renamed.
        renames: dict[str, str] = {}
        for was in removed:
            path = old.model_paths.get((model_type, was))
            for now in added:
                if now not in renames.values() and path == new.model_paths.get(
                    (model_type, now)
                ):
                    renames[was] = now
                    break
        for was, now in renames.items():
            subject: Anchor = ("model", model_type, was)
            yield Change(
                "models",
                subject,
                (*subject, "model"),
                "renamed",
                Level.BREAKING,
                f"{model_type} model id {was} changed to {now}: apps configured "
                f"with {was} lose their model",
                was,
                now,
            )
            yield from _one_model_changes(("model", model_type, now), a[was], b[now])
        for model_id in removed:
            if model_id in renames:
                continue
            subject = ("model", model_type, model_id)
            yield Change(
                "models",
                subject,
                subject,
                "removed",
                Level.BREAKING,
                f"{model_type} model {model_id} removed{_facts(a[model_id])}: apps "
                "that use it stop working (deprecate it first to hide it without "
                "breaking them)",
                _summary(a[model_id]),
                MISSING,
            )
        for model_id in added:
            if model_id in renames.values():
                continue
            subject = ("model", model_type, model_id)
            yield Change(
                "models",
                subject,
                subject,
                "added",
                Level.NOTABLE,
                f"{model_type} model {model_id} added{_facts(b[model_id])}",
                MISSING,
                _summary(b[model_id]),
            )
        for model_id in b:
            if model_id in a:
                yield from _one_model_changes(
                    ("model", model_type, model_id), a[model_id], b[model_id]
                )
        pa = [m for m in old.data["position"].get(model_type, []) if m in a and m in b]
        pb = [m for m in new.data["position"].get(model_type, []) if m in a and m in b]
        if pa != pb:
            subject = ("position", model_type)
            yield Change(
                "models",
                subject,
                subject,
                "reordered",
                Level.COSMETIC,
                f"display order of the {model_type} models changed",
                pa,
                pb,
            )


def _summary(model: dict[str, Any]) -> dict[str, Any]:
    """The facts of a model a reviewer checks first (for added/removed models)."""
    props = model.get("model_properties") or {}
    rules = model.get("parameter_rules") or {}
    max_tokens = rules.get("max_tokens") if isinstance(rules, dict) else None
    out: dict[str, Any] = {
        "label": (model.get("label") or {}).get("en_US")
        if isinstance(model.get("label"), dict)
        else None,
        "context_size": props.get("context_size") if isinstance(props, dict) else None,
        "max_tokens": max_tokens.get("max") if isinstance(max_tokens, dict) else None,
        "features": model.get("features") or [],
        "pricing": model.get("pricing"),
        "deprecated": model.get("deprecated") is True,
    }
    return {k: v for k, v in out.items() if v not in (None, [], False)}


def _facts(model: dict[str, Any]) -> str:
    """The summary of a model as words: ` (context 8192, max tokens 4096, …)`."""
    summary = _summary(model)
    parts = []
    if "context_size" in summary:
        parts.append(f"context {summary['context_size']}")
    if "max_tokens" in summary:
        parts.append(f"max tokens {summary['max_tokens']}")
    pricing = summary.get("pricing")
    if isinstance(pricing, dict):
        parts.append(
            f"price {pricing.get('input', '?')} in / {pricing.get('output', '?')} out "
            f"{pricing.get('currency', '')} per {pricing.get('unit', '?')} tokens"
        )
    if summary.get("features"):
        parts.append(f"features {', '.join(str(f) for f in summary['features'])}")
    if summary.get("deprecated"):
        parts.append("deprecated")
    return f" ({'; '.join(parts)})" if parts else ""


def _one_model_changes(
    subject: Anchor, old: dict[str, Any], new: dict[str, Any]
) -> Iterator[Change]:
    what = f"{subject[1]} model {subject[2]}"
    for key in [*old, *(k for k in new if k not in old)]:
        if key == "model":
            continue
        x, y = old.get(key, MISSING), new.get(key, MISSING)
        anchor = (*subject, key)
        if key == "deprecated":
            was, now = x is True, y is True
            if was != now:
                yield Change(
                    "models",
                    subject,
                    anchor,
                    "deprecated" if now else "changed",
                    Level.NOTABLE,
                    f"{what} deprecated: hidden from new configurations, existing "
                    "ones keep working"
                    if now
                    else f"{what} no longer deprecated",
                    x,
                    y,
                )
        elif key == "features":
            yield from _set_changes(
                "models",
                subject,
                anchor,
                x,
                y,
                noun=f"{what} feature",
                removed=(Level.BREAKING, "apps that rely on it stop working"),
                added=Level.NOTABLE,
            )
        elif key == "parameter_rules":
            yield from _rule_changes(subject, x, y, what=what)
        elif key == "model_type":
            if not _same(x, y):
                yield Change(
                    "models",
                    subject,
                    anchor,
                    _kind(x, y),
                    Level.BREAKING,
                    f"{what} model_type {_move(x, y)}",
                    x,
                    y,
                )
        else:
            for path, p, q in _leaves(x, y, (key,)):
                yield _model_leaf(subject, path, p, q, what=what)


def _model_leaf(subject: Anchor, path: Anchor, x: Any, y: Any, *, what: str) -> Change:
    anchor = (*subject, *path)
    dotted = ".".join(path)
    level = Level.NOTABLE
    note = ""
    if path[0] in _MODEL_COSMETIC:
        level = Level.COSMETIC
    elif path == ("model_properties", "mode"):
        level = Level.BREAKING
        note = ": apps built for the old mode stop working"
    elif path == ("model_properties", "context_size"):
        nx, ny = _number(x), _number(y)
        if nx is not None and ny is not None:
            note = " (shrunk)" if ny < nx else " (grown)"
    elif path[0] == "pricing":
        label = {
            "input": "input price",
            "output": "output price",
            "unit": "price unit",
            "currency": "currency",
        }.get(path[-1], dotted)
        return Change(
            "models",
            subject,
            anchor,
            _kind(x, y),
            Level.NOTABLE,
            f"{what} {label} {_move(x, y)}",
            x,
            y,
        )
    return Change(
        "models",
        subject,
        anchor,
        _kind(x, y),
        level,
        f"{what} {dotted} {_move(x, y)}{note}",
        x,
        y,
    )


def _rule_changes(
    subject: Anchor, old: Any, new: Any, *, what: str
) -> Iterator[Change]:
    a = old if isinstance(old, dict) else {}
    b = new if isinstance(new, dict) else {}
    for name in a:
        if name not in b:
            yield Change(
                "models",
                subject,
                (*subject, "parameter_rules", name),
                "removed",
                Level.BREAKING,
                f"{what} parameter {name} removed: values saved in apps are "
                "dropped before the call",
                a[name],
                MISSING,
            )
    for name in b:
        rule_anchor = (*subject, "parameter_rules", name)
        if name not in a:
            rule = b[name]
            blocking = rule.get("required") is True and _blank(rule.get("default"))
            yield Change(
                "models",
                subject,
                rule_anchor,
                "added",
                Level.BREAKING if blocking else Level.NOTABLE,
                f"{what} parameter {name} added"
                + (" as required without a default" if blocking else ""),
                MISSING,
                rule,
            )
            continue
        yield from _one_rule_changes(subject, rule_anchor, a[name], b[name], what=what)
    order_a = [n for n in a if n in b]
    order_b = [n for n in b if n in a]
    if order_a != order_b:
        yield Change(
            "models",
            subject,
            (*subject, "parameter_rules"),
            "reordered",
            Level.COSMETIC,
            f"{what} order of parameters changed",
            order_a,
            order_b,
        )


def _one_rule_changes(
    subject: Anchor,
    anchor: Anchor,
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    what: str,
) -> Iterator[Change]:
    name = anchor[-1]
    label = f"{what} parameter {name}"
    for key in [*old, *(k for k in new if k not in old)]:
        if key == "name":
            continue
        x, y = old.get(key, MISSING), new.get(key, MISSING)
        at = (*anchor, key)
        if key == "options":
            yield from _option_changes("models", subject, at, x, y, what=label)
            continue
        if key == "required":
            was, now = x is True, y is True
            if was != now:
                yield Change(
                    "models",
                    subject,
                    at,
                    "changed",
                    Level.BREAKING if now else Level.NOTABLE,
                    f"{label} made {'required' if now else 'optional'}",
                    x,
                    y,
                )
            continue
        for path, p, q in _leaves(x, y, (key,)):
            level = Level.NOTABLE
            note = ""
            if key in ("label", "help"):
                level = Level.COSMETIC
            elif key == "type":
                level = Level.BREAKING
                note = ": saved values may no longer fit"
            elif key in ("min", "max"):
                np_, nq = _number(p), _number(q)
                narrowed = (
                    q is not MISSING
                    and nq is not None
                    and (
                        np_ is None
                        or (key == "min" and nq > np_)
                        or (key == "max" and nq < np_)
                    )
                )
                if narrowed:
                    level = Level.BREAKING
                    note = ": range narrowed, saved values outside it are refused"
            yield Change(
                "models",
                subject,
                (*anchor, *path),
                _kind(p, q),
                level,
                f"{label} {'.'.join(path)} {_move(p, q)}{note}",
                p,
                q,
            )


# ---- other files

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


def _file_changes(old: PluginView, new: PluginView) -> Iterator[Change]:
    a, b = old.data["file"], new.data["file"]
    for path in sorted({*a, *b}):
        x, y = a.get(path, MISSING), b.get(path, MISSING)
        if x == y:
            continue
        level, noun = _file_level(path)
        kind = _kind(x, y)
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


# ---------------------------------------------------------------- text diff


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
