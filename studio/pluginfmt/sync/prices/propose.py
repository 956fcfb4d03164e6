"""A price table's changes to a plugin's llm and text-embedding models.

`price_items(doc, table, mapping)` matches each declared model to one table
entry (the author's mapping, the id, `<litellm_provider>/<id>`) and proposes
one `update_model` item per model whose prices, context size, max_tokens max
or features differ, each change at the level the review diff gives it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from studio.pluginfmt.diff.levels import LEVEL_RANK, Level
from studio.pluginfmt.document.edits import (
    i18n_text,
    is_number,
    max_tokens_rule,
    rule_effective,
    same_decimal,
)
from studio.pluginfmt.document.loader import ModelEntry, PluginDocument
from studio.pluginfmt.document.specs import model_type_of
from studio.pluginfmt.pricing import price_basis_text
from studio.pluginfmt.sync.items import (
    CONTEXT_SIZE,
    FEATURES,
    MAX_TOKENS_MAX,
    PRICE_INPUT,
    PRICE_OUTPUT,
    FieldChange,
    SyncItem,
)
from studio.pluginfmt.sync.prices.table import (
    DEFAULT_UNIT,
    TABLE_CURRENCY,
    PriceEntry,
    PriceTable,
    as_decimal,
    decimal_text,
    shown,
)

# Model types a table prices, and the LiteLLM modes that fit each.
PRICED_TYPES = ("llm", "text-embedding")
_MODES = {
    "llm": frozenset({"chat", "completion", "responses"}),
    "text-embedding": frozenset({"embedding"}),
}
_PRICED_MODES = frozenset().union(*_MODES.values())


# `supports_*` flags that name a Dify feature outright. Function calling is
# handled apart (tool-call / multi-tool-call); LiteLLM says nothing that
# matches agent-thought, stream-tool-call or polling.
FEATURE_FLAGS = {
    "supports_vision": "vision",
    "supports_response_schema": "structured-output",
    "supports_pdf_input": "document",
    "supports_video_input": "video",
    "supports_audio_input": "audio",
}
FUNCTION_CALLING = "supports_function_calling"
PARALLEL_CALLING = "supports_parallel_function_calling"
TOOL_FEATURES = ("tool-call", "multi-tool-call")
# Features a table's explicit `false` may propose to remove (the diff classes
# a removed feature as breaking): function calling and vision only.
REMOVABLE = {FUNCTION_CALLING: TOOL_FEATURES, "supports_vision": ("vision",)}

# Dify provider names whose LiteLLM provider is named otherwise.
PROVIDER_ALIASES = {
    "tongyi": ("dashscope",),
    "google": ("gemini", "vertex_ai-language-models"),
    "gemini": ("gemini",),
    "azure_openai": ("azure",),
    "bedrock": ("bedrock", "bedrock_converse"),
    "mistralai": ("mistral",),
    "x": ("xai",),
    "zhipuai": ("zai", "zhipuai"),
    "openai": ("openai", "text-completion-openai"),
}


@dataclass
class PriceProposal:
    """What a table changes in a plugin.

    - `items`: one `update_model` item per model the table changes;
    - `unmatched`: ids of the provider's table entries (llm or embedding
      modes) no declared model matched, and mapping keys the table lacks;
    - `unpriced`: declared llm / text-embedding models with no table entry
      (`type:id`, e.g. `llm:gpt-4o`);
    - `notes`: what was left alone and why (a model priced in EUR, a mapping
      to no declared model, a max below the rule's default…)."""

    items: list[SyncItem] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    matched: dict[str, str] = field(default_factory=dict)  # "llm:gpt-4o" -> table id


def price_items(
    doc: PluginDocument,
    table: PriceTable,
    mapping: Mapping[str, str] | None = None,
    *,
    litellm_providers: Iterable[str] | None = None,
) -> PriceProposal:
    """The changes `table` proposes for the plugin's llm and text-embedding models.

    A model is matched, in this order, by the `mapping` (table id → model id,
    the author's word wins), by its id as a table key, then by
    `<litellm_provider>/<id>` for the provider's LiteLLM names
    (`litellm_providers`, else guessed from the Dify provider name and the
    providers of the entries matched so far)."""
    proposal = PriceProposal()
    mapping = {k.strip(): v.strip() for k, v in (mapping or {}).items() if k.strip()}
    models = _priced_models(doc, proposal)
    by_id: dict[str, list[tuple[str, ModelEntry]]] = {}
    for (model_type, model_id), entry in models.items():
        by_id.setdefault(model_id, []).append((model_type, entry))

    chosen: dict[tuple[str, str], PriceEntry] = {}
    used: set[str] = set()
    # 1. The mapping.
    for table_id, model_id in mapping.items():
        table_entry = table.entries.get(table_id)
        if table_entry is None:
            proposal.unmatched.append(table_id)
            proposal.notes.append(
                f"mapping {table_id} → {model_id}: the table has no {table_id}"
            )
            continue
        targets = by_id.get(model_id, [])
        if not targets:
            proposal.notes.append(
                f"mapping {table_id} → {model_id}: the plugin declares no "
                f"llm or text-embedding model {model_id}"
            )
            continue
        fitting = [t for t, _entry in targets if _fits(t, table_entry)]
        if not fitting:
            proposal.notes.append(
                f"mapping {table_id} → {model_id}: the table's mode "
                f"{table_entry.mode} does not suit the {targets[0][0]} model "
                f"{model_id}"
            )
            continue
        for model_type in fitting:
            if (model_type, model_id) not in chosen:
                chosen[(model_type, model_id)] = table_entry
                used.add(table_id)
    # 2. The id itself.
    for (model_type, model_id), _entry in models.items():
        if (model_type, model_id) in chosen:
            continue
        table_entry = table.entries.get(model_id)
        if table_entry is not None and _fits(model_type, table_entry):
            chosen[(model_type, model_id)] = table_entry
            used.add(model_id)
    # 3. <litellm_provider>/<id>.
    providers = _provider_names(doc, chosen.values(), litellm_providers)
    for (model_type, model_id), _entry in models.items():
        if (model_type, model_id) in chosen:
            continue
        for provider in providers:
            table_entry = table.entries.get(f"{provider}/{model_id}")
            if table_entry is not None and _fits(model_type, table_entry):
                chosen[(model_type, model_id)] = table_entry
                used.add(table_entry.id)
                break

    for (model_type, model_id), entry in models.items():
        key = f"{model_type}:{model_id}"
        table_entry = chosen.get((model_type, model_id))
        if table_entry is None:
            proposal.unpriced.append(key)
            continue
        proposal.matched[key] = table_entry.id
        item = _update_item(model_type, entry, table_entry, proposal.notes)
        if item is not None:
            proposal.items.append(item)

    provider_set = set(providers)
    proposal.unmatched.extend(
        table_id
        for table_id, table_entry in table.entries.items()
        if table_id not in used
        and table_entry.provider in provider_set
        and (not table_entry.mode or table_entry.mode in _PRICED_MODES)
    )
    return proposal


def _priced_models(
    doc: PluginDocument, proposal: PriceProposal
) -> dict[tuple[str, str], ModelEntry]:
    """(model type, id) → entry for the llm and text-embedding models, first
    file of a duplicated id."""
    out: dict[tuple[str, str], ModelEntry] = {}
    for entry in doc.models:
        model_type = model_type_of(entry.type_key)
        model_id = (entry.spec.model or "").strip()
        if model_type not in PRICED_TYPES or not model_id:
            continue
        if (model_type, model_id) in out:
            proposal.notes.append(
                f"{model_type} model {model_id} is declared twice; only "
                f"{out[(model_type, model_id)].path} is compared"
            )
            continue
        out[(model_type, model_id)] = entry
    return out


def _fits(model_type: str, entry: PriceEntry) -> bool:
    """Whether an entry's mode suits the model type (no mode suits any)."""
    return not entry.mode or entry.mode in _MODES[model_type]


def _provider_names(
    doc: PluginDocument,
    matched: Iterable[PriceEntry],
    given: Iterable[str] | None,
) -> list[str]:
    if given is not None:
        return list(dict.fromkeys(p.strip() for p in given if p.strip()))
    name = (doc.provider.spec.provider or "").strip().lower()
    names = [name, *PROVIDER_ALIASES.get(name, ())] if name else []
    names += sorted({e.provider for e in matched if e.provider})
    return list(dict.fromkeys(n for n in names if n))


def _update_item(
    model_type: str, entry: ModelEntry, table_entry: PriceEntry, notes: list[str]
) -> SyncItem | None:
    data = entry.spec.to_data()
    model_id = str(data.get("model") or "")
    what = f"{model_type} model {model_id}"
    changes: list[tuple[FieldChange, Level, str]] = []
    changes += _price_changes(model_type, data, table_entry, notes, what)

    context = table_entry.context_size
    props = data.get("model_properties")
    old_context = props.get("context_size") if isinstance(props, dict) else None
    if context is not None and not same_decimal(old_context, context):
        changes.append(
            (
                FieldChange(CONTEXT_SIZE, old_context, context),
                Level.NOTABLE,
                f"context size {shown(old_context)} → {context}",
            )
        )

    if model_type == "llm":
        changes += _max_tokens_change(data, table_entry, notes, what)
        changes += _feature_change(data, table_entry)

    if not changes:
        return None
    level = max((c[1] for c in changes), key=LEVEL_RANK.__getitem__)
    summary = f"{model_id}: " + "; ".join(c[2] for c in changes)
    return SyncItem(
        kind="update_model",
        model_type=model_type,
        model=model_id,
        level=level,
        summary=summary,
        label=i18n_text(data.get("label")),
        changes=tuple(c[0] for c in changes),
    )


def _price_changes(
    model_type: str,
    data: dict[str, Any],
    table_entry: PriceEntry,
    notes: list[str],
    what: str,
) -> list[tuple[FieldChange, Level, str]]:
    costs = [(PRICE_INPUT, "input", table_entry.input_cost)]
    if model_type == "llm":
        costs.append((PRICE_OUTPUT, "output", table_entry.output_cost))
    if all(cost is None for _f, _n, cost in costs):
        return []
    pricing = data.get("pricing")
    if isinstance(pricing, dict):
        currency = str(pricing.get("currency") or "").strip()
        if currency.upper() != TABLE_CURRENCY:
            notes.append(
                f"{what} is priced in {currency or 'no currency'}; the table is in "
                f"{TABLE_CURRENCY}, so its prices were left alone"
            )
            return []
        unit = as_decimal(pricing.get("unit"))
        if unit is None or unit <= 0:
            notes.append(
                f"{what} has no usable price unit ({shown(pricing.get('unit'))}); "
                "its prices were left alone"
            )
            return []
        basis = price_basis_text(pricing)
    else:
        if table_entry.input_cost is None:
            return []  # new pricing needs an input price (the SDK requires it)
        pricing = {}
        unit = Decimal(DEFAULT_UNIT)
        basis = price_basis_text({"unit": DEFAULT_UNIT, "currency": TABLE_CURRENCY})
    out = []
    for path, name, cost in costs:
        if cost is None:
            continue
        new = decimal_text(cost / unit)
        old = pricing.get(name)
        if old is not None and same_decimal(old, new):
            continue
        out.append(
            (
                FieldChange(path, old, new),
                Level.NOTABLE,
                f"{name} price {shown(old)} → {new} ({basis})",
            )
        )
    return out


def _max_tokens_change(
    data: dict[str, Any], table_entry: PriceEntry, notes: list[str], what: str
) -> list[tuple[FieldChange, Level, str]]:
    new = table_entry.max_output_tokens
    rule = max_tokens_rule(data.get("parameter_rules"))
    if new is None or rule is None:
        return []
    effective = rule_effective(rule)
    old = effective.get("max")
    if same_decimal(old, new):
        return []
    for bound in ("default", "min"):
        value = effective.get(bound)
        if is_number(value) and value > new:
            notes.append(
                f"{what}: the table's max output {new} is below the max_tokens "
                f"rule's {bound} {value}; its max was left alone"
            )
            return []
    narrowed = is_number(old) and new < old
    level = Level.BREAKING if narrowed else Level.NOTABLE
    text = f"max tokens {shown(old)} → {new}"
    if narrowed:
        text += " (narrowed: saved values above it are refused)"
    return [(FieldChange(MAX_TOKENS_MAX, old, new), level, text)]


def _feature_change(
    data: dict[str, Any], table_entry: PriceEntry
) -> list[tuple[FieldChange, Level, str]]:
    raw = data.get("features")
    declared = [str(f) for f in raw] if isinstance(raw, list) else []
    wanted = set(declared)
    flags = table_entry.flags
    for flag, feature in FEATURE_FLAGS.items():
        if flags.get(flag) is True:
            wanted.add(feature)
    if flags.get(FUNCTION_CALLING) is True:
        if flags.get(PARALLEL_CALLING) is True:
            wanted.add("multi-tool-call")
        elif not wanted & set(TOOL_FEATURES):
            wanted.add("tool-call")
    for flag, features in REMOVABLE.items():
        if flags.get(flag) is False:
            wanted.difference_update(features)
    if wanted == set(declared):
        return []
    added = sorted(wanted - set(declared))
    removed = sorted(set(declared) - wanted)
    parts = [f"+{f}" for f in added] + [f"-{f}" for f in removed]
    text = "features " + " ".join(parts)
    if removed:
        text += " (removal breaks apps that rely on it)"
    level = Level.BREAKING if removed else Level.NOTABLE
    old = sorted(set(declared))
    return [(FieldChange(FEATURES, old, sorted(wanted)), level, text)]
