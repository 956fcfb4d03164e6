"""What the models table shows: one `Row` per model, grouped by type, and
narrowed by the table's filters (`selectors.models.ModelFilters`).

Built from the `ProviderModel` rows in one query (their `spec` copy holds
everything a row shows, and what the filters match), so the page costs the
same for 10 or 250 models, filtered or not.

A row shown as text is written here (`row_html`), not by the template: the
template engine spent about 0.3 ms a row, a third of a second for 250 models,
where this takes a few milliseconds. Its edit form, one row at a time, stays
in `provider_models.html#row-form`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache, partial
from html import escape as html_escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from studio.pluginfmt.document import MODEL_TYPE_KEYS
from studio.pluginfmt.document.edits import (
    copy_model_id,
    max_tokens_rule,
    rule_effective,
)
from studio.pluginfmt.pricing import price_unit_text
from studio.pluginfmt.verify import Finding

from ..forms.models import template_summary
from ..models import Provider, ProviderModel
from ..selectors.findings import (
    FileFindings,
    Marker,
    file_contents,
    marker,
    stored_findings,
)
from ..selectors.models import (
    ModelFilters,
    model_features,
    spec_of,
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
    features: list[str] = field(default_factory=list)
    first: bool = False
    last: bool = False
    # Shown with inputs (the row's edit form, loaded on demand) or as text.
    editing: bool = False
    # False when the column's header names the price unit every row shares.
    show_unit: bool = True
    errors: dict[str, list[str]] = field(default_factory=dict)
    notice: str = ""
    saved: dict[str, Any] | None = None  # the saved values, after a stale save
    new_id: str = ""
    # What the verifier found in the model's file at the last save.
    findings: Marker = field(default_factory=Marker)

    # Whether the user may edit: the row then has a checkbox and a menu.
    can_edit: bool = False

    @property
    def url(self) -> str:
        return f"{self.base}{self.pk}/"

    @property
    def html(self) -> SafeString:
        return row_html(self)

    @property
    def findings_html(self) -> SafeString:
        return mark_safe(_findings_link(self))  # noqa: S308 (escaped there)


# The standard library's escape, as Django's but without its lazy-string
# wrapper (a tenth of the rows' time); quotes are escaped too.
escape = partial(html_escape, quote=True)

MAX_TOKENS_HINT = f"template max_tokens ({template_summary('max_tokens')})"


# The price unit in the same words as the forms and the diff, once per value.
unit_name = cache(price_unit_text)


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
            MAX_TOKENS_HINT
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
    """The row of a model; `taken` are the ids of its type (for the copy's id,
    which only the row's menu shows)."""
    values, extra = _row_values(model)
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
        unit=unit_name(extra["unit"]),
        rule_count=extra["rule_count"],
        max_tokens_hint=extra["max_tokens_hint"],
        base=base,
        features=model_features(model),
        new_id=copy_model_id(model.model, taken) if taken else "",
        findings=findings or Marker(),
    )


def _findings_link(row: Row) -> str:
    """The count of errors and warnings in the model's file, linking to the
    model form's list of them (the titles list them)."""
    m = row.findings
    if not m:
        return ""
    errors, warnings = m.errors, m.warnings
    if not (errors or warnings):
        return ""
    title = "\n".join(f"{f.rule}: {f.message}" for f in m)
    badges = ""
    if errors:
        badges += (
            f'<span class="badge error">{errors} error{"s" * (errors != 1)}</span>'
        )
    if warnings:
        badges += (
            f'<span class="badge warning">{warnings} warning'
            f"{'s' * (warnings != 1)}</span>"
        )
    return (
        f' <a class="finding-count" id="findings-m-{row.pk}" '
        f'href="{escape(row.url)}edit#model-findings" title="{escape(title)}">'
        f"{badges}</a>"
    )


