"""Turning the page's inputs into plugin requests, and the plugin's events into
what the page shows: the answer, usage, cost and the protocol trace."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.playground.models_info import ModelInfo
from studio.playground.sessions import cost
from studio.pluginfmt import driver

MAX_HISTORY = 50
MAX_TEXT = 20_000
MB = 1024 * 1024
# Uploads travel to the plugin as hex (audio) or base64 (images) inside one
# JSON line: caps keep that line, and the mock upstream's body, small.
MAX_AUDIO_BYTES = 3 * MB
MAX_IMAGE_BYTES = 2 * MB
# Audio a text-to-speech model answers, shown as a data: URL in the page.
MAX_SPEECH_BYTES = 8 * MB
MAX_SPEECH_TEXT = 4000
# What the Try it page tells about the caps.
CAPS = {
    "audio_mb": MAX_AUDIO_BYTES // MB,
    "image_mb": MAX_IMAGE_BYTES // MB,
    "speech_text": MAX_SPEECH_TEXT,
}


# The page carries the conversation in a hidden field; a longer one is dropped.
MAX_HISTORY_CHARS = 200_000


def parse_history(raw: str) -> list[dict[str, str]]:
    """The conversation so far, from the page's hidden field; junk is dropped."""
    if len(raw) > MAX_HISTORY_CHARS:
        return []
    try:
        data = json.loads(raw or "[]")
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested deep
        return []
    history = []
    for item in data if isinstance(data, list) else []:
        if (
            isinstance(item, dict)
            and item.get("role") in ("user", "assistant")
            and isinstance(item.get("content"), str)
        ):
            history.append(
                {"role": item["role"], "content": item["content"][:MAX_TEXT]}
            )
    return history[-MAX_HISTORY:]


def parameters(info: ModelInfo, posted: Mapping[str, Any]) -> dict[str, Any]:
    """Model parameters from the controls the user turned on ("use-NAME")."""
    values: dict[str, Any] = {}
    for control in info.controls:
        if not posted.get(f"use-{control.name}"):
            continue
        raw = str(posted.get(f"param-{control.name}", "")).strip()
        if control.kind == "boolean":
            values[control.name] = raw in ("true", "on", "1")
        elif control.kind == "number":
            try:
                number = float(raw)
            except ValueError:
                continue
            if not math.isfinite(number):
                continue  # "1e400", "nan": no number Dify would send
            values[control.name] = int(number) if control.step == "1" else number
        elif raw:
            values[control.name] = raw
    return values


def llm_request(
    info: ModelInfo,
    *,
    system: str,
    history: list[dict[str, str]],
    message: str,
    params: dict[str, Any],
    tools: list[dict[str, Any]] | None = None,
    image: dict[str, Any] | None = None,
    provider: str = "",
) -> dict[str, Any]:
    """The invoke_llm body; with `image`, the message is text and image content.

    The credentials are left empty: the playground server puts the session's in
    (and the provider's name when `provider` is empty).
    """
    prompt: list[dict[str, Any]] = []
    if system.strip():
        prompt.append({"role": "system", "content": system[:MAX_TEXT]})
    prompt.extend(history)
    content: Any = message[:MAX_TEXT]
    if image is not None:
        content = [{"type": "text", "data": content}, image]
    prompt.append({"role": "user", "content": content})
    return driver.invoke_llm(provider, info.model, {}, prompt, params, tools=tools)


def image_content(data: bytes, mime_type: str, filename: str = "") -> dict[str, Any]:
    """An image prompt message content as Dify sends it (the SDK's
    ImagePromptMessageContent: the bytes as base64, its `data` a data URL)."""
    return {
        "type": "image",
        "format": mime_type.split("/")[-1],
        "mime_type": mime_type,
        "base64_data": base64.b64encode(data).decode(),
        "url": "",
        "filename": filename[:200],
        "detail": "low",
    }


def chunk_text(chunk: Any) -> str:
    delta = chunk.get("delta") if isinstance(chunk, dict) else None
    message = delta.get("message") if isinstance(delta, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("data", "")) for part in content if isinstance(part, dict)
        )
    return ""


def chunk_tool_calls(chunk: Any) -> list[Any]:
    delta = chunk.get("delta") if isinstance(chunk, dict) else None
    message = delta.get("message") if isinstance(delta, dict) else None
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    return calls if isinstance(calls, list) else []


@dataclass
class Outcome:
    """One request's answer and what happened on the way."""

    text: str = ""
    chunks: int = 0
    events: list[Any] = field(default_factory=list)
    request: Any = None
    error: Any = None
    usage: dict[str, Any] = field(default_factory=dict)
    cost: dict[str, str] | None = None
    first_chunk_ms: float | None = None
    total_ms: float | None = None
    tool_calls: list[Any] = field(default_factory=list)
    result: Any = None

    @property
    def trace(self) -> str:
        """The protocol exchange as JSON, secrets already masked by the server."""
        return json.dumps(
            {"request": self.request, "responses": self.events}, indent=2
        )[:200_000]


def follow(
    events: Iterable[dict[str, Any]], info: ModelInfo | None
) -> Iterator[tuple[str, Outcome]]:
    """Fold the server's events into an Outcome, yielding each new piece of text."""
    outcome = Outcome()
    for event in events:
        kind = event.get("event")
        if kind == "request":
            outcome.request = event.get("data")
            continue
        if kind == "chunk":
            data = event.get("data")
            outcome.events.append(data)
            outcome.chunks += 1
            outcome.result = data
            piece = chunk_text(data)
            outcome.tool_calls.extend(chunk_tool_calls(data))
            delta = data.get("delta") if isinstance(data, dict) else None
            usage = delta.get("usage") if isinstance(delta, dict) else None
            if isinstance(usage, dict):
                outcome.usage = usage
            if piece:
                outcome.text += piece
                yield piece, outcome
            continue
        outcome.first_chunk_ms = event.get("first_chunk_ms")
        outcome.total_ms = event.get("total_ms")
        if kind == "error":
            outcome.error = event.get("data")
            outcome.events.append({"error": outcome.error})
    if info is not None and outcome.usage:
        outcome.cost = cost(
            info.pricing,
            int(outcome.usage.get("prompt_tokens") or 0),
            int(outcome.usage.get("completion_tokens") or 0),
        )
    yield "", outcome


def finish(events: Iterable[dict[str, Any]], info: ModelInfo | None) -> Outcome:
    pieces = list(follow(events, info))
    return pieces[-1][1]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
