"""Forms of the models table: its filters, a row, its duplicate/move/delete
buttons, the order and the bulk actions; and what the model form's modules
share.

They validate and clean into the value types of `services.models`; the
services apply them to the files. The model form itself is in
`forms.model_form` (its fields) and `forms.model_rules` (its formsets).
"""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms

from studio.pluginfmt.document import (
    MODEL_FEATURES,
    MODEL_TYPE_KEYS,
    PARAMETER_TEMPLATES,
)
from studio.pluginfmt.document.edits import parse_decimal
from studio.pluginfmt.pricing import PRICE_UNITS, price_unit_text
from studio.pluginfmt.verify import MAX_MODEL_ID, model_id_problems

from ..selectors.models import ModelFilters
from ..services.models import BulkAction, InlineValues

LANGUAGE_NAMES = {
    "en_US": "English",
    "zh_Hans": "简体中文",
    "ja_JP": "日本語",
    "pt_BR": "Português",
}
MAX_TEXT = 1023  # I18nObject values must stay under 1024 characters
MAX_RULES = 128  # the Go tag's limit
MAX_VOICES = 200
RULE_NAME_RE = re.compile(r"^[^\s<>\"'`]+$")
CURRENCIES = ("USD", "CNY", "EUR", "GBP", "JPY", "KRW", "INR", "HKD", "SGD", "CAD")
# Worded by `price_unit_text`, as the review diff words them.
UNIT_PRESETS = (
    *((unit, price_unit_text(unit)) for unit in PRICE_UNITS),
    ("custom", "custom"),
)
PARAMETER_TYPES = ("float", "int", "string", "boolean", "text")


def template_summary(name: str) -> str:
    """`float, default 0.0, 0 to 1, precision 2` for a template."""
    t = PARAMETER_TEMPLATES[name]
    parts = [str(t["type"])]
    if "default" in t:
        parts.append(f"default {t['default']}")
    if "min" in t or "max" in t:
        parts.append(f"{t.get('min', '…')} to {t.get('max', '…')}")
    if "precision" in t:
        parts.append(f"precision {t['precision']}")
    if "options" in t:
        parts.append("options " + "/".join(t["options"]))
    return ", ".join(parts)


TEMPLATE_CHOICES = [("", "custom rule (no template)")] + [
    (name, f"{name} — {template_summary(name)}") for name in PARAMETER_TEMPLATES
]


def validate_model_id(value: str) -> None:
    """Refuse an id the verifier reports; the form is never stricter than it.

    Gateway ids (`Qwen/Qwen3-8B`, `llama3.1:8b`) are fine: the file name is
    derived from the id separately (`pluginfmt.document.edits.file_stem`).
    """
    problems = model_id_problems(value)
    if problems:
        raise forms.ValidationError([p.message for p in problems])


def clean_price(value: str, *, field: str = "price") -> str | None:
    """A price as the decimal text the author typed, or None when empty."""
    value = (value or "").strip()
    if not value:
        return None
    if parse_decimal(value) is None:
        raise forms.ValidationError(
            f"Enter the {field} as a decimal number such as 0.15 (not {value[:20]!r})."
        )
    return value


