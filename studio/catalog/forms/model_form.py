"""The model form: a model's fields adapted to its type, validated together
with its parameter rules and (tts) voices by `ModelEditor`.

Rows are added and removed by submit buttons that re-render the form, so it
works without JavaScript; those re-renders show no errors.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.forms.formsets import TOTAL_FORM_COUNT
from django.http import QueryDict

from studio.pluginfmt.document import MODEL_FEATURES, PARAMETER_TEMPLATES
from studio.pluginfmt.document.edits import LANGUAGES, parse_decimal
from studio.pluginfmt.verify import MAX_MODEL_ID

from ..services.model_form import ModelValues, PricingValues
from .model_rules import (
    RuleForm,
    RuleFormSet,
    VoiceForm,
    VoiceFormSet,
    rules_initial,
    voices_initial,
)
from .models import (
    CURRENCIES,
    LANGUAGE_NAMES,
    MAX_RULES,
    MAX_TEXT,
    MAX_VOICES,
    UNIT_PRESETS,
    clean_price,
    validate_model_id,
    value_text,
)

CURRENCY_CHOICES = [(c, c) for c in CURRENCIES]


class ModelForm(forms.Form):
    """The fields of one model; the type-specific ones are kept per `model_type`."""

    model = forms.CharField(label="Model id", max_length=MAX_MODEL_ID)
    # label_<lang> fields are added below
    mode = forms.ChoiceField(
        label="Mode", choices=[("chat", "chat"), ("completion", "completion")]
    )
    context_size = forms.IntegerField(
        label="Context size (tokens)", min_value=1, max_value=10**9
    )
    max_chunks = forms.IntegerField(
        label="Max chunks per call", min_value=1, max_value=10**6, required=False
    )
    file_upload_limit = forms.IntegerField(
        label="File upload limit (MB)", min_value=1, max_value=10**5, required=False
    )
    supported_file_extensions = forms.CharField(
        label="Supported file extensions",
        max_length=500,
        required=False,
        help_text="Comma-separated, e.g. mp3,wav,m4a",
    )
    default_voice = forms.CharField(
        label="Default voice", max_length=255, required=False
    )
    word_limit = forms.IntegerField(
        label="Word limit", min_value=1, max_value=10**7, required=False
    )
    audio_type = forms.CharField(label="Audio type", max_length=32, required=False)
    max_workers = forms.IntegerField(
        label="Max workers", min_value=1, max_value=1000, required=False
    )
    max_characters_per_chunk = forms.IntegerField(
        label="Max characters per chunk", min_value=1, max_value=10**8, required=False
    )
    features = forms.MultipleChoiceField(
        label="Features",
        choices=[(f, f) for f in MODEL_FEATURES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    pricing_input = forms.CharField(label="Input price", max_length=32, required=False)
    pricing_output = forms.CharField(
        label="Output price", max_length=32, required=False
    )
    pricing_unit = forms.ChoiceField(
        label="Unit", choices=UNIT_PRESETS, initial="0.000001", required=False
    )
    pricing_unit_custom = forms.CharField(
        label="Custom unit", max_length=32, required=False
    )
    pricing_currency = forms.ChoiceField(
        label="Currency",
        choices=CURRENCY_CHOICES,
        initial="USD",
        required=False,
    )
    deprecated = forms.BooleanField(label="Deprecated (hidden in Dify)", required=False)

    TYPE_FIELDS: dict[str, tuple[str, ...]] = {
        "llm": ("mode", "context_size", "features"),
        "text-embedding": ("context_size", "max_chunks"),
        "rerank": ("context_size",),
        "speech2text": ("file_upload_limit", "supported_file_extensions"),
        "tts": ("default_voice", "word_limit", "audio_type", "max_workers"),
        "moderation": ("context_size", "max_chunks", "max_characters_per_chunk"),
    }
    ALL_TYPE_FIELDS = frozenset(f for fs in TYPE_FIELDS.values() for f in fs)

    def __init__(
        self,
        *args: Any,
        model_type: str,
        saved_id: str | None = None,
        taken_ids: frozenset[str] | set[str] = frozenset(),
        currency: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.model_type = model_type
        self.saved_id = saved_id
        self.taken_ids = taken_ids
        keep = self.TYPE_FIELDS[model_type]
        for name in self.ALL_TYPE_FIELDS - set(keep):
            del self.fields[name]
        if model_type != "llm" and "context_size" in self.fields:
            self.fields["context_size"].required = False
        if currency and currency not in CURRENCIES:
            # An imported model's currency stays choosable.
            field = cast(forms.ChoiceField, self.fields["pricing_currency"])
            field.choices = [(currency, currency), *CURRENCY_CHOICES]

    def clean_model(self) -> str:
        value = self.cleaned_data["model"].strip()
        if value == self.saved_id:
            return value  # an imported id is kept as it is
        validate_model_id(value)
        if value in self.taken_ids:
            raise forms.ValidationError(
                f"The model id {value!r} is already used in this provider "
                f"(by another {self.model_type} model)."
            )
        return value

    def clean_supported_file_extensions(self) -> str:
        value = self.cleaned_data.get("supported_file_extensions", "")
        parts = [p.strip().lower().lstrip(".") for p in value.split(",") if p.strip()]
        bad = [p for p in parts if not re.fullmatch(r"[a-z0-9]{1,16}", p)]
        if bad:
            raise forms.ValidationError(
                "Use extensions such as mp3 or wav, comma-separated "
                f"(not {bad[0][:20]!r})."
            )
        return ",".join(parts)

    def clean_pricing_input(self) -> str | None:
        return clean_price(
            self.cleaned_data.get("pricing_input", ""), field="input price"
        )

    def clean_pricing_output(self) -> str | None:
        return clean_price(
            self.cleaned_data.get("pricing_output", ""), field="output price"
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if (
            data.get("pricing_output")
            and not data.get("pricing_input")
            and "pricing_input" not in self.errors
        ):
            self.add_error(
                "pricing_input", "Give an input price too (the SDK requires it)."
            )
        if data.get("pricing_input"):
            unit = data.get("pricing_unit") or "0.000001"
            if unit == "custom":
                custom = (data.get("pricing_unit_custom") or "").strip()
                number = parse_decimal(custom)
                if number is None or number == 0:
                    self.add_error(
                        "pricing_unit_custom",
                        "Enter the unit as a positive decimal, e.g. 0.000001 "
                        "for a price per million tokens.",
                    )
                unit = custom
            data["unit_value"] = unit
            if not data.get("pricing_currency"):
                self.add_error("pricing_currency", "Choose the currency of the prices.")
        return data

    def label_rows(self) -> list[tuple[str, forms.BoundField]]:
        return [(LANGUAGE_NAMES[lang], self[f"label_{lang}"]) for lang in LANGUAGES]

    def type_fields(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in self.TYPE_FIELDS[self.model_type]
            if name != "features"
        ]


for _lang in LANGUAGES:
    ModelForm.base_fields[f"label_{_lang}"] = forms.CharField(
        label=f"Label ({LANGUAGE_NAMES[_lang]})",
        max_length=MAX_TEXT,
        required=False,
        help_text="Defaults to the model id." if _lang == "en_US" else "",
    )


def model_initial(spec: dict[str, Any]) -> dict[str, Any]:
    """The model form's initial values from a saved model YAML."""
    props = spec.get("model_properties")
    props = props if isinstance(props, dict) else {}
    label = spec.get("label") if isinstance(spec.get("label"), dict) else {}
    initial: dict[str, Any] = {
        "model": spec.get("model", ""),
        "features": [f for f in spec.get("features") or [] if f in MODEL_FEATURES],
        "deprecated": spec.get("deprecated") is True,
    }
    for lang in LANGUAGES:
        text = label.get(lang) if isinstance(label, dict) else None
        initial[f"label_{lang}"] = text if isinstance(text, str) else ""
    for key in ModelForm.ALL_TYPE_FIELDS - {"features"}:
        value = props.get(key)
        if value is not None and not isinstance(value, (dict, list)):
            initial[key] = value
    pricing = spec.get("pricing")
    if isinstance(pricing, dict):
        initial["pricing_input"] = value_text(pricing.get("input"))
        initial["pricing_output"] = value_text(pricing.get("output"))
        unit = pricing.get("unit")
        preset = next(
            (
                value
                for value, _ in UNIT_PRESETS[:-1]
                if unit is not None and parse_decimal(str(unit)) == Decimal(value)
            ),
            None,
        )
        initial["pricing_unit"] = preset or "custom"
        initial["pricing_unit_custom"] = "" if preset else value_text(unit)
        initial["pricing_currency"] = pricing.get("currency") or "USD"
    return initial


