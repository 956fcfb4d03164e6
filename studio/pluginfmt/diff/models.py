"""Changes of the models: ids, properties, features, parameter rules, order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..pricing import price_basis_text, price_unit_text
from .changes import Change
from .credentials import option_changes
from .levels import Level
from .provider import set_changes
from .values import (
    MISSING,
    Anchor,
    as_number,
    blank,
    change_kind,
    leaves,
    move_text,
    same,
)
from .views import PluginView

_MODEL_COSMETIC = {"label", "description", "icon"}


def model_changes(old: PluginView, new: PluginView) -> Iterator[Change]:
    """Changes of the models of each type, renames by file, and their order."""
    a_models: dict[str, dict[str, Any]] = old.data["model"]
    b_models: dict[str, dict[str, Any]] = new.data["model"]
    for model_type in [*a_models, *(t for t in b_models if t not in a_models)]:
        a = a_models.get(model_type, {})
        b = b_models.get(model_type, {})
        removed = [m for m in a if m not in b]
        added = [m for m in b if m not in a]
        # A model file that now declares another id: the same model renamed.
        renames: dict[str, str] = {}
        for was in removed:
            path = old.model_paths.get((model_type, was))
            for now in added:
                if now not in renames.values() and path == new.model_paths.get(
                    (model_type, now)
                ):
                    renames[was] = now
                    break
        for was, now in renames.items():
            subject: Anchor = ("model", model_type, was)
            yield Change(
                "models",
                subject,
                (*subject, "model"),
                "renamed",
                Level.BREAKING,
                f"{model_type} model id {was} changed to {now}: apps configured "
                f"with {was} lose their model",
                was,
                now,
            )
            yield from _one_model_changes(("model", model_type, now), a[was], b[now])
        for model_id in removed:
            if model_id in renames:
                continue
            subject = ("model", model_type, model_id)
            yield Change(
                "models",
                subject,
                subject,
                "removed",
                Level.BREAKING,
                f"{model_type} model {model_id} removed{_facts(a[model_id])}: apps "
                "that use it stop working (deprecate it first to hide it without "
                "breaking them)",
                _summary(a[model_id]),
                MISSING,
            )
        for model_id in added:
            if model_id in renames.values():
                continue
            subject = ("model", model_type, model_id)
            yield Change(
                "models",
                subject,
                subject,
                "added",
                Level.NOTABLE,
                f"{model_type} model {model_id} added{_facts(b[model_id])}",
                MISSING,
                _summary(b[model_id]),
            )
        for model_id in b:
            if model_id in a:
                yield from _one_model_changes(
                    ("model", model_type, model_id), a[model_id], b[model_id]
                )
        pa = [m for m in old.data["position"].get(model_type, []) if m in a and m in b]
        pb = [m for m in new.data["position"].get(model_type, []) if m in a and m in b]
        if pa != pb:
            subject = ("position", model_type)
            yield Change(
                "models",
                subject,
                subject,
                "reordered",
                Level.COSMETIC,
                f"display order of the {model_type} models changed",
                pa,
                pb,
            )


def _summary(model: dict[str, Any]) -> dict[str, Any]:
    """The facts of a model a reviewer checks first (for added/removed models)."""
    props = model.get("model_properties") or {}
    rules = model.get("parameter_rules") or {}
    max_tokens = rules.get("max_tokens") if isinstance(rules, dict) else None
    out: dict[str, Any] = {
        "label": (model.get("label") or {}).get("en_US")
        if isinstance(model.get("label"), dict)
        else None,
        "context_size": props.get("context_size") if isinstance(props, dict) else None,
        "max_tokens": max_tokens.get("max") if isinstance(max_tokens, dict) else None,
        "features": model.get("features") or [],
        "pricing": model.get("pricing"),
        "deprecated": model.get("deprecated") is True,
    }
    return {k: v for k, v in out.items() if v not in (None, [], False)}


def _facts(model: dict[str, Any]) -> str:
    """The summary of a model as words: ` (context 8192; max tokens 4096; …)`."""
    text = model_facts(_summary(model))
    return f" ({text})" if text else ""


def model_facts(summary: dict[str, Any]) -> str:
    """A model summary (the `old`/`new` of an added or removed model) as one
    line: `context 8192; max tokens 4096; price 0.5 in / 1.5 out USD per 1M
    tokens; features vision`."""
    parts = []
    if "context_size" in summary:
        parts.append(f"context {summary['context_size']}")
    if "max_tokens" in summary:
        parts.append(f"max tokens {summary['max_tokens']}")
    pricing = summary.get("pricing")
    if isinstance(pricing, dict):
        per = price_basis_text(pricing)
        parts.append(
            f"price {pricing.get('input', '?')} in / {pricing.get('output', '?')} out"
            + (f" {per}" if per else "")
        )
    if summary.get("features"):
        parts.append(f"features {', '.join(str(f) for f in summary['features'])}")
    if summary.get("deprecated"):
        parts.append("deprecated")
    return "; ".join(parts)


def _one_model_changes(
    subject: Anchor, old: dict[str, Any], new: dict[str, Any]
) -> Iterator[Change]:
    what = f"{subject[1]} model {subject[2]}"
    for key in [*old, *(k for k in new if k not in old)]:
        if key == "model":
            continue
        x, y = old.get(key, MISSING), new.get(key, MISSING)
        anchor = (*subject, key)
        if key == "deprecated":
            was, now = x is True, y is True
            if was != now:
                yield Change(
                    "models",
                    subject,
                    anchor,
                    "deprecated" if now else "changed",
                    Level.NOTABLE,
                    f"{what} deprecated: hidden from new configurations, existing "
                    "ones keep working"
                    if now
                    else f"{what} no longer deprecated",
                    x,
                    y,
                )
        elif key == "features":
            yield from set_changes(
                "models",
                subject,
                anchor,
                x,
                y,
                noun=f"{what} feature",
                removed=(Level.BREAKING, "apps that rely on it stop working"),
                added=Level.NOTABLE,
            )
        elif key == "parameter_rules":
            yield from _rule_changes(subject, x, y, what=what)
        elif key == "model_type":
            if not same(x, y):
                yield Change(
                    "models",
                    subject,
                    anchor,
                    change_kind(x, y),
                    Level.BREAKING,
                    f"{what} model_type {move_text(x, y)}",
                    x,
                    y,
                )
        else:
            pricing = y if isinstance(y, dict) else x
            for path, p, q in leaves(x, y, (key,)):
                yield _model_leaf(subject, path, p, q, what=what, pricing=pricing)


def _model_leaf(
    subject: Anchor,
    path: Anchor,
    x: Any,
    y: Any,
    *,
    what: str,
    pricing: Any = None,
) -> Change:
    anchor = (*subject, *path)
    dotted = ".".join(path)
    level = Level.NOTABLE
    note = ""
    if path[0] in _MODEL_COSMETIC:
        level = Level.COSMETIC
    elif path == ("model_properties", "mode"):
        level = Level.BREAKING
        note = ": apps built for the old mode stop working"
    elif path == ("model_properties", "context_size"):
        nx, ny = as_number(x), as_number(y)
        if nx is not None and ny is not None:
            note = " (shrunk)" if ny < nx else " (grown)"
    elif path[0] == "pricing":
        return Change(
            "models",
            subject,
            anchor,
            change_kind(x, y),
            Level.NOTABLE,
            f"{what} {_price_change(path, x, y, pricing)}",
            x,
            y,
        )
    return Change(
        "models",
        subject,
        anchor,
        change_kind(x, y),
        level,
        f"{what} {dotted} {move_text(x, y)}{note}",
        x,
        y,
    )


def _price_change(path: Anchor, x: Any, y: Any, pricing: Any) -> str:
    """`input price 0.5 → 0.75 (USD per 1M tokens)`, `price unit per 1M tokens
    → per 1K tokens`: units in words, as the forms word them."""
    name = path[-1] if len(path) == 2 else ".".join(path)
    if name == "unit":
        old = price_unit_text(x) if x is not MISSING else ""
        new = price_unit_text(y) if y is not MISSING else ""
        return f"price unit {old or '(none)'} → {new or '(none)'}"
    label = {
        "input": "input price",
        "output": "output price",
        "currency": "currency",
    }.get(name, name)
    text = f"{label} {move_text(x, y)}"
    per = price_basis_text(pricing)
    if name in ("input", "output") and per:
        text += f" ({per})"
    return text


def _rule_changes(
    subject: Anchor, old: Any, new: Any, *, what: str
) -> Iterator[Change]:
    a = old if isinstance(old, dict) else {}
    b = new if isinstance(new, dict) else {}
    for name in a:
        if name not in b:
            yield Change(
                "models",
                subject,
                (*subject, "parameter_rules", name),
                "removed",
                Level.BREAKING,
                f"{what} parameter {name} removed: values saved in apps are "
                "dropped before the call",
                a[name],
                MISSING,
            )
    for name in b:
        rule_anchor = (*subject, "parameter_rules", name)
        if name not in a:
            rule = b[name]
            blocking = rule.get("required") is True and blank(rule.get("default"))
            yield Change(
                "models",
                subject,
                rule_anchor,
                "added",
                Level.BREAKING if blocking else Level.NOTABLE,
                f"{what} parameter {name} added"
                + (" as required without a default" if blocking else ""),
                MISSING,
                rule,
            )
            continue
        yield from _one_rule_changes(subject, rule_anchor, a[name], b[name], what=what)
    order_a = [n for n in a if n in b]
    order_b = [n for n in b if n in a]
    if order_a != order_b:
        yield Change(
            "models",
            subject,
            (*subject, "parameter_rules"),
            "reordered",
            Level.COSMETIC,
            f"{what} order of parameters changed",
            order_a,
            order_b,
        )


def _one_rule_changes(
    subject: Anchor,
    anchor: Anchor,
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    what: str,
) -> Iterator[Change]:
    name = anchor[-1]
    label = f"{what} parameter {name}"
    for key in [*old, *(k for k in new if k not in old)]:
        if key == "name":
            continue
        x, y = old.get(key, MISSING), new.get(key, MISSING)
        at = (*anchor, key)
        if key == "options":
            yield from option_changes("models", subject, at, x, y, what=label)
            continue
        if key == "required":
            was, now = x is True, y is True
            if was != now:
                yield Change(
                    "models",
                    subject,
                    at,
                    "changed",
                    Level.BREAKING if now else Level.NOTABLE,
                    f"{label} made {'required' if now else 'optional'}",
                    x,
                    y,
                )
            continue
        for path, p, q in leaves(x, y, (key,)):
            level = Level.NOTABLE
            note = ""
            if key in ("label", "help"):
                level = Level.COSMETIC
            elif key == "type":
                level = Level.BREAKING
                note = ": saved values may no longer fit"
            elif key in ("min", "max"):
                np_, nq = as_number(p), as_number(q)
                narrowed = (
                    q is not MISSING
                    and nq is not None
                    and (
                        np_ is None
                        or (key == "min" and nq > np_)
                        or (key == "max" and nq < np_)
                    )
                )
                if narrowed:
                    level = Level.BREAKING
                    note = ": range narrowed, saved values outside it are refused"
            yield Change(
                "models",
                subject,
                (*anchor, *path),
                change_kind(p, q),
                level,
                f"{label} {'.'.join(path)} {move_text(p, q)}{note}",
                p,
                q,
            )
