"""Model discovery through the provider's globs, model YAMLs and position files.

Model files are found exactly as the daemon finds them (`globs.glob_match`:
`*` never crosses `/`); YAML files no glob matches are not part of the plugin
and are only reported as orphans by the package checks.
"""

from __future__ import annotations

from typing import Any

from ..globs import glob_match
from ..yamlio import LoadedYaml
from . import schema
from .context import Context, ModelFile, ProviderInfo
from .model_ids import model_id_problems, shown_id
from .parameters import check_parameter_rules, check_pricing
from .positions import check_positions
from .schema import TYPE_KEYS, describe

SDK_MODEL_TYPES = set(TYPE_KEYS.values())
FEATURES = {
    "tool-call", "multi-tool-call", "agent-thought", "vision", "stream-tool-call",
    "document", "video", "audio", "structured-output", "polling",
}  # fmt: skip
PROPERTY_KEYS = {
    "mode", "context_size", "max_chunks", "file_upload_limit",
    "supported_file_extensions", "max_characters_per_chunk", "default_voice",
    "voices", "word_limit", "audio_type", "max_workers",
}  # fmt: skip
POSITION = "_position.yaml"


def check_models_block(ctx: Context, info: ProviderInfo) -> None:
    """Read `models:`, find the model files and positions, and check them all."""
    _discover(ctx, info)
    for model_file in info.model_files:
        _check_model_file(ctx, info, model_file)
    _check_duplicates(ctx, info)
    check_positions(ctx, info)
    methods = info.data.get("configurate_methods")
    methods = methods if isinstance(methods, list) else []
    if "predefined-model" in methods and not info.model_files:
        ctx.add(
            "provider.predefined.no-models",
            info.path,
            info.loaded.line_of("models")
            if "models" in info.data
            else info.loaded.line_of("configurate_methods"),
            "predefined-model is selected but no model YAML is found through "
            "`models.<type>.predefined`.",
        )
    elif info.model_files and "predefined-model" not in methods and methods:
        ctx.add(
            "provider.models.not-predefined",
            info.path,
            info.loaded.line_of("configurate_methods"),
            f"{len(info.model_files)} model YAMLs are found, but configurate_methods "
            "lacks predefined-model, so Dify does not list them.",
        )


