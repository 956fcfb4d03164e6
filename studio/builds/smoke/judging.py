"""Whether what a plugin answered is well formed and what it declared."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from studio.pluginfmt.document import ModelSpec


def schema_differences(spec: ModelSpec, found: Any) -> list[str]:
    """How a returned model schema differs from the model's YAML (empty: same)."""
    if not isinstance(found, dict):
        return ["the plugin returned no schema"]
    differences = []
    if found.get("model") != spec.model:
        differences.append(f"model is {found.get('model')!r}")
    if spec.model_type and found.get("model_type") != spec.model_type:
        differences.append(
            f"model_type is {found.get('model_type')!r}, declared {spec.model_type!r}"
        )
    properties = found.get("model_properties") or {}
    declared = spec.model_properties.to_data() if spec.model_properties else {}
    for key, value in declared.items():
        if not same(properties.get(key), value):
            differences.append(
                f"model_properties.{key} is {properties.get(key)!r}, declared {value!r}"
            )
    if spec.features is not None:
        got = sorted(str(f) for f in found.get("features") or [])
        if got != sorted(spec.features):
            differences.append(f"features are {got}, declared {sorted(spec.features)}")
    rules = [r.name for r in spec.parameter_rules or []]
    got_rules = [
        r.get("name") for r in found.get("parameter_rules") or [] if isinstance(r, dict)
    ]
    if rules != got_rules:
        differences.append(f"parameter rules are {got_rules}, declared {rules}")
    if spec.pricing is not None:
        pricing = found.get("pricing") or {}
        for key, value in spec.pricing.to_data().items():
            if key in ("input", "output", "unit", "currency") and not same(
                pricing.get(key), value
            ):
                differences.append(
                    f"pricing.{key} is {pricing.get(key)!r}, declared {value!r}"
                )
    return differences


def llm_stream_problems(
    chunks: list[Any],
) -> tuple[list[str], str, dict[str, Any]]:
    """Problems of an invoke_llm stream, its text, and its last delta."""
    if not chunks:
        return ["no chunks were streamed"], "", {}
    problems = []
    text = ""
    for index, chunk in enumerate(chunks):
        delta = chunk.get("delta") if isinstance(chunk, dict) else None
        message = delta.get("message") if isinstance(delta, dict) else None
        if not isinstance(message, dict):
            problems.append(f"chunk {index} has no delta.message")
            continue
        text += content_text(message.get("content"))
    last = chunks[-1].get("delta") if isinstance(chunks[-1], dict) else None
    last = last if isinstance(last, dict) else {}
    usage = last.get("usage")
    if not isinstance(usage, dict):
        problems.append("the last chunk has no usage")
    else:
        missing = [
            key
            for key in ("prompt_tokens", "completion_tokens", "total_tokens")
            if not isinstance(usage.get(key), int)
        ]
        if missing:
            problems.append(f"the usage has no {', '.join(missing)}")
    if not last.get("finish_reason"):
        problems.append("the last chunk has no finish_reason")
    if not text:
        problems.append("no text was streamed")
    return problems, text, last


def embedding_problems(data: Any, count: int) -> list[str]:
    """Problems of an invoke_text_embedding result for `count` texts."""
    if not isinstance(data, dict):
        return ["no result was returned"]
    problems = []
    vectors = data.get("embeddings")
    if not isinstance(vectors, list) or len(vectors) != count:
        problems.append(f"expected {count} embeddings")
    elif not all(
        isinstance(v, list) and v and all(isinstance(x, int | float) for x in v)
        for v in vectors
    ):
        problems.append("an embedding is not a list of numbers")
    elif len({len(v) for v in vectors}) != 1:
        problems.append("the embeddings have different dimensions")
    usage = data.get("usage")
    if not isinstance(usage, dict) or not isinstance(usage.get("total_tokens"), int):
        problems.append("the result has no usage with total_tokens")
    return problems


def rerank_problems(data: Any, count: int) -> list[str]:
    """Problems of an invoke_rerank result for `count` documents."""
    if not isinstance(data, dict) or not isinstance(data.get("docs"), list):
        return ["no documents were returned"]
    docs = data["docs"]
    if not docs:
        return ["no documents were returned"]
    for doc in docs:
        if not isinstance(doc, dict):
            return ["a document is not an object"]
        index = doc.get("index")
        if not isinstance(index, int) or not 0 <= index < count:
            return [f"a document has the index {index!r}"]
        if not isinstance(doc.get("score"), int | float):
            return [f"document {index} has no score"]
        if not isinstance(doc.get("text"), str):
            return [f"document {index} has no text"]
    return []


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("data", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def same(got: Any, declared: Any) -> bool:
    if got == declared:
        return True
    try:
        return Decimal(str(got)) == Decimal(str(declared))
    except (InvalidOperation, ValueError):
        return str(got) == str(declared)
