"""The new-provider form, and what other forms share: languages, icons, choices."""

from __future__ import annotations

import re
import uuid

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator

from studio.pluginfmt import marketplace
from studio.pluginfmt.document import CONFIGURATE_METHODS, MODEL_TYPE_KEYS
from studio.pluginfmt.icons import SvgProblem, looks_like_svg, svg_problems
from studio.pluginfmt.scaffold import CUSTOM, OPENAI_COMPATIBLE

NAME_RE = re.compile(r"^[a-z0-9_-]{1,128}$")
AUTHOR_RE = re.compile(r"^[a-z0-9_-]{1,64}$")
LANGUAGES = (
    ("en_US", "English"),
    ("zh_Hans", "简体中文"),
    ("ja_JP", "日本語"),
    ("pt_BR", "Português"),
)
MAX_ICON_BYTES = 512 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

MODEL_TYPE_CHOICES = [
    ("llm", "LLM"),
    ("text-embedding", "Text embedding"),
    ("rerank", "Rerank"),
    ("speech2text", "Speech to text"),
    ("tts", "Text to speech"),
    ("moderation", "Moderation"),
]
assert {t for t, _ in MODEL_TYPE_CHOICES} == set(MODEL_TYPE_KEYS)
METHOD_CHOICES = [
    ("predefined-model", "Predefined models (each model declared)"),
    ("customizable-model", "Customizable models (the user types a model name)"),
]
assert {m for m, _ in METHOD_CHOICES} == set(CONFIGURATE_METHODS)
RUNTIME_CHOICES = [
    (OPENAI_COMPATIBLE, "OpenAI-compatible (generated, works against any such API)"),
    (CUSTOM, "Custom skeleton (generated, you write the calls)"),
]


def validate_plugin_name(value: str) -> None:
    if not NAME_RE.match(value):
        raise forms.ValidationError(
            "Use 1 to 128 lower-case letters, digits, '_' or '-' (the daemon's rule)."
        )


def validate_author(value: str) -> None:
    if not AUTHOR_RE.match(value):
        raise forms.ValidationError(
            "Use 1 to 64 lower-case letters, digits, '_' or '-' (the daemon's rule)."
        )
    try:
        uuid.UUID(value)
    except ValueError:
        return
    raise forms.ValidationError("The daemon refuses a UUID as author.")


def clean_icon(upload: UploadedFile | None) -> tuple[str, bytes] | None:
    """An SVG or PNG icon as (file name, bytes), or a ValidationError."""
    if upload is None:
        return None
    if upload.size and upload.size > MAX_ICON_BYTES:
        raise forms.ValidationError(
            f"The icon is {upload.size // 1024} KiB; at most "
            f"{MAX_ICON_BYTES // 1024} KiB is allowed."
        )
    data = upload.read(MAX_ICON_BYTES + 1)
    if len(data) > MAX_ICON_BYTES:
        raise forms.ValidationError("The icon is too large.")
    if data.startswith(PNG_MAGIC):
        return "png", data
    if looks_like_svg(data):
        problems = svg_problems(data)
        if problems:
            raise forms.ValidationError(
                svg_refusal(upload.name or "icon.svg", problems)
            )
        return "svg", data
    raise forms.ValidationError("Upload an SVG or PNG image.")


def svg_refusal(name: str, problems: list[SvgProblem]) -> str:
    """One line for a refused SVG: its first problem and how many more."""
    more = len(problems) - 1
    text = f"{name}: {problems[0]}"
    if more:
        text += f" (and {more} more problem{'s' * (more != 1)})"
    return text + ". Export a plain SVG (shapes, gradients, text) and try again."


def clean_repo(value: str) -> str:
    """An https URL of a repository on a host the Marketplace accepts, or ""."""
    if not value:
        return ""
    problem = marketplace.repo_problem(value, https_only=True)
    if problem:
        raise forms.ValidationError(f"Not a source repository URL: {problem}.")
    return value


def clean_contact(value: str) -> str:
    """One email address the Marketplace accepts, or ""."""
    if value and not marketplace.is_email(value):
        raise forms.ValidationError("Enter one email address, such as you@example.com.")
    return value