NEW_LLM_RULES = ("temperature", "top_p", "max_tokens")


class ModelEditor:
    """The model form: its fields, parameter rules and (tts) voices together.

    `action` says what the submit button asked: save, preview, or a row added
    or removed (then the form is re-rendered with no errors shown).
    """

    def __init__(
        self,
        *,
        model_type: str,
        data: QueryDict | None = None,
        spec: dict[str, Any] | None = None,
        saved_id: str | None = None,
        taken_ids: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        self.model_type = model_type
        self.action = "save"
        currency = None
        if spec and isinstance(spec.get("pricing"), dict):
            currency = spec["pricing"].get("currency")
        if data is not None:
            data = self._apply_row_buttons(data)
            self.form = ModelForm(
                data,
                model_type=model_type,
                saved_id=saved_id,
                taken_ids=taken_ids,
                currency=currency or data.get("pricing_currency"),
            )
            self.rules = RuleFormSet(data, prefix="rules")
            self.voices = VoiceFormSet(data, prefix="voices")
        else:
            if spec is not None:
                initial = model_initial(spec)
                rules = rules_initial(spec)
                voices = voices_initial(spec)
            else:
                initial = {"mode": "chat", "pricing_unit": "0.000001"}
                rules = (
                    [{"use_template": t, "name": t} for t in NEW_LLM_RULES]
                    if model_type == "llm"
                    else []
                )
                voices = []
            self.form = ModelForm(
                initial=initial,
                model_type=model_type,
                saved_id=saved_id,
                taken_ids=taken_ids,
                currency=currency,
            )
            self.rules = RuleFormSet(initial=rules, prefix="rules")
            self.voices = VoiceFormSet(initial=voices, prefix="voices")

    @property
    def show_errors(self) -> bool:
        return self.form.is_bound and self.action in ("save", "preview")

    def _apply_row_buttons(self, data: QueryDict) -> QueryDict:
        data = data.copy()
        if "_add_rule" in data:
            self.action = "add"
            template = data.get("add_template", "")
            template = template if template in PARAMETER_TEMPLATES else ""
            self._add_row(data, "rules", {"use_template": template, "name": template})
        elif "_remove_rule" in data:
            self.action = "remove"
            self._remove_row(data, "rules", data.get("_remove_rule", ""), RuleForm)
        elif "_add_voice" in data:
            self.action = "add"
            self._add_row(data, "voices", {})
        elif "_remove_voice" in data:
            self.action = "remove"
            self._remove_row(data, "voices", data.get("_remove_voice", ""), VoiceForm)
        elif "_preview" in data:
            self.action = "preview"
        return data

    @staticmethod
    def _total(data: QueryDict, prefix: str, limit: int) -> int:
        try:
            return max(0, min(int(data.get(f"{prefix}-{TOTAL_FORM_COUNT}", 0)), limit))
        except ValueError:
            return 0

    def _add_row(self, data: QueryDict, prefix: str, values: dict[str, str]) -> None:
        limit = MAX_RULES if prefix == "rules" else MAX_VOICES
        total = self._total(data, prefix, limit)
        if total >= limit:
            return
        for key, value in values.items():
            data[f"{prefix}-{total}-{key}"] = value
        data[f"{prefix}-{TOTAL_FORM_COUNT}"] = str(total + 1)
        data.setdefault(f"{prefix}-INITIAL_FORMS", "0")

    def _remove_row(
        self, data: QueryDict, prefix: str, index: str, form: type[forms.Form]
    ) -> None:
        limit = MAX_RULES if prefix == "rules" else MAX_VOICES
        total = self._total(data, prefix, limit)
        try:
            at = int(index)
        except ValueError:
            return
        if not 0 <= at < total:
            return
        names = list(form.base_fields)
        for i in range(at, total - 1):
            for name in names:
                values = data.getlist(f"{prefix}-{i + 1}-{name}")
                data.setlist(f"{prefix}-{i}-{name}", values)
        for name in names:
            data.pop(f"{prefix}-{total - 1}-{name}", None)
        data[f"{prefix}-{TOTAL_FORM_COUNT}"] = str(total - 1)

    def is_valid(self) -> bool:
        valid = self.form.is_valid() & self.rules.is_valid()
        if self.model_type == "tts":
            valid &= self.voices.is_valid()
        return bool(valid)

    def errors_summary(self) -> list[str]:
        """Every error as one line (for the preview pane)."""
        out = [
            f"{self.form[f].label if f in self.form.fields else 'Form'}: {e}"
            for f, errs in self.form.errors.items()
            for e in errs
        ]
        for i, form in enumerate(self.rules.forms):
            out += [
                f"Rule {i + 1} {f}: {e}"
                for f, errs in form.errors.items()
                for e in errs
            ]
        out += [str(e) for e in self.rules.non_form_errors()]
        if self.model_type == "tts":
            for i, form in enumerate(self.voices.forms):
                out += [
                    f"Voice {i + 1} {f}: {e}"
                    for f, errs in form.errors.items()
                    for e in errs
                ]
        return out

    def values(self) -> ModelValues:
        d = self.form.cleaned_data
        model_id = d["model"]
        label = {lang: d.get(f"label_{lang}", "").strip() for lang in LANGUAGES}
        label = {k: v for k, v in label.items() if v}
        properties: dict[str, Any] = {}
        for name in self.form.TYPE_FIELDS[self.model_type]:
            if name == "features":
                continue
            value = d.get(name)
            properties[name] = value if value not in ("",) else None
        pricing = None
        if d.get("pricing_input"):
            pricing = PricingValues(
                input=d["pricing_input"],
                output=d.get("pricing_output"),
                unit=d["unit_value"],
                currency=d["pricing_currency"],
            )
        return ModelValues(
            model=model_id,
            label=label,
            properties=properties,
            features=list(d.get("features") or [])
            if self.model_type == "llm"
            else None,
            voices=self.voices.voices() if self.model_type == "tts" else None,
            rules=self.rules.rules(),
            pricing=pricing,
            deprecated=d.get("deprecated", False),
        )
