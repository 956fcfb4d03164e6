"""Workflows of the models table: row edits, duplicate, delete, order, bulk.

Every change is a `provider_edit` of the document, so the files stay the
truth and the rows pages read follow in the same transaction. Row actions
check the model row's own `lock_version` (two people editing different rows
do not collide); table-wide actions (bulk, drag-and-drop order) check the
provider's. Values the author did not change are not rewritten: an untouched
model file keeps its bytes, and unknown keys of imported plugins stay.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from studio.catalog.models import Provider, ProviderModel
from studio.pluginfmt.document import (
    ModelEntry,
    ModelSpec,
    PluginDocument,
    model_type_of,
    type_key,
)
from studio.pluginfmt.document.edits import (
    ensure_position_file,
    is_number,
    max_tokens_rule,
    new_model_path,
    ordered_ids,
    parse_rule_value,
    position_names,
    rule_effective,
    same_decimal,
    set_position,
    set_spec,
)

from . import SaveResult, provider_edit
from .model_files import (
    CONTEXT_TYPES,
    ModelProblem,
    StaleModel,
    check_model_lock,
    entry_at,
    refuse_taken_id,
)

__all__ = ["CONTEXT_TYPES", "ModelProblem", "StaleModel"]

# ---------------------------------------------------------------- table rows


@dataclass(frozen=True)
class InlineValues:
    """What a row of the models table submits; None means an empty input."""

    label: str
    context_size: int | None = None
    max_tokens_default: int | None = None
    max_tokens_max: int | None = None
    input_price: str | None = None
    output_price: str | None = None
    deprecated: bool = False


def _edit_model(
    *,
    provider: Provider,
    model: ProviderModel,
    model_lock: int,
    change: Callable[[PluginDocument, ModelEntry], None],
) -> SaveResult:
    def apply(doc: PluginDocument) -> None:
        check_model_lock(model, model_lock)
        change(doc, entry_at(doc, model.path))

    return provider_edit(provider=provider, lock_version=None, change=apply)


def model_inline_update(
    *, provider: Provider, model: ProviderModel, model_lock: int, values: InlineValues
) -> SaveResult:
    """Apply a table row's values to one model file: only what differs from it."""

    def change(doc: PluginDocument, entry: ModelEntry) -> None:
        data = copy.deepcopy(entry.spec.to_data())
        apply_inline(data, model_type_of(entry.type_key), values)
        set_spec(entry, data)

    return _edit_model(
        provider=provider, model=model, model_lock=model_lock, change=change
    )


def apply_inline(data: dict[str, Any], model_type: str, values: InlineValues) -> None:
    """Change `data` (a model YAML) where the row's values differ from it."""
    model_id = str(data.get("model") or "")
    label = data.get("label")
    current_label = (
        label.get("en_US") if isinstance(label, dict) else None
    ) or model_id
    wanted_label = values.label or model_id
    if wanted_label != current_label:
        data["label"] = {
            **(label if isinstance(label, dict) else {}),
            "en_US": wanted_label,
        }

    if model_type in CONTEXT_TYPES:
        props = data.get("model_properties")
        props = props if isinstance(props, dict) else {}
        if values.context_size != props.get("context_size"):
            if values.context_size is None:
                if model_type == "llm":
                    raise ModelProblem(
                        "An llm model needs a context size.", field="context_size"
                    )
                props.pop("context_size", None)
            else:
                props["context_size"] = values.context_size
            data["model_properties"] = props

    if model_type == "llm":
        _apply_max_tokens(data, values)
    _apply_prices(data, values)

    if values.deprecated:
        data["deprecated"] = True
    elif "deprecated" in data:
        data["deprecated"] = False


