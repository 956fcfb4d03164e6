"""Upstream model lists: what an OpenAI-compatible `GET /v1/models` says the
vendor serves, compared with the models a plugin declares.

`parse_model_list(raw)` reads OpenAI's list shape (`{"object": "list",
"data": [{"id": ...}, ...]}`), refusing an answer that is too large, not
JSON or has no `data` list, and skipping odd entries (each named in
`ModelList.skipped`). `compare_models(doc, ids, model_types)` splits the ids
into new (upstream, declared under no type), gone (declared under one of
`model_types`, not upstream) and unchanged. `upstream_items(doc, comparison,
templates)` turns that into `SyncItem`s: an `add_model` per new id copying a
template model of its type, a `deprecate_model` per gone one.

A model list names ids, not types. The types it speaks for are the ones the
author picks (LLM by default); a new id's type is guessed from its name
(`guess_type`: "embed" → text-embedding, "rerank" → rerank, "tts"/"speech" →
tts, "whisper"/"transcri" → speech2text, "moderation" → moderation, anything
else → llm), and ids of a type the author did not pick are only listed.

`fetch_model_list(base_url, api_key)` asks the vendor through the egress
guard with the key as a Bearer token; the key is used for that one request,
never stored nor logged. `fetch_bytes` is the size-capped GET both sources
use. Pure Python (the standard library's http.client), no Django.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from studio.pluginfmt.diff.levels import Level
from studio.pluginfmt.document import PluginDocument, model_type_of, type_key
from studio.pluginfmt.document.edits import i18n_text, ordered_ids
from studio.pluginfmt.egress import EgressRefused, Resolver, system_resolver
from studio.pluginfmt.verify.model_ids import MAX_MODEL_ID

from .fetch import FetchError, guarded_get
from .items import SyncItem

MAX_LIST_BYTES = 2 * 1024 * 1024
MAX_LIST_MODELS = 5000
TIMEOUT_SECONDS = 10.0
DEFAULT_TYPES = ("llm",)
MODEL_TYPES = ("llm", "text-embedding", "rerank", "speech2text", "tts", "moderation")

_TYPE_HINTS = (
    ("rerank", "rerank"),
    ("embed", "text-embedding"),
    ("whisper", "speech2text"),
    ("transcri", "speech2text"),
    ("tts", "tts"),
    ("speech", "tts"),
    ("moderation", "moderation"),
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UpstreamError(ValueError):
    """The model list could not be read or fetched; the message says why."""


@dataclass(frozen=True)
class ModelList:
    """The ids of an upstream answer, in its order, and the entries skipped."""

    ids: tuple[str, ...]
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """Upstream ids against the declared models of `model_types`."""

    model_types: tuple[str, ...]
    new: dict[str, list[str]]  # model type -> upstream ids declared nowhere
    gone: dict[str, list[str]]  # model type -> declared ids not upstream
    unchanged: dict[str, list[str]]  # model type -> declared and upstream
    other_types: list[str] = field(default_factory=list)  # new, of unpicked types
    skipped: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_types": list(self.model_types),
            "new": self.new,
            "gone": self.gone,
            "unchanged": self.unchanged,
            "other_types": self.other_types,
            "skipped": list(self.skipped),
        }


def guess_type(model_id: str) -> str:
    """The model type an id's name suggests (llm when nothing does)."""
    lowered = model_id.lower()
    for hint, model_type in _TYPE_HINTS:
        if hint in lowered:
            return model_type
    return "llm"


