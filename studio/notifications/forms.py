"""The mail preferences form: it validates, services act."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import EMAIL_BY_DEFAULT, Kind


class EmailPreferencesForm(forms.Form):
    """One checkbox per kind: mail it or not."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in Kind:
            default = "on by default" if EMAIL_BY_DEFAULT[kind] else "off by default"
            self.fields[kind.value] = forms.BooleanField(
                required=False, label=kind.label, help_text=default
            )

    def email(self) -> dict[str, bool]:
        """Each kind and whether to mail it (valid forms only)."""
        return {kind: bool(self.cleaned_data.get(kind)) for kind in Kind.values}
