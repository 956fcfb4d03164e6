"""The credential forms of a provider: its two schemas, edited field by field.

`provider_credential_schema` is the form of the provider's "setup" dialog;
`model_credential_schema` (customizable-model providers) the one of the "add
model" dialog, with its model-name field and the `__model_type` picker. A
field is addressed by its position: with the lock_version check, positions
cannot shift under an edit. Editing a field rewrites only the keys the builder
manages; keys it does not know (`help`, `max_length`, `url`, anything an
imported plugin carries) and languages other than the four Dify ones stay
(`pluginfmt.document.edits.field_data`). Reads of the schemas and the live
preview are in `selectors.credentials`.
"""

from __future__ import annotations

from collections.abc import Mapping

from studio.catalog.models import Provider
from studio.pluginfmt.document import (
    CredentialFormField,
    CredentialSchema,
    I18n,
    ModelCredentialSchema,
    ModelNameField,
    PluginDocument,
)
from studio.pluginfmt.document.edits import (
    FieldValues,
    duplicate_of,
    field_data,
    merge_i18n,
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
MAX_FIELDS = 32  # the daemon's limit on the remote-debug path


class NoSuchField(Exception):
    """There is no credential field at this position (any more)."""


class DuplicateField(Exception):
    """Another field of the schema has the same variable and show_on conditions."""

    def __init__(self, index: int) -> None:
        super().__init__(f"duplicate of field {index + 1}")
        self.index = index


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