def _discover(ctx: Context, info: ProviderInfo) -> None:
    path, loaded, data = info.path, info.loaded, info.data
    if "models" not in data:
        return
    block = data["models"]
    if not isinstance(block, dict):
        ctx.add(
            "provider.models.not-mapping",
            path,
            loaded.line_of("models"),
            f"`models` must be a mapping of model type to globs, not "
            f"{describe(block)}; the SDK refuses it.",
        )
        return
    all_paths = sorted(ctx.files)
    matched: dict[str, list[str]] = {}
    for key, entry in block.items():
        at = ("models", key)
        if key not in TYPE_KEYS:
            hint = ""
            if isinstance(key, str) and key.replace("-", "_") in TYPE_KEYS:
                hint = f" (write {key.replace('-', '_')}, with an underscore)"
            ctx.add(
                "provider.models.unknown-key",
                path,
                loaded.line_of(*at),
                f"`models.{key}` is not a model type key and is ignored{hint}.",
                value=str(key),
            )
            continue
        kind = TYPE_KEYS[key]
        declared = data.get("supported_model_types")
        if isinstance(declared, list) and kind not in declared:
            ctx.add(
                "provider.models.type-not-supported",
                path,
                loaded.line_of(*at),
                f"`models.{key}` is declared but supported_model_types lacks {kind}.",
                value=key,
            )
        if not isinstance(entry, dict):
            ctx.add(
                "provider.models.entry-invalid",
                path,
                loaded.line_of(*at),
                f"`models.{key}` must be a mapping with `predefined`, not "
                f"{describe(entry)}; the SDK crashes on it.",
            )
            continue
        if "position" in entry:
            position = entry["position"]
            text = position if isinstance(position, str) else ""
            info.declared_positions[key] = text.removeprefix("./")
            if info.declared_positions[key] not in ctx.files:
                ctx.add(
                    "provider.models.position-missing",
                    path,
                    loaded.line_of(*at, "position"),
                    f"`models.{key}.position` names {position!r}, which is not in "
                    "the package; the daemon fails to read it.",
                    value=position,
                )
        patterns = entry.get("predefined", [])
        if not isinstance(patterns, list) or not all(
            isinstance(p, str) for p in patterns
        ):
            ctx.add(
                "provider.models.entry-invalid",
                path,
                loaded.line_of(*at, "predefined"),
                f"`models.{key}.predefined` must be a list of glob texts, not "
                f"{describe(patterns)}; the SDK crashes on it.",
                value=patterns,
            )
            continue
        for i, pattern in enumerate(patterns):
            parts = pattern.removeprefix("./").split("/")
            if "**" in pattern or pattern.startswith("/") or ".." in parts:
                ctx.add(
                    "provider.models.glob-recursive",
                    path,
                    loaded.line_of(*at, "predefined", i),
                    f"The glob {pattern!r} uses `**` or leaves the plugin folder; "
                    "`*` never crosses `/` in the daemon.",
                    value=pattern,
                )
            hits = [p for p in all_paths if glob_match(pattern, p)]
            if not hits:
                ctx.add(
                    "provider.models.glob-empty",
                    path,
                    loaded.line_of(*at, "predefined", i),
                    f"The glob {pattern!r} matches no file.",
                    value=pattern,
                )
            for hit in hits:
                if hit.endswith(POSITION):
                    positions = info.globbed_positions.setdefault(key, [])
                    if hit not in positions:
                        positions.append(hit)
                else:
                    keys = matched.setdefault(hit, [])
                    if key not in keys:
                        keys.append(key)
    for file_path in sorted(matched):
        loaded_model = ctx.load_declared(file_path)
        info.model_files.append(
            ModelFile(
                path=file_path,
                keys=matched[file_path],
                loaded=loaded_model,
                data=None,
            )
        )


def _check_model_file(ctx: Context, info: ProviderInfo, mf: ModelFile) -> None:
    loaded = mf.loaded
    if loaded is None:
        return
    path, data = mf.path, loaded.data
    if data is None or data == {} or data == "":
        ctx.add(
            "model.empty",
            path,
            loaded.line_of(),
            "The model YAML is empty; the SDK refuses to start "
            '("Error loading model entity").',
        )
        return
    if not isinstance(data, dict):
        ctx.add(
            "model.not-mapping",
            path,
            loaded.line_of(),
            f"A model YAML must be a mapping of fields, not {describe(data)}.",
        )
        return
    mf.data = data
    schema.check(ctx, path, loaded, "model", schema.MODEL)

    def add(rule: str, key: tuple[Any, ...], message: str, **kw: Any) -> None:
        ctx.add(rule, path, loaded.line_of(*key), message, **kw)

    name = data.get("model")
    if name is None:
        add("model.name.missing", (), "The model YAML has no `model` id.")
    elif isinstance(name, str):
        for problem in model_id_problems(name):
            add(problem.rule, ("model",), problem.message, value=shown_id(name))
    kind = data.get("model_type")
    if isinstance(kind, (dict, list)):
        pass  # model.field-type says it
    elif kind is None:
        add("model.model-type.missing", (), "The model YAML has no `model_type`.")
    elif kind == "text2img":
        add(
            "model.model-type.text2img",
            ("model_type",),
            "model_type text2img has no model class in the SDK.",
            value=kind,
        )
    elif not isinstance(kind, str) or kind not in SDK_MODEL_TYPES:
        hint = ""
        if kind == "text_embedding":
            hint = " (write text-embedding, with a hyphen)"
        elif isinstance(kind, str) and kind.startswith("multimodal"):
            hint = " (the daemon knows it, but SDK 0.10 crashes on it)"
        add(
            "model.model-type.invalid",
            ("model_type",),
            f"model_type is {describe(kind)}, which the SDK does not know{hint}.",
            value=kind,
        )
    else:
        for key in mf.keys:
            if TYPE_KEYS[key] != kind:
                add(
                    "model.model-type.mismatch",
                    ("model_type",),
                    f"model_type is {kind}, but the file is found by the glob of "
                    f"`models.{key}` ({TYPE_KEYS[key]}).",
                    value=kind,
                )
        if info.supported_types and kind not in info.supported_types:
            add(
                "model.model-type.unsupported",
                ("model_type",),
                f"model_type {kind} is not in the provider's supported_model_types.",
                value=kind,
            )
    fetch_from = data.get("fetch_from")
    if not isinstance(fetch_from, (type(None), dict, list)) and fetch_from not in (
        "predefined-model",
        "customizable-model",
    ):
        add(
            "model.fetch-from.invalid",
            ("fetch_from",),
            f"fetch_from is {describe(fetch_from)}; only predefined-model and "
            "customizable-model exist.",
            value=fetch_from,
        )
    features = data.get("features")
    if isinstance(features, list):
        for i, feature in enumerate(features):
            if isinstance(feature, str) and feature not in FEATURES:
                add(
                    "model.feature.unknown",
                    ("features", i),
                    f"Feature {feature!r} is not one the SDK knows; it refuses to "
                    "start.",
                    value=feature,
                )
        if features and kind in SDK_MODEL_TYPES - {"llm"}:
            add(
                "model.feature.non-llm",
                ("features",),
                f"Features are only used for llm models, not {kind}.",
                value=features,
            )
    _check_properties(ctx, path, loaded, data, kind)
    rules = data.get("parameter_rules")
    if isinstance(rules, list):
        check_parameter_rules(ctx, path, loaded, rules)
    pricing = data.get("pricing")
    if isinstance(pricing, dict):
        check_pricing(ctx, path, loaded, pricing)


