"""The form that starts a remote-debugging session."""

from __future__ import annotations

from typing import Any

from django import forms

from studio.lib.http import whole_number

DEFAULT_PORT = 5003


class DebugStartForm(forms.Form):
    """Address and key as Dify's plugin page shows them, and the build to run."""

    address = forms.CharField(
        label="Debugging address",
        max_length=300,
        help_text=(
            "host:port from Dify's plugin page (“Debug plugin”); port 5003 if left out."
        ),
    )
    key = forms.CharField(
        label="Debugging key",
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=(
            "Used for this session only: stored encrypted until the worker reads it."
        ),
    )
    build = forms.TypedChoiceField(label="Build", coerce=int)

    def __init__(self, *args: Any, builds: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        build = self.fields["build"]
        assert isinstance(build, forms.TypedChoiceField)
        build.choices = [
            (b.pk, f"#{b.pk} · {b.plugin_version} · {b.created_at:%Y-%m-%d %H:%M}")
            for b in builds
        ]

    def clean_address(self) -> tuple[str, int]:
        text = self.cleaned_data["address"].strip()
        for prefix in ("tcp://", "http://", "https://"):
            text = text.removeprefix(prefix)
        host, port = text, DEFAULT_PORT
        if text.startswith("["):  # [v6]:port
            host, _, rest = text[1:].partition("]")
            if rest.startswith(":"):
                port = self._port(rest[1:])
        elif text.count(":") == 1:
            host, raw = text.split(":")
            port = self._port(raw)
        if not host or any(c.isspace() or c in "/@?#" for c in host):
            raise forms.ValidationError(
                "Give the address as host:port, e.g. dify.example.com:5003."
            )
        return host, port

    def _port(self, raw: str) -> int:
        port = whole_number(raw, digits=5)
        if port is None or not 1 <= port <= 65535:
            raise forms.ValidationError("The port must be a number from 1 to 65535.")
        return port