def clean_privacy(value: str) -> str:
    """A file path inside the plugin, or an https URL, or ""."""
    if not value:
        return ""
    if marketplace.has_scheme(value):
        try:
            URLValidator(schemes=["https"])(value)
        except forms.ValidationError:
            raise forms.ValidationError(
                "Use an https:// URL, or a file in the plugin such as PRIVACY.md."
            ) from None
        return value
    problem = marketplace.privacy_path_problem(value)
    if problem:
        raise forms.ValidationError(f"Not a file in the plugin: {problem}.")
    return value


MARKETPLACE_FIELDS = ("repo", "contact", "privacy")


def marketplace_fields() -> dict[str, forms.Field]:
    """Source repository, contact and privacy policy: optional in the studio,
    required by the Marketplace."""
    return {
        "repo": forms.CharField(
            label="Source repository",
            max_length=marketplace.MAX_URL,
            required=False,
            help_text=(
                f"An https URL on {marketplace.SOURCE_HOSTS_TEXT}; also linked from "
                "README.md."
            ),
            # A text input (styled like the others); the server judges the URL.
            widget=forms.TextInput(
                attrs={
                    "placeholder": "https://github.com/you/plugin",
                    "inputmode": "url",
                    "autocomplete": "url",
                }
            ),
        ),
        "contact": forms.CharField(
            label="Contact email",
            max_length=marketplace.MAX_CONTACT,
            required=False,
            help_text="Where users and Marketplace reviewers reach you.",
            widget=forms.EmailInput(attrs={"placeholder": "you@example.com"}),
        ),
        "privacy": forms.CharField(
            label="Privacy policy",
            max_length=marketplace.MAX_URL,
            required=False,
            help_text=(
                "A file in the plugin (made from a template if it does not exist) "
                "or an https URL."
            ),
        ),
    }


def i18n_fields(prefix: str, label: str, *, max_length: int) -> dict:
    """One text field per Dify language; en_US required."""
    return {
        f"{prefix}_{lang}": forms.CharField(
            label=f"{label} ({name})",
            max_length=max_length,
            required=lang == "en_US",
            strip=True,
        )
        for lang, name in LANGUAGES
    }


class NewProviderForm(forms.Form):
    name = forms.CharField(
        label="Plugin name",
        max_length=128,
        validators=[validate_plugin_name],
        help_text="Lower-case letters, digits, '_' and '-'; also the provider id.",
    )
    author = forms.CharField(
        label="Author", max_length=64, validators=[validate_author]
    )
    icon = forms.FileField(label="Icon (SVG or PNG)", required=False)
    icon_dark = forms.FileField(label="Dark icon (SVG or PNG)", required=False)
    model_types = forms.MultipleChoiceField(
        label="Model types",
        choices=MODEL_TYPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["llm"],
    )
    configurate_methods = forms.MultipleChoiceField(
        label="How models are configured",
        choices=METHOD_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["predefined-model"],
    )
    runtime = forms.ChoiceField(
        label="Runtime",
        choices=RUNTIME_CHOICES,
        widget=forms.RadioSelect,
        initial=OPENAI_COMPATIBLE,
    )

    def clean_icon(self) -> tuple[str, bytes] | None:
        return clean_icon(self.cleaned_data.get("icon"))

    def clean_icon_dark(self) -> tuple[str, bytes] | None:
        return clean_icon(self.cleaned_data.get("icon_dark"))

    def clean_repo(self) -> str:
        return clean_repo(self.cleaned_data["repo"])

    def clean_contact(self) -> str:
        return clean_contact(self.cleaned_data["contact"])

    def clean_privacy(self) -> str:
        return clean_privacy(self.cleaned_data["privacy"])

    def i18n(self, prefix: str) -> dict[str, str]:
        return {
            lang: self.cleaned_data[f"{prefix}_{lang}"]
            for lang, _ in LANGUAGES
            if self.cleaned_data.get(f"{prefix}_{lang}")
        }

    def language_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (name, self[f"label_{lang}"], self[f"description_{lang}"])
            for lang, name in LANGUAGES
        ]

    def marketplace_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in MARKETPLACE_FIELDS]


NewProviderForm.base_fields.update(marketplace_fields())
NewProviderForm.base_fields["privacy"].initial = marketplace.PRIVACY_DEFAULT
NewProviderForm.base_fields.update(i18n_fields("label", "Label", max_length=200))
NewProviderForm.base_fields.update(
    i18n_fields("description", "Description", max_length=1000)
)
