"""What the code editor's acceptance test writes: a hand-written `_invoke` for
a custom-runtime provider, calling an OpenAI-compatible endpoint (the mock
upstream in the smoke test) with the standard library only."""

from __future__ import annotations

import ast

INVOKE = """
    def _invoke(self, model, credentials, prompt_messages, model_parameters,
                tools=None, stop=None, stream=True, user=None):
        url = str(credentials["endpoint_url"]).rstrip("/") + "/chat/completions"
        body = {
            "model": model,
            "stream": True,
            "messages": [
                {"role": m.role.value, "content": m.content} for m in prompt_messages
            ],
        }
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {credentials.get('api_key', '')}",
                "Content-Type": "application/json",
            },
        )
        chunks = self._stream(model, credentials, prompt_messages, request)
        if stream:
            return chunks
        text = "".join(str(c.delta.message.content or "") for c in chunks)
        return LLMResult(
            model=model,
            prompt_messages=prompt_messages,
            message=AssistantPromptMessage(content=text),
            usage=self._calc_response_usage(model, credentials, 0, 0),
        )

    def _stream(self, model, credentials, prompt_messages, request):
        text = ""
        index = 0
        with urllib.request.urlopen(request, timeout=30) as response:
            for raw in response:
                line = raw.decode().strip()
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                choices = json.loads(line[len("data: "):]).get("choices") or []
                delta = choices[0].get("delta") or {} if choices else {}
                piece = delta.get("content")
                if not piece:
                    continue
                text += piece
                yield LLMResultChunk(
                    model=model,
                    prompt_messages=prompt_messages,
                    delta=LLMResultChunkDelta(
                        index=index, message=AssistantPromptMessage(content=piece)
                    ),
                )
                index += 1
        prompt_tokens = self.get_num_tokens(model, credentials, prompt_messages)
        usage = self._calc_response_usage(
            model, credentials, prompt_tokens, max(1, len(text) // 4)
        )
        yield LLMResultChunk(
            model=model,
            prompt_messages=prompt_messages,
            delta=LLMResultChunkDelta(
                index=index,
                message=AssistantPromptMessage(content=""),
                usage=usage,
                finish_reason="stop",
            ),
        )
"""

VALIDATE = """
    def validate_credentials(self, model: str, credentials: dict) -> None:
        url = str(credentials.get("endpoint_url") or "").rstrip("/") + "/models"
        key = credentials.get("api_key", "")
        headers = {"Authorization": f"Bearer {key}"}
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except urllib.error.HTTPError as exc:
            raise CredentialsValidateFailedError(
                f"The endpoint refused the key (HTTP {exc.code})."
            ) from exc
        except OSError as exc:
            raise CredentialsValidateFailedError(f"Cannot reach {url}: {exc}") from exc
"""

IMPORTS = """\
import json
import urllib.error
import urllib.request

from dify_plugin import LargeLanguageModel
from dify_plugin.entities.model.llm import (
    LLMResult,
    LLMResultChunk,
    LLMResultChunkDelta,
)
from dify_plugin.entities.model.message import AssistantPromptMessage
"""

CREDENTIAL_FIELDS = """\
  credential_form_schemas:
    - variable: api_key
      label:
        en_US: API Key
      type: secret-input
      required: true
    - variable: endpoint_url
      label:
        en_US: API endpoint URL
      type: text-input
      required: true
"""


def written_llm(scaffolded: str) -> str:
    """The scaffold's model class with `_invoke` and `validate_credentials` written."""
    text = scaffolded.replace("from dify_plugin import LargeLanguageModel\n", IMPORTS)
    start = text.index("    def _invoke(")
    end = text.index("    def get_num_tokens(")
    text = text[:start] + INVOKE.lstrip("\n") + "\n" + text[end:]
    start = text.index("    def validate_credentials(")
    end = text.index("    @property")
    return text[:start] + VALIDATE.lstrip("\n") + "\n" + text[end:]


def with_credential_fields(provider_yaml: str) -> str:
    """The provider YAML with an api_key and a required endpoint_url field."""
    return provider_yaml.replace("  credential_form_schemas: []\n", CREDENTIAL_FIELDS)


def with_syntax_error(code: str) -> tuple[str, int]:
    """`code` with an unbalanced bracket, and the line Python reports it on."""
    broken = code.replace('"stream": True,\n', '"stream": (True,\n', 1)
    assert broken != code
    try:
        ast.parse(broken)
    except SyntaxError as exc:
        assert exc.lineno is not None
        return broken, exc.lineno
    raise AssertionError("the broken code parses")