def _check_properties(
    ctx: Context, path: str, loaded: LoadedYaml, data: dict[str, Any], kind: Any
) -> None:
    props = data.get("model_properties")
    if props is None:
        ctx.add(
            "model.properties.missing",
            path,
            loaded.line_of("model_properties") if "model_properties" in data else
            loaded.line_of(),
            "model_properties is missing; the SDK requires it (it may be {}).",
        )  # fmt: skip
        return
    if not isinstance(props, dict):
        return
    for key in props:
        if key not in PROPERTY_KEYS:
            ctx.add(
                "model.properties.unknown-key",
                path,
                loaded.line_of("model_properties", key),
                f"model_properties key {str(key)!r} is not one the SDK knows; it "
                "refuses to start.",
                value=str(key),
            )
    if kind != "llm":
        return
    mode = props.get("mode")
    if mode not in ("chat", "completion"):
        ctx.add(
            "model.properties.mode",
            path,
            loaded.line_of("model_properties", "mode"),
            f"The llm mode is {describe(mode)}; Dify expects chat or completion.",
            value=mode,
        )
    size = props.get("context_size")
    if not isinstance(size, int) or isinstance(size, bool):
        ctx.add(
            "model.properties.context-size",
            path,
            loaded.line_of("model_properties", "context_size"),
            f"The llm context_size is {describe(size)}, not a number of tokens.",
            value=size,
        )


def _check_duplicates(ctx: Context, info: ProviderInfo) -> None:
    seen: dict[tuple[Any, Any], str] = {}
    for mf in info.model_files:
        if mf.data is None or mf.loaded is None:
            continue
        name, kind = mf.data.get("model"), mf.data.get("model_type")
        if not isinstance(name, (str, int, float)) or isinstance(kind, (dict, list)):
            continue
        key = (kind, name)
        if key in seen:
            ctx.add(
                "model.name.duplicate",
                mf.path,
                mf.loaded.line_of("model"),
                f"Model id {name!r} is already declared by {seen[key]}.",
                value=name,
            )
        else:
            seen[key] = mf.path
