"""Small edits of a plugin document that the studio's forms share.

Pure functions on a `PluginDocument` and on the YAML data of its parts (the
dicts and lists `Spec.to_data()` gives): YAML scalars and I18n values as text,
a credential field's data from what its form says, prices and parameter rules,
and where a new model file and a type's `_position.yaml` go so that the
type's `predefined` globs load them. Callers run them inside one edit of the
document; nothing here reads or writes anything else.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard

from studio.pluginfmt.document.loader import ModelEntry, PluginDocument, PositionFile
from studio.pluginfmt.document.specs import PARAMETER_TEMPLATES, ModelsBlock, ModelSpec
from studio.pluginfmt.globs import glob_match
from studio.pluginfmt.verify.model_ids import MAX_MODEL_ID

# The languages Dify shows; I18n values may carry others, which edits keep.
LANGUAGES = ("en_US", "zh_Hans", "ja_JP", "pt_BR")
POSITION_NAME = "_position.yaml"

# ---------------------------------------------------------------- text


def text(value: Any) -> str:
    """A YAML scalar as the text Dify compares (`true`, not `True`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def i18n_text(value: Any, lang: str = "en_US") -> str:
    """One language of an I18n value, falling back to en_US, then to plain text."""
    if isinstance(value, dict):
        return text(value.get(lang) or value.get("en_US") or "")
    return text(value)


def merge_i18n(
    old: Any, new: Mapping[str, str], languages: Sequence[str] = LANGUAGES
) -> dict[str, Any]:
    """`old` with the given languages replaced (a blank one removed), others kept."""
    out: dict[str, Any] = dict(old) if isinstance(old, dict) else {}
    for lang in languages:
        value = new.get(lang, "")
        if value:
            out[lang] = value
        else:
            out.pop(lang, None)
    return out


# ---------------------------------------------------------------- credential fields

# Keys of a credential field that `field_data` writes; every other key is kept.
MANAGED_KEYS = (
    "variable",
    "label",
    "type",
    "required",
    "default",
    "options",
    "placeholder",
    "show_on",
)
CHOICE_TYPES = ("select", "radio")


@dataclass(frozen=True)
class Condition:
    """One `show_on` condition: shown only when `variable` has `value`."""

    variable: str
    value: str


@dataclass(frozen=True)
class OptionValues:
    """One option of a select/radio; `row` is the option it was loaded from."""

    value: str
    label: str
    show_on: tuple[Condition, ...] = ()
    row: int | None = None


@dataclass(frozen=True)
class FieldValues:
    """What a field form submits: the managed keys of one credential field."""

    variable: str
    type: str
    required: bool
    label: dict[str, str]
    placeholder: dict[str, str] = field(default_factory=dict)
    default: str = ""
    options: tuple[OptionValues, ...] = ()
    show_on: tuple[Condition, ...] = ()


def show_on_pairs(show_on: Any) -> list[tuple[str, str]]:
    """The (variable, value) conditions of a show_on list, as text."""
    if not isinstance(show_on, list):
        return []
    return [
        (text(c.get("variable")), text(c.get("value")))
        for c in show_on
        if isinstance(c, dict)
    ]


def show_on_key(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Conditions compared as the verifier does: order does not matter."""
    return tuple(sorted(pairs))


def duplicate_of(
    fields: Sequence[Any],
    variable: str,
    show_on: Sequence[tuple[str, str]],
    *,
    skip: int | None = None,
) -> int | None:
    """Index of another field with this variable and the same show_on, if any."""
    key = show_on_key(show_on)
    for i, other in enumerate(fields):
        if i == skip or not isinstance(other, dict):
            continue
        if text(other.get("variable")) == variable and (
            show_on_key(show_on_pairs(other.get("show_on"))) == key
        ):
            return i
    return None


def _conditions(conditions: Sequence[Condition]) -> list[dict[str, str]]:
    return [{"variable": c.variable, "value": c.value} for c in conditions]


def field_data(existing: Any, values: FieldValues) -> dict[str, Any]:
    """The YAML data of a field: `existing` with the managed keys from `values`."""
    data: dict[str, Any] = copy.deepcopy(existing) if isinstance(existing, dict) else {}
    data["variable"] = values.variable
    data["label"] = merge_i18n(data.get("label"), values.label)
    data["type"] = values.type
    data["required"] = values.required
    if values.default:
        data["default"] = values.default
    else:
        data.pop("default", None)
    if values.type in CHOICE_TYPES:
        old_options = data.get("options")
        old_options = old_options if isinstance(old_options, list) else []
        options = []
        for option in values.options:
            old = (
                old_options[option.row]
                if option.row is not None and option.row < len(old_options)
                else None
            )
            item: dict[str, Any] = copy.deepcopy(old) if isinstance(old, dict) else {}
            item["value"] = option.value
            # Only en_US is edited per option; other languages stay.
            item["label"] = merge_i18n(
                item.get("label"), {"en_US": option.label}, ("en_US",)
            )
            if option.show_on:
                item["show_on"] = _conditions(option.show_on)
            else:
                item.pop("show_on", None)
            options.append(item)
        data["options"] = options
    else:
        data.pop("options", None)
    placeholder = merge_i18n(data.get("placeholder"), values.placeholder)
    if placeholder:
        data["placeholder"] = placeholder
    else:
        data.pop("placeholder", None)
    if values.show_on:
        data["show_on"] = _conditions(values.show_on)
    else:
        data.pop("show_on", None)
    return data


# ---------------------------------------------------------------- numbers and rules


def is_number(value: Any) -> TypeGuard[int | float]:
    """Whether `value` is an int or float (a bool is not)."""
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


def parse_rule_value(kind: str, text: str) -> int | float | bool | str:
    """A rule value typed as the rule's type says; ValueError with a reason."""
    text = text.strip()
    if kind == "int":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(
                f"{text!r} is not a whole number (the rule is int)"
            ) from None
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"{text!r} is not a whole number (the rule is int)")
        return int(number)
    if kind == "float":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{text!r} is not a number (the rule is float)") from None
        if not number.is_finite():
            raise ValueError(f"{text!r} is not a finite number")
        return float(number)
    if kind == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
        raise ValueError(f"{text!r} is not true or false (the rule is boolean)")
    if kind in ("string", "text"):
        return text
    raise ValueError(f"the rule has no usable type ({kind or 'none'})")


# ---------------------------------------------------------------- model files


def set_spec(entry: ModelEntry, data: dict[str, Any]) -> None:
    """Give the entry the model data `data` (a no-op when it is the same)."""
    # A fresh spec from data: if it equals the file's, the file keeps its bytes.
    if data != entry.spec.to_data():
        entry.spec = ModelSpec.model_validate(data)


def file_stem(model_id: str) -> str:
    """A safe file name stem for a model id: lower-case `[a-z0-9._-]`, no dots first.

    Any id the verifier accepts (`Qwen/Qwen3-8B`, `llama3.1:8b`) gets one; the
    id itself stays as it is in the file.
    """
    stem = re.sub(r"[^a-z0-9._-]+", "-", model_id.lower())
    stem = re.sub(r"\.{2,}", ".", stem)
    stem = re.sub(r"-{2,}", "-", stem).strip("-.")
    stem = stem[:100].rstrip("-.") or "model"
    if stem.endswith("_position"):
        # Go skips every file named *_position.yaml: it would not load the model.
        stem += "-model"
    return stem


def copy_model_id(model_id: str, taken: Collection[str]) -> str:
    """A free id for a copy of a model: `<id>-copy`, `<id>-copy-2`…, within 255."""
    candidate = model_id
    for n in range(1, 10_000):
        suffix = "-copy" if n == 1 else f"-copy-{n}"
        candidate = model_id[: MAX_MODEL_ID - len(suffix)] + suffix
        if candidate not in taken:
            break
    return candidate


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