def _apply_max_tokens(data: dict[str, Any], values: InlineValues) -> None:
    rules = data.get("parameter_rules")
    rule = max_tokens_rule(rules)
    wanted = {"default": values.max_tokens_default, "max": values.max_tokens_max}
    if rule is None:
        if wanted["default"] is None and wanted["max"] is None:
            return
        rule = {"name": "max_tokens", "use_template": "max_tokens"}
        rules = [*(rules if isinstance(rules, list) else []), rule]
        data["parameter_rules"] = rules
    template = rule_effective({"use_template": rule.get("use_template")})
    effective = rule_effective(rule)
    for key, value in wanted.items():
        if value == effective.get(key):
            continue
        if value is None or value == template.get(key):
            # Back to the template's value (or none): drop the override.
            rule.pop(key, None)
        else:
            rule[key] = value
    merged = rule_effective(rule)
    low, default, high = merged.get("min"), merged.get("default"), merged.get("max")
    if is_number(low) and is_number(high) and low > high:
        raise ModelProblem(
            f"Max tokens is below the minimum {low}.", field="max_tokens_max"
        )
    if is_number(default) and is_number(high) and default > high:
        raise ModelProblem(
            f"The default {default} is above the maximum {high}.",
            field="max_tokens_default",
        )
    if is_number(default) and is_number(low) and default < low:
        raise ModelProblem(
            f"The default {default} is below the minimum {low}.",
            field="max_tokens_default",
        )


def _apply_prices(data: dict[str, Any], values: InlineValues) -> None:
    pricing = data.get("pricing")
    if not isinstance(pricing, dict):
        if values.input_price is None:
            if values.output_price is not None:
                raise ModelProblem(
                    "Give an input price too (the SDK requires it).",
                    field="input_price",
                )
            return
        # New pricing: the studio's default unit and currency (the form changes them).
        pricing = {"input": values.input_price}
        if values.output_price is not None:
            pricing["output"] = values.output_price
        pricing.update(unit="0.000001", currency="USD")
        data["pricing"] = pricing
        return
    if values.input_price is None:
        raise ModelProblem(
            "The model has pricing, so it needs an input price (remove the "
            "pricing in the model form instead).",
            field="input_price",
        )
    if not same_decimal(values.input_price, pricing.get("input")):
        pricing["input"] = values.input_price
    if values.output_price is None:
        pricing.pop("output", None)
    elif not same_decimal(values.output_price, pricing.get("output")):
        pricing["output"] = values.output_price


def model_duplicate(
    *, provider: Provider, model: ProviderModel, model_lock: int, new_id: str
) -> tuple[SaveResult, str]:
    """Copy a model to a new file under its type's glob, listed right after it."""
    new_path = ""

    def change(doc: PluginDocument, entry: ModelEntry) -> None:
        nonlocal new_path
        refuse_taken_id(doc, new_id, type_key=entry.type_key, field="new_id")
        data = copy.deepcopy(entry.spec.to_data())
        old_id = str(data.get("model") or "")
        data["model"] = new_id
        label = data.get("label")
        if isinstance(label, dict):
            text = label.get("en_US")
            label["en_US"] = new_id if text in (None, "", old_id) else f"{text} (copy)"
        new_path = new_model_path(doc, entry.type_key, new_id)
        copy_entry = ModelEntry(
            path=new_path, spec=ModelSpec.model_validate(data), type_key=entry.type_key
        )
        doc.models.insert(doc.models.index(entry) + 1, copy_entry)
        names = position_names(doc, entry.type_key)
        if names is not None:
            at = names.index(old_id) + 1 if old_id in names else len(names)
            names.insert(at, new_id)
            set_position(doc, entry.type_key, names)

    result = _edit_model(
        provider=provider, model=model, model_lock=model_lock, change=change
    )
    return result, new_path


def model_delete(
    *, provider: Provider, model: ProviderModel, model_lock: int
) -> SaveResult:
    """Delete a model file and its line in the type's position file."""

    def change(doc: PluginDocument, entry: ModelEntry) -> None:
        doc.models.remove(entry)
        model_id = entry.spec.model
        names = position_names(doc, entry.type_key)
        if names is not None and model_id in names:
            others = [
                m for m in doc.models_of(entry.type_key) if m.spec.model == model_id
            ]
            if not others:
                set_position(doc, entry.type_key, [n for n in names if n != model_id])

    return _edit_model(
        provider=provider, model=model, model_lock=model_lock, change=change
    )


def model_move(
    *,
    provider: Provider,
    model: ProviderModel,
    model_lock: int,
    direction: Literal["up", "down"],
) -> SaveResult:
    """Move a model one place up or down in its type's `_position.yaml`."""

    def change(doc: PluginDocument, entry: ModelEntry) -> None:
        order = ordered_ids(doc, entry.type_key)
        model_id = str(entry.spec.model or "")
        i = order.index(model_id)
        j = i - 1 if direction == "up" else i + 1
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
        _write_order(doc, entry.type_key, order)

    return _edit_model(
        provider=provider, model=model, model_lock=model_lock, change=change
    )


