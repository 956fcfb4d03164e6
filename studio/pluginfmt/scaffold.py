"""A new plugin's source tree: manifest, provider YAML, generated Python code.

The generated code follows the runtime gotchas of the format (§5): model
classes at `models/<type>/<type>.py` (three module levels), a provider module
defining exactly one `ModelProvider` subclass (the SDK base is imported as a
module, not by name), `_assets/` with the icons, `main.py` as the CLI writes it.
OpenAI-compatible model classes supply what the SDK's `OAICompat*` bases read
from credentials but a predefined model declares in its YAML (`mode`, tool
calling), and count tokens even when tiktoken cannot download its vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from studio.pluginfmt.document.specs import type_key
from studio.pluginfmt.document.yamltext import dump_yaml
from studio.pluginfmt.files import PluginFiles

OPENAI_COMPATIBLE = "openai-compatible"
CUSTOM = "custom"

SDK_REQUIREMENT = "dify_plugin>=0.10.0,<0.11.0"
MEMORY = 268435456
DEFAULT_ICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" '
    b'viewBox="0 0 64 64">'
    b'<rect width="64" height="64" rx="12" fill="#1d4ed8"/>'
    b'<path d="M20 44V20h10a12 12 0 0 1 0 24z" fill="#fff"/></svg>\n'
)

MAIN_PY = """\
from dify_plugin import DifyPluginEnv, Plugin

plugin = Plugin(DifyPluginEnv(MAX_REQUEST_TIMEOUT=120))

if __name__ == "__main__":
    plugin.run()
"""

DIFYIGNORE = """\
# Not packaged (the daemon reads only this file, or .gitignore when it is absent)
.env
.venv/
venv/
__pycache__/
*.py[cod]
.pytest_cache/
.ruff_cache/
.mypy_cache/
.idea/
.vscode/
.DS_Store
.git/
.gitignore
.github/
*.difypkg
"""

ENV_EXAMPLE = """\
INSTALL_METHOD=remote
REMOTE_INSTALL_URL=debug.dify.ai:5003
REMOTE_INSTALL_KEY=********-****-****-****-************
"""

# The SDK's OpenAI-compatible base class of each model type, by module.
OAI_BASES: dict[str, tuple[str, str]] = {
    "llm": ("llm", "OAICompatLargeLanguageModel"),
    "text-embedding": ("text_embedding", "OAICompatEmbeddingModel"),
    "rerank": ("rerank", "OAICompatRerankModel"),
    "speech2text": ("speech2text", "OAICompatSpeech2TextModel"),
    "tts": ("tts", "OAICompatText2SpeechModel"),
}
# The SDK's plain base class of each model type (custom skeleton).
SDK_BASES: dict[str, str] = {
    "llm": "LargeLanguageModel",
    "text-embedding": "TextEmbeddingModel",
    "rerank": "RerankModel",
    "speech2text": "Speech2TextModel",
    "tts": "TTSModel",
    "moderation": "ModerationModel",
}


@dataclass
class NewPlugin:
    """What an author says about a new plugin."""

    author: str
    name: str
    label: dict[str, str]
    description: dict[str, str]
    model_types: list[str]
    configurate_methods: list[str]
    runtime: str = OPENAI_COMPATIBLE
    version: str = "0.0.1"
    icon: tuple[str, bytes] | None = None
    icon_dark: tuple[str, bytes] | None = None
    created_at: datetime | None = None
    extra_files: dict[str, bytes] = field(default_factory=dict)


def camel(name: str) -> str:
    """`my-gateway_2` -> `MyGateway2`, for generated class names."""
    parts = [p for p in name.replace("-", "_").split("_") if p]
    text = "".join(p[:1].upper() + p[1:] for p in parts) or "Plugin"
    return text if text[0].isalpha() else f"P{text}"


def i18n(values: dict[str, str]) -> dict[str, str]:
    """Only the four Dify languages, en_US first, empty values dropped."""
    order = ("en_US", "zh_Hans", "ja_JP", "pt_BR")
    return {lang: values[lang] for lang in order if values.get(lang)}


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
        },
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "privacy": "PRIVACY.md",
    }
    return data


def model_source_path(model_type: str) -> str:
    """Where the generated model class of a type lives (three module levels)."""
    key = type_key(model_type)
    return f"models/{key}/{key}.py"


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


def provider_source(plugin: NewPlugin) -> str:
    """provider/<name>.py: exactly one ModelProvider subclass."""
    cls = f"{camel(plugin.name)}Provider"
    if plugin.runtime == OPENAI_COMPATIBLE:
        return f'''\
import requests

# The SDK's base is imported as a module: a second ModelProvider subclass
# visible in this module by name would make the SDK refuse to start.
from dify_plugin.errors.model import CredentialsValidateFailedError
from dify_plugin.interfaces.model.openai_compatible import provider as oai_provider


class {cls}(oai_provider.OAICompatProvider):
    def validate_provider_credentials(self, credentials: dict) -> None:
        """Ask the endpoint for its model list with the key."""
        url = str(credentials.get("endpoint_url") or "").rstrip("/")
        if not url:
            raise CredentialsValidateFailedError("The API endpoint URL is required.")
        headers = {{"Authorization": f"Bearer {{credentials.get('api_key', '')}}"}}
        try:
            response = requests.get(f"{{url}}/models", headers=headers, timeout=10)
        except requests.RequestException as exc:
            message = f"Cannot reach {{url}}: {{exc}}"
            raise CredentialsValidateFailedError(message) from exc
        if response.status_code in (401, 403):
            raise CredentialsValidateFailedError("The API key was refused.")
        if response.status_code >= 400:
            raise CredentialsValidateFailedError(
                f"The endpoint answered HTTP {{response.status_code}}."
            )
'''
    return f"""\
