"""Model files inside a plugin document: where a new one goes under its type's
`predefined` glob, the type's `_position.yaml`, and small helpers on rules and
prices that the models table and the model form share.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from studio.catalog.models import ProviderModel
from studio.pluginfmt.document import (
    PARAMETER_TEMPLATES,
    ModelEntry,
    ModelsBlock,
    ModelSpec,
    PluginDocument,
    PositionFile,
)
from studio.pluginfmt.globs import glob_match

POSITION_NAME = "_position.yaml"
LANGUAGES = ("en_US", "zh_Hans", "ja_JP", "pt_BR")
# Keys of a parameter rule the model form controls; any other key is kept.
RULE_KEYS = (
    "name",
    "use_template",
    "label",
    "type",
    "help",
    "required",
    "default",
    "min",
    "max",
    "precision",
    "options",
)
# Types whose table rows show a context size.
CONTEXT_TYPES = frozenset({"llm", "text-embedding", "rerank", "moderation"})


class ModelProblem(Exception):
    """A change that cannot be applied; `field` names the form field it is about."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleModel(Exception):
    """The model row changed (or went away) since the row was loaded."""

    def __init__(self, model: ProviderModel | None) -> None:
        super().__init__("the model was changed by someone else")
        self.model = model


# ---------------------------------------------------------------- helpers


def file_stem(model_id: str) -> str:
    """A safe file name stem for a model id: lower-case `[a-z0-9._-]`, no dots first."""
    stem = re.sub(r"[^a-z0-9._-]+", "-", model_id.lower())
    stem = re.sub(r"\.{2,}", ".", stem)
    stem = re.sub(r"-{2,}", "-", stem).strip("-.")
    return stem[:100].rstrip("-.") or "model"


