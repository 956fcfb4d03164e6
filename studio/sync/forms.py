"""The Sync tab's forms: check upstream, price table, drift watch."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from studio.pluginfmt.sync.upstream import MODEL_TYPES

from .models import Source
from .services import MAX_INTERVAL_HOURS, SyncError, parse_mapping

KEY_HELP = (
    "Used for this one request to the list and then forgotten: never stored, "
    "never logged."
)


class UpstreamForm(forms.Form):
    base_url = forms.CharField(
        label="Base URL",
        max_length=500,
        help_text="The OpenAI-compatible API, e.g. https://api.example.com/v1; "
        "the studio asks its /models.",
        widget=forms.URLInput(attrs={"placeholder": "https://api.example.com/v1"}),
    )
    api_key = forms.CharField(
        label="API key",
        required=False,
        max_length=4096,
        strip=True,
        help_text=KEY_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    model_types = forms.MultipleChoiceField(
        label="Types the list speaks for",
        choices=[(t, t) for t in MODEL_TYPES],
        initial=["llm"],
        widget=forms.CheckboxSelectMultiple,
        help_text="Declared models of these types missing upstream are proposed "
        "for deprecation; a new id's type is guessed from its name.",
    )

    def __init__(self, *args: Any, templates: dict[str, list[str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.template_types = [t for t in MODEL_TYPES if templates.get(t)]
        declared = set(self.template_types) or {"llm"}
        field = self.fields["model_types"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(t, t) for t in MODEL_TYPES if t in declared]
        for model_type in self.template_types:
            self.fields[f"template_{model_type}"] = forms.ChoiceField(
                label=f"Template for new {model_type} models",
                choices=[(m, m) for m in templates[model_type]],
                required=False,
                help_text="Its properties, rules and pricing are copied.",
            )

    def templates(self) -> dict[str, str]:
        return {
            t: self.cleaned_data.get(f"template_{t}") or ""
            for t in self.template_types
            if self.cleaned_data.get(f"template_{t}")
        }


class PricesForm(forms.Form):
    table_file = forms.FileField(
        label="Table file (JSON)",
        required=False,
        help_text="LiteLLM's model_prices_and_context_window.json format.",
    )
    table_url = forms.CharField(
        label="…or its URL",
        required=False,
        max_length=500,
        widget=forms.URLInput(
            attrs={"placeholder": "https://raw.githubusercontent.com/…/…json"}
        ),
    )
    mapping = forms.CharField(
        label="Id mapping",
        required=False,
        max_length=100_000,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "openai/gpt-4o = gpt-4o"}
        ),
        help_text="One `table-id = model-id` per line, for ids that differ.",
    )

    def clean_mapping(self) -> dict[str, str]:
        try:
            return parse_mapping(self.cleaned_data.get("mapping") or "")
        except SyncError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload, url = data.get("table_file"), (data.get("table_url") or "").strip()
        if bool(upload) == bool(url):
            raise forms.ValidationError("Give either a table file or its URL.")
        if upload is not None and upload.size > settings.SYNC_TABLE_MAX_BYTES:
            self.add_error(
                "table_file",
                f"The file is larger than {settings.SYNC_TABLE_MAX_BYTES // 1024} KiB.",
            )
        return data


class WatchForm(forms.Form):
    enabled = forms.BooleanField(label="Watch for drift", required=False)
    interval_hours = forms.IntegerField(
        label="Every (hours)", min_value=1, max_value=MAX_INTERVAL_HOURS, initial=24
    )
    source = forms.ChoiceField(label="Check", choices=Source.choices)
    base_url = forms.CharField(
        label="Base URL",
        required=False,
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://api.example.com/v1"}),
    )
    template = forms.CharField(label="Template model", required=False, max_length=255)
    api_key = forms.CharField(
        label="API key",
        required=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Leave blank to keep the stored one.",
    )
    keep_credential = forms.BooleanField(
        label="Keep the API key for the watch",
        required=False,
        help_text="Stored encrypted (Fernet) and used only by the scheduled "
        "check; untick to forget it.",
    )
    table_url = forms.CharField(
        label="Table URL", required=False, max_length=500, widget=forms.URLInput()
    )
    mapping = forms.CharField(
        label="Id mapping",
        required=False,
        max_length=100_000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "openai/gpt-4o = gpt-4o"}
        ),
    )
