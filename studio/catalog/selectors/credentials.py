"""Reads of the credential forms: the two schemas as last saved, and the live
preview of a dialog as Dify shows it to the end user."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.catalog.models import Provider
from studio.pluginfmt.document.edits import CHOICE_TYPES, i18n_text, show_on_pairs, text

from ..services.credentials import (
    CUSTOMIZABLE,
    MODEL,
    MODEL_TYPE_VARIABLE,
    PROVIDER,
    SCHEMA_KEYS,
)

# The names the preview's inputs post under.
INPUT_PREFIX = "cred-"
MODEL_NAME_INPUT = "model-name"

# ------------------------------------------------------------------ the schemas


def schema_available(provider: Provider, schema: str) -> bool:
    """Whether the provider has this schema to edit (model: customizable only)."""
    if schema == PROVIDER:
        return True
    return schema == MODEL and CUSTOMIZABLE in provider.configurate_methods


def schema_block(provider: Provider, schema: str) -> dict[str, Any] | None:
    """The schema's YAML data as last saved, or None when there is none."""
    block = provider.declaration.get(SCHEMA_KEYS[schema])
    return block if isinstance(block, dict) else None


def schema_fields(provider: Provider, schema: str) -> list[Any]:
    """The raw items of the schema's credential_form_schemas, in order."""
    block = schema_block(provider, schema)
    fields = block.get("credential_form_schemas") if block else None
    return list(fields) if isinstance(fields, list) else []


def model_name_field(provider: Provider) -> dict[str, Any]:
    """The model-name field of the add-model dialog (`model: {label, placeholder}`)."""
    block = schema_block(provider, MODEL)
    model = block.get("model") if block else None
    return model if isinstance(model, dict) else {}


# ------------------------------------------------------------------ preview


@dataclass(frozen=True)
class PreviewOption:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class PreviewField:
    """One control of the form as Dify shows it to the end user."""

    index: int
    variable: str
    type: str
    label: str
    placeholder: str
    required: bool
    value: str
    options: list[PreviewOption]
    name: str
    id: str


@dataclass(frozen=True)
class Preview:
    """A credential dialog with the values chosen so far; hidden fields left out."""

    schema: str
    fields: list[PreviewField]
    hidden: int
    model_types: list[str] = field(default_factory=list)
    model_type: str = ""
    model_label: str = ""
    model_placeholder: str = ""
    model_name: str = ""


def _visible(show_on: Any, values: Mapping[str, str]) -> bool:
    return all(values.get(var, "") == value for var, value in show_on_pairs(show_on))


def _posted(posted: Mapping[str, Any] | None, name: str) -> list[str] | None:
    if posted is None or name not in posted:
        return None
    getlist = getattr(posted, "getlist", None)
    found = getlist(name) if getlist else posted[name]
    items = found if isinstance(found, list) else [found]
    return [str(v)[:4096] for v in items]


def credential_preview(
    provider: Provider,
    schema: str,
    posted: Mapping[str, Any] | None = None,
) -> Preview:
    """The schema's dialog for the values in `posted` (defaults where none):
    `show_on` of fields and options evaluated as Dify does (all conditions)."""
    raw = [f for f in schema_fields(provider, schema) if isinstance(f, dict)]
    values: dict[str, str] = {}
    for f in raw:  # defaults first: a field shows its default until changed
        var = text(f.get("variable"))
        if var not in values and f.get("default") is not None:
            values[var] = text(f.get("default"))
    chosen: dict[str, str] = {}
    for f in raw:
        var = text(f.get("variable"))
        got = _posted(posted, INPUT_PREFIX + var)
        if got is None or var in chosen:
            continue
        if f.get("type") == "switch":
            chosen[var] = "true" if "true" in got else "false"
        else:
            chosen[var] = got[0]
    values.update(chosen)
    model_types = list(provider.model_types)
    model_type = ""
    if schema == MODEL:
        picked = _posted(posted, MODEL_TYPE_VARIABLE)
        model_type = picked[0] if picked and picked[0] in model_types else ""
        model_type = model_type or (model_types[0] if model_types else "")
        values[MODEL_TYPE_VARIABLE] = model_type

    fields: list[PreviewField] = []
    hidden = 0
    for index, f in enumerate(schema_fields(provider, schema)):
        if not isinstance(f, dict):
            continue
        if not _visible(f.get("show_on"), values):
            hidden += 1
            continue
        var = text(f.get("variable"))
        kind = text(f.get("type")) or "text-input"
        value = chosen.get(var, text(f.get("default")))
        options = []
        raw_options = f.get("options")
        for option in raw_options if isinstance(raw_options, list) else []:
            if not isinstance(option, dict) or not _visible(
                option.get("show_on"), values
            ):
                continue
            option_value = text(option.get("value"))
            options.append(
                PreviewOption(
                    value=option_value,
                    label=i18n_text(option.get("label")) or option_value,
                    selected=option_value == value,
                )
            )
        if kind in CHOICE_TYPES and not any(o.selected for o in options):
            value = ""
        if kind == "switch":
            value = "true" if value == "true" else "false"
        fields.append(
            PreviewField(
                index=index,
                variable=var,
                type=kind,
                label=i18n_text(f.get("label")) or var,
                placeholder=i18n_text(f.get("placeholder")),
                required=f.get("required") is True,
                value=value,
                options=options,
                name=INPUT_PREFIX + var,
                id=f"pv-{schema}-{index}",
            )
        )
    preview = Preview(schema=schema, fields=fields, hidden=hidden)
    if schema != MODEL:
        return preview
    model = model_name_field(provider)
    name = _posted(posted, MODEL_NAME_INPUT)
    return Preview(
        schema=schema,
        fields=fields,
        hidden=hidden,
        model_types=model_types,
        model_type=model_type,
        model_label=i18n_text(model.get("label")) or "Model Name",
        model_placeholder=i18n_text(model.get("placeholder")),
        model_name=name[0] if name else "",
    )
