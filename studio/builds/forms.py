"""Forms of the build screens: they validate, services act."""

from __future__ import annotations

from typing import Any

from django import forms

MAX_KEY_UPLOAD_BYTES = 64 * 1024


class BuildForm(forms.Form):
    smoke = forms.BooleanField(
        required=False,
        initial=True,
        label="Run the smoke test",
        help_text="Start the plugin and call it as Dify would (slower).",
    )


class SigningKeyGenerateForm(forms.Form):
    name = forms.SlugField(
        max_length=64,
        required=False,
        help_text="The public key's file is NAME.public.pem (default: team and date).",
    )


class SigningKeyUploadForm(forms.Form):
    name = forms.SlugField(max_length=64, required=False)
    key_file = forms.FileField(
        required=False,
        label="Private key file (PEM)",
        help_text="An unencrypted RSA private key (`dify signature generate`).",
    )
    key_text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        label="…or paste it",
        max_length=MAX_KEY_UPLOAD_BYTES,
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        upload = data.get("key_file")
        text = (data.get("key_text") or "").strip()
        if upload is not None:
            if upload.size > MAX_KEY_UPLOAD_BYTES:
                raise forms.ValidationError("That file is too large to be a key.")
            data["pem"] = upload.read()
        elif text:
            data["pem"] = text.encode("utf-8", "replace")
        else:
            raise forms.ValidationError("Choose a key file or paste the key.")
        return data


class DeleteProviderForm(forms.Form):
    """The confirmation of a provider's deletion: its plugin id, typed."""

    confirm = forms.CharField(
        label="Type the plugin id to confirm",
        max_length=300,
        strip=True,
    )

    def __init__(self, *args: Any, plugin_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plugin_id = plugin_id

    def clean_confirm(self) -> str:
        value: str = self.cleaned_data["confirm"]
        if value != self.plugin_id:
            raise forms.ValidationError(
                f"Type {self.plugin_id} exactly to delete this provider."
            )
        return value
