"""The mock upstream's answers: deterministic, in OpenAI's wire format."""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from typing import Any

EMBEDDING_DIMENSIONS = 8
# An MPEG-1 layer III frame header and a few bytes: enough to look like mp3.
FAKE_MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(24)

_WORD = re.compile(r"\w+", re.UNICODE)


def embed(text: str, dimensions: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """The mock's embedding of a text: a unit vector derived from its SHA-256."""
    seed = b""
    counter = 0
    while len(seed) < dimensions * 4:
        seed += hashlib.sha256(f"{counter}:{text}".encode()).digest()
        counter += 1
    raw = [
        int.from_bytes(seed[i * 4 : i * 4 + 4], "big") / 0xFFFFFFFF * 2 - 1
        for i in range(dimensions)
    ]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [round(v / norm, 6) for v in raw]


# The word that makes the mock's moderation flag a text (any case, as a word).
FLAGGED_WORD = "forbidden"
MODERATION_CATEGORIES = ("harassment", "hate", "self-harm", "sexual", "violence")


def moderation(text: str) -> dict[str, Any]:
    """The mock's moderation of one text: flagged (as "violence") when it holds
    the word FLAGGED_WORD, clean otherwise."""
    flagged = FLAGGED_WORD in {w.lower() for w in _WORD.findall(text)}
    return {
        "flagged": flagged,
        "categories": {c: flagged and c == "violence" for c in MODERATION_CATEGORIES},
        "category_scores": {
            c: 0.99 if flagged and c == "violence" else 0.0
            for c in MODERATION_CATEGORIES
        },
    }


def relevance(query: str, document: str) -> float:
    """The mock's rerank score: the share of the query's words in the document."""
    wanted = {w.lower() for w in _WORD.findall(query)}
    found = {w.lower() for w in _WORD.findall(document)}
    return round(len(wanted & found) / len(wanted), 4) if wanted else 0.0


def message_text(message: Any) -> str:
    """The text of a message whose content is a string or a list of parts."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def last_user(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message)
    return ""


def count(text: str) -> int:
    return len(_WORD.findall(text))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def limit(reply: str, max_tokens: Any) -> tuple[list[str], str]:
    """The reply as stream pieces (a word and its space), cut at max_tokens."""
    words = re.findall(r"\S+\s*", reply)
    if isinstance(max_tokens, int) and 0 < max_tokens < len(words):
        return words[:max_tokens], "length"
    return words, "stop"


def usage_of(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def tool_call(function: dict[str, Any], text: str) -> dict[str, Any]:
    """A call of the function with an argument for each declared property."""
    parameters = function.get("parameters")
    properties = parameters.get("properties") if isinstance(parameters, dict) else {}
    arguments: dict[str, Any] = {}
    for name, spec in (properties or {}).items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        if isinstance(spec, dict) and spec.get("enum"):
            arguments[name] = spec["enum"][0]
        elif kind in ("integer", "number"):
            arguments[name] = 1
        elif kind == "boolean":
            arguments[name] = True
        elif kind == "array":
            arguments[name] = [text]
        elif kind == "object":
            arguments[name] = {}
        else:
            arguments[name] = text
    return {
        "id": f"call_mock_{digest(text)[:8]}",
        "type": "function",
        "function": {
            "name": str(function.get("name") or "function"),
            "arguments": json.dumps(arguments),
        },
    }


def chat_chunk(
    ident: str, model: str, delta: dict[str, Any], finish: str | None
) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        ],
    }


def chat_events(
    ident: str,
    model: str,
    words: list[str],
    call: dict[str, Any] | None,
    legacy: bool,
    finish: str,
    usage: dict[str, int],
) -> list[Any]:
    events: list[Any] = [
        chat_chunk(ident, model, {"role": "assistant", "content": ""}, None)
    ]
    events += [chat_chunk(ident, model, {"content": w}, None) for w in words]
    if call is not None:
        name = call["function"]["name"]
        arguments = call["function"]["arguments"]
        # The arguments arrive in two pieces, as real servers split them.
        half = len(arguments) // 2
        if legacy:
            first = {"name": name, "arguments": arguments[:half]}
            events += [
                chat_chunk(ident, model, {"function_call": first}, None),
                chat_chunk(
                    ident,
                    model,
                    {"function_call": {"arguments": arguments[half:]}},
                    None,
                ),
            ]
        else:
            first = {
                "index": 0,
                "id": call["id"],
                "type": "function",
                "function": {"name": name, "arguments": arguments[:half]},
            }
            rest = {"index": 0, "function": {"arguments": arguments[half:]}}
            events += [
                chat_chunk(ident, model, {"tool_calls": [first]}, None),
                chat_chunk(ident, model, {"tool_calls": [rest]}, None),
            ]
    events.append(chat_chunk(ident, model, {}, finish) | {"usage": usage})
    return events


def text_chunk(ident: str, model: str, text: str, finish: str | None) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
        ],
    }
