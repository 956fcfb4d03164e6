"""The item of a sync proposal: one model added, deprecated or updated.

Every source (upstream model list, price table) produces `SyncItem`s; the
`sync` app stores them as JSON (`as_dict` / `from_dict`), shows them model by
model with the level the review diff gives the same change, and applies the
ones the author ticks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from studio.pluginfmt.diff.levels import Level

ItemKind = Literal["add_model", "deprecate_model", "update_model"]

# Field paths an `update_model` item may change (dotted, as the diff names them).
PRICE_INPUT = "pricing.input"
PRICE_OUTPUT = "pricing.output"
CONTEXT_SIZE = "model_properties.context_size"
MAX_TOKENS_MAX = "parameter_rules.max_tokens.max"
FEATURES = "features"  # old and new are sorted lists of feature names
UPDATE_FIELDS = (PRICE_INPUT, PRICE_OUTPUT, CONTEXT_SIZE, MAX_TOKENS_MAX, FEATURES)


@dataclass(frozen=True)
class FieldChange:
    """One field of one model: `old` as declared (None when absent), `new` as
    proposed. Prices are Decimal strings in the model's own unit and currency
    ("2.5" for 2.5e-06 per token with unit 0.000001), never floats."""

    field: str
    old: Any
    new: Any

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class SyncItem:
    """One proposed change to one model.

    - `add_model`: `model` is the upstream id, `label` its label, `template`
      the declared model (same `model_type`) whose properties, rules and
      pricing are copied;
    - `deprecate_model`: the declared `model` gets `deprecated: true` (never
      deleted);
    - `update_model`: `changes` lists the fields to set.

    `key` is stable across runs ("add:llm:gpt-5") so a drift watch can tell
    whether it already reported an item, and the form's checkboxes name it.
    """

    kind: ItemKind
    model_type: str  # hyphenated as in ProviderModel: llm, text-embedding…
    model: str
    level: Level
    summary: str  # one line a person reads: "New model gpt-5 (from gpt-4o)"
    label: str = ""
    template: str = ""
    changes: tuple[FieldChange, ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        verb = {"add_model": "add", "deprecate_model": "deprecate"}.get(
            self.kind, "update"
        )
        return f"{verb}:{self.model_type}:{self.model}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "model_type": self.model_type,
            "model": self.model,
            "level": str(self.level),
            "summary": self.summary,
            "label": self.label,
            "template": self.template,
            "changes": [c.as_dict() for c in self.changes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SyncItem:
        return cls(
            kind=data["kind"],
            model_type=data["model_type"],
            model=data["model"],
            level=Level(data["level"]),
            summary=data["summary"],
            label=data.get("label", ""),
            template=data.get("template", ""),
            changes=tuple(
                FieldChange(c["field"], c.get("old"), c.get("new"))
                for c in data.get("changes", [])
            ),
        )
