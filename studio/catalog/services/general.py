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
from studio.pluginfmt.document.edits import merge_i18n, text
from studio.pluginfmt.marketplace import privacy_file
from studio.pluginfmt.scaffold import link_source, privacy_policy

from . import SaveResult, provider_edit

ASSETS = "_assets/"
README = "README.md"
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
    repo: str = ""
    contact: str = ""
    privacy: str = ""


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
    old = getattr(spec, name, None)  # `contact` is no declared field: an extra
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
    background, minimum Dify version, tags, replaced icons, and what the
    Marketplace asks for (source repository, contact, privacy policy)."""

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
        _set_marketplace(doc, values)

    return provider_edit(provider=provider, lock_version=lock_version, change=change)


def _set_marketplace(doc: PluginDocument, values: GeneralValues) -> None:
    """Write `repo`, `contact` and `privacy`; link a new repo from README.md and
    give a newly chosen privacy path that names no file yet the studio's policy."""
    manifest = doc.manifest.spec
    old_repo = text(manifest.repo) if manifest.repo is not None else ""
    old_privacy = text(manifest.privacy) if manifest.privacy is not None else ""
    _set_text(manifest, "repo", values.repo)
    _set_text(manifest, "contact", values.contact)
    _set_text(manifest, "privacy", values.privacy)
    readme = doc.files.get(README)
    if values.repo != old_repo and readme is not None:
        linked = link_source(
            readme.decode("utf-8", "replace"), old=old_repo, new=values.repo
        )
        if linked.encode() != readme:
            doc.files[README] = linked.encode()
    # Only a path the author just chose: a plugin imported without its policy
    # file is not given one behind its author's back.
    policy = privacy_file(values.privacy) if values.privacy != old_privacy else None
    if policy and policy not in doc.files:
        label = manifest.label.en_US if manifest.label is not None else None
        doc.files[policy] = privacy_policy(
            label=text(label) if label else text(manifest.name),
            contact=values.contact,
        ).encode()