def row_html(row: Row) -> SafeString:
    """The row shown as text: id, label, numbers, features and (for an editor)
    a checkbox and the menu its items are loaded into."""
    v = row.values
    model, url = escape(row.model), escape(row.url)
    rules = row.rule_count
    # The file's path only when the id does not tell it.
    usual = f"models/{MODEL_TYPE_KEYS.get(row.model_type)}/{row.model}.yaml"
    sub: list[str] = [escape(row.path)] if row.path != usual else []
    sub += [f"{rules} rule{'s' * (rules != 1)}"] if rules else []
    dash = "—"
    context = escape(v["context_size"] or dash) if row.has_context else dash
    tokens = (
        f"{escape(v['max_tokens_default'] or dash)} / "
        f"{escape(v['max_tokens_max'] or dash)}"
        if row.is_llm
        else dash
    )
    price = f"{escape(v['input_price'] or dash)} / {escape(v['output_price'] or dash)}"
    if row.show_unit and (row.currency or row.unit):
        price += f" <small>{escape(f'{row.currency} {row.unit}'.strip())}</small>"
    parts = [
        f'<tr id="m-{row.pk}" class="mrow{" deprecated" * row.deprecated}" '
        f'data-model="{model}">'
    ]
    # Cells carry no class: the stylesheet finds them by their place.
    if row.can_edit:
        parts.append(
            f'<td><input type="checkbox" name="selected" value="{row.pk}" '
            f'form="bulk-form" aria-label="Select {model}"></td>'
        )
    parts.append(
        f'<td><a href="{url}edit">{model}</a>{_findings_link(row)}'
        + (' <span class="badge">deprecated</span>' if row.deprecated else "")
        + (f"<small>{' · '.join(sub)}</small>" if sub else "")
        + (
            f'<p class="row-notice" role="status">{escape(row.notice)}</p>'
            if row.notice
            else ""
        )
        + "</td>"
    )
    parts.append(
        f"<td>{escape(v['label'])}</td><td>{context}</td><td>{tokens}</td>"
        f"<td>{price}</td><td>{escape(', '.join(row.features))}</td>"
    )
    if row.can_edit:
        parts.append(
            f'<td><details class="menu"><summary aria-label="Actions for {model}">'
            "Actions</summary><div>"
            f'<a href="{url}actions">Open the actions</a></div></details></td>'
        )
    else:
        parts.append(
            f'<td><a href="{url}edit">View<span class="sr-only"> {model}</span>'
            "</a></td>"
        )
    parts.append("</tr>\n")
    return mark_safe("".join(parts))  # noqa: S308 (every value is escaped above)


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
    unit: str = ""  # the price unit of every row ("USD per 1M tokens"), if one

    @property
    def editing(self) -> bool:
        """Whether a row shows its inputs (the template must write that one)."""
        return any(row.editing for row in self.rows)

    @property
    def rows_html(self) -> SafeString:
        """Every row as text, in one string: the template adds it at once."""
        return mark_safe("".join(row_html(row) for row in self.rows))  # noqa: S308


@dataclass
class Table:
    """The table as shown: its groups of the rows that match its filters."""

    groups: list[Group]
    rule_names: list[str]
    total: int  # models of the provider
    shown: int  # models matching the filters
    filters: ModelFilters = field(default_factory=ModelFilters)


def table_types(provider: Provider, models: list[ProviderModel]) -> list[str]:
    """The types the table groups by: the declared ones, then any a model has."""
    types = [t for t in provider.model_types if t in MODEL_TYPE_KEYS]
    return types + [
        t for t in dict.fromkeys(m.model_type for m in models) if t not in types
    ]


def type_choices(
    provider: Provider, models: list[ProviderModel]
) -> list[tuple[str, str]]:
    """(type, label) of every group, for the type filter."""
    return [(t, TYPE_LABELS.get(t, t)) for t in table_types(provider, models)]


def build_table(
    provider: Provider,
    base: str,
    models: list[ProviderModel],
    filters: ModelFilters | None = None,
    *,
    can_edit: bool = False,
) -> Table:
    """The table of `models` (from `table_models`) narrowed to `filters`;
    `can_edit` gives the rows their checkboxes and menus."""
    filters = filters or ModelFilters()
    by_type: dict[str, list[Row]] = {}
    rule_names: set[str] = set()
    markers = findings_by_path(provider)
    for model in models:
        rules = spec_of(model).get("parameter_rules")
        for rule in rules if isinstance(rules, list) else []:
            if isinstance(rule, dict) and isinstance(rule.get("name"), str):
                rule_names.add(rule["name"])
        if filters.active and not filters.matches(model):
            continue
        row = make_row(model, base, markers.get(model.path))
        row.can_edit = can_edit
        by_type.setdefault(model.model_type, []).append(row)
    types = table_types(provider, models)
    groups = []
    for model_type in types:
        rows = by_type.get(model_type, [])
        # Filtered, a type without a match is left out (the count says so).
        if filters.active and not rows:
            continue
        if rows:
            rows[0].first = True
            rows[-1].last = True
        # One price unit for every priced row goes in the header (rows
        # without a price show none).
        units = {f"{r.currency} {r.unit}".strip() for r in rows} - {""}
        unit = units.pop() if len(units) == 1 else ""
        for row in rows if unit else []:
            row.show_unit = False
        groups.append(
            Group(
                model_type=model_type,
                label=TYPE_LABELS.get(model_type, model_type),
                rows=rows,
                new_url=f"{base}new?type={model_type}",
                supported=model_type in provider.model_types,
                unit=unit,
            )
        )
    return Table(
        groups=groups,
        rule_names=sorted(rule_names),
        total=len(models),
        shown=sum(len(g.rows) for g in groups),
        filters=filters,
    )


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
