"""The general section of a provider: identity, texts, look and icons.

Label and description live twice, in manifest.yaml (what the marketplace and
plugin list show) and in the provider YAML (what the model-provider settings
show); the studio keeps them equal. Only values that changed are written, so
an untouched key keeps its exact YAML form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.catalog.models import Provider
from studio.pluginfmt.document import I18n, Meta, PluginDocument, ProviderHelp, Spec
from studio.pluginfmt.verify import Finding

from . import SaveResult, provider_edit
from .credentials import LANGUAGES, merge_i18n, text
from .files import FileFindings, Marker, file_contents, marker, stored_findings

ASSETS = "_assets/"
LIGHT_ICON = "icon"
DARK_ICON = "icon-dark"
PROVIDER_ICON_KEYS = ("icon_small", "icon_large")


@dataclass(frozen=True)
class GeneralValues:
    """The general section as the form shows and submits it (text throughout).

    `icon`/`icon_dark` are the current file names when read, and an uploaded
    replacement (extension, bytes) or None when submitted.
    """

    label: dict[str, str]
    description: dict[str, str]
    version: str
    help_title: dict[str, str] = field(default_factory=dict)
    help_url: dict[str, str] = field(default_factory=dict)
    background: str = ""
    minimum_dify_version: str = ""
    tags: list[str] = field(default_factory=list)
    icon: Any = None
    icon_dark: Any = None


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
    )


def _unset(spec: Spec, name: str) -> None:
    """Remove a key from the YAML of `spec` (a declared field or an extra)."""
    if name in type(spec).model_fields:
        if name in spec.model_fields_set:
            setattr(spec, name, None)
            spec.model_fields_set.discard(name)
    elif spec.__pydantic_extra__ and name in spec.__pydantic_extra__:
        del spec.__pydantic_extra__[name]


def _set_i18n(spec: Spec, name: str, new: dict[str, str]) -> None:
    old = getattr(spec, name)
    old_data = old.to_data() if old is not None else None
    merged = merge_i18n(old_data, new)
    if old_data is None and not merged:
        return
    if merged != old_data:
        setattr(spec, name, I18n.model_validate(merged))


def _set_text(spec: Spec, name: str, new: str) -> None:
    old = getattr(spec, name)
    if not new:
        _unset(spec, name)
    elif old is None or text(old) != new:
        setattr(spec, name, new)


def _replace_icon(
    doc: PluginDocument, upload: tuple[str, bytes], *, dark: bool
) -> None:
    manifest = doc.manifest.spec
    provider = doc.provider.spec
    ext, content = upload
    name = f"{DARK_ICON if dark else LIGHT_ICON}.{ext}"
    before = _icon_names(doc)
    doc.files[ASSETS + name] = content
    if dark:
        manifest.icon_dark = name
    else:
        manifest.icon = name
        # The provider icons Dify shows in its settings follow the plugin icon.
        for key in PROVIDER_ICON_KEYS:
            icons = getattr(provider, key)
            data = icons.to_data() if icons is not None else {}
            langs = [lang for lang, value in data.items() if value] or ["en_US"]
            setattr(
                provider, key, I18n.model_validate(data | dict.fromkeys(langs, name))
            )
    # Icons nothing refers to any more would only bloat the package.
    for unused in before - _icon_names(doc) - {name}:
        doc.files.pop(ASSETS + unused, None)


def _icon_names(doc: PluginDocument) -> set[str]:
    manifest = doc.manifest.spec
    names = {manifest.icon, manifest.icon_dark}
    provider = doc.provider.spec.to_data()
    for key in (*PROVIDER_ICON_KEYS, "icon_small_dark", "icon_large_dark"):
        icons = provider.get(key)
        if isinstance(icons, dict):
            names.update(text(v) for v in icons.values())
    return {n for n in names if n}


def provider_general_update(
    *, provider: Provider, lock_version: int, values: GeneralValues
) -> SaveResult:
    """Save the general section: texts in both YAML files, version, help link,
    background, minimum Dify version, tags and replaced icons."""

    def change(doc: PluginDocument) -> None:
        manifest = doc.manifest.spec
        spec = doc.provider.spec
        for name in ("label", "description"):
            _set_i18n(manifest, name, getattr(values, name))
            _set_i18n(spec, name, getattr(values, name))
        _set_text(manifest, "version", values.version)
        if values.help_title or values.help_url:
            old = spec.help.to_data() if spec.help is not None else {}
            data = dict(old)
            data["title"] = merge_i18n(old.get("title"), values.help_title)
            data["url"] = merge_i18n(old.get("url"), values.help_url)
            if data != old:
                spec.help = ProviderHelp.model_validate(data)
        else:
            _unset(spec, "help")
        _set_text(spec, "background", values.background)
        minimum = values.minimum_dify_version
        if manifest.meta is None:
            if minimum:
                manifest.meta = Meta(minimum_dify_version=minimum)
        else:
            _set_text(manifest.meta, "minimum_dify_version", minimum)
        old_tags = [text(t) for t in manifest.tags or []]
        if values.tags != old_tags:
            if values.tags:
                manifest.tags = list(values.tags)
            else:
                _unset(manifest, "tags")
        if values.icon:
            _replace_icon(doc, values.icon, dark=False)
        if values.icon_dark:
            _replace_icon(doc, values.icon_dark, dark=True)

    return provider_edit(provider=provider, lock_version=lock_version, change=change)


# ---------------------------------------------------------------- findings

MANIFEST = "manifest.yaml"
# Keys of the provider YAML that other sections edit (and show findings of).
OTHER_SECTIONS = ("provider_credential_schema", "model_credential_schema", "models")


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
    elsewhere = [f for key in OTHER_SECTIONS for f in declaration.at(key)]
    other = manifest.rest(*placed.values()) + declaration.rest(
        *placed.values(), elsewhere
    )
    return GeneralFindings(
        **{name: marker(found) for name, found in placed.items()},
        other=marker(other),
    )
