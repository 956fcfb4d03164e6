"""Checks of parameter rules and pricing in a model YAML (format doc §4.3-4.4)."""

from __future__ import annotations

from typing import Any, TypeGuard

from ..yamlio import LoadedYaml
from .context import Context
from .schema import describe, parse_decimal

PARAMETER_TYPES = {"float", "int", "string", "boolean", "text"}
# name -> (type, default, min, max)
TEMPLATES: dict[str, tuple[str, Any, Any, Any]] = {
    "temperature": ("float", 0.0, 0.0, 1.0),
    "top_p": ("float", 1.0, 0.0, 1.0),
    "top_k": ("int", 50, 1, 100),
    "presence_penalty": ("float", 0.0, 0.0, 1.0),
    "frequency_penalty": ("float", 0.0, 0.0, 1.0),
    "max_tokens": ("int", 64, 1, 2048),
    "response_format": ("string", None, None, None),
    "json_schema": ("text", None, None, None),
}


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_parameter_rules(
    ctx: Context, path: str, loaded: LoadedYaml, rules: list[Any]
) -> None:
    """Check the parameter rules of one model YAML."""
    if len(rules) > 128:
        ctx.add(
            "model.parameter.too-many",
            path,
            loaded.line_of("parameter_rules"),
            f"The model has {len(rules)} parameter rules; the limit is 128.",
            value=len(rules),
        )
    names: set[Any] = set()
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        at = ("parameter_rules", i)

        def add(
            code: str,
            key: tuple[Any, ...],
            message: str,
            at: tuple[Any, ...] = at,
            **kw: Any,
        ) -> None:
            ctx.add(code, path, loaded.line_of(*at, *key), message, **kw)

        name = rule.get("name")
        scalar = isinstance(name, (str, int, float, bool))
        label = name if scalar else f"rule {i + 1}"
        if name is None:
            add("model.parameter.name-missing", (), f"Parameter {label} has no name.")
        elif isinstance(name, (str, int, float, bool)):
            if name in names:
                add(
                    "model.parameter.name-duplicate",
                    ("name",),
                    f"Parameter `{name}` is defined twice.",
                    value=name,
                )
            names.add(name)
        merged: dict[str, Any] = {}
        template = rule.get("use_template")
        unknown_template = False
        if template not in (None, "") and not isinstance(template, (dict, list)):
            if str(template) in TEMPLATES:
                template_type, default, low, high = TEMPLATES[str(template)]
                merged = {
                    "type": template_type,
                    "default": default,
                    "min": low,
                    "max": high,
                }
            else:
                unknown_template = True
                add(
                    "model.parameter.template-unknown",
                    ("use_template",),
                    f"Parameter `{label}` uses the template {str(template)!r}, "
                    "which does not exist; the daemon refuses the package.",
                    value=template,
                )
        merged.update({k: v for k, v in rule.items() if v is not None})
        kind = merged.get("type")
        if kind is None:
            if not unknown_template:
                add(
                    "model.parameter.type-missing",
                    (),
                    f"Parameter `{label}` has neither use_template nor type.",
                )
            continue
        if isinstance(kind, (dict, list)):
            continue  # model.field-type says it
        if kind not in PARAMETER_TYPES:
            add(
                "model.parameter.type-invalid",
                ("type",),
                f"Parameter `{label}` has type {describe(kind)}; use float, int, "
                "string, boolean or text.",
                value=kind,
            )
            continue
        _check_rule_values(add, label, kind, merged, rule)


def _check_rule_values(
    add: Any, label: Any, kind: str, merged: dict[str, Any], rule: dict[str, Any]
) -> None:
    default, low, high = merged.get("default"), merged.get("min"), merged.get("max")
    if default is not None and "default" in rule:
        good = {
            "float": _is_number(default),
            "int": _is_number(default) and float(default).is_integer(),
            "boolean": isinstance(default, bool),
            "string": isinstance(default, str),
            "text": isinstance(default, str),
        }[kind]
        if not good:
            add(
                "model.parameter.default-type",
                ("default",),
                f"Parameter `{label}` is {kind} but defaults to {describe(default)}.",
                value=default,
            )
    if _is_number(low) and _is_number(high) and low > high:
        add(
            "model.parameter.range",
            ("min",),
            f"Parameter `{label}` has min {low} above max {high}.",
            value=[low, high],
        )
    elif (
        _is_number(default)
        and kind in ("int", "float")
        and (
            (_is_number(low) and default < low) or (_is_number(high) and default > high)
        )
    ):
        add(
            "model.parameter.range",
            ("default",),
            f"Parameter `{label}` defaults to {default}, outside {low}..{high}.",
            value=default,
        )
    options = rule.get("options")
    if isinstance(options, list) and options:
        if kind != "string":
            add(
                "model.parameter.options-type",
                ("options",),
                f"Parameter `{label}` is {kind}; its options are only enforced for "
                "string parameters.",
                value=options,
            )
        elif isinstance(default, str) and "default" in rule and default not in options:
            add(
                "model.parameter.default-not-in-options",
                ("default",),
                f"Parameter `{label}` defaults to {default!r}, which is not one of "
                "its options.",
                value=default,
            )


def check_pricing(
    ctx: Context, path: str, loaded: LoadedYaml, pricing: dict[str, Any]
) -> None:
    """Check the pricing block of one model YAML."""
    missing = [k for k in ("input", "unit", "currency") if pricing.get(k) is None]
    if missing:
        ctx.add(
            "model.pricing.missing-field",
            path,
            loaded.line_of("pricing"),
            f"pricing lacks {', '.join(missing)}; the SDK requires input, unit and "
            "currency.",
            value=missing,
        )
    for key in ("input", "output", "unit"):
        value = pricing.get(key)
        if value is None or isinstance(value, (dict, list)):
            continue
        number = parse_decimal(value)
        at = loaded.line_of("pricing", key)
        if number is None:
            ctx.add(
                "model.pricing.invalid-decimal",
                path,
                at,
                f"pricing.{key} is {describe(value)}, not a decimal number.",
                value=value,
            )
        elif number < 0:
            ctx.add(
                "model.pricing.negative",
                path,
                at,
                f"pricing.{key} is negative ({value}).",
                value=value,
            )
        elif key == "unit" and number == 0:
            ctx.add(
                "model.pricing.unit-zero",
                path,
                at,
                f"pricing.unit is {value!r}, so every computed price is zero.",
                value=value,
            )
    currency = pricing.get("currency")
    if isinstance(currency, str) and not (
        len(currency) == 3 and currency.isascii() and currency.isupper()
    ):
        ctx.add(
            "model.pricing.currency",
            path,
            loaded.line_of("pricing", "currency"),
            f"pricing.currency {currency!r} is not a three-letter code like USD.",
            value=currency,
        )
