"""What a build declares, read from its package: models, parameter rules, pricing."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from studio.playground.builds import package_of, runnable_builds
from studio.playground.sessions import PlaygroundError
from studio.pluginfmt.document import PluginDocument, load_document, model_type_of
from studio.pluginfmt.readers import read_package


@dataclass(frozen=True)
class Control:
    """A parameter control as Dify shows it, from one parameter rule."""

    name: str
    label: str
    kind: str  # number, text, select, boolean
    minimum: str
    maximum: str
    default: str
    step: str
    help: str
    options: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Voice:
    """A text-to-speech voice as the model declares it (`mode` is what is sent)."""

    mode: str
    name: str


@dataclass(frozen=True)
class ModelInfo:
    model: str
    model_type: str
    label: str
    controls: list[Control]
    pricing: Any
    vision: bool
    voices: list[Voice] = field(default_factory=list)
    default_voice: str = ""
    audio_extensions: str = ""


# The context names of each panel's model list, by model type.
PANEL_LISTS = {
    "llm": "llms",
    "text-embedding": "embeddings",
    "rerank": "reranks",
    "moderation": "moderations",
    "speech2text": "speech2texts",
    "tts": "ttses",
}


def panel_lists(models: list[ModelInfo]) -> dict[str, list[Any]]:
    """The build's models grouped for the Try it panels (a panel per declared
    type), and the labels of the LLMs that take images (`vision_llms`)."""
    lists: dict[str, list[Any]] = {
        name: [m for m in models if m.model_type == model_type]
        for model_type, name in PANEL_LISTS.items()
    }
    lists["vision_llms"] = [m.label for m in lists["llms"] if m.vision]
    return lists


def _voices(values: list[Any] | None) -> list[Voice]:
    voices = []
    for value in values or []:
        data = value if isinstance(value, dict) else {}
        mode = _text(data.get("mode"))
        if mode:
            voices.append(Voice(mode=mode, name=_text(data.get("name")) or mode))
    return voices


@functools.lru_cache(maxsize=32)
def build_document(build_id: int) -> PluginDocument:
    """The build's plugin, read from its package (a build never changes)."""
    _, package = package_of(build_id)
    return load_document(read_package(package))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _i18n(value: Any) -> str:
    if value is None:
        return ""
    for key in ("en_US", "en_us"):
        text = getattr(value, key, None)
        if text:
            return str(text)
    return str(value) if isinstance(value, str) else ""


def _label(value: Any) -> str:
    if isinstance(value, dict):
        return _text(value.get("en_US") or next(iter(value.values()), ""))
    return _i18n(value)


def controls_of(rules: list[Any] | None) -> list[Control]:
    """Controls for the rules as Dify sees them (templates expanded)."""
    return _rule_controls([rule.effective() for rule in rules or []])


def models_of(document: PluginDocument) -> list[ModelInfo]:
    found = []
    for entry in document.models:
        spec = entry.spec
        if not spec.model:
            continue
        properties = spec.model_properties
        found.append(
            ModelInfo(
                model=spec.model,
                model_type=model_type_of(entry.type_key),
                label=_i18n(spec.label) or spec.model,
                controls=controls_of(spec.parameter_rules),
                pricing=spec.pricing,
                vision="vision" in (spec.features or []),
                voices=_voices(properties.voices if properties else None),
                default_voice=_text(properties.default_voice if properties else ""),
                audio_extensions=_text(
                    properties.supported_file_extensions if properties else ""
                ),
            )
        )
    return found


@dataclass(frozen=True)
class _Pricing:
    """A pricing block as the plugin's model schema answers it (a dict)."""

    input: Any = None
    output: Any = None
    unit: Any = None
    currency: Any = None


def _rule_controls(rules: Any) -> list[Control]:
    """Controls for parameter rules answered as JSON by the plugin."""
    controls = []
    for data in rules if isinstance(rules, list) else []:
        if not isinstance(data, dict):
            continue
        name = _text(data.get("name") or data.get("use_template"))
        if not name:
            continue
        kind = _text(data.get("type")) or "float"
        precision = data.get("precision")
        if kind == "int":
            step = "1"
        elif isinstance(precision, int) and precision > 0:
            step = "0." + "0" * (precision - 1) + "1"
        else:
            step = "any"
        options = [_text(o) for o in data.get("options") or []]
        shown = (
            "select"
            if options
            else "boolean"
            if kind == "boolean"
            else "text"
            if kind in ("string", "text")
            else "number"
        )
        controls.append(
            Control(
                name=name,
                label=_label(data.get("label")) or name,
                kind=shown,
                minimum=_text(data.get("min")),
                maximum=_text(data.get("max")),
                default=_text(data.get("default")),
                step=step,
                help=_label(data.get("help")),
                options=options,
            )
        )
    return controls


def own_model(session: dict[str, Any]) -> ModelInfo | None:
    """The session's customizable model (model credentials), if it has one:
    parameter rules and pricing from what the plugin's
    `get_customizable_model_schema` answered (none when it answered nothing)."""
    name = session.get("model")
    if not name:
        return None
    schema = session.get("model_schema") or {}
    pricing = schema.get("pricing") if isinstance(schema, dict) else None
    features = schema.get("features") if isinstance(schema, dict) else None
    return ModelInfo(
        model=str(name),
        model_type=str(session.get("model_type") or "llm"),
        label=f"{name} (your own model)",
        controls=_rule_controls(schema.get("parameter_rules")),
        pricing=_Pricing(
            **{k: pricing.get(k) for k in ("input", "output", "unit", "currency")}
        )
        if isinstance(pricing, dict)
        else None,
        vision="vision" in (features or []),
    )


@functools.lru_cache(maxsize=32)
def _build_models(build_id: int, checksum: str) -> tuple[ModelInfo, ...]:
    return tuple(models_of(build_document(build_id)))


def build_models(build_id: int) -> list[ModelInfo]:
    """The models a build declares, read from its package once per process
    (kept by id and package checksum: a build never changes); [] when the
    build or its package is gone (pruned)."""
    checksum = (
        runnable_builds().filter(pk=build_id).values_list("checksum", flat=True).first()
    )
    if checksum is None:
        return []
    try:
        return list(_build_models(build_id, checksum))
    except (PlaygroundError, OSError):
        return []


def session_models(session: dict[str, Any]) -> list[ModelInfo]:
    """The models a session may call: its own model when it was started with
    model credentials, else every model the build declares."""
    own = own_model(session)
    if own is not None:
        return [own]
    return build_models(session["build_id"])
