"""What the models table shows: one `Row` per model, grouped by type.

Built from the `ProviderModel` rows in one query (their `spec` copy holds
everything a row shows), so the page costs the same for 10 or 250 models.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from studio.pluginfmt.document import MODEL_TYPE_KEYS
from studio.pluginfmt.document.edits import (
    copy_model_id,
    max_tokens_rule,
    rule_effective,
    same_decimal,
)
from studio.pluginfmt.verify import Finding

from ..forms.models import UNIT_PRESETS, template_summary
from ..models import Provider, ProviderModel
from ..selectors.findings import (
    FileFindings,
    Marker,
    file_contents,
    marker,
    stored_findings,
)
from ..services import model_files

TYPE_LABELS = {
    "llm": "LLM",
    "text-embedding": "Text embedding",
    "rerank": "Rerank",
    "speech2text": "Speech to text",
    "tts": "Text to speech",
    "moderation": "Moderation",
}


@dataclass
class Row:
    """What one table row shows: the model's values, or what was just submitted."""

    pk: int
    model: str
    path: str
    model_type: str
    deprecated: bool
    lock: int
    values: dict[str, Any]
    has_context: bool
    is_llm: bool
    currency: str
    unit: str
    rule_count: int
    max_tokens_hint: str
    base: str
    first: bool = False
    last: bool = False
    errors: dict[str, list[str]] = field(default_factory=dict)
    notice: str = ""
    saved: dict[str, Any] | None = None  # the saved values, after a stale save
    new_id: str = ""
    # What the verifier found in the model's file at the last save.
    findings: Marker = field(default_factory=Marker)

    @property
    def url(self) -> str:
        return f"{self.base}{self.pk}/"


def _row_values(model: ProviderModel) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = model.spec if isinstance(model.spec, dict) else {}
    props = spec.get("model_properties")
    props = props if isinstance(props, dict) else {}
    rule = max_tokens_rule(spec.get("parameter_rules"))
    effective = rule_effective(rule) if rule is not None else {}
    pricing = spec.get("pricing")
    pricing = pricing if isinstance(pricing, dict) else {}

    def text(value: Any) -> str:
        return "" if value is None or isinstance(value, (dict, list)) else str(value)

    values = {
        "label": model.label,
        "context_size": text(props.get("context_size")),
        "max_tokens_default": text(effective.get("default")),
        "max_tokens_max": text(effective.get("max")),
        "input_price": text(pricing.get("input")),
        "output_price": text(pricing.get("output")),
        "deprecated": model.deprecated,
    }
    extra = {
        "currency": text(pricing.get("currency")),
        "unit": text(pricing.get("unit")),
        "rule_count": len(spec.get("parameter_rules") or [])
        if isinstance(spec.get("parameter_rules"), list)
        else 0,
        "max_tokens_hint": (
            f"template max_tokens ({template_summary('max_tokens')})"
            if rule is not None and rule.get("use_template") == "max_tokens"
            else ("no max_tokens rule yet" if rule is None else "custom rule")
        ),
    }
    return values, extra


def make_row(
    model: ProviderModel,
    base: str,
    findings: Marker | None = None,
    *,
    taken: Collection[str] = (),
) -> Row:
    """The row of a model; `taken` are the ids of its type (for the copy's id)."""
    values, extra = _row_values(model)
    unit = extra["unit"]
    unit_name = next(
        (
            name
            for value, name in UNIT_PRESETS[:-1]
            if unit and same_decimal(unit, value)
        ),
        f"unit {unit}" if unit else "",
    )
    return Row(
        pk=model.pk,
        model=model.model,
        path=model.path,
        model_type=model.model_type,
        deprecated=model.deprecated,
        lock=model.lock_version,
        values=values,
        has_context=model.model_type in model_files.CONTEXT_TYPES,
        is_llm=model.model_type == "llm",
        currency=extra["currency"],
        unit=unit_name,
        rule_count=extra["rule_count"],
        max_tokens_hint=extra["max_tokens_hint"],
        base=base,
        new_id=copy_model_id(model.model, taken),
        findings=findings or Marker(),
    )


def findings_by_path(provider: Provider) -> dict[str, Marker]:
    """The stored findings of the provider, one marker per file (no query)."""
    grouped: dict[str, list[Finding]] = {}
    for f in stored_findings(provider):
        grouped.setdefault(f.file, []).append(f)
    return {path: marker(found) for path, found in grouped.items()}


@dataclass
class Group:
    model_type: str
    label: str
    rows: list[Row]
    new_url: str
    supported: bool


def table_groups(provider: Provider, base: str) -> tuple[list[Group], list[str]]:
    """The table's rows by type, and the parameter rule names they use."""
    models = provider.models.only(
        "id",
        "model",
        "model_type",
        "label",
        "path",
        "position",
        "deprecated",
        "spec",
        "lock_version",
    ).order_by("model_type", "position", "model", "path")
    by_type: dict[str, list[Row]] = {}
    rule_names: set[str] = set()
    markers = findings_by_path(provider)
    loaded = list(models)
    taken: dict[str, set[str]] = {}
    for model in loaded:
        taken.setdefault(model.model_type, set()).add(model.model)
    for model in loaded:
        row = make_row(
            model, base, markers.get(model.path), taken=taken[model.model_type]
        )
        by_type.setdefault(model.model_type, []).append(row)
        rules = (
            model.spec.get("parameter_rules") if isinstance(model.spec, dict) else None
        )
        for rule in rules if isinstance(rules, list) else []:
            if isinstance(rule, dict) and isinstance(rule.get("name"), str):
                rule_names.add(rule["name"])
    types = [t for t in provider.model_types if t in MODEL_TYPE_KEYS]
    types += [t for t in by_type if t not in types]
    groups = []
    for model_type in types:
        rows = by_type.get(model_type, [])
        if rows:
            rows[0].first = True
            rows[-1].last = True
        groups.append(
            Group(
                model_type=model_type,
                label=TYPE_LABELS.get(model_type, model_type),
                rows=rows,
                new_url=f"{base}new?type={model_type}",
                supported=model_type in provider.model_types,
            )
        )
    return groups, sorted(rule_names)


def table_findings(provider: Provider, row_paths: set[str]) -> Marker:
    """Findings of the models no row shows: the provider YAML's `models` block
    and YAML files without a row (position files, unreadable model files).

    Reads the provider YAML (one query) only when it has findings to place.
    """
    findings = stored_findings(provider)
    path = provider.provider_path
    content = None
    if any(f.file == path and f.line is not None for f in findings):
        content = file_contents(provider, [path]).get(path)
    block = FileFindings(findings, path, content).at("models")
    loose = [
        f
        for f in findings
        if f.file.endswith((".yaml", ".yml"))
        and f.file not in ("manifest.yaml", path)
        and f.file not in row_paths
    ]
    return marker(block + loose)
