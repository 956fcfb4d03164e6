"""A minimal echo model plugin (format doc §10) that starts under dify-plugin 0.10.x."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

# Survive between test runs (var/ is git-ignored): only the first run downloads.
SDK_CACHE = Path(__file__).resolve().parents[2] / "var" / "cache" / "sdk-venvs"
UV_CACHE = Path(__file__).resolve().parents[2] / "var" / "cache" / "uv"
ECHO_REQUIREMENTS = "dify_plugin>=0.10.0,<0.11.0\n"

MANIFEST = """\
version: 0.0.1
type: plugin
author: studio
name: echo
label: {en_US: Echo}
description: {en_US: Echo test model plugin}
icon: icon.svg
resource: {memory: 268435456, permission: {}}
plugins: {models: [provider/echo.yaml]}
meta:
  version: 0.0.1
  arch: [amd64, arm64]
  runner: {language: python, version: "3.12", entrypoint: main}
created_at: 2026-01-01T00:00:00Z
privacy: PRIVACY.md
"""

PROVIDER_YAML = """\
provider: echo
label: {en_US: Echo}
icon_small: {en_US: icon.svg}
supported_model_types: [llm]
configurate_methods: [predefined-model]
provider_credential_schema:
  credential_form_schemas:
    - {variable: api_key, label: {en_US: API Key}, type: secret-input, required: true}
models:
  llm: {predefined: ["models/llm/*.yaml"], position: "models/llm/_position.yaml"}
extra:
  python: {provider_source: provider/echo.py, model_sources: ["models/llm/llm.py"]}
"""

PROVIDER_PY = """\
from dify_plugin import ModelProvider
from dify_plugin.errors.model import CredentialsValidateFailedError


class EchoProvider(ModelProvider):
    def validate_provider_credentials(self, credentials: dict) -> None:
        if credentials.get("api_key") != "good":
            raise CredentialsValidateFailedError("bad key")
"""

LLM_PY = """\
from collections.abc import Generator

from dify_plugin import LargeLanguageModel
from dify_plugin.entities.model.llm import (
    LLMResult,
    LLMResultChunk,
    LLMResultChunkDelta,
)
from dify_plugin.entities.model.message import (
    AssistantPromptMessage,
    PromptMessage,
    PromptMessageTool,
    UserPromptMessage,
)
from dify_plugin.errors.model import (
    CredentialsValidateFailedError,
    InvokeBadRequestError,
    InvokeError,
)


def _text(message: PromptMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    return " ".join(getattr(part, "data", "") for part in message.content or [])


class EchoLargeLanguageModel(LargeLanguageModel):
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
        users = [m for m in prompt_messages if isinstance(m, UserPromptMessage)]
        text = _text(users[-1]) if users else ""
        usage = self._calc_response_usage(
            model, credentials, len(text.split()), len(text.split())
        )
        if not stream:
            return LLMResult(
                model=model,
                prompt_messages=[],
                message=AssistantPromptMessage(content=text),
                usage=usage,
            )
        return self._stream(model, text, usage)

    def _stream(self, model, text, usage) -> Generator[LLMResultChunk, None, None]:
        words = text.split(" ")
        size = max(1, -(-len(words) // 3))
        pieces = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
        for index, piece in enumerate(pieces):
            content = piece if index == 0 else " " + piece
            yield LLMResultChunk(
                model=model,
                delta=LLMResultChunkDelta(
                    index=index, message=AssistantPromptMessage(content=content)
                ),
            )
        yield LLMResultChunk(
            model=model,
            delta=LLMResultChunkDelta(
                index=len(pieces),
                message=AssistantPromptMessage(content=""),
                usage=usage,
                finish_reason="stop",
            ),
        )

    def get_num_tokens(
        self,
        model: str,
        credentials: dict,
        prompt_messages: list[PromptMessage],
        tools: list[PromptMessageTool] | None = None,
    ) -> int:
        return sum(len(_text(m).split()) for m in prompt_messages)

    def validate_credentials(self, model: str, credentials: dict) -> None:
        if credentials.get("api_key") != "good":
            raise CredentialsValidateFailedError("bad key")

    @property
    def _invoke_error_mapping(self) -> dict[type[InvokeError], list[type[Exception]]]:
        return {InvokeBadRequestError: [KeyError]}
"""

MODEL_YAML = """\
model: echo-1
label: {en_US: Echo 1}
model_type: llm
features: [agent-thought]
model_properties: {mode: chat, context_size: 4096}
parameter_rules:
  - {name: temperature, use_template: temperature}
  - {name: max_tokens, use_template: max_tokens, default: 256, max: 4096}
pricing: {input: '0.001', output: '0.002', unit: '0.001', currency: USD}
"""

MAIN_PY = """\
from dify_plugin import DifyPluginEnv, Plugin

plugin = Plugin(DifyPluginEnv(MAX_REQUEST_TIMEOUT=120))

if __name__ == "__main__":
    plugin.run()
"""

ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24">'
    '<circle cx="12" cy="12" r="10"/></svg>\n'
)

ECHO_FILES: dict[str, str] = {
    "manifest.yaml": MANIFEST,
    "main.py": MAIN_PY,
    "requirements.txt": ECHO_REQUIREMENTS,
    "provider/echo.yaml": PROVIDER_YAML,
    "provider/echo.py": PROVIDER_PY,
    "models/llm/llm.py": LLM_PY,
    "models/llm/echo-1.yaml": MODEL_YAML,
    "models/llm/_position.yaml": "- echo-1\n",
    "_assets/icon.svg": ICON_SVG,
    "README.md": "# Echo\n\nEchoes the last user message.\n",
    "PRIVACY.md": "# Privacy\n\nThis plugin sends no data anywhere.\n",
}


def write_echo_plugin(folder: Path, *, files: Mapping[str, str] | None = None) -> Path:
    """Write the echo plugin into folder, with some files replaced or added."""
    for relative, text in {**ECHO_FILES, **(files or {})}.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder
