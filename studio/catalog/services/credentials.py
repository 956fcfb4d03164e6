"""The credential forms of a provider: its two schemas, edited field by field.

`provider_credential_schema` is the form of the provider's "setup" dialog;
`model_credential_schema` (customizable-model providers) the one of the "add
model" dialog, with its model-name field and the `__model_type` picker. A
field is addressed by its position: with the lock_version check, positions
cannot shift under an edit. Editing a field rewrites only the keys the builder
manages; keys it does not know (`help`, `max_length`, `url`, anything an
imported plugin carries) and languages other than the four Dify ones stay.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.catalog.models import Provider
from studio.pluginfmt.document import (
    CredentialFormField,
    CredentialSchema,
    I18n,
    ModelCredentialSchema,
    ModelNameField,
    PluginDocument,
)

from . import SaveResult, provider_edit

PROVIDER = "provider"
MODEL = "model"
SCHEMA_KEYS = {
    PROVIDER: "provider_credential_schema",
    MODEL: "model_credential_schema",
}
MODEL_TYPE_VARIABLE = "__model_type"
CUSTOMIZABLE = "customizable-model"
LANGUAGES = ("en_US", "zh_Hans", "ja_JP", "pt_BR")
# Keys of a field the builder writes; every other key is carried over.
MANAGED_KEYS = (
    "variable",
    "label",
    "type",
    "required",
    "default",
    "options",
    "placeholder",
    "show_on",
)
CHOICE_TYPES = ("select", "radio")
MAX_FIELDS = 32  # the daemon's limit on the remote-debug path
INPUT_PREFIX = "cred-"
MODEL_NAME_INPUT = "model-name"


class NoSuchField(Exception):
    """There is no credential field at this position (any more)."""


class DuplicateField(Exception):
    """Another field of the schema has the same variable and show_on conditions."""

    def __init__(self, index: int) -> None:
        super().__init__(f"duplicate of field {index + 1}")
        self.index = index


@dataclass(frozen=True)
class Condition:
    variable: str
    value: str


@dataclass(frozen=True)
class OptionValues:
    """One option of a select/radio; `row` is the option it was loaded from."""

    value: str
    label: str
    show_on: tuple[Condition, ...] = ()
    row: int | None = None


@dataclass(frozen=True)
class FieldValues:
    """What the field form submits: the managed keys of one field."""

    variable: str
    type: str
    required: bool
    label: dict[str, str]
    placeholder: dict[str, str] = field(default_factory=dict)
    default: str = ""
    options: tuple[OptionValues, ...] = ()
    show_on: tuple[Condition, ...] = ()


# ------------------------------------------------------------------ reading


def text(value: Any) -> str:
    """A YAML scalar as the text Dify compares (`true`, not `True`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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


def i18n_text(value: Any, lang: str = "en_US") -> str:
    """One language of an I18n value, falling back to en_US, then to plain text."""
    if isinstance(value, dict):
        return text(value.get(lang) or value.get("en_US") or "")
    return text(value)


def show_on_pairs(show_on: Any) -> list[tuple[str, str]]:
    """The (variable, value) conditions of a show_on list, as text."""
    if not isinstance(show_on, list):
        return []
    return [
        (text(c.get("variable")), text(c.get("value")))
        for c in show_on
        if isinstance(c, dict)
    ]


def show_on_key(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Conditions compared as the verifier does: order does not matter."""
    return tuple(sorted(pairs))


def duplicate_of(
    fields: Sequence[Any],
    variable: str,
    show_on: Sequence[tuple[str, str]],
    *,
    skip: int | None = None,
) -> int | None:
    """Index of another field with this variable and the same show_on, if any."""
    key = show_on_key(show_on)
    for i, other in enumerate(fields):
        if i == skip or not isinstance(other, dict):
            continue
        if text(other.get("variable")) == variable and (
            show_on_key(show_on_pairs(other.get("show_on"))) == key
        ):
            return i
    return None


# ------------------------------------------------------------------ merging


def merge_i18n(
    old: Any, new: Mapping[str, str], languages: Sequence[str] = LANGUAGES
) -> dict[str, Any]:
    """`old` with the given languages replaced (a blank one removed), others kept."""
    out: dict[str, Any] = dict(old) if isinstance(old, dict) else {}
    for lang in languages:
        value = new.get(lang, "")
        if value:
            out[lang] = value
        else:
            out.pop(lang, None)
    return out


def _conditions(conditions: Sequence[Condition]) -> list[dict[str, str]]:
    return [{"variable": c.variable, "value": c.value} for c in conditions]


def field_data(existing: Any, values: FieldValues) -> dict[str, Any]:
    """The YAML data of a field: `existing` with the managed keys from `values`."""
    data: dict[str, Any] = copy.deepcopy(existing) if isinstance(existing, dict) else {}
    data["variable"] = values.variable
    data["label"] = merge_i18n(data.get("label"), values.label)
    data["type"] = values.type
    data["required"] = values.required
    if values.default:
        data["default"] = values.default
    else:
        data.pop("default", None)
    if values.type in CHOICE_TYPES:
        old_options = data.get("options")
        old_options = old_options if isinstance(old_options, list) else []
        options = []
        for option in values.options:
            old = (
                old_options[option.row]
                if option.row is not None and option.row < len(old_options)
                else None
            )
            item: dict[str, Any] = copy.deepcopy(old) if isinstance(old, dict) else {}
            item["value"] = option.value
            # Only en_US is edited per option; other languages stay.
            item["label"] = merge_i18n(
                item.get("label"), {"en_US": option.label}, ("en_US",)
            )
            if option.show_on:
                item["show_on"] = _conditions(option.show_on)
            else:
                item.pop("show_on", None)
            options.append(item)
        data["options"] = options
    else:
        data.pop("options", None)
    placeholder = merge_i18n(data.get("placeholder"), values.placeholder)
    if placeholder:
        data["placeholder"] = placeholder
    else:
        data.pop("placeholder", None)
    if values.show_on:
        data["show_on"] = _conditions(values.show_on)
    else:
        data.pop("show_on", None)
    return data


# ------------------------------------------------------------------ editing


def _block(
    doc: PluginDocument, schema: str, *, create: bool
) -> CredentialSchema | None:
    spec = doc.provider.spec
    block: CredentialSchema | None
    if schema == PROVIDER:
        block = spec.provider_credential_schema
        if block is None and create:
            spec.provider_credential_schema = CredentialSchema(
                credential_form_schemas=[]
            )
            block = spec.provider_credential_schema
    else:
        block = spec.model_credential_schema
        if block is None and create:
            spec.model_credential_schema = ModelCredentialSchema(
                model=ModelNameField(
                    label=I18n(en_US="Model Name"),
                    placeholder=I18n(en_US="Enter the model name"),
                ),
                credential_form_schemas=[],
            )
            block = spec.model_credential_schema
    if block is not None and block.credential_form_schemas is None and create:
        block.credential_form_schemas = []
    return block


def _fields(doc: PluginDocument, schema: str, *, create: bool = False) -> list:
    block = _block(doc, schema, create=create)
    if block is None or block.credential_form_schemas is None:
        return []
    return block.credential_form_schemas


def _check_duplicate(fields: list, values: FieldValues, skip: int | None) -> None:
    raw = [f.to_data() for f in fields]
    pairs = [(c.variable, c.value) for c in values.show_on]
    found = duplicate_of(raw, values.variable, pairs, skip=skip)
    if found is not None:
        raise DuplicateField(found)


def credential_field_add(
    *, provider: Provider, lock_version: int, schema: str, values: FieldValues
) -> SaveResult:
    """Append a field to a schema (creating the schema if the YAML has none)."""

    def change(doc: PluginDocument) -> None:
        fields = _fields(doc, schema, create=True)
        _check_duplicate(fields, values, None)
        fields.append(CredentialFormField.model_validate(field_data(None, values)))

    return provider_edit(provider=provider, lock_version=lock_version, change=change)


def credential_field_update(
    *,
    provider: Provider,
    lock_version: int,
    schema: str,
    index: int,
    values: FieldValues,
) -> SaveResult:
    """Rewrite the managed keys of the field at `index`, keeping all others."""

    def change(doc: PluginDocument) -> None:
        fields = _fields(doc, schema)
        if not 0 <= index < len(fields):
            raise NoSuchField(index)
        _check_duplicate(fields, values, index)
        merged = field_data(fields[index].to_data(), values)
        fields[index] = CredentialFormField.model_validate(merged)

    return provider_edit(provider=provider, lock_version=lock_version, change=change)


def credential_field_move(
    *, provider: Provider, lock_version: int, schema: str, index: int, offset: int
) -> SaveResult:
    """Move the field at `index` by `offset` places (clamped to the list)."""

    def change(doc: PluginDocument) -> None:
        fields = _fields(doc, schema)
        if not 0 <= index < len(fields):
            raise NoSuchField(index)
        target = max(0, min(len(fields) - 1, index + offset))
        if target != index:
            fields.insert(target, fields.pop(index))

    return provider_edit(provider=provider, lock_version=lock_version, change=change)


def credential_field_delete(
    *, provider: Provider, lock_version: int, schema: str, index: int
) -> SaveResult:
    """Remove the field at `index` from the schema."""

    def change(doc: PluginDocument) -> None:
        fields = _fields(doc, schema)
        if not 0 <= index < len(fields):
            raise NoSuchField(index)
        del fields[index]

    return provider_edit(provider=provider, lock_version=lock_version, change=change)


def credential_model_name_update(
    *,
    provider: Provider,
    lock_version: int,
    label: Mapping[str, str],
    placeholder: Mapping[str, str],
) -> SaveResult:
    """Set the label and placeholder of the add-model dialog's model-name field."""

    def change(doc: PluginDocument) -> None:
        block = _block(doc, MODEL, create=True)
        assert isinstance(block, ModelCredentialSchema)
        old = block.model.to_data() if block.model is not None else {}
        data = dict(old)
        data["label"] = merge_i18n(old.get("label"), label)
        merged = merge_i18n(old.get("placeholder"), placeholder)
        if merged:
            data["placeholder"] = merged
        else:
            data.pop("placeholder", None)
        if data != old:
            block.model = ModelNameField.model_validate(data)

    return provider_edit(provider=provider, lock_version=lock_version, change=change)


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
