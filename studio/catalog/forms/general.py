"""The general-section form: it validates and cleans, the service saves."""

from __future__ import annotations

import re
from collections.abc import Callable

from django import forms
from django.core.validators import URLValidator
from packaging.version import InvalidVersion, Version

from studio.pluginfmt.verify.manifest import TAGS

from ..services.general import GeneralValues
from .providers import (
    LANGUAGES,
    clean_contact,
    clean_icon,
    clean_privacy,
    clean_repo,
    marketplace_fields,
)

# The daemon's manifest version rule (Go `\w` is ASCII), format doc §2.1.
VERSION_RE = re.compile(r"^\d{1,4}\.\d{1,4}\.\d{1,4}(-[0-9A-Za-z_]{1,16})?$")
COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
# Format doc §2.4, in its order.
TAG_CHOICES = [
    (tag, tag)
    for tag in (
        "search", "image", "videos", "weather", "finance", "design", "travel",
        "social", "news", "medical", "productivity", "education", "business",
        "entertainment", "utilities", "agent", "rag", "other", "trigger",
    )
]  # fmt: skip
assert {t for t, _ in TAG_CHOICES} == TAGS
I18N_LIMITS = {
    "label": ("Label", 200),
    "description": ("Description", 1000),
    "help_title": ("Help title", 200),
    "help_url": ("Help URL", 1000),
}


def _validate_version(value: str) -> None:
    if not VERSION_RE.match(value):
        raise forms.ValidationError(
            "Use X.Y.Z with at most 4 digits per part and an optional -suffix of "
            "up to 16 letters, digits or '_' (e.g. 1.2.0 or 1.2.0-beta1)."
        )
    try:
        Version(value)
    except InvalidVersion:
        raise forms.ValidationError(
            "The SDK cannot parse this as a version (PEP 440); try a suffix "
            "like -beta1, -rc1 or -post1."
        ) from None


def _validate_minimum(value: str) -> None:
    try:
        Version(value)
    except InvalidVersion:
        raise forms.ValidationError(
            "Not a version the SDK can parse (PEP 440), e.g. 1.6.0."
        ) from None


class GeneralForm(forms.Form):
    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    version = forms.CharField(
        label="Version",
        max_length=64,
        validators=[_validate_version],
        help_text="X.Y.Z[-suffix], the daemon's rule. Bump it for every release.",
    )
    background = forms.CharField(
        label="Background colour",
        max_length=7,
        required=False,
        help_text="#RRGGBB behind the provider's card in Dify; blank for none.",
        widget=forms.TextInput(attrs={"placeholder": "#E5E7EB"}),
    )
    minimum_dify_version = forms.CharField(
        label="Minimum Dify version",
        max_length=64,
        required=False,
        validators=[_validate_minimum],
        help_text="Optional, e.g. 1.6.0; Dify itself does not enforce it.",
    )
    tags = forms.MultipleChoiceField(
        label="Tags",
        choices=TAG_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    icon = forms.FileField(label="Replace the icon (SVG or PNG)", required=False)
    icon_dark = forms.FileField(
        label="Replace the dark icon (SVG or PNG)", required=False
    )

    def clean_background(self) -> str:
        value = self.cleaned_data["background"]
        if value and not COLOUR_RE.match(value):
            raise forms.ValidationError("Use a hex colour #RRGGBB, e.g. #E5E7EB.")
        return value

    def clean_icon(self) -> tuple[str, bytes] | None:
        return clean_icon(self.cleaned_data.get("icon"))

    def clean_icon_dark(self) -> tuple[str, bytes] | None:
        return clean_icon(self.cleaned_data.get("icon_dark"))

    # A value that is still the saved one passes as it is: an imported plugin
    # keeps its own `repo`, `contact` and `privacy` (e.g. a self-hosted forge)
    # through edits of other fields.
    def clean_repo(self) -> str:
        return self._unchanged_or("repo", clean_repo)

    def clean_contact(self) -> str:
        return self._unchanged_or("contact", clean_contact)

    def clean_privacy(self) -> str:
        return self._unchanged_or("privacy", clean_privacy)

    def _unchanged_or(self, name: str, clean: Callable[[str], str]) -> str:
        value: str = self.cleaned_data[name]
        if value and value == self.initial.get(name):
            return value
        return clean(value)

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        url_check = URLValidator(schemes=["http", "https"])
        for lang, _ in LANGUAGES:
            url = data.get(f"help_url_{lang}")
            if url:
                try:
                    url_check(url)
                except forms.ValidationError:
                    self.add_error(f"help_url_{lang}", "Use a full http(s):// URL.")
        title, url = self.i18n("help_title"), self.i18n("help_url")
        if (title or url) and not (title.get("en_US") and url.get("en_US")):
            # Both or neither: the SDK refuses a help without title or url.
            for prefix, given in (("help_title", title), ("help_url", url)):
                if not given.get("en_US") and f"{prefix}_en_US" not in self.errors:
                    self.add_error(
                        f"{prefix}_en_US",
                        "A help link needs both a title and a URL (at least in "
                        "English); clear both to remove it.",
                    )
        return data

    def i18n(self, prefix: str) -> dict[str, str]:
        return {
            lang: self.cleaned_data[f"{prefix}_{lang}"]
            for lang, _ in LANGUAGES
            if self.cleaned_data.get(f"{prefix}_{lang}")
        }

    def values(self) -> GeneralValues:
        data = self.cleaned_data
        return GeneralValues(
            label=self.i18n("label"),
            description=self.i18n("description"),
            version=data["version"],
            help_title=self.i18n("help_title"),
            help_url=self.i18n("help_url"),
            background=data["background"],
            minimum_dify_version=data["minimum_dify_version"],
            tags=list(data["tags"]),
            icon=data.get("icon"),
            icon_dark=data.get("icon_dark"),
            repo=data["repo"],
            contact=data["contact"],
            privacy=data["privacy"],
        )

    def language_rows(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        return [
            (lang, name, [self[f"{prefix}_{lang}"] for prefix in I18N_LIMITS])
            for lang, name in LANGUAGES
        ]

    @staticmethod
    def initial_from(values: GeneralValues, lock_version: int) -> dict:
        initial: dict = {
            "lock_version": lock_version,
            "version": values.version,
            "background": values.background,
            "minimum_dify_version": values.minimum_dify_version,
            "tags": [t for t in values.tags if t in TAGS],
            "repo": values.repo,
            "contact": values.contact,
            "privacy": values.privacy,
        }
        for prefix in I18N_LIMITS:
            texts = getattr(values, prefix)
            for lang, _ in LANGUAGES:
                initial[f"{prefix}_{lang}"] = texts.get(lang, "")
        return initial


for _prefix, (_label, _limit) in I18N_LIMITS.items():
    for _lang, _name in LANGUAGES:
        GeneralForm.base_fields[f"{_prefix}_{_lang}"] = forms.CharField(
            label=f"{_label} ({_name})",
            max_length=_limit,
            required=_lang == "en_US" and _prefix in ("label", "description"),
            strip=True,
        )

GeneralForm.base_fields.update(marketplace_fields())
