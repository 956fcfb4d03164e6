"""The request bodies of the SDK's model actions, one builder per action."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def validate_provider_credentials(
    provider: str, credentials: Mapping[str, Any], *, user_id: str = "studio"
) -> dict[str, Any]:
    """Build a validate_provider_credentials request body."""
    return {
        "type": "model",
        "action": "validate_provider_credentials",
        "user_id": user_id,
        "provider": provider,
        "credentials": dict(credentials),
    }


def validate_model_credentials(
    provider: str,
    model_type: str,
    model: str,
    credentials: Mapping[str, Any],
    *,
    user_id: str = "studio",
) -> dict[str, Any]:
    """Build a validate_model_credentials request body."""
    return {
        **_model_fields("validate_model_credentials", provider, model_type, model),
        "user_id": user_id,
        "credentials": dict(credentials),
    }


def get_ai_model_schemas(
    provider: str,
    model_type: str,
    model: str,
    credentials: Mapping[str, Any],
    *,
    user_id: str = "studio",
) -> dict[str, Any]:
    """Build a get_ai_model_schemas request body (answers {"model_schema": ...})."""
    return {
        **_model_fields("get_ai_model_schemas", provider, model_type, model),
        "user_id": user_id,
        "credentials": dict(credentials),
    }


def invoke_llm(
    provider: str,
    model: str,
    credentials: Mapping[str, Any],
    prompt_messages: list[dict[str, Any]],
    model_parameters: Mapping[str, Any] | None = None,
    stream: bool = True,
    *,
    stop: list[str] | None = None,
    tools: list[dict[str, Any]] | None = None,
    user_id: str = "studio",
) -> dict[str, Any]:
    """Build an invoke_llm request body; `stop` and `tools` keys are always present."""
    return {
        **_model_fields("invoke_llm", provider, "llm", model),
        "user_id": user_id,
        "credentials": dict(credentials),
        "prompt_messages": prompt_messages,
        "model_parameters": dict(model_parameters or {}),
        "stop": stop,
        "tools": tools,
        "stream": stream,
    }


def get_llm_num_tokens(
    provider: str,
    model: str,
    credentials: Mapping[str, Any],
    prompt_messages: list[dict[str, Any]],
    *,
    tools: list[dict[str, Any]] | None = None,
    user_id: str = "studio",
) -> dict[str, Any]:
    """Build a get_llm_num_tokens request body.

    Public API: the SDK action the studio does not call yet; tests use it to
    prove a scaffolded plugin counts tokens offline.
    """
    return {
        **_model_fields("get_llm_num_tokens", provider, "llm", model),
        "user_id": user_id,
        "credentials": dict(credentials),
        "prompt_messages": prompt_messages,
        "tools": tools,
    }


def invoke_text_embedding(
    provider: str,
    model: str,
    credentials: Mapping[str, Any],
    texts: list[str],
    input_type: str = "document",
    *,
    user_id: str = "studio",
) -> dict[str, Any]:
    """Build an invoke_text_embedding request body."""
    return {
        **_model_fields("invoke_text_embedding", provider, "text-embedding", model),
        "user_id": user_id,
        "credentials": dict(credentials),
        "texts": texts,
        "input_type": input_type,
    }


def invoke_rerank(
    provider: str,
    model: str,
    credentials: Mapping[str, Any],
    query: str,
    docs: list[str],
    score_threshold: float | None = None,
    top_n: int | None = None,
    *,
    user_id: str = "studio",
) -> dict[str, Any]:
    """Build an invoke_rerank request body (score_threshold/top_n keys always sent)."""
    return {
        **_model_fields("invoke_rerank", provider, "rerank", model),
        "user_id": user_id,
        "credentials": dict(credentials),
        "query": query,
        "docs": docs,
        "score_threshold": score_threshold,
        "top_n": top_n,
    }


def invoke_moderation(
    provider: str,
    model: str,
    credentials: Mapping[str, Any],
    text: str,
    *,
    user_id: str = "studio",
) -> dict[str, Any]:
    """Build an invoke_moderation request body (answers {"result": flagged})."""
    return {
        **_model_fields("invoke_moderation", provider, "moderation", model),
        "user_id": user_id,
        "credentials": dict(credentials),
        "text": text,
    }


def invoke_speech2text(
    provider: str,
    model: str,
    credentials: Mapping[str, Any],
    audio: bytes,
    *,
    user_id: str = "studio",
) -> dict[str, Any]:
    """Build an invoke_speech2text request body: the audio travels as hex.

    Answers {"result": transcript}.
    """
    return {
        **_model_fields("invoke_speech2text", provider, "speech2text", model),
        "user_id": user_id,
        "credentials": dict(credentials),
        "file": audio.hex(),
    }


def invoke_tts(
    provider: str,
    model: str,
    credentials: Mapping[str, Any],
    content_text: str,
    voice: str,
    *,
    tenant_id: str = "studio",
    user_id: str = "studio",
) -> dict[str, Any]:
    """Build an invoke_tts request body (`tenant_id` is required by the SDK).

    Answers one {"result": "<hex audio>", "mime_type"?} chunk per audio piece.
    """
    return {
        **_model_fields("invoke_tts", provider, "tts", model),
        "user_id": user_id,
        "credentials": dict(credentials),
        "content_text": content_text,
        "voice": voice,
        "tenant_id": tenant_id,
    }


def _model_fields(
    action: str, provider: str, model_type: str, model: str
) -> dict[str, Any]:
    return {
        "type": "model",
        "action": action,
        "provider": provider,
        "model_type": model_type,
        "model": model,
    }
