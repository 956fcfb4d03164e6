"""Plugins for the Marketplace pre-check tests: a studio plugin made ready for
the Marketplace, and helpers that change one thing in it."""

from __future__ import annotations

from typing import Any

import yaml

from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.scaffold import scaffold
from tests.factories import make_new_plugin

OWN_ICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" '
    b'viewBox="0 0 64 64"><circle cx="32" cy="32" r="28" fill="#0a7"/></svg>\n'
)

READY_README = """\
# Gateway

Gateway models for Dify. Source: https://github.com/acme/gateway

## Setup

Install the plugin, then configure it under Settings → Model Provider.

## Credentials

Enter your API key and the base URL of your server.

## Usage

Use the models in any workflow or chatflow.

## Connection

The plugin connects to the endpoint you configure.
"""


def manifest_of(files: PluginFiles) -> dict[str, Any]:
    data = yaml.safe_load(files["manifest.yaml"])
    assert isinstance(data, dict)
    return data


def with_manifest(files: PluginFiles, **changes: Any) -> PluginFiles:
    """The files with manifest keys set (None removes a key; meta__x sets meta.x)."""
    data = manifest_of(files)
    for key, value in changes.items():
        target, name = data, key
        if "__" in key:
            parent, name = key.split("__", 1)
            target = data.setdefault(parent, {})
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    return {**files, "manifest.yaml": yaml.safe_dump(data, sort_keys=False).encode()}


def ready_plugin() -> PluginFiles:
    """A studio-authored OpenAI-compatible plugin with what the Marketplace asks."""
    files = scaffold(make_new_plugin())
    files["_assets/icon.svg"] = OWN_ICON
    files["README.md"] = READY_README.encode()
    return with_manifest(
        files,
        repo="https://github.com/acme/gateway",
        contact="plugins@acme.example",
        privacy="PRIVACY.md",
        meta__minimum_dify_version="1.10.0",
    )


def changed(files: PluginFiles, new: dict[str, bytes | str | None]) -> PluginFiles:
    """The files with some replaced, added (str or bytes) or removed (None)."""
    out = dict(files)
    for path, content in new.items():
        if content is None:
            out.pop(path, None)
        else:
            out[path] = content.encode() if isinstance(content, str) else content
    return out
