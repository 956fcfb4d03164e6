"""Sync items applied to a `PluginDocument`, inside the caller's one edit.

- `add_model`: a copy of the template model's YAML (properties, rules,
  pricing, features; not its `deprecated` flag) with the upstream id and
  label, in a new file its type's `predefined` glob loads, and appended to
  the type's `_position.yaml` when the plugin has one (a plugin without one
  is not given one: that would reorder every model, a change nobody asked
  for);
- `deprecate_model`: `deprecated: true` on the declared model (never a
  deletion);
- `update_model`: `prices.apply_update` on the model's data (prices in the
  model's unit, context size, the max_tokens rule's max, features).

`conflicts(doc, items)` says which items no longer fit the document (the
draft changed since the proposal was computed): a new model already
declared, a template or a model gone, a field no longer holding the value
an update was computed from. `apply_items` refuses them all at once
with `ApplyConflict` before changing anything.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

from studio.pluginfmt.document import ModelEntry, ModelSpec, PluginDocument, type_key
from studio.pluginfmt.document.edits import (
    new_model_path,
    position_names,
    same_decimal,
    set_position,
    set_spec,
)

from .items import PRICE_INPUT, PRICE_OUTPUT, SyncItem
from .prices import StaleChange, apply_update


class ApplyConflict(ValueError):
    """Items that no longer fit the document; `problems` names each."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def _entry(doc: PluginDocument, model_type: str, model_id: str) -> ModelEntry | None:
    for entry in doc.models_of(type_key(model_type)):
        if entry.spec.model == model_id:
            return entry
    return None


def price_units(doc: PluginDocument, items: Sequence[SyncItem]) -> dict[str, str]:
    """The price unit each update item's new prices are in ("llm:gpt-4o" ->
    "0.000001"), for models priced when the proposal is made: a proposal
    keeps them so an apply after the unit was edited is refused."""
    units = {}
    for item in items:
        if item.kind != "update_model" or not any(
            c.field in (PRICE_INPUT, PRICE_OUTPUT) for c in item.changes
        ):
            continue
        entry = _entry(doc, item.model_type, item.model)
        pricing = entry.spec.to_data().get("pricing") if entry is not None else None
        if isinstance(pricing, dict) and pricing.get("unit") is not None:
            units[f"{item.model_type}:{item.model}"] = str(pricing["unit"])
    return units


def conflicts(
    doc: PluginDocument,
    items: Sequence[SyncItem],
    units: Mapping[str, str] | None = None,
) -> list[str]:
    """Why each item cannot be applied to `doc` as it is now (empty: all can).

    `units` (from `price_units` when the proposal was made) are the price
    units the items' new prices are in."""
    problems = []
    declared = {(e.type_key, str(e.spec.model or "")) for e in doc.models}
    adding: set[tuple[str, str]] = set()
    for item in items:
        key = type_key(item.model_type)
        if item.kind == "add_model":
            if (key, item.model) in declared or (key, item.model) in adding:
                problems.append(f"{item.model} is already declared")
            elif (key, item.template) not in declared:
                problems.append(
                    f"the template {item.template} of {item.model} is no longer "
                    "declared"
                )
            adding.add((key, item.model))
        elif (key, item.model) not in declared:
            problems.append(f"{item.model} is no longer declared")
        elif item.kind == "update_model":
            entry = _entry(doc, item.model_type, item.model)
            assert entry is not None
            data = copy.deepcopy(entry.spec.to_data())
            was = (units or {}).get(f"{item.model_type}:{item.model}")
            pricing = data.get("pricing")
            now = pricing.get("unit") if isinstance(pricing, dict) else None
            if was is not None and (now is None or not same_decimal(now, was)):
                problems.append(
                    f"{item.model}: the price unit is now {now}, the proposal's "
                    f"prices are per {was}"
                )
                continue
            try:  # on a copy: only says whether the item still fits
                apply_update(data, item)
            except StaleChange as stale:
                problems.append(f"{item.model}: {stale}")
    return problems


def apply_items(
    doc: PluginDocument,
    items: Sequence[SyncItem],
    units: Mapping[str, str] | None = None,
) -> None:
    """Apply every item (ApplyConflict, and nothing changed, if one cannot be)."""
    problems = conflicts(doc, items, units)
    if problems:
        raise ApplyConflict(problems)
    for item in items:
        if item.kind == "add_model":
            _add(doc, item)
        elif item.kind == "deprecate_model":
            _deprecate(doc, item)
        elif item.kind == "update_model":
            _update(doc, item)
        else:
            raise ValueError(f"unknown sync item kind {item.kind!r}")


def _add(doc: PluginDocument, item: SyncItem) -> None:
    key = type_key(item.model_type)
    template = _entry(doc, item.model_type, item.template)
    assert template is not None  # conflicts() checked
    data = copy.deepcopy(template.spec.to_data())
    data["model"] = item.model
    data["label"] = {"en_US": item.label or item.model}
    data.pop("deprecated", None)
    path = new_model_path(doc, key, item.model)
    entry = ModelEntry(path=path, spec=ModelSpec.model_validate(data), type_key=key)
    same_type = doc.models_of(key)
    at = doc.models.index(same_type[-1]) + 1 if same_type else len(doc.models)
    doc.models.insert(at, entry)
    names = position_names(doc, key)
    if names is not None and item.model not in names:
        set_position(doc, key, [*names, item.model])


def _deprecate(doc: PluginDocument, item: SyncItem) -> None:
    entry = _entry(doc, item.model_type, item.model)
    assert entry is not None
    data = copy.deepcopy(entry.spec.to_data())
    data["deprecated"] = True
    set_spec(entry, data)


def _update(doc: PluginDocument, item: SyncItem) -> None:
    entry = _entry(doc, item.model_type, item.model)
    assert entry is not None
    data = copy.deepcopy(entry.spec.to_data())
    apply_update(data, item)
    set_spec(entry, data)
