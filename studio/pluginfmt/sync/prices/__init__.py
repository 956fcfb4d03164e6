"""Price and limit tables in the LiteLLM format, mapped to a plugin's models.

LiteLLM's `model_prices_and_context_window.json` is one JSON object: a key per
model (`gpt-4o`, `anthropic/claude-3-5-sonnet-20241022`…) whose value gives
`input_cost_per_token` and `output_cost_per_token` in USD, `max_input_tokens`,
`max_output_tokens`, the legacy `max_tokens`, `litellm_provider`, `mode`
(`chat`, `completion`, `embedding`…) and `supports_*` flags. The entry
`sample_spec` documents the format and is ignored.

- `parse_table(content)` reads it without floats (every number a Decimal, so
  2.5e-06 stays exactly that); an entry with a field of the wrong type is
  skipped with its reason, the rest of the table is used.
- `fetch_table(url, allow=…)` reads it over http(s) through the egress guard.
- `price_items(doc, table, mapping)` proposes one `update_model` item per
  declared llm or text-embedding model the table changes (prices in the
  model's unit, context size, the max_tokens rule's max, features), and lists
  the table ids of the provider no model matched and the models no entry
  priced.
- `apply_update(data, item)` applies an `update_model` item to one model
  YAML's data, in the file's own style.

Modules: `table` (parse, fetch), `propose` (items), `update` (apply).
See docs/sync-prices.md for the mapping rules.
"""

from __future__ import annotations

from studio.pluginfmt.sync.prices.propose import (
    FEATURE_FLAGS,
    PRICED_TYPES,
    PROVIDER_ALIASES,
    PriceProposal,
    price_items,
)
from studio.pluginfmt.sync.prices.table import (
    DEFAULT_UNIT,
    MAX_TABLE_BYTES,
    TABLE_CURRENCY,
    PriceEntry,
    PriceTable,
    PriceTableError,
    SkippedEntry,
    decimal_text,
    fetch_table,
    parse_table,
)
from studio.pluginfmt.sync.prices.update import StaleChange, apply_update, update_entry

__all__ = [
    "DEFAULT_UNIT",
    "FEATURE_FLAGS",
    "MAX_TABLE_BYTES",
    "PRICED_TYPES",
    "PROVIDER_ALIASES",
    "TABLE_CURRENCY",
    "PriceEntry",
    "PriceProposal",
    "PriceTable",
    "PriceTableError",
    "SkippedEntry",
    "StaleChange",
    "apply_update",
    "decimal_text",
    "fetch_table",
    "parse_table",
    "price_items",
    "update_entry",
]
