"""Changes of the manifest and of the provider declaration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .changes import Change
from .levels import Level
from .values import MISSING, Anchor, change_kind, leaves, move_text
from .views import PluginView

_MANIFEST_LEVELS = {
    "author": Level.BREAKING,
    "name": Level.BREAKING,
    "type": Level.BREAKING,
    "label": Level.COSMETIC,
    "description": Level.COSMETIC,
    "icon": Level.COSMETIC,
    "icon_dark": Level.COSMETIC,
    "tags": Level.COSMETIC,
    "created_at": Level.COSMETIC,
    "repo": Level.COSMETIC,
    "privacy": Level.COSMETIC,
    "verified": Level.COSMETIC,
}
_MANIFEST_WHY = {
    "author": "the plugin id changes: Dify installs it as another plugin",
    "name": "the plugin id changes: Dify installs it as another plugin",
    "type": "Dify installs another kind of plugin",
}


def manifest_changes(old: PluginView, new: PluginView) -> Iterator[Change]:
    """Changes of the manifest (its version is checked apart)."""
    subject: Anchor = ("manifest",)
    a, b = old.data["manifest"], new.data["manifest"]
    for path, x, y in leaves(
        {k: v for k, v in a.items() if k != "version"},
        {k: v for k, v in b.items() if k != "version"},
    ):
        level = _MANIFEST_LEVELS.get(path[0], Level.NOTABLE)
        why = _MANIFEST_WHY.get(path[0])
        yield Change(
            "manifest",
            subject,
            (*subject, *path),
            change_kind(x, y),
            level,
            f"{'.'.join(path)} {move_text(x, y)}" + (f": {why}" if why else ""),
            x,
            y,
        )


_PROVIDER_LEVELS = {
    "provider": Level.BREAKING,
    "label": Level.COSMETIC,
    "description": Level.COSMETIC,
    "icon_small": Level.COSMETIC,
    "icon_large": Level.COSMETIC,
    "icon_small_dark": Level.COSMETIC,
    "icon_large_dark": Level.COSMETIC,
    "background": Level.COSMETIC,
    "help": Level.COSMETIC,
    # Which files are models is compared model by model; the globs and the
    # inline position are wiring and order.
    "models": Level.COSMETIC,
    "position": Level.COSMETIC,
}
_LIST_KEYS = {
    "supported_model_types": "model type",
    "configurate_methods": "configuration method",
}


def provider_changes(old: PluginView, new: PluginView) -> Iterator[Change]:
    """Changes of the provider declaration, its lists compared as sets."""
    subject: Anchor = ("provider",)
    a, b = old.data["provider"], new.data["provider"]
    for key, noun in _LIST_KEYS.items():
        yield from set_changes(
            "provider",
            subject,
            (*subject, key),
            a.get(key, MISSING),
            b.get(key, MISSING),
            noun=noun,
            removed=(Level.BREAKING, "saved configurations that use it stop working"),
            added=Level.NOTABLE,
        )
    rest_a = {k: v for k, v in a.items() if k not in _LIST_KEYS}
    rest_b = {k: v for k, v in b.items() if k not in _LIST_KEYS}
    for path, x, y in leaves(rest_a, rest_b):
        level = _PROVIDER_LEVELS.get(path[0], Level.NOTABLE)
        why = ""
        if path[0] == "provider":
            why = (
                ": the provider id changed, so credentials and model settings "
                "saved in Dify under the old id are orphaned"
            )
        yield Change(
            "provider",
            subject,
            (*subject, *path),
            change_kind(x, y),
            level,
            f"{'.'.join(path)} {move_text(x, y)}{why}",
            x,
            y,
        )


def set_changes(
    section: str,
    subject: Anchor,
    anchor: Anchor,
    old: Any,
    new: Any,
    *,
    noun: str,
    removed: tuple[Level, str],
    added: Level,
) -> Iterator[Change]:
    """Added and removed items of a list compared as a set; order as cosmetic."""
    xs = [str(v) for v in old] if isinstance(old, list) else []
    ys = [str(v) for v in new] if isinstance(new, list) else []
    for item in xs:
        if item not in ys:
            yield Change(
                section,
                subject,
                anchor,
                "removed",
                removed[0],
                f"{noun} {item} removed: {removed[1]}",
                item,
                MISSING,
            )
    for item in ys:
        if item not in xs:
            yield Change(
                section,
                subject,
                anchor,
                "added",
                added,
                f"{noun} {item} added",
                MISSING,
                item,
            )
    common_x = [v for v in xs if v in ys]
    common_y = [v for v in ys if v in xs]
    if common_x != common_y:
        yield Change(
            section,
            subject,
            anchor,
            "reordered",
            Level.COSMETIC,
            f"order of {noun}s changed",
            xs,
            ys,
        )
