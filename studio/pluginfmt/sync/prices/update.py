"""An `update_model` item applied to a model YAML's data, in the file's style."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from studio.pluginfmt.document.edits import (
    is_number,
    max_tokens_rule,
    rule_effective,
    same_decimal,
    set_spec,
)
from studio.pluginfmt.document.loader import ModelEntry, PluginDocument
from studio.pluginfmt.document.specs import model_type_of
from studio.pluginfmt.sync.items import (
    CONTEXT_SIZE,
    FEATURES,
    MAX_TOKENS_MAX,
    PRICE_INPUT,
    PRICE_OUTPUT,
    FieldChange,
    SyncItem,
)
from studio.pluginfmt.sync.prices.table import DEFAULT_UNIT, TABLE_CURRENCY, shown


class StaleChange(ValueError):
    """The model no longer holds the value the proposal was made from."""


def apply_update(data: dict[str, Any], item: SyncItem) -> None:
    """Apply an `update_model` item to a model YAML's data (`spec.to_data()`).

    Each field must still hold the item's `old` value, else StaleChange (the
    model was edited since the proposal). Prices keep the file's style (text
    stays text, a number stays a number); a model without pricing gets
    unit 0.000001 and currency USD; the max_tokens rule keeps its template and
    gets a `max` (dropped when it equals the template's)."""
    if item.kind != "update_model":
        raise ValueError(f"apply_update applies update_model items, not {item.kind}")
    for change in item.changes:
        if change.field in (PRICE_INPUT, PRICE_OUTPUT):
            _apply_price(data, change)
        elif change.field == CONTEXT_SIZE:
            _apply_context(data, change)
        elif change.field == MAX_TOKENS_MAX:
            _apply_max(data, change)
        elif change.field == FEATURES:
            _apply_features(data, change)
        else:
            raise ValueError(f"unknown field {change.field!r} in a sync item")
    pricing = data.get("pricing")
    if isinstance(pricing, dict):
        for key in ("input", "output"):
            if key in pricing and pricing[key] is None:
                del pricing[key]


def update_entry(doc: PluginDocument, item: SyncItem) -> ModelEntry:
    """Apply an `update_model` item to the document's model of that type and
    id (the first file declaring it); StaleChange when the model is gone."""
    for entry in doc.models:
        if (
            model_type_of(entry.type_key) == item.model_type
            and (entry.spec.model or "").strip() == item.model
        ):
            data = entry.spec.to_data()
            apply_update(data, item)
            set_spec(entry, data)
            return entry
    raise StaleChange(f"the plugin no longer declares {item.model_type} {item.model}")


def _check(field_name: str, current: Any, change: FieldChange) -> None:
    if change.old is None and current is None:
        return
    if change.old is None or current is None or not same_decimal(current, change.old):
        raise StaleChange(
            f"{field_name} is now {shown(current)}, the proposal was made from "
            f"{shown(change.old)}: check again"
        )


def _styled(old: Any, new: Any) -> Any:
    """A proposed price (a decimal string) written the way the file wrote the
    old one: text stays text (as the corpus writes prices), a number a number."""
    if not is_number(old):
        return str(new)
    number = Decimal(str(new))
    return int(number) if number == number.to_integral() else float(number)


def _apply_price(data: dict[str, Any], change: FieldChange) -> None:
    name = "input" if change.field == PRICE_INPUT else "output"
    pricing = data.get("pricing")
    if not isinstance(pricing, dict):
        _check(change.field, None, change)
        pricing = {"input": None, "output": None}
        pricing.update(unit=DEFAULT_UNIT, currency=TABLE_CURRENCY)
        data["pricing"] = pricing
    current = pricing.get(name)
    _check(change.field, current, change)
    pricing[name] = _styled(current, change.new)


def _apply_context(data: dict[str, Any], change: FieldChange) -> None:
    props = data.get("model_properties")
    if not isinstance(props, dict):
        props = {}
        data["model_properties"] = props
    current = props.get("context_size")
    _check(change.field, current, change)
    props["context_size"] = str(change.new) if isinstance(current, str) else change.new


def _apply_max(data: dict[str, Any], change: FieldChange) -> None:
    rule = max_tokens_rule(data.get("parameter_rules"))
    if rule is None:
        raise StaleChange("the model no longer has a max_tokens rule")
    _check(change.field, rule_effective(rule).get("max"), change)
    template = rule_effective({"use_template": rule.get("use_template")})
    new = int(change.new)
    if rule.get("use_template") and template.get("max") == new:
        rule.pop("max", None)
    else:
        rule["max"] = new


def _apply_features(data: dict[str, Any], change: FieldChange) -> None:
    raw = data.get("features")
    declared = [str(f) for f in raw] if isinstance(raw, list) else []
    if sorted(set(declared)) != sorted(set(change.old or [])):
        raise StaleChange(
            f"features are now {', '.join(declared) or '(none)'}, the proposal was "
            f"made from {', '.join(change.old or []) or '(none)'}: check again"
        )
    new = [str(f) for f in change.new or []]
    kept = [f for f in declared if f in new]
    data["features"] = kept + [f for f in new if f not in kept]
