"""The YAML of a new plugin: manifest and provider, with the CLI's defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from studio.pluginfmt.document.specs import type_key
from studio.pluginfmt.scaffold.new_plugin import OPENAI_COMPATIBLE, NewPlugin, i18n
from studio.pluginfmt.scaffold.python import model_source_path

MEMORY = 268435456
BASE_DIFY = "1.4.0"
DARK_ICON_DIFY = "1.6.0"


def _field(
    variable: str,
    label: str,
    kind: str,
    *,
    required: bool,
    placeholder: str | None = None,
    default: str | None = None,
    show_on: list[dict[str, str]] | None = None,
    options: list[tuple[str, str]] | None = None,
) -> dict[str, object]:
    data: dict[str, object] = {
        "variable": variable,
        "label": {"en_US": label},
        "type": kind,
        "required": required,
    }
    if default is not None:
        data["default"] = default
    if options:
        data["options"] = [
            {"value": value, "label": {"en_US": text}} for value, text in options
        ]
    if placeholder:
        data["placeholder"] = {"en_US": placeholder}
    if show_on:
        data["show_on"] = show_on
    return data


def openai_compatible_provider_fields() -> list[dict[str, object]]:
    """Provider credentials of a generated OpenAI-compatible plugin."""
    return [
        _field(
            "api_key",
            "API Key",
            "secret-input",
            required=True,
            placeholder="Enter your API key",
        ),
        _field(
            "endpoint_url",
            "API endpoint URL",
            "text-input",
            required=True,
            placeholder="https://api.example.com/v1",
        ),
    ]


def openai_compatible_model_fields(model_types: list[str]) -> list[dict[str, object]]:
    """Model credentials of a generated OpenAI-compatible customizable model."""
    fields = openai_compatible_provider_fields()
    fields.append(
        _field(
            "endpoint_model_name",
            "Model name at the endpoint",
            "text-input",
            required=False,
            placeholder="Defaults to the model name above",
        )
    )
    if "llm" in model_types:
        llm_only = [{"variable": "__model_type", "value": "llm"}]
        fields += [
            _field(
                "mode",
                "Completion mode",
                "select",
                required=True,
                default="chat",
                show_on=llm_only,
                options=[("chat", "Chat"), ("completion", "Completion")],
            ),
            # The SDK's OAICompat model reads it to declare and send tool calls.
            _field(
                "function_calling_type",
                "Function calling",
                "select",
                required=False,
                default="tool_call",
                show_on=llm_only,
                options=[
                    ("no_call", "Not supported"),
                    ("function_call", "Function call"),
                    ("tool_call", "Tool call"),
                ],
            ),
            _field(
                "context_size",
                "Model context size",
                "text-input",
                required=True,
                default="4096",
                show_on=llm_only,
            ),
            _field(
                "max_tokens_to_sample",
                "Upper bound for max tokens",
                "text-input",
                required=True,
                default="4096",
                show_on=llm_only,
            ),
        ]
    if "text-embedding" in model_types or "rerank" in model_types:
        for kind in ("text-embedding", "rerank"):
            if kind in model_types:
                fields.append(
                    _field(
                        "context_size",
                        "Model context size",
                        "text-input",
                        required=True,
                        default="512",
                        show_on=[{"variable": "__model_type", "value": kind}],
                    )
                )
    return fields


def manifest_data(
    plugin: NewPlugin, *, icon: str, icon_dark: str | None
) -> dict[str, Any]:
    """manifest.yaml of a new plugin, with the CLI's defaults."""
    created = (plugin.created_at or datetime.now(UTC)).astimezone(UTC)
    data: dict[str, object] = {
        "version": plugin.version,
        "type": "plugin",
        "author": plugin.author,
        "name": plugin.name,
        "label": i18n(plugin.label),
        "description": i18n(plugin.description),
        "icon": icon,
    }
    if icon_dark:
        data["icon_dark"] = icon_dark
    data |= {
        "resource": {"memory": MEMORY, "permission": {}},
        "plugins": {"models": [f"provider/{plugin.name}.yaml"]},
        "meta": {
            "version": "0.0.1",
            "arch": ["amd64", "arm64"],
            "runner": {"language": "python", "version": "3.12", "entrypoint": "main"},
            "minimum_dify_version": minimum_dify_version(plugin),
        },
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    for key in ("privacy", "repo", "contact"):
        if getattr(plugin, key):
            data[key] = getattr(plugin, key)
    return data


def minimum_dify_version(plugin: NewPlugin) -> str:
    """The Dify a new plugin declares it needs: 1.4.0, or 1.6.0 with a dark icon.

    1.4.0 is what the corpus declares (gemini) and the first Dify whose
    plugins have LLM multimodal output; manifest `icon_dark` came with Dify
    1.6.0 (the SDK's README, format doc §2.1).
    """
    return DARK_ICON_DIFY if plugin.icon_dark else BASE_DIFY


def provider_data(plugin: NewPlugin, *, icon: str) -> dict[str, Any]:
    """The provider YAML of a new plugin."""
    oai = plugin.runtime == OPENAI_COMPATIBLE
    data: dict[str, object] = {
        "provider": plugin.name,
        "label": i18n(plugin.label),
        "description": i18n(plugin.description),
        "icon_small": {"en_US": icon},
        "icon_large": {"en_US": icon},
        "background": "#E5E7EB",
        "supported_model_types": list(plugin.model_types),
        "configurate_methods": list(plugin.configurate_methods),
    }
    if "predefined-model" in plugin.configurate_methods:
        fields = openai_compatible_provider_fields() if oai else []
        data["provider_credential_schema"] = {"credential_form_schemas": fields}
    if "customizable-model" in plugin.configurate_methods:
        data["model_credential_schema"] = {
            "model": {
                "label": {"en_US": "Model Name"},
                "placeholder": {"en_US": "Enter the model name"},
            },
            "credential_form_schemas": (
                openai_compatible_model_fields(plugin.model_types) if oai else []
            ),
        }
    if "predefined-model" in plugin.configurate_methods:
        data["models"] = {
            type_key(t): {"predefined": [f"models/{type_key(t)}/*.yaml"]}
            for t in plugin.model_types
        }
    data["extra"] = {
        "python": {
            "provider_source": f"provider/{plugin.name}.py",
            "model_sources": [model_source_path(t) for t in plugin.model_types],
        }
    }
    return data
