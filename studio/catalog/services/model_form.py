"""The model form's workflow: its cleaned values become one model YAML.

What the form controls is replaced; everything else of a saved model (unknown
keys, rule keys such as `show_on`, other languages of a rule's label) stays.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from studio.catalog.models import Provider, ProviderModel
from studio.pluginfmt.document import (
    MODEL_FEATURES,
    ModelEntry,
    ModelSpec,
    PluginDocument,
    YamlPart,
    dump_yaml,
    type_key,
)
from studio.pluginfmt.document.edits import (
    LANGUAGES,
    new_model_path,
    position_names,
    same_decimal,
    set_position,
    set_spec,
)
from studio.pluginfmt.yamlio import YamlError, load_yaml

from . import SaveResult, provider_edit
from .model_files import RULE_KEYS, entry_at, refuse_taken_id

# ---------------------------------------------------------------- the model form


@dataclass
class RuleValues:
    """One parameter rule of the form: `origin` is its index in the saved file."""

    origin: int | None
    values: dict[str, Any]  # RULE_KEYS -> value, None = absent


@dataclass
class VoiceValues:
    origin: int | None
    name: str
    mode: str
    language: list[str]


@dataclass
class PricingValues:
    input: str
    output: str | None
    unit: str
    currency: str


@dataclass
class ModelValues:
    """What the model form says about one model (cleaned)."""

    model: str
    label: dict[str, str]
    properties: dict[str, Any]  # the type's PROPERTY_KEYS (voices aside) -> value
    features: list[str] | None = None  # llm only
    voices: list[VoiceValues] | None = None  # tts only
    rules: list[RuleValues] = field(default_factory=list)
    pricing: PricingValues | None = None
    deprecated: bool = False


def model_spec_data(
    original: dict[str, Any] | None, model_type: str, values: ModelValues
) -> dict[str, Any]:
    """The model YAML data: the original's, with what the form controls replaced."""
    data = copy.deepcopy(original) if original else {}
    data["model"] = values.model
    label = data.get("label")
    label = dict(label) if isinstance(label, dict) else {}
    for lang in LANGUAGES:
        if values.label.get(lang):
            label[lang] = values.label[lang]
        else:
            label.pop(lang, None)
    label.setdefault("en_US", values.model)
    data["label"] = label
    data["model_type"] = model_type

    if values.features is not None:
        known = [f for f in data.get("features") or [] if isinstance(f, str)]
        # Checked features in the saved order, then new ones; features the SDK
        # does not know are kept for the verifier to report.
        kept = [f for f in known if f in values.features or f not in MODEL_FEATURES]
        kept += [f for f in values.features if f not in kept]
        if kept:
            data["features"] = kept
        else:
            data.pop("features", None)

    props = data.get("model_properties")
    props = dict(props) if isinstance(props, dict) else {}
    for key, value in values.properties.items():
        if value is None or value == "":
            props.pop(key, None)
        else:
            props[key] = value
    if values.voices is not None:
        saved = props.get("voices")
        old = saved if isinstance(saved, list) else []
        voices = []
        for voice in values.voices:
            base = (
                dict(old[voice.origin])
                if voice.origin is not None
                and voice.origin < len(old)
                and isinstance(old[voice.origin], dict)
                else {}
            )
            base.update(name=voice.name, mode=voice.mode, language=voice.language)
            voices.append(base)
        if voices:
            props["voices"] = voices
        else:
            props.pop("voices", None)
    data["model_properties"] = props

    old_rules = data.get("parameter_rules")
    old_rules = old_rules if isinstance(old_rules, list) else []
    rules = []
    for rule in values.rules:
        base = (
            copy.deepcopy(old_rules[rule.origin])
            if rule.origin is not None
            and rule.origin < len(old_rules)
            and isinstance(old_rules[rule.origin], dict)
            else {}
        )
        rules.append(_merge_rule(base, rule.values))
    if rules or "parameter_rules" in data:
        data["parameter_rules"] = rules

    if values.pricing is None:
        data.pop("pricing", None)
    else:
        pricing = data.get("pricing")
        pricing = dict(pricing) if isinstance(pricing, dict) else {}
        p = values.pricing
        for key, value in (("input", p.input), ("output", p.output), ("unit", p.unit)):
            if value is None:
                pricing.pop(key, None)
            elif not same_decimal(pricing.get(key), value):
                pricing[key] = value
        pricing["currency"] = p.currency
        data["pricing"] = pricing

    if values.deprecated:
        data["deprecated"] = True
    elif "deprecated" in data:
        data["deprecated"] = False
    return data


def _merge_rule(base: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # Keep the saved key order; the form's new keys follow in RULE_KEYS order.
    for key in [*base, *(k for k in RULE_KEYS if k not in base)]:
        if key in ("label", "help") and key in values:
            old = base.get(key)
            text = values[key]
            i18n = dict(old) if isinstance(old, dict) else {}
            if text:
                i18n["en_US"] = text
            else:
                i18n.pop("en_US", None)
            if i18n:
                out[key] = i18n
            continue
        if key in values:
            if values[key] is not None:
                out[key] = values[key]
        elif key in base:
            out[key] = base[key]
    return out


def model_save(
    *,
    provider: Provider,
    lock_version: int | None,
    model_type: str,
    model: ProviderModel | None,
    values: ModelValues,
) -> tuple[SaveResult, str]:
    """Create (model None) or rewrite one model YAML from the model form."""
    key = type_key(model_type)
    saved_path = model.path if model else ""

    def change(doc: PluginDocument) -> None:
        nonlocal saved_path
        if model is None:
            refuse_taken_id(doc, values.model, type_key=key, field="model")
            saved_path = new_model_path(doc, key, values.model)
            data = model_spec_data(None, model_type, values)
            doc.models.append(
                ModelEntry(
                    path=saved_path, spec=ModelSpec.model_validate(data), type_key=key
                )
            )
            names = position_names(doc, key)
            if names is not None and values.model not in names:
                set_position(doc, key, [*names, values.model])
            return
        entry = entry_at(doc, model.path)
        old_id = entry.spec.model
        if values.model != old_id:
            refuse_taken_id(
                doc, values.model, type_key=key, field="model", exclude=entry.path
            )
        set_spec(entry, model_spec_data(entry.spec.to_data(), model_type, values))
        names = position_names(doc, key)
        if names is not None and values.model != old_id:
            set_position(doc, key, [values.model if n == old_id else n for n in names])

    result = provider_edit(provider=provider, lock_version=lock_version, change=change)
    return result, saved_path


def model_yaml(
    *,
    source: bytes | None,
    model_type: str,
    values: ModelValues,
) -> str:
    """The YAML the form would save, in the saved file's style (a preview)."""
    original: dict[str, Any] | None = None
    if source is not None:
        try:
            loaded = load_yaml(source)
        except YamlError:
            loaded = None
        if loaded is not None and isinstance(loaded.data, dict):
            original = ModelSpec.model_validate(loaded.data).to_data()
            data = model_spec_data(original, model_type, values)
            if data == original:
                return source.decode("utf-8", "replace")
            part = YamlPart(
                path="preview.yaml",
                spec=ModelSpec.model_validate(data),
                source=source,
                loaded=loaded,
                baseline=original,
            )
            return part.to_bytes().decode("utf-8", "replace")
    data = model_spec_data(None, model_type, values)
    return dump_yaml(data).decode("utf-8")