def models_reorder(
    *, provider: Provider, lock_version: int | None, model_type: str, order: list[str]
) -> SaveResult:
    """Write the order of a type's models (all of its model ids) to `_position.yaml`."""
    key = type_key(model_type)

    def change(doc: PluginDocument) -> None:
        current = ordered_ids(doc, key)
        if sorted(current) != sorted(dict.fromkeys(order)) or len(order) != len(
            current
        ):
            raise ModelProblem(
                "The list does not hold exactly this type's models; reload the page."
            )
        _write_order(doc, key, order)

    return provider_edit(provider=provider, lock_version=lock_version, change=change)


def _write_order(doc: PluginDocument, key: str, order: list[str]) -> None:
    position = ensure_position_file(doc, key)
    if position.items != order:
        position.items = list(order)


# ---------------------------------------------------------------- bulk


@dataclass(frozen=True)
class BulkAction:
    """One bulk action: deprecate, undeprecate, pricing or rule-default."""

    action: Literal["deprecate", "undeprecate", "pricing", "rule-default"]
    currency: str = ""
    unit: str = ""
    rule: str = ""
    value: str = ""


@dataclass
class BulkResult:
    save: SaveResult
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def models_bulk(
    *,
    provider: Provider,
    lock_version: int | None,
    paths: Iterable[str],
    action: BulkAction,
) -> BulkResult:
    """Apply one action to the selected models; say per model what was skipped."""
    wanted = set(paths)
    changed: list[str] = []
    unchanged: list[str] = []
    skipped: list[tuple[str, str]] = []

    def change(doc: PluginDocument) -> None:
        for entry in doc.models:
            if entry.path not in wanted:
                continue
            data = copy.deepcopy(entry.spec.to_data())
            name = str(data.get("model") or entry.path)
            reason = _bulk_one(data, action)
            if reason:
                skipped.append((name, reason))
            elif data == entry.spec.to_data():
                unchanged.append(name)
            else:
                set_spec(entry, data)
                changed.append(name)

    save = provider_edit(provider=provider, lock_version=lock_version, change=change)
    return BulkResult(save=save, changed=changed, unchanged=unchanged, skipped=skipped)


def _bulk_one(data: dict[str, Any], action: BulkAction) -> str:
    """Apply the action to one model's data; a reason when it is skipped."""
    if action.action == "deprecate":
        data["deprecated"] = True
    elif action.action == "undeprecate":
        if "deprecated" in data:
            data["deprecated"] = False
    elif action.action == "pricing":
        pricing = data.get("pricing")
        if not isinstance(pricing, dict):
            return "it has no pricing (set its prices first)"
        if action.currency and pricing.get("currency") != action.currency:
            pricing["currency"] = action.currency
        if action.unit and not same_decimal(pricing.get("unit"), action.unit):
            pricing["unit"] = action.unit
    elif action.action == "rule-default":
        return _bulk_rule_default(data, action.rule, action.value)
    return ""


def _bulk_rule_default(data: dict[str, Any], name: str, text: str) -> str:
    rules = data.get("parameter_rules")
    rule = (
        next(
            (r for r in rules if isinstance(r, dict) and r.get("name") == name),
            None,
        )
        if isinstance(rules, list)
        else None
    )
    if rule is None:
        return f"it has no rule {name!r}"
    merged = rule_effective(rule)
    try:
        value = parse_rule_value(str(merged.get("type") or ""), text)
    except ValueError as exc:
        return str(exc)
    low, high = merged.get("min"), merged.get("max")
    if is_number(value):
        if is_number(low) and value < low:
            return f"{value} is below its minimum {low}"
        if is_number(high) and value > high:
            return f"{value} is above its maximum {high}"
    options = merged.get("options")
    listed = options if isinstance(options, list) else []
    if isinstance(value, str) and listed and value not in listed:
        shown = ", ".join(map(str, listed))
        return f"{value!r} is not one of its options ({shown})"
    if rule.get("default") != value or "default" not in rule:
        rule["default"] = value
    return ""
