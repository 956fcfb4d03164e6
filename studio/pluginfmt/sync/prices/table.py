"""LiteLLM price tables read and fetched: entries with exact decimal costs.

`parse_table(content)` reads `model_prices_and_context_window.json` without
floats (every number a Decimal, so 2.5e-06 stays exactly that); an entry with
a field of the wrong type is skipped with its reason and the rest of the table
is used. `fetch_table(url, allow=…)` reads one over http(s) through the egress
guard, at most MAX_TABLE_BYTES.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from studio.pluginfmt.egress import Resolver, system_resolver
from studio.pluginfmt.sync.fetch import FetchError, guarded_get, size_text

# The real table is 1-2 MB with about 2,000 entries.
MAX_TABLE_BYTES = 20 * 1024 * 1024
TABLE_CURRENCY = "USD"
DEFAULT_UNIT = "0.000001"  # per 1M tokens, the studio's default for new pricing
SAMPLE_SPEC = "sample_spec"

_COST_FIELDS = ("input_cost_per_token", "output_cost_per_token")
_TOKEN_FIELDS = ("max_tokens", "max_input_tokens", "max_output_tokens")
_TEXT_FIELDS = ("litellm_provider", "mode")


class PriceTableError(ValueError):
    """A table that cannot be used at all (or not fetched): the message says why."""


@dataclass(frozen=True)
class PriceEntry:
    """One model of the table; costs are USD per token, None when not given."""

    id: str
    provider: str = ""
    mode: str = ""
    input_cost: Decimal | None = None
    output_cost: Decimal | None = None
    max_tokens: int | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    flags: Mapping[str, bool] = field(default_factory=dict)

    @property
    def context_size(self) -> int | None:
        """`max_input_tokens`; else the legacy `max_tokens` when the entry gives
        no `max_output_tokens` (with one, `max_tokens` means the output)."""
        if self.max_input_tokens is not None:
            return self.max_input_tokens
        if self.max_output_tokens is None:
            return self.max_tokens
        return None


@dataclass(frozen=True)
class SkippedEntry:
    """A table entry left out, and why."""

    id: str
    reason: str


@dataclass
class PriceTable:
    """The usable entries by table id, and the entries skipped with their reason."""

    entries: dict[str, PriceEntry] = field(default_factory=dict)
    skipped: list[SkippedEntry] = field(default_factory=list)


# ---------------------------------------------------------------- parsing


def parse_table(content: bytes) -> PriceTable:
    """A LiteLLM price table from its bytes; PriceTableError if it is unusable."""
    if len(content) > MAX_TABLE_BYTES:
        raise PriceTableError(
            f"the table is {size_text(len(content))}; the studio reads tables of "
            f"at most {size_text(MAX_TABLE_BYTES)}"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PriceTableError(
            f"the table is not UTF-8 text (byte {error.start} cannot be read)"
        ) from None
    try:
        data = json.loads(
            text,
            parse_float=Decimal,
            parse_int=Decimal,
            parse_constant=Decimal,  # NaN and Infinity: refused per field below
        )
    except json.JSONDecodeError as error:
        raise PriceTableError(
            f"the table is not JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}"
        ) from None
    except RecursionError:
        raise PriceTableError("the table is nested too deeply to be JSON") from None
    if not isinstance(data, dict):
        found = "a list" if isinstance(data, list) else "a single value"
        raise PriceTableError(
            f"the table must be a JSON object with one key per model; this is {found}"
        )
    table = PriceTable()
    for key, value in data.items():
        if key == SAMPLE_SPEC:
            continue
        entry_id = key.strip()
        if not entry_id:
            table.skipped.append(SkippedEntry(key, "the model id is empty"))
            continue
        try:
            table.entries[entry_id] = _entry(entry_id, value)
        except ValueError as reason:
            table.skipped.append(SkippedEntry(entry_id, str(reason)))
    return table


def _entry(entry_id: str, value: Any) -> PriceEntry:
    if not isinstance(value, dict):
        raise ValueError(f"expected an object of fields, found {_kind(value)}")
    costs: dict[str, Decimal | None] = {}
    for name in _COST_FIELDS:
        number = _number(value, name)
        if number is not None and number < 0:
            raise ValueError(f"{name} is negative ({number})")
        if number is not None and number and not -30 <= number.adjusted() <= 6:
            # A price per token outside 1e-30..1e6 is a typo, and its
            # conversion would overflow or write a thousand-digit price.
            raise ValueError(f"{name} is out of any sensible range ({number:.3e})")
        costs[name] = number
    tokens: dict[str, int | None] = {}
    for name in _TOKEN_FIELDS:
        number = _number(value, name)
        if number is not None and number.adjusted() > 12:
            raise ValueError(f"{name} is too large ({number:.3e} tokens)")
        if number is not None and (number <= 0 or number != number.to_integral()):
            raise ValueError(f"{name} must be a positive whole number, not {number}")
        tokens[name] = None if number is None else int(number)
    texts: dict[str, str] = {}
    for name in _TEXT_FIELDS:
        raw = value.get(name)
        if raw is not None and not isinstance(raw, str):
            raise ValueError(f"{name} must be text, found {_kind(raw)}")
        texts[name] = (raw or "").strip()
    flags: dict[str, bool] = {}
    for name, raw in value.items():
        if not name.startswith("supports_") or raw is None:
            continue
        if not isinstance(raw, bool):
            raise ValueError(f"{name} must be true or false, found {_kind(raw)}")
        flags[name] = raw
    return PriceEntry(
        id=entry_id,
        provider=texts["litellm_provider"],
        mode=texts["mode"],
        input_cost=costs["input_cost_per_token"],
        output_cost=costs["output_cost_per_token"],
        max_tokens=tokens["max_tokens"],
        max_input_tokens=tokens["max_input_tokens"],
        max_output_tokens=tokens["max_output_tokens"],
        flags=flags,
    )


def _number(value: dict[str, Any], name: str) -> Decimal | None:
    raw = value.get(name)
    if raw is None:
        return None
    if not isinstance(raw, Decimal):
        raise ValueError(f"{name} must be a number, found {_kind(raw)}")
    if not raw.is_finite():
        raise ValueError(f"{name} is not a finite number ({raw})")
    return raw


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (a boolean)"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, Decimal):
        return f"the number {value}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "null"


# ---------------------------------------------------------------- fetching


def fetch_table(
    url: str,
    *,
    allow: Iterable[str] = (),
    resolver: Resolver = system_resolver,
    setting: str = "PLAYGROUND_EGRESS_ALLOW",
    timeout: float = 10.0,
    total_timeout: float = 60.0,
    max_bytes: int = MAX_TABLE_BYTES,
) -> bytes:
    """The bytes of a price table at `url` (http or https) through the egress
    guard; PriceTableError naming the reason (refused address, status, size,
    timeout). `allow` is the allow-list of internal hosts that may be reached
    (the playground's `PLAYGROUND_EGRESS_ALLOW` by default in callers)."""
    try:
        return guarded_get(
            url,
            allow=allow,
            headers={"Accept": "application/json"},
            max_bytes=min(max_bytes, MAX_TABLE_BYTES),
            timeout=timeout,
            total_timeout=total_timeout,
            resolver=resolver,
            setting=setting,
        )
    except FetchError as error:
        raise PriceTableError(f"could not fetch the table: {error}") from None


# ---------------------------------------------------------------- decimals


def decimal_text(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 2.5, 0.0025, 100, 0."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def as_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def shown(value: Any) -> str:
    """A declared value in a message: `(none)` when absent."""
    return "(none)" if value is None else str(value)