def parse_model_list(raw: bytes, *, max_bytes: int = MAX_LIST_BYTES) -> ModelList:
    """The model ids of a `/v1/models` answer; UpstreamError when unreadable."""
    if len(raw) > max_bytes:
        raise UpstreamError(
            f"the model list is larger than {max_bytes // 1024} KiB; refused"
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UpstreamError(f"the model list is not JSON: {error}") from None
    if isinstance(data, list):
        entries: Any = data  # a bare list of models: tolerated
    elif isinstance(data, dict):
        if "data" not in data:
            raise UpstreamError(
                'the answer has no "data" list; an OpenAI-compatible /v1/models '
                'answers {"object": "list", "data": [{"id": ...}, ...]}'
            )
        entries = data["data"]
    else:
        raise UpstreamError(
            'the answer is not an object with a "data" list (OpenAI\'s list shape)'
        )
    if not isinstance(entries, list):
        raise UpstreamError(f'"data" is a {type(entries).__name__}, not a list')
    if len(entries) > MAX_LIST_MODELS:
        raise UpstreamError(
            f"the list has {len(entries)} models; at most {MAX_LIST_MODELS} are read"
        )
    ids: dict[str, None] = {}
    skipped = []
    for index, entry in enumerate(entries):
        model_id = entry.get("id") if isinstance(entry, dict) else entry
        if not isinstance(model_id, str) or not model_id.strip():
            skipped.append(f"entry {index + 1} has no id")
            continue
        model_id = model_id.strip()
        if len(model_id) > MAX_MODEL_ID or _CONTROL.search(model_id):
            skipped.append(
                f"entry {index + 1}: {model_id[:40]!r} is not a usable model id"
            )
            continue
        ids.setdefault(model_id, None)
    return ModelList(ids=tuple(ids), skipped=tuple(skipped))


def declared_ids(doc: PluginDocument, model_type: str) -> list[str]:
    """The declared model ids of a type, in display order."""
    return ordered_ids(doc, type_key(model_type))


def _deprecated(doc: PluginDocument) -> set[tuple[str, str]]:
    return {
        (model_type_of(e.type_key), str(e.spec.model or ""))
        for e in doc.models
        if e.spec.deprecated is True
    }


def compare_models(
    doc: PluginDocument,
    upstream: ModelList | Sequence[str],
    model_types: Iterable[str] = DEFAULT_TYPES,
) -> Comparison:
    """New, gone and unchanged models of the picked types (see the module doc).

    A declared model already deprecated is not "gone" again; one declared
    under any type is never "new"."""
    listed = upstream if isinstance(upstream, ModelList) else ModelList(tuple(upstream))
    types = tuple(dict.fromkeys(model_types)) or DEFAULT_TYPES
    for model_type in types:
        if model_type not in MODEL_TYPES:
            raise UpstreamError(f"{model_type!r} is not a model type")
    everywhere = {str(e.spec.model or "") for e in doc.models}
    deprecated = _deprecated(doc)
    upstream_set = set(listed.ids)
    new: dict[str, list[str]] = {t: [] for t in types}
    other: list[str] = []
    for model_id in listed.ids:
        if model_id in everywhere:
            continue
        guessed = guess_type(model_id)
        if guessed in new:
            new[guessed].append(model_id)
        else:
            other.append(model_id)
    gone: dict[str, list[str]] = {}
    unchanged: dict[str, list[str]] = {}
    for model_type in types:
        declared = declared_ids(doc, model_type)
        gone[model_type] = [
            m
            for m in declared
            if m not in upstream_set and (model_type, m) not in deprecated
        ]
        unchanged[model_type] = [m for m in declared if m in upstream_set]
    return Comparison(
        model_types=types,
        new=new,
        gone=gone,
        unchanged=unchanged,
        other_types=other,
        skipped=listed.skipped,
    )


def default_template(doc: PluginDocument, model_type: str) -> str:
    """The first declared, not deprecated model of a type ("" without one)."""
    deprecated = _deprecated(doc)
    for model_id in declared_ids(doc, model_type):
        if (model_type, model_id) not in deprecated:
            return model_id
    ids = declared_ids(doc, model_type)
    return ids[0] if ids else ""


def upstream_items(
    doc: PluginDocument, comparison: Comparison, templates: Mapping[str, str]
) -> list[SyncItem]:
    """add_model items (from each type's template) and deprecate_model items.

    `templates` maps a model type to the declared model new ones copy; a type
    without one uses `default_template`. UpstreamError when a type has new
    models but no model to copy, or the template is not declared."""
    items: list[SyncItem] = []
    for model_type in comparison.model_types:
        new_ids = comparison.new.get(model_type, [])
        if new_ids:
            template = templates.get(model_type) or default_template(doc, model_type)
            if not template:
                raise UpstreamError(
                    f"{len(new_ids)} new {model_type} model(s) upstream, but the "
                    f"plugin declares no {model_type} model to copy"
                )
            if template not in declared_ids(doc, model_type):
                raise UpstreamError(
                    f"the template {template!r} is not a declared {model_type} model"
                )
            for model_id in new_ids:
                items.append(
                    SyncItem(
                        kind="add_model",
                        model_type=model_type,
                        model=model_id,
                        level=Level.NOTABLE,
                        summary=f"New model {model_id} (from {template})",
                        label=model_id,
                        template=template,
                    )
                )
        for model_id in comparison.gone.get(model_type, []):
            label = _label_of(doc, model_type, model_id)
            items.append(
                SyncItem(
                    kind="deprecate_model",
                    model_type=model_type,
                    model=model_id,
                    # What the review diff gives `deprecated: true`: notable
                    # (hidden from new configurations, saved ones keep working).
                    level=Level.NOTABLE,
                    summary=f"Deprecate {model_id} (no longer listed upstream)",
                    label=label,
                )
            )
    return items


def _label_of(doc: PluginDocument, model_type: str, model_id: str) -> str:
    for entry in doc.models_of(type_key(model_type)):
        if entry.spec.model == model_id:
            label = entry.spec.to_data().get("label")
            return i18n_text(label) or model_id
    return model_id


# ---------------------------------------------------------------- fetching


def models_url(base_url: str) -> str:
    """`<base>/models` for a base ending in /v1, else `<base>/v1/models`."""
    base = base_url.strip().rstrip("/")
    if base.endswith("/models"):
        return base
    if re.search(r"/v\d+$", base):
        return f"{base}/models"
    return f"{base}/v1/models"


def fetch_model_list(
    base_url: str,
    api_key: str,
    *,
    allow: Iterable[str] = (),
    resolver: Resolver = system_resolver,
    timeout: float = TIMEOUT_SECONDS,
    max_bytes: int = MAX_LIST_BYTES,
) -> ModelList:
    """GET the model list through the egress guard (EgressRefused), with the
    key as a Bearer token; UpstreamError for an answer that is not a list.

    The connection goes to the address the guard checked; redirects are not
    followed. The key goes into the request's header only: it is not kept,
    and no message here contains it."""
    return parse_model_list(
        fetch_bytes(
            models_url(base_url),
            bearer=api_key,
            allow=allow,
            resolver=resolver,
            timeout=timeout,
            max_bytes=max_bytes,
            what="the model list",
        ),
        max_bytes=max_bytes,
    )


def fetch_bytes(
    url: str,
    *,
    bearer: str = "",
    allow: Iterable[str] = (),
    resolver: Resolver = system_resolver,
    timeout: float = TIMEOUT_SECONDS,
    max_bytes: int = MAX_LIST_BYTES,
    what: str = "the answer",
) -> bytes:
    """The body of `GET url` (status 200) through the egress guard, size-capped
    (`fetch.guarded_get`: the checked address is the one connected to;
    redirects are re-checked and the key is not sent to another host).
    EgressRefused for a refused destination, UpstreamError otherwise."""
    allow = list(allow)
    headers = {"Accept": "application/json"}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    try:
        return guarded_get(
            url.strip(),
            allow=allow,
            headers=headers,
            max_bytes=max_bytes,
            timeout=timeout,
            total_timeout=max(timeout, TIMEOUT_SECONDS) * 3,
            resolver=resolver,
            setting="SYNC_EGRESS_ALLOW",
        )
    except FetchError as error:
        if error.refused:
            raise EgressRefused(str(error)) from None
        if error.status in (401, 403):
            raise UpstreamError(
                f"{_shown(url)} refused the API key (HTTP {error.status})"
            ) from None
        if error.too_large:
            raise UpstreamError(
                f"{what} is larger than {max_bytes // 1024} KiB; refused"
            ) from None
        raise UpstreamError(f"{_shown(url)}: {error}") from None


def _shown(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


__all__ = [
    "DEFAULT_TYPES",
    "MAX_LIST_BYTES",
    "Comparison",
    "EgressRefused",
    "ModelList",
    "UpstreamError",
    "compare_models",
    "default_template",
    "fetch_bytes",
    "fetch_model_list",
    "guess_type",
    "models_url",
    "parse_model_list",
    "upstream_items",
]
