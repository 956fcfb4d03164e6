"""What an author says about a new plugin, and the text helpers its files share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from studio.pluginfmt.marketplace import PRIVACY_DEFAULT

OPENAI_COMPATIBLE = "openai-compatible"
CUSTOM = "custom"


@dataclass
class NewPlugin:
    """What an author says about a new plugin."""

    author: str
    name: str
    label: dict[str, str]
    description: dict[str, str]
    model_types: list[str]
    configurate_methods: list[str]
    runtime: str = OPENAI_COMPATIBLE
    version: str = "0.0.1"
    icon: tuple[str, bytes] | None = None
    icon_dark: tuple[str, bytes] | None = None
    created_at: datetime | None = None
    extra_files: dict[str, bytes] = field(default_factory=dict)
    # What the Marketplace asks for (format doc §2.1; the studio's
    # `marketplace` module): blank `repo`/`contact` are left out of the
    # manifest; `privacy` is a file in the package or an http(s) URL.
    repo: str = ""
    contact: str = ""
    privacy: str = PRIVACY_DEFAULT


def camel(name: str) -> str:
    """`my-gateway_2` -> `MyGateway2`, for generated class names."""
    parts = [p for p in name.replace("-", "_").split("_") if p]
    text = "".join(p[:1].upper() + p[1:] for p in parts) or "Plugin"
    return text if text[0].isalpha() else f"P{text}"


def i18n(values: dict[str, str]) -> dict[str, str]:
    """Only the four Dify languages, en_US first, empty values dropped."""
    order = ("en_US", "zh_Hans", "ja_JP", "pt_BR")
    return {lang: values[lang] for lang in order if values.get(lang)}
