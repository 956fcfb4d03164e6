"""Comparing leaf values: equal as the runtime sees them, shown as text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

# A place in a version: ("model", "llm", "gpt-4o", "pricing", "input").
Anchor = tuple[str, ...]


class _Missing:
    """The value at an anchor that does not exist in a version."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def same(a: Any, b: Any) -> bool:
    """Equal as the runtime sees it: '0.50' and 0.5 are the same price."""
    if a is b:
        return True
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        return na == nb
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def as_number(value: Any) -> Decimal | None:
    """The value as a finite Decimal (numbers and numeric text), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            return None
        return number if number.is_finite() else None
    return None


def leaves(old: Any, new: Any, path: Anchor = ()) -> Iterator[tuple[Anchor, Any, Any]]:
    """(path, old, new) of every differing leaf; dicts are walked, lists are leaves."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            yield from leaves(
                old.get(key, MISSING), new.get(key, MISSING), (*path, str(key))
            )
        return
    if old is MISSING and isinstance(new, dict) and new:
        for key in new:
            yield from leaves(MISSING, new[key], (*path, str(key)))
        return
    if new is MISSING and isinstance(old, dict) and old:
        for key in old:
            yield from leaves(old[key], MISSING, (*path, str(key)))
        return
    if old is MISSING and new is MISSING:
        return
    if not same(old, new):
        yield path, old, new


def _show(value: Any) -> str:
    if value is MISSING:
        return "(none)"
    if isinstance(value, dict) and "en_US" in value:
        value = value.get("en_US")  # a label: the English text says enough
    text = json.dumps(jsonable(value), ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "…"


def move_text(old: Any, new: Any) -> str:
    """How a value moved, as words: `set to 5`, `removed (was 5)`, `4 → 5`."""
    if old is MISSING:
        return f"set to {_show(new)}"
    if new is MISSING:
        return f"removed (was {_show(old)})"
    return f"{_show(old)} → {_show(new)}"


def jsonable(value: Any) -> Any:
    """The value as JSON-ready data (MISSING is None, anything else odd is text)."""
    if value is MISSING:
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def change_kind(old: Any, new: Any) -> str:
    """added, removed or changed, by which side is MISSING."""
    if old is MISSING:
        return "added"
    if new is MISSING:
        return "removed"
    return "changed"


def blank(value: Any) -> bool:
    """No value at all: None, MISSING or the empty string."""
    return value is None or value is MISSING or value == ""
