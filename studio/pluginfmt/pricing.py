"""How a model's price unit reads, the same in forms and in the diff.

A model's `pricing.unit` is the token multiplier Dify applies: the cost of a
call is tokens * unit * price, so unit 0.000001 makes the price one for a
million tokens. Nobody should have to read "per 0.000001 tokens".
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# The units the studio's forms offer, most common first.
PRICE_UNITS = ("0.000001", "0.001", "1")

_SIZES = ((10**9, "B"), (10**6, "M"), (10**3, "K"))


def price_unit_text(unit: object) -> str:
    """The price unit as words: 0.000001 → `per 1M tokens`, 0.001 → `per 1K
    tokens`, 1 → `per token`, 0.00001 → `per 100K tokens`; a unit that is not
    one over a whole number of tokens reads `unit 0.000003`, a missing one ""."""
    if unit is None or isinstance(unit, bool):
        return ""
    text = str(unit).strip()
    if not text:
        return ""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return f"unit {text}"
    if not number.is_finite() or number <= 0:
        return f"unit {text}"
    tokens = 1 / number
    if tokens != tokens.to_integral_value():
        return f"unit {text}"
    count = int(tokens)
    if count == 1:
        return "per token"
    for size, suffix in _SIZES:
        if count % size == 0:
            return f"per {count // size:,}{suffix} tokens"
    return f"per {count:,} tokens"


def price_basis_text(pricing: object) -> str:
    """What a `pricing` block's prices are for: `USD per 1M tokens` ("" if
    it says neither currency nor unit)."""
    if not isinstance(pricing, dict):
        return ""
    currency = str(pricing.get("currency") or "").strip()
    return " ".join(p for p in (currency, price_unit_text(pricing.get("unit"))) if p)