def value_text(value: Any) -> str:
    """A YAML scalar as an input shows it (booleans as true/false)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def en_text(value: Any) -> str:
    """The en_US text of an I18n mapping, or empty."""
    if isinstance(value, dict):
        text = value.get("en_US")
        return text if isinstance(text, str) else ""
    return ""


# ---------------------------------------------------------------- filters


class ModelFilterForm(forms.Form):
    """The table's search and filters (GET parameters; all optional)."""

    q = forms.CharField(label="Search", max_length=200, required=False, strip=True)
    type = forms.ChoiceField(label="Type", required=False)
    deprecated = forms.ChoiceField(
        label="Deprecated",
        required=False,
        choices=[("", "All"), ("yes", "Deprecated"), ("no", "Not deprecated")],
    )
    feature = forms.ChoiceField(label="Feature", required=False)
    priced = forms.ChoiceField(
        label="Pricing",
        required=False,
        choices=[("", "All"), ("yes", "Priced"), ("no", "No price")],
    )

    def __init__(
        self,
        *args: Any,
        types: list[tuple[str, str]],
        features: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        type_field = cast(forms.ChoiceField, self.fields["type"])
        type_field.choices = [("", "All types"), *types]
        # Any feature Dify knows is accepted (a bookmarked filter whose last
        # model is gone shows no rows); the choices offer the declared ones.
        self.features = features
        feature_field = cast(forms.ChoiceField, self.fields["feature"])
        known = list(dict.fromkeys([*features, *MODEL_FEATURES]))
        feature_field.choices = [("", "Any feature"), *((f, f) for f in known)]

    def filters(self) -> ModelFilters:
        d = self.cleaned_data
        return ModelFilters(
            q=d["q"],
            model_type=d["type"],
            deprecated=d["deprecated"],
            feature=d["feature"],
            priced=d["priced"],
        )


# ---------------------------------------------------------------- table row


class InlineForm(forms.Form):
    """One row of the models table."""

    model_lock = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    label = forms.CharField(max_length=MAX_TEXT, required=False, strip=True)
    context_size = forms.IntegerField(min_value=1, max_value=10**9, required=False)
    max_tokens_default = forms.IntegerField(
        min_value=1, max_value=10**9, required=False
    )
    max_tokens_max = forms.IntegerField(min_value=1, max_value=10**9, required=False)
    input_price = forms.CharField(max_length=32, required=False)
    output_price = forms.CharField(max_length=32, required=False)
    deprecated = forms.BooleanField(required=False)

    def clean_input_price(self) -> str | None:
        return clean_price(
            self.cleaned_data.get("input_price", ""), field="input price"
        )

    def clean_output_price(self) -> str | None:
        return clean_price(
            self.cleaned_data.get("output_price", ""), field="output price"
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        default, high = data.get("max_tokens_default"), data.get("max_tokens_max")
        if default is not None and high is not None and default > high:
            self.add_error("max_tokens_default", "The default is above the maximum.")
        return data

    def values(self) -> InlineValues:
        d = self.cleaned_data
        return InlineValues(
            label=d["label"],
            context_size=d.get("context_size"),
            max_tokens_default=d.get("max_tokens_default"),
            max_tokens_max=d.get("max_tokens_max"),
            input_price=d.get("input_price"),
            output_price=d.get("output_price"),
            deprecated=d.get("deprecated", False),
        )


class DuplicateForm(forms.Form):
    model_lock = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    new_id = forms.CharField(
        label="New model id", max_length=MAX_MODEL_ID, validators=[validate_model_id]
    )

    def __init__(self, *args: Any, taken_ids: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.taken_ids = taken_ids

    def clean_new_id(self) -> str:
        value = self.cleaned_data["new_id"]
        if value in self.taken_ids:
            raise forms.ValidationError(f"The model id {value!r} is already used.")
        return value


class LockForm(forms.Form):
    """A row action that only needs the row's lock (move, delete)."""

    model_lock = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class ReorderForm(forms.Form):
    lock_version = forms.IntegerField(min_value=0)
    model_type = forms.ChoiceField(choices=[(t, t) for t in MODEL_TYPE_KEYS])


# ---------------------------------------------------------------- bulk


BULK_ACTIONS = [
    ("deprecate", "Deprecate"),
    ("undeprecate", "Undeprecate"),
    ("pricing", "Set pricing currency / unit"),
    ("rule-default", "Set a parameter rule's default"),
]


class BulkForm(forms.Form):
    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    selected = forms.TypedMultipleChoiceField(coerce=int, required=False)
    action = forms.ChoiceField(choices=BULK_ACTIONS)
    currency = forms.ChoiceField(
        choices=[("", "(keep)")] + [(c, c) for c in CURRENCIES], required=False
    )
    unit = forms.ChoiceField(choices=[("", "(keep)"), *UNIT_PRESETS], required=False)
    unit_custom = forms.CharField(max_length=32, required=False)
    rule = forms.CharField(max_length=255, required=False)
    value = forms.CharField(max_length=MAX_TEXT, required=False)

    def __init__(self, *args: Any, model_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        selected = cast(forms.TypedMultipleChoiceField, self.fields["selected"])
        selected.choices = [(pk, pk) for pk in model_ids]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("selected") and "selected" not in self.errors:
            self.add_error("selected", "Select at least one model.")
        action = data.get("action")
        if action == "pricing":
            unit = data.get("unit") or ""
            if unit == "custom":
                custom = (data.get("unit_custom") or "").strip()
                number = parse_decimal(custom)
                if number is None or number == 0:
                    self.add_error("unit_custom", "Enter a positive decimal unit.")
                unit = custom
            data["unit"] = unit
            if not data.get("currency") and not unit:
                self.add_error("currency", "Choose a currency or a unit to set.")
        if action == "rule-default":
            if not (data.get("rule") or "").strip():
                self.add_error("rule", "Name the parameter rule.")
            if not (data.get("value") or "").strip():
                self.add_error("value", "Give the new default.")
        return data

    def action_value(self) -> BulkAction:
        d = self.cleaned_data
        return BulkAction(
            action=d["action"],
            currency=d.get("currency") or "",
            unit=d.get("unit") or "",
            rule=(d.get("rule") or "").strip(),
            value=(d.get("value") or "").strip(),
        )
