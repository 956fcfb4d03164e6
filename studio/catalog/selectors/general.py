"""Reads of the general section: its values as last saved, and where its
fields show the findings of the last save."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.catalog.models import Provider
from studio.pluginfmt.document.edits import LANGUAGES, text
from studio.pluginfmt.verify import Finding

from ..services.general import ASSETS, GeneralValues
from .findings import FileFindings, Marker, file_contents, marker, stored_findings

# ---------------------------------------------------------------- values


def _i18n(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {lang: text(value[lang]) for lang in LANGUAGES if value.get(lang)}


def general_values(provider: Provider) -> GeneralValues:
    """The general section as last saved."""
    manifest = provider.manifest
    declaration = provider.declaration
    help_ = declaration.get("help")
    help_ = help_ if isinstance(help_, dict) else {}
    meta = manifest.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    tags = manifest.get("tags")
    return GeneralValues(
        label=_i18n(manifest.get("label")),
        description=_i18n(manifest.get("description")),
        version=text(manifest.get("version")),
        help_title=_i18n(help_.get("title")),
        help_url=_i18n(help_.get("url")),
        background=text(declaration.get("background")),
        minimum_dify_version=text(meta.get("minimum_dify_version")),
        tags=[text(t) for t in tags] if isinstance(tags, list) else [],
        icon=text(manifest.get("icon")),
        icon_dark=text(manifest.get("icon_dark")),
        repo=_scalar(manifest.get("repo")),
        contact=_scalar(manifest.get("contact")),
        privacy=_scalar(manifest.get("privacy")),
    )


def _scalar(value: Any) -> str:
    # A mapping or list where text belongs is the verifier's to report; the
    # form starts empty rather than showing a Python repr.
    return "" if isinstance(value, (dict, list)) else text(value)


# ---------------------------------------------------------------- findings

MANIFEST = "manifest.yaml"
# Keys of the provider YAML that other sections edit (and show findings of).
OTHER_SECTIONS = ("provider_credential_schema", "model_credential_schema", "models")
MARKETPLACE_KEYS = ("repo", "contact", "privacy")


@dataclass(frozen=True)
class GeneralFindings:
    """The stored findings of the general section, by the field they concern."""

    label: Marker
    description: Marker
    version: Marker
    help_title: Marker
    help_url: Marker
    background: Marker
    minimum_dify_version: Marker
    tags: Marker
    icon: Marker
    icon_dark: Marker
    repo: Marker
    contact: Marker
    privacy: Marker
    # Findings of manifest.yaml and the provider YAML no field above owns and
    # no other section shows (unknown keys, types, plugin id, ...).
    other: Marker


def general_findings(provider: Provider) -> GeneralFindings:
    """Where the general section shows the findings of the last save.

    Reads manifest.yaml and the provider YAML (one query) only when they have
    findings with a line to place.
    """
    findings = stored_findings(provider)
    provider_path = provider.provider_path
    wanted = [
        p
        for p in (MANIFEST, provider_path)
        if any(f.file == p and f.line is not None for f in findings)
    ]
    contents = file_contents(provider, wanted)
    manifest = FileFindings(findings, MANIFEST, contents.get(MANIFEST))
    declaration = FileFindings(findings, provider_path, contents.get(provider_path))

    def icon_files(*keys: str) -> list[Finding]:
        names = {text(provider.manifest.get(k)) for k in keys}
        return [f for f in findings if f.file in {ASSETS + n for n in names if n}]

    help_url = declaration.at("help", "url")
    placed = {
        "label": manifest.at("label") + declaration.at("label"),
        "description": manifest.at("description") + declaration.at("description"),
        "version": manifest.at("version"),
        "help_title": [f for f in declaration.at("help") if f not in help_url],
        "help_url": help_url,
        "background": declaration.at("background"),
        "minimum_dify_version": manifest.at("meta", "minimum_dify_version"),
        "tags": manifest.at("tags"),
        "icon": manifest.at("icon")
        + declaration.at("icon_small")
        + declaration.at("icon_large")
        + icon_files("icon"),
        "icon_dark": manifest.at("icon_dark")
        + declaration.at("icon_small_dark")
        + declaration.at("icon_large_dark")
        + icon_files("icon_dark"),
    }
    # The Marketplace's keys are placed by rule: a missing key has no line of
    # its own (its finding points at the top of the file, i.e. another key).
    by_rule = {
        key: [f for f in manifest.findings if f.rule.startswith(f"manifest.{key}.")]
        for key in MARKETPLACE_KEYS
    }
    taken = {id(f) for found in by_rule.values() for f in found}
    placed = {
        key: [f for f in found if id(f) not in taken] for key, found in placed.items()
    } | by_rule
    elsewhere = [f for key in OTHER_SECTIONS for f in declaration.at(key)]
    other = manifest.rest(*placed.values()) + declaration.rest(
        *placed.values(), elsewhere
    )
    return GeneralFindings(
        **{name: marker(found) for name, found in placed.items()},
        other=marker(other),
    )