def rule_effective(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule as Dify sees it: its template's keys overridden by its own."""
    template = rule.get("use_template")
    base = (
        dict(PARAMETER_TEMPLATES.get(template, {})) if isinstance(template, str) else {}
    )
    base.update({k: v for k, v in rule.items() if v is not None})
    return base


def max_tokens_rule(rules: Any) -> dict[str, Any] | None:
    """The max_tokens rule of a model's rules (by name, else by template)."""
    if not isinstance(rules, list):
        return None
    dicts = [r for r in rules if isinstance(r, dict)]
    for rule in dicts:
        if rule.get("name") == "max_tokens":
            return rule
    for rule in dicts:
        if rule.get("use_template") == "max_tokens":
            return rule
    return None


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_decimal(text: str) -> Decimal | None:
    """A finite, non-negative decimal, or None."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value < 0:
        return None
    return value


def same_decimal(a: Any, b: Any) -> bool:
    """Whether two prices are the same number ('0.50' and 0.5 are)."""
    if a is None or b is None:
        return a is b
    x, y = parse_decimal(str(a)), parse_decimal(str(b))
    if x is None or y is None:
        return str(a) == str(b)
    return x == y


def entry_at(doc: PluginDocument, path: str) -> ModelEntry:
    """The model entry at `path`; StaleModel when it is gone."""
    for entry in doc.models:
        if entry.path == path:
            return entry
    raise StaleModel(None)


def check_model_lock(model: ProviderModel, model_lock: int) -> None:
    """Refuse (StaleModel) when the model row changed since `model_lock`."""
    # Called inside provider_edit, after the provider row is locked: every
    # writer locks the provider first, so this read cannot race a write.
    current = (
        ProviderModel.objects.filter(pk=model.pk)
        .values_list("lock_version", flat=True)
        .first()
    )
    if current is None:
        raise StaleModel(None)
    if current != model_lock:
        raise StaleModel(ProviderModel.objects.get(pk=model.pk))


def set_spec(entry: ModelEntry, data: dict[str, Any]) -> None:
    """Give the entry the model data `data` (a no-op when it is the same)."""
    # A fresh spec from data: if it equals the file's, the file keeps its bytes.
    if data != entry.spec.to_data():
        entry.spec = ModelSpec.model_validate(data)


def taken_paths(doc: PluginDocument) -> set[str]:
    """Every path the document uses."""
    return {p.path for p in doc.parts()} | set(doc.files)


def position_names(doc: PluginDocument, key: str) -> list[str] | None:
    """A copy of the items of the type's position file, None without one."""
    position = doc.position_of(key)
    if position is None or not isinstance(position.items, list):
        return None
    return list(position.items)


def set_position(doc: PluginDocument, key: str, items: list[Any]) -> None:
    """Set the items of the type's position file, if it has one."""
    position = doc.position_of(key)
    if position is not None and position.items != items:
        position.items = items


def ordered_ids(doc: PluginDocument, key: str) -> list[str]:
    """The model ids of a type in display order (as the rows are indexed)."""
    position = doc.position_of(key)
    rank: dict[str, int] = {}
    for i, name in enumerate(position.names if position else []):
        rank.setdefault(name, i)
    keyed = []
    for index, entry in enumerate(doc.models):
        if entry.type_key != key:
            continue
        model_id = str(entry.spec.model or "")
        keyed.append((rank.get(model_id, 10_000 + index), model_id))
    return list(dict.fromkeys(model_id for _, model_id in sorted(keyed)))


def models_block(doc: PluginDocument, key: str) -> ModelsBlock:
    """The provider's `models.<key>` block, created when absent."""
    spec = doc.provider.spec
    blocks = dict(spec.models or {})
    block = blocks.get(key)
    if block is None:
        pattern = f"models/{key}/*.yaml"
        # YAML files already there that no glob loads must not be pulled in:
        # then new_model_path adds each new file's exact path instead.
        clash = any(glob_match(pattern, p) for p in taken_paths(doc))
        block = ModelsBlock(predefined=[] if clash else [pattern])
        blocks[key] = block
        spec.models = blocks
    return block


def _fill(name_pattern: str, stem: str) -> str | None:
    if "?" in name_pattern or "[" in name_pattern or "*" not in name_pattern:
        return None
    head, _, tail = name_pattern.partition("*")
    return head + stem + tail.replace("*", "")


def new_model_path(doc: PluginDocument, key: str, model_id: str) -> str:
    """A free path for a new model file that the type's `predefined` glob matches.

    When no glob can name it, the exact path is added as a glob of its own.
    """
    block = models_block(doc, key)
    patterns = [p for p in block.predefined or [] if isinstance(p, str)]
    taken = taken_paths(doc)
    stem = file_stem(model_id)
    for pattern in sorted(patterns, key=lambda p: not p.endswith((".yaml", ".yml"))):
        clean = pattern.removeprefix("./")
        directory, _, name_pattern = clean.rpartition("/")
        if any(c in directory for c in "*?[") or ".." in directory.split("/"):
            continue
        for n in range(1, 1000):
            name = _fill(name_pattern, stem if n == 1 else f"{stem}-{n}")
            if name is None:
                break
            path = f"{directory}/{name}" if directory else name
            if path.endswith(POSITION_NAME) or not glob_match(clean, path):
                break
            if path not in taken:
                return path
    base = f"models/{key}/{stem}"
    path, n = f"{base}.yaml", 1
    while path in taken:
        n += 1
        path = f"{base}-{n}.yaml"
    block.predefined = [*patterns, path]
    return path


def ensure_position_file(doc: PluginDocument, key: str) -> PositionFile:
    """The type's `_position.yaml`, created when absent, declared as
    `models.<key>.position` and matched by a `predefined` glob (both runtimes
    then read it)."""
    block = models_block(doc, key)
    patterns = [p for p in block.predefined or [] if isinstance(p, str)]
    position = doc.position_of(key)
    if position is None:
        path = (block.position or "").removeprefix("./")
        if not path.endswith(POSITION_NAME):
            directory = f"models/{key}"
            for pattern in patterns:
                head = pattern.removeprefix("./").rpartition("/")[0]
                if head and not any(c in head for c in "*?["):
                    directory = head
                    break
            path = f"{directory}/{POSITION_NAME}"
        # A plain file at that path (read by nobody) is replaced.
        doc.files.pop(path, None)
        position = PositionFile(path=path, type_key=key, items=[])
        doc.positions.append(position)
    if (block.position or "").removeprefix("./") != position.path:
        block.position = position.path
    if not any(glob_match(p, position.path) for p in patterns):
        block.predefined = [*patterns, position.path]
    return position


def refuse_taken_id(
    doc: PluginDocument, model_id: str, *, field: str, exclude: str | None = None
) -> None:
    """Refuse (ModelProblem on `field`) a model id another file already uses."""
    for entry in doc.models:
        if entry.path != exclude and entry.spec.model == model_id:
            raise ModelProblem(
                f"The model id {model_id!r} is already used by {entry.path}.",
                field=field,
            )
