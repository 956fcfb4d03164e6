"""A version reduced to what the diff compares, and the anchors into it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from studio.pluginfmt.document import PluginDocument, model_type_of

from .values import MISSING, Anchor, jsonable


@dataclass
class PluginView:
    """A version reduced to what the diff compares, addressable by anchors.

    `data` holds: manifest, provider (without the parts compared on their
    own), credential/<schema>/<variable>, credential_model_name, model/<type>/
    <id> (parameter rules by name, with their template merged in),
    position/<type>, file/<path> (SHA-256 of files that are not YAML parts).
    """

    data: dict[str, Any]
    credential_order: dict[str, list[str]]
    model_paths: dict[tuple[str, str], str]
    version: str


_PROVIDER_OWN = {
    "provider_credential_schema",
    "model_credential_schema",
    "models",
    "position",
}


def plugin_view(doc: PluginDocument) -> PluginView:
    """The comparable view of a document."""
    manifest = doc.manifest.spec.to_data()
    declaration = doc.provider.spec.to_data()
    provider = {k: v for k, v in declaration.items() if k not in _PROVIDER_OWN}
    provider["models"] = declaration.get("models") or {}
    provider["position"] = declaration.get("position")
    if provider["position"] is None:
        del provider["position"]

    credentials: dict[str, dict[str, Any]] = {}
    order: dict[str, list[str]] = {}
    for schema, key in (
        ("provider", "provider_credential_schema"),
        ("model", "model_credential_schema"),
    ):
        block = declaration.get(key)
        fields = block.get("credential_form_schemas") if isinstance(block, dict) else []
        credentials[schema] = {}
        order[schema] = []
        for item in fields if isinstance(fields, list) else []:
            if not isinstance(item, dict):
                continue
            name = str(item.get("variable") or "")
            if not name or name in credentials[schema]:
                continue
            credentials[schema][name] = dict(item)
            order[schema].append(name)
    model_block = declaration.get("model_credential_schema")
    model_name = (
        model_block.get("model") if isinstance(model_block, dict) else None
    ) or {}

    models: dict[str, dict[str, Any]] = {}
    paths: dict[tuple[str, str], str] = {}
    for entry in doc.models:
        model_type = model_type_of(entry.type_key)
        data = entry.spec.to_data()
        model_id = str(data.get("model") or "")
        rules: dict[str, Any] = {}
        for rule in entry.spec.parameter_rules or []:
            if rule.name:
                rules[str(rule.name)] = rule.effective()
        if "parameter_rules" in data:
            data["parameter_rules"] = rules
        models.setdefault(model_type, {})[model_id] = data
        paths[(model_type, model_id)] = entry.path

    positions: dict[str, list[str]] = {}
    for key in dict.fromkeys(p.type_key for p in doc.positions):
        position = doc.position_of(key)
        if position is not None:
            positions[model_type_of(key)] = position.names
    files = {
        path: hashlib.sha256(content).hexdigest() for path, content in doc.files.items()
    }
    return PluginView(
        data={
            "manifest": manifest,
            "provider": provider,
            "credential": credentials,
            "credential_model_name": model_name,
            "model": models,
            "position": positions,
            "file": files,
        },
        credential_order=order,
        model_paths=paths,
        version=str(manifest.get("version") or ""),
    )


def empty_view() -> PluginView:
    """The view of nothing (the base of a first version)."""
    return PluginView(
        data={
            "manifest": {},
            "provider": {},
            "credential": {"provider": {}, "model": {}},
            "credential_model_name": {},
            "model": {},
            "position": {},
            "file": {},
        },
        credential_order={"provider": [], "model": []},
        model_paths={},
        version="",
    )


def value_at(view: PluginView, anchor: Anchor) -> Any:
    """The value at `anchor` in `view`, or MISSING."""
    node: Any = view.data
    for part in anchor:
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


def value_digest(value: Any) -> str:
    """A short stable fingerprint of a value (MISSING has its own)."""
    if value is MISSING:
        text = "\x00missing"
    else:
        text = json.dumps(jsonable(value), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


_SUBJECT_LENGTH = {
    "manifest": 1,
    "provider": 1,
    "credential": 3,
    "credential_model_name": 1,
    "model": 3,
    "position": 2,
    "file": 2,
}
_PLACE_NAMES = {
    "manifest": "Manifest",
    "provider": "Provider",
    "credential_model_name": "Model name field (customizable models)",
}


def subject_of(anchor: Anchor) -> Anchor:
    """The subject part of an anchor: ("model", "llm", "gpt-4o", …) -> 3 parts."""
    if not anchor:
        return ()
    return anchor[: _SUBJECT_LENGTH.get(anchor[0], 1)]


def anchor_label(anchor: Anchor) -> str:
    """A short human name of a place: `llm gpt-4o · pricing.input`."""
    if not anchor:
        return "the revision"
    subject = subject_of(anchor)
    rest = ".".join(anchor[len(subject) :])
    kind = subject[0]
    if kind == "model" and len(subject) == 3:
        name = f"{subject[1]} model {subject[2]}"
    elif kind == "credential" and len(subject) == 3:
        name = f"{subject[1]} credential {subject[2]}"
    elif kind == "credential" and len(subject) == 2:
        name = f"{subject[1]} credential form"
    elif kind == "position" and len(subject) == 2:
        name = f"order of {subject[1]} models"
    elif kind == "file" and len(subject) == 2:
        name = f"file {subject[1]}"
    else:
        name = _PLACE_NAMES.get(kind, " ".join(subject))
    return f"{name} · {rest}" if rest else name


def valid_anchor(anchor: Any) -> bool:
    """Whether `anchor` is a well-formed place (any subject kind this diff knows)."""
    return (
        isinstance(anchor, tuple | list)
        and 0 < len(anchor) <= 12
        and all(isinstance(p, str) and 0 < len(p) <= 255 for p in anchor)
        and anchor[0] in _SUBJECT_LENGTH
        and len(anchor) >= min(2, _SUBJECT_LENGTH[anchor[0]])
    )


def comment_places(
    view: PluginView, *, model_details: bool = True
) -> list[tuple[Anchor, str]]:
    """The places of a version a reviewer may pin a comment to, with labels:
    the version, the provider, each credential field, and per model the model
    and (`model_details`) its pricing, context size, max tokens, features and
    label."""
    places: list[Anchor] = [("manifest", "version"), ("provider",)]
    for schema in ("provider", "model"):
        places.extend(
            ("credential", schema, name) for name in view.credential_order[schema]
        )
    for model_type, models in view.data["model"].items():
        for model_id, model in models.items():
            subject = ("model", model_type, model_id)
            places.append(subject)
            if not model_details:
                continue
            if "pricing" in model:
                places.append((*subject, "pricing"))
            props = model.get("model_properties")
            if isinstance(props, dict) and "context_size" in props:
                places.append((*subject, "model_properties", "context_size"))
            rules = model.get("parameter_rules")
            for name, rule in (rules or {}).items() if isinstance(rules, dict) else ():
                if name == "max_tokens" or rule.get("use_template") == "max_tokens":
                    places.append((*subject, "parameter_rules", name))
            places.extend((*subject, key) for key in ("features", "label"))
    return [(anchor, anchor_label(anchor)) for anchor in places]
