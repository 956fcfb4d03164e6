"""The Python of a new plugin: `main.py`, the provider module, one model class a type.

The generated code follows the runtime gotchas of the format (§5): model
classes at `models/<type>/<type>.py` (three module levels), a provider module
defining exactly one `ModelProvider` subclass (the SDK base is imported as a
module, not by name), `main.py` as the CLI writes it. OpenAI-compatible model
classes supply what the SDK's `OAICompat*` bases read from credentials but a
predefined model declares in its YAML (`mode`, tool calling), and count tokens
even when tiktoken cannot download its vocabulary.
"""

from __future__ import annotations

from studio.pluginfmt.document.specs import type_key
from studio.pluginfmt.scaffold.new_plugin import OPENAI_COMPATIBLE, NewPlugin, camel

MAIN_PY = """\
from dify_plugin import DifyPluginEnv, Plugin

plugin = Plugin(DifyPluginEnv(MAX_REQUEST_TIMEOUT=120))

if __name__ == "__main__":
    plugin.run()
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


def model_source_path(model_type: str) -> str:
    """Where the generated model class of a type lives (three module levels)."""
    key = type_key(model_type)
    return f"models/{key}/{key}.py"


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

# The SDK has no OpenAI-compatible moderation base: call /moderations directly.
_OAI_MODERATION = '''\
import requests

from dify_plugin import ModerationModel
from dify_plugin.errors.model import (
    CredentialsValidateFailedError,
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeConnectionError,
    InvokeError,
    InvokeRateLimitError,
    InvokeServerUnavailableError,
)


class {cls}(ModerationModel):
    """An OpenAI-compatible moderation model: POST {{endpoint_url}}/moderations."""

    def _invoke(
        self, model: str, credentials: dict, text: str, user: str | None = None
    ) -> bool:
        url = str(credentials.get("endpoint_url") or "").rstrip("/")
        headers = {{}}
        if credentials.get("api_key"):
            headers["Authorization"] = f"Bearer {{credentials['api_key']}}"
        payload = {{
            "model": credentials.get("endpoint_model_name") or model,
            "input": text,
        }}
        response = requests.post(
            f"{{url}}/moderations", headers=headers, json=payload, timeout=(10, 60)
        )
        if response.status_code in (401, 403):
            raise PermissionError("The API key was refused.")
        response.raise_for_status()
        results = response.json().get("results") or []
        return any(bool(r.get("flagged")) for r in results)

    def validate_credentials(self, model: str, credentials: dict) -> None:
        try:
            self._invoke(model, credentials, "ping")
        except Exception as exc:
            raise CredentialsValidateFailedError(str(exc)) from exc

    @property
    def _invoke_error_mapping(self) -> dict[type[InvokeError], list[type[Exception]]]:
        return {{
            InvokeConnectionError: [requests.exceptions.ConnectionError],
            InvokeServerUnavailableError: [],
            InvokeRateLimitError: [],
            InvokeAuthorizationError: [PermissionError],
            InvokeBadRequestError: [requests.exceptions.HTTPError, ValueError],
        }}
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
    if plugin.runtime == OPENAI_COMPATIBLE and model_type == "moderation":
        return _OAI_MODERATION.format(cls=cls)
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
