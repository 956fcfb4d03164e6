"""Changes of the provider and model credential forms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .changes import Change
from .levels import Level
from .values import MISSING, Anchor, blank, change_kind, leaves, move_text, same
from .views import PluginView

_CREDENTIAL_COSMETIC = {"label", "placeholder", "help", "url"}


def credential_changes(
    old: PluginView, new: PluginView, *, initial: bool = False
) -> Iterator[Change]:
    """Changes of the credential fields: renames, removals, additions, order."""
    for schema in ("provider", "model"):
        a = old.data["credential"][schema]
        b = new.data["credential"][schema]
        order_a = old.credential_order[schema]
        order_b = new.credential_order[schema]
        removed = [v for v in order_a if v not in b]
        added = [v for v in order_b if v not in a]
        renames = _pair_renames(removed, added, a, b, order_a, order_b)
        for was, now in renames.items():
            subject: Anchor = ("credential", schema, was)
            yield Change(
                "credentials",
                subject,
                (*subject, "variable"),
                "renamed",
                Level.BREAKING,
                f"{schema} credential variable {was} renamed to {now}: values saved "
                f"under {was} are no longer passed to the plugin",
                was,
                now,
            )
            yield from _credential_field_changes(
                schema, ("credential", schema, now), a[was], b[now]
            )
        for name in removed:
            if name in renames:
                continue
            subject = ("credential", schema, name)
            yield Change(
                "credentials",
                subject,
                subject,
                "removed",
                Level.BREAKING,
                f"{schema} credential field {name} removed: saved values are "
                "dropped and the plugin no longer receives them",
                a[name],
                MISSING,
            )
        renamed_to = set(renames.values())
        for name in added:
            if name in renamed_to:
                continue
            subject = ("credential", schema, name)
            field_data = b[name]
            # Without an older version there are no saved credentials to break.
            blocking = (
                not initial
                and field_data.get("required") is True
                and blank(field_data.get("default"))
            )
            yield Change(
                "credentials",
                subject,
                subject,
                "added",
                Level.BREAKING if blocking else Level.NOTABLE,
                f"{schema} credential field {name} added"
                + (
                    " as required without a default: existing credentials fail "
                    "validation until it is filled in"
                    if blocking
                    else ""
                ),
                MISSING,
                field_data,
            )
        for name in order_b:
            if name in a:
                yield from _credential_field_changes(
                    schema, ("credential", schema, name), a[name], b[name]
                )
        common_a = [v for v in order_a if v in b]
        common_b = [v for v in order_b if v in a]
        if common_a != common_b:
            subject = ("credential", schema)
            yield Change(
                "credentials",
                subject,
                subject,
                "reordered",
                Level.COSMETIC,
                f"order of the {schema} credential fields changed",
                common_a,
                common_b,
            )
    subject = ("credential_model_name",)
    for path, x, y in leaves(
        old.data["credential_model_name"], new.data["credential_model_name"]
    ):
        yield Change(
            "credentials",
            subject,
            (*subject, *path),
            change_kind(x, y),
            Level.COSMETIC,
            f"model name field {'.'.join(path)} {move_text(x, y)}",
            x,
            y,
        )


def _pair_renames(
    removed: list[str],
    added: list[str],
    a: dict[str, Any],
    b: dict[str, Any],
    order_a: list[str],
    order_b: list[str],
) -> dict[str, str]:
    """Removed variables that were renamed: same type at the same place, or
    otherwise identical fields."""
    pairs: dict[str, str] = {}
    taken: set[str] = set()

    def rest(data: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in data.items() if k != "variable"}

    for was in removed:
        for now in added:
            if now not in taken and same(rest(a[was]), rest(b[now])):
                pairs[was] = now
                taken.add(now)
                break
    for was in removed:
        if was in pairs:
            continue
        for now in added:
            if (
                now not in taken
                and order_a.index(was) == order_b.index(now)
                and a[was].get("type") == b[now].get("type")
            ):
                pairs[was] = now
                taken.add(now)
                break
    return pairs


def _credential_field_changes(
    schema: str, subject: Anchor, old: dict[str, Any], new: dict[str, Any]
) -> Iterator[Change]:
    name = subject[2]
    what = f"{schema} credential {name}"
    for key in [*old, *(k for k in new if k not in old)]:
        if key == "variable":
            continue
        x, y = old.get(key, MISSING), new.get(key, MISSING)
        anchor = (*subject, key)
        if key == "required":
            was, now = x is True, y is True
            if was == now:
                continue
            yield Change(
                "credentials",
                subject,
                anchor,
                "changed",
                Level.BREAKING if now else Level.NOTABLE,
                f"{what} made {'required' if now else 'optional'}"
                + (": existing credentials without it fail validation" if now else ""),
                x,
                y,
            )
        elif key == "options":
            yield from option_changes("credentials", subject, anchor, x, y, what=what)
        elif key == "type":
            if not same(x, y):
                yield Change(
                    "credentials",
                    subject,
                    anchor,
                    change_kind(x, y),
                    Level.BREAKING,
                    f"{what} type {move_text(x, y)}: saved values may no longer fit",
                    x,
                    y,
                )
        else:
            level = Level.COSMETIC if key in _CREDENTIAL_COSMETIC else Level.NOTABLE
            for path, p, q in leaves(x, y, (key,)):
                yield Change(
                    "credentials",
                    subject,
                    (*subject, *path),
                    change_kind(p, q),
                    level,
                    f"{what} {'.'.join(path)} {move_text(p, q)}",
                    p,
                    q,
                )


def option_changes(
    section: str, subject: Anchor, anchor: Anchor, old: Any, new: Any, *, what: str
) -> Iterator[Change]:
    """Changes of a select's options, compared by value."""

    def by_value(options: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for option in options if isinstance(options, list) else []:
            if isinstance(option, dict):
                out[str(option.get("value"))] = option
            else:
                out[str(option)] = option
        return out

    xs, ys = by_value(old), by_value(new)
    for value in xs:
        if value not in ys:
            yield Change(
                section,
                subject,
                anchor,
                "removed",
                Level.BREAKING,
                f"{what} option {value!r} removed: settings saved with it are refused",
                value,
                MISSING,
            )
    for value in ys:
        if value not in xs:
            yield Change(
                section,
                subject,
                anchor,
                "added",
                Level.NOTABLE,
                f"{what} option {value!r} added",
                MISSING,
                value,
            )
    for value in ys:
        if value in xs and isinstance(xs[value], dict) and isinstance(ys[value], dict):
            for path, p, q in leaves(xs[value], ys[value]):
                level = Level.COSMETIC if path[0] == "label" else Level.NOTABLE
                yield Change(
                    section,
                    subject,
                    anchor,
                    change_kind(p, q),
                    level,
                    f"{what} option {value!r} {'.'.join(path)} {move_text(p, q)}",
                    p,
                    q,
                )
    common_x = [v for v in xs if v in ys]
    common_y = [v for v in ys if v in xs]
    if common_x != common_y:
        yield Change(
            section,
            subject,
            anchor,
            "reordered",
            Level.COSMETIC,
            f"order of the {what} options changed",
            common_x,
            common_y,
        )