from dify_plugin.errors.model import CredentialsValidateFailedError
from dify_plugin.interfaces.model import provider as sdk_provider


class {cls}(sdk_provider.ModelProvider):
    def validate_provider_credentials(self, credentials: dict) -> None:
        # AUTHOR: check the credentials against your service here and raise
        # CredentialsValidateFailedError with a readable message when they fail.
        schema = self.get_provider_schema().provider_credential_schema
        for field in schema.credential_form_schemas if schema else []:
            if field.required and not credentials.get(field.variable):
                message = f"{{field.label.en_us}} is required."
                raise CredentialsValidateFailedError(message)
"""


# Without the GPT-2 vocabulary (downloaded by tiktoken on first use) a Dify with
# no internet access, or the studio's smoke test, would fail every token count.
_GPT2_FALLBACK = """\
    _gpt2_available = True

    def _get_num_tokens_by_gpt2(self, text: str) -> int:
        # The SDK's GPT-2 tokenizer downloads its vocabulary on first use; when
        # that fails (no internet access), count about four characters a token.
        if type(self)._gpt2_available:
            try:
                return super()._get_num_tokens_by_gpt2(text)
            except Exception:
                type(self)._gpt2_available = False
        return (len(text) + 3) // 4
"""

_OAI_LLM = (
    '''\
from collections.abc import Generator

from dify_plugin import OAICompatLargeLanguageModel
from dify_plugin.entities.model import ModelFeature, ModelPropertyKey
from dify_plugin.entities.model.llm import LLMResult, LLMResultChunk
from dify_plugin.entities.model.message import PromptMessage, PromptMessageTool

TOOL_FEATURES = {{ModelFeature.TOOL_CALL, ModelFeature.MULTI_TOOL_CALL}}


class {cls}(OAICompatLargeLanguageModel):
    """An OpenAI-compatible chat model, predefined (YAML) or customizable (form)."""

    def _with_schema(self, model: str, credentials: dict) -> dict:
        # The SDK's OpenAI-compatible code reads `mode` and `function_calling_type`
        # from the credentials; a predefined model declares them in its YAML.
        schema = next((m for m in self.predefined_models() if m.model == model), None)
        if schema is None:
            return credentials
        mode = schema.model_properties.get(ModelPropertyKey.MODE) or "chat"
        defaults = {{"mode": str(getattr(mode, "value", mode))}}
        if TOOL_FEATURES & set(schema.features or []):
            defaults["function_calling_type"] = "tool_call"
        return {{**defaults, **credentials}}

    def _invoke(
        self,
        model: str,
        credentials: dict,
        prompt_messages: list[PromptMessage],
        model_parameters: dict,
        tools: list[PromptMessageTool] | None = None,
        stop: list[str] | None = None,
        stream: bool = True,
        user: str | None = None,
    ) -> LLMResult | Generator[LLMResultChunk, None, None]:
        return super()._invoke(
            model,
            self._with_schema(model, credentials),
            prompt_messages,
            model_parameters,
            tools,
            stop,
            stream,
            user,
        )

    def get_num_tokens(
        self,
        model: str,
        credentials: dict,
        prompt_messages: list[PromptMessage],
        tools: list[PromptMessageTool] | None = None,
    ) -> int:
        return super().get_num_tokens(
            model, self._with_schema(model, credentials), prompt_messages, tools
        )

    def validate_credentials(self, model: str, credentials: dict) -> None:
        super().validate_credentials(model, self._with_schema(model, credentials))

'''
    + _GPT2_FALLBACK
)

_OAI_EMBEDDING = (
    '''\
from dify_plugin import OAICompatEmbeddingModel


class {cls}(OAICompatEmbeddingModel):
    """An OpenAI-compatible text-embedding model (the SDK does the work)."""

'''
    + _GPT2_FALLBACK
)

_OAI_SPEECH2TEXT = '''\
from dify_plugin import OAICompatSpeech2TextModel
from dify_plugin.entities import I18nObject
from dify_plugin.entities.model import (
    AIModelEntity,
    FetchFrom,
    ModelPropertyKey,
    ModelType,
)


class {cls}(OAICompatSpeech2TextModel):
    """An OpenAI-compatible speech2text model (the SDK does the work)."""

    def get_customizable_model_schema(
        self, model: str, credentials: dict
    ) -> AIModelEntity:
        # The SDK's base has none, and a customizable model needs a schema.
        return AIModelEntity(
            model=model,
            label=I18nObject(en_US=model),
            model_type=ModelType.SPEECH2TEXT,
            fetch_from=FetchFrom.CUSTOMIZABLE_MODEL,
            model_properties={{
                ModelPropertyKey.FILE_UPLOAD_LIMIT: 25,
                ModelPropertyKey.SUPPORTED_FILE_EXTENSIONS: (
                    "mp3,mp4,mpeg,mpga,m4a,wav,webm"
                ),
            }},
        )
'''

_OAI_RERANK = '''\
from dify_plugin import OAICompatRerankModel
from dify_plugin.entities.model import AIModelEntity, ModelPropertyKey


class {cls}(OAICompatRerankModel):
    """An OpenAI-compatible (Jina/Cohere-style) rerank model."""

    def get_customizable_model_schema(
        self, model: str, credentials: dict
    ) -> AIModelEntity:
        # The SDK's base ignores the credentials; keep the form's context size.
        schema = super().get_customizable_model_schema(model, credentials)
        if credentials.get("context_size"):
            size = int(credentials["context_size"])
            schema.model_properties[ModelPropertyKey.CONTEXT_SIZE] = size
        return schema
'''

_OAI_OTHER = '''\
from dify_plugin import {base}


class {cls}({base}):
    """An OpenAI-compatible {model_type} model (the SDK does the work)."""
'''

_CUSTOM = '''\
from dify_plugin import {base}
{schema_imports}from dify_plugin.errors.model import (
    CredentialsValidateFailedError,
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeConnectionError,
    InvokeError,
    InvokeRateLimitError,
    InvokeServerUnavailableError,
)


class {cls}({base}):
    """AUTHOR: implement the calls to your service in this class."""

{methods}{schema}
    def validate_credentials(self, model: str, credentials: dict) -> None:
        # AUTHOR: make a cheap call with the credentials; raise on failure.
        if not isinstance(credentials, dict):
            raise CredentialsValidateFailedError("Credentials must be a mapping.")

    @property
    def _invoke_error_mapping(self) -> dict[type[InvokeError], list[type[Exception]]]:
        # AUTHOR: map your client library's exceptions to Dify's errors.
        return {{
            InvokeConnectionError: [ConnectionError],
            InvokeServerUnavailableError: [],
            InvokeRateLimitError: [],
            InvokeAuthorizationError: [PermissionError],
            InvokeBadRequestError: [ValueError],
        }}
'''

_CUSTOM_METHODS = {
    "llm": """\
    def _invoke(self, model, credentials, prompt_messages, model_parameters,
                tools=None, stop=None, stream=True, user=None):
        # AUTHOR: call your service; return an LLMResult, or yield
        # LLMResultChunk objects when stream is true.
        raise NotImplementedError("AUTHOR: implement _invoke")

    def get_num_tokens(self, model, credentials, prompt_messages, tools=None) -> int:
        return sum(len(str(m.content or "")) // 4 for m in prompt_messages)
""",
    "text-embedding": """\
    def _invoke(self, model, credentials, texts, user=None, input_type=None):
        # AUTHOR: return a TextEmbeddingResult for the texts.
        raise NotImplementedError("AUTHOR: implement _invoke")

    def get_num_tokens(self, model, credentials, texts) -> list[int]:
        return [len(t) // 4 for t in texts]
""",
    "rerank": """\
    def _invoke(self, model, credentials, query, docs, score_threshold=None,
                top_n=None, user=None):
        # AUTHOR: return a RerankResult.
        raise NotImplementedError("AUTHOR: implement _invoke")
""",
    "speech2text": """\
    def _invoke(self, model, credentials, file, user=None) -> str:
        # AUTHOR: return the transcript of the audio file.
        raise NotImplementedError("AUTHOR: implement _invoke")
""",
    "tts": """\
    def _invoke(self, model, tenant_id, credentials, content_text, voice, user=None):
        # AUTHOR: return or yield audio bytes.
        raise NotImplementedError("AUTHOR: implement _invoke")
""",
    "moderation": """\
    def _invoke(self, model, credentials, text, user=None) -> bool:
        # AUTHOR: return True when the text is flagged.
        raise NotImplementedError("AUTHOR: implement _invoke")
""",
}


_CUSTOM_SCHEMA_IMPORTS = """\
from dify_plugin.entities import I18nObject
from dify_plugin.entities.model import (
    AIModelEntity,
    FetchFrom,
    ModelPropertyKey,
    ModelType,
)
"""

_CUSTOM_SCHEMA = """
    def get_customizable_model_schema(
        self, model: str, credentials: dict
    ) -> AIModelEntity:
        # A model the user adds by name has no YAML: Dify lists and invokes it
        # with this schema. AUTHOR: derive its properties from the credentials.
        return AIModelEntity(
            model=model,
            label=I18nObject(en_US=model),
            model_type=ModelType.{enum},
            fetch_from=FetchFrom.CUSTOMIZABLE_MODEL,
            model_properties={properties},
        )
"""

# What a customizable model of each type needs to be usable in Dify.
_CUSTOM_SCHEMA_PROPERTIES = {
    "llm": '{ModelPropertyKey.MODE: "chat", ModelPropertyKey.CONTEXT_SIZE: 4096}',
    "text-embedding": (
        "{ModelPropertyKey.CONTEXT_SIZE: 512, ModelPropertyKey.MAX_CHUNKS: 1}"
    ),
    "rerank": "{}",
    "speech2text": (
        "{ModelPropertyKey.FILE_UPLOAD_LIMIT: 25,"
        ' ModelPropertyKey.SUPPORTED_FILE_EXTENSIONS: "mp3,wav"}'
    ),
    "tts": """{
                ModelPropertyKey.DEFAULT_VOICE: "default",
                ModelPropertyKey.VOICES: [
                    {"mode": "default", "name": "Default", "language": ["en-US"]}
                ],
                ModelPropertyKey.WORD_LIMIT: 3500,
                ModelPropertyKey.AUDIO_TYPE: "mp3",
            }""",
    "moderation": "{}",
}


def model_source(plugin: NewPlugin, model_type: str) -> str:
    """The generated model class of one type."""
    cls = f"{camel(plugin.name)}{SDK_BASES[model_type]}"
    if plugin.runtime == OPENAI_COMPATIBLE and model_type in OAI_BASES:
        if model_type == "llm":
            return _OAI_LLM.format(cls=cls)
        if model_type == "text-embedding":
            return _OAI_EMBEDDING.format(cls=cls)
        if model_type == "speech2text":
            return _OAI_SPEECH2TEXT.format(cls=cls)
        if model_type == "rerank":
            return _OAI_RERANK.format(cls=cls)
        return _OAI_OTHER.format(
            base=OAI_BASES[model_type][1], cls=cls, model_type=model_type
        )
    customizable = "customizable-model" in plugin.configurate_methods
    schema = ""
    if customizable:
        schema = _CUSTOM_SCHEMA.format(
            enum=model_type.replace("-", "_").upper(),
            properties=_CUSTOM_SCHEMA_PROPERTIES[model_type],
        )
    return _CUSTOM.format(
        base=SDK_BASES[model_type],
        cls=cls,
        methods=_CUSTOM_METHODS[model_type],
        schema=schema,
        schema_imports=_CUSTOM_SCHEMA_IMPORTS if customizable else "",
    )


def readme(plugin: NewPlugin) -> str:
    label = plugin.label.get("en_US") or plugin.name
    description = plugin.description.get("en_US", "")
    return f"# {label}\n\n{description}\n\nA Dify model plugin made with the studio.\n"


def privacy(plugin: NewPlugin) -> str:
    label = plugin.label.get("en_US") or plugin.name
    return (
        f"# Privacy policy of {label}\n\n"
        "This plugin sends the prompts, files and parameters of each request, and the "
        "credentials you configure, to the model endpoint you configure. It stores "
        "nothing itself and collects no other data.\n"
    )


def scaffold(plugin: NewPlugin) -> PluginFiles:
    """The complete source tree of a new plugin, ready to verify and package."""
    icon_name, icon_bytes = plugin.icon or ("icon.svg", DEFAULT_ICON)
    dark = plugin.icon_dark
    files: PluginFiles = {
        "manifest.yaml": dump_yaml(
            manifest_data(plugin, icon=icon_name, icon_dark=dark[0] if dark else None)
        ),
        f"provider/{plugin.name}.yaml": dump_yaml(
            provider_data(plugin, icon=icon_name)
        ),
        f"provider/{plugin.name}.py": provider_source(plugin).encode(),
        "main.py": MAIN_PY.encode(),
        f"_assets/{icon_name}": icon_bytes,
        "README.md": readme(plugin).encode(),
        "PRIVACY.md": privacy(plugin).encode(),
        "requirements.txt": f"{SDK_REQUIREMENT}\n".encode(),
        ".difyignore": DIFYIGNORE.encode(),
        ".env.example": ENV_EXAMPLE.encode(),
    }
    if dark:
        files[f"_assets/{dark[0]}"] = dark[1]
    for model_type in plugin.model_types:
        files[model_source_path(model_type)] = model_source(plugin, model_type).encode()
    files.update(plugin.extra_files)
    return files
