"""Pydantic models of manifest.yaml, the provider YAML and model YAMLs.

They are deliberately lenient: every field is optional (an omitted key stays
omitted, e.g. a credential field's `required`, which Go and the SDK default
differently), enumerations are plain strings (unknown features or types are
kept for the verifier to judge), numbers keep their YAML type, and unknown
keys are kept at every level (`extra="allow"`). Whether a plugin is valid is
the verifier's business, on the raw YAML; these models only need to load
whatever real plugins contain and let the studio edit it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

# A YAML scalar as the loader produces it; unions keep the exact type (smart
# mode prefers an exact match), so nothing is coerced on the way in.
Scalar = str | bool | int | float | None
Number = int | float | str
# Plugin and runner versions are text, but an unquoted `3.12` is a float.
VersionText = str | int | float

# The types the SDK registers, hyphenated as in model YAMLs and
# supported_model_types, mapped to the underscore keys of the provider's
# `models:` block.
MODEL_TYPE_KEYS: dict[str, str] = {
    "llm": "llm",
    "text-embedding": "text_embedding",
    "rerank": "rerank",
    "speech2text": "speech2text",
    "tts": "tts",
    "moderation": "moderation",
}
MODEL_TYPES: dict[str, str] = {key: t for t, key in MODEL_TYPE_KEYS.items()}

MODEL_FEATURES = (
    "tool-call",
    "multi-tool-call",
    "agent-thought",
    "vision",
    "stream-tool-call",
    "document",
    "video",
    "audio",
    "structured-output",
    "polling",
)
FORM_TYPES = ("text-input", "secret-input", "select", "radio", "switch")
CONFIGURATE_METHODS = ("predefined-model", "customizable-model")

# Built-in `use_template` rules (Go PARAMETER_RULE_TEMPLATE; the SDK agrees on
# the numbers and calls json_schema's type `text`).
PARAMETER_TEMPLATES: dict[str, dict[str, Any]] = {
    "temperature": {
        "type": "float",
        "default": 0.0,
        "min": 0,
        "max": 1,
        "precision": 2,
    },
    "top_p": {"type": "float", "default": 1.0, "min": 0, "max": 1, "precision": 2},
    "top_k": {"type": "int", "default": 50, "min": 1, "max": 100, "precision": 0},
    "presence_penalty": {
        "type": "float",
        "default": 0.0,
        "min": 0,
        "max": 1,
        "precision": 2,
    },
    "frequency_penalty": {
        "type": "float",
        "default": 0.0,
        "min": 0,
        "max": 1,
        "precision": 2,
    },
    "max_tokens": {"type": "int", "default": 64, "min": 1, "max": 2048, "precision": 0},
    "response_format": {"type": "string", "options": ["JSON", "XML"]},
    "json_schema": {"type": "text"},
}


def type_key(model_type: str) -> str:
    """The `models:` key of a model type: `text-embedding` -> `text_embedding`."""
    return MODEL_TYPE_KEYS.get(model_type, model_type.replace("-", "_"))


def model_type_of(key: str) -> str:
    """The model type of a `models:` key: `text_embedding` -> `text-embedding`."""
    return MODEL_TYPES.get(key, key.replace("_", "-"))


class Spec(BaseModel):
    """Base of every format model: unknown keys kept, assignments validated."""

    model_config = ConfigDict(
        extra="allow", protected_namespaces=(), validate_assignment=True
    )

    def to_data(self) -> dict[str, Any]:
        """The YAML data of this object: only keys that were given or set."""
        return self.model_dump(mode="python", exclude_unset=True)


class I18n(Spec):
    """Text per language; other languages (ko_KR, zh_Hant…) are kept as extras."""

    en_US: str | None = None
    zh_Hans: str | None = None
    ja_JP: str | None = None
    pt_BR: str | None = None


# ---------------------------------------------------------------- manifest


class Runner(Spec):
    language: str | None = None
    version: VersionText | None = None
    entrypoint: str | None = None


class Meta(Spec):
    version: VersionText | None = None
    arch: list[str] | None = None
    runner: Runner | None = None
    minimum_dify_version: VersionText | None = None


class ModelPermission(Spec):
    enabled: bool | None = None
    llm: bool | None = None
    text_embedding: bool | None = None
    rerank: bool | None = None
    tts: bool | None = None
    speech2text: bool | None = None
    moderation: bool | None = None


class EnabledPermission(Spec):
    enabled: bool | None = None


class StoragePermission(Spec):
    enabled: bool | None = None
    size: int | None = None


class Permission(Spec):
    tool: EnabledPermission | None = None
    model: ModelPermission | None = None
    node: EnabledPermission | None = None
    endpoint: EnabledPermission | None = None
    app: EnabledPermission | None = None
    storage: StoragePermission | None = None


class Resource(Spec):
    memory: int | None = None
    permission: Permission | None = None


class PluginLists(Spec):
    models: list[str] | None = None
    tools: list[str] | None = None
    endpoints: list[str] | None = None
    agent_strategies: list[str] | None = None
    datasources: list[str] | None = None
    triggers: list[str] | None = None


class Manifest(Spec):
    """manifest.yaml; `created_at` stays the original text (nine digits and all)."""

    version: VersionText | None = None
    type: str | None = None
    author: str | None = None
    name: str | None = None
    label: I18n | None = None
    description: I18n | None = None
    icon: str | None = None
    icon_dark: str | None = None
    resource: Resource | None = None
    plugins: PluginLists | None = None
    meta: Meta | None = None
    created_at: str | None = None
    privacy: str | None = None
    repo: str | None = None
    tags: list[str] | None = None
    verified: bool | None = None


# ---------------------------------------------------------------- provider


class ShowOn(Spec):
    """Show a field or option only when another field has this value."""

    variable: str | None = None
    value: Scalar = None


class FormOption(Spec):
    label: I18n | None = None
    value: Scalar = None
    show_on: list[ShowOn] | None = None


class CredentialFormField(Spec):
    """One credential form field (text-input, secret-input, select, radio, switch)."""

    variable: str | None = None
    label: I18n | None = None
    type: str | None = None
    required: bool | None = None
    default: Scalar = None
    options: list[FormOption] | None = None
    placeholder: I18n | None = None
    max_length: int | None = None
    show_on: list[ShowOn] | None = None
    help: I18n | None = None
    url: str | None = None


class CredentialSchema(Spec):
    credential_form_schemas: list[CredentialFormField] | None = None


class ModelNameField(Spec):
    label: I18n | None = None
    placeholder: I18n | None = None


class ModelCredentialSchema(CredentialSchema):
    model: ModelNameField | None = None


class ProviderHelp(Spec):
    title: I18n | None = None
    url: I18n | None = None


class ModelsBlock(Spec):
    """One `models.<type>` entry: globs of model YAMLs and the position file."""

    predefined: list[str] | None = None
    position: str | None = None


class PythonSources(Spec):
    provider_source: str | None = None
    model_sources: list[str] | None = None


class ProviderExtra(Spec):
    python: PythonSources | None = None


class ProviderSpec(Spec):
    """The provider YAML listed in manifest `plugins.models`."""

    provider: str | None = None
    label: I18n | None = None
    description: I18n | None = None
    icon_small: I18n | None = None
    icon_large: I18n | None = None
    icon_small_dark: I18n | None = None
    icon_large_dark: I18n | None = None
    background: str | None = None
    help: ProviderHelp | None = None
    supported_model_types: list[str] | None = None
    configurate_methods: list[str] | None = None
    provider_credential_schema: CredentialSchema | None = None
    model_credential_schema: ModelCredentialSchema | None = None
    position: dict[str, Any] | None = None
    models: dict[str, ModelsBlock | None] | None = None
    extra: ProviderExtra | None = None


# ------------------------------------------------------------------ models


class ModelProperties(Spec):
    mode: str | None = None
    context_size: Number | None = None
    max_chunks: Number | None = None
    file_upload_limit: Number | None = None
    supported_file_extensions: str | None = None
    max_characters_per_chunk: Number | None = None
    default_voice: str | None = None
    voices: list[Any] | None = None
    word_limit: Number | None = None
    audio_type: str | None = None
    max_workers: Number | None = None


class ParameterRule(Spec):
    """One parameter rule; `use_template` names one of PARAMETER_TEMPLATES."""

    name: str | None = None
    use_template: str | None = None
    label: I18n | None = None
    type: str | None = None
    help: I18n | None = None
    required: bool | None = None
    default: Any = None
    min: Number | None = None
    max: Number | None = None
    precision: Number | None = None
    options: list[Scalar] | None = None

    def effective(self) -> dict[str, Any]:
        """The rule as Dify sees it: its template's keys, overridden by its own."""
        base = dict(PARAMETER_TEMPLATES.get(self.use_template or "", {}))
        base.update(self.to_data())
        return base


class Pricing(Spec):
    """Prices as decimal strings (`'0.15'`); `unit` is tokens per price."""

    input: Number | None = None
    output: Number | None = None
    unit: Number | None = None
    currency: str | None = None


class ModelSpec(Spec):
    """A predefined model YAML."""

    model: str | None = None
    label: I18n | None = None
    model_type: str | None = None
    features: list[str] | None = None
    fetch_from: str | None = None
    model_properties: ModelProperties | None = None
    parameter_rules: list[ParameterRule] | None = None
    pricing: Pricing | None = None
    deprecated: bool | None = None
