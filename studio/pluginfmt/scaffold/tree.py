"""The whole tree of a new plugin: its YAML, its Python and the files around them."""

from __future__ import annotations

from studio.pluginfmt.document.yamltext import dump_yaml
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.scaffold.declarations import manifest_data, provider_data
from studio.pluginfmt.scaffold.new_plugin import NewPlugin
from studio.pluginfmt.scaffold.python import (
    MAIN_PY,
    model_source,
    model_source_path,
    provider_source,
)

SDK_REQUIREMENT = "dify_plugin>=0.10.0,<0.11.0"
DEFAULT_ICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" '
    b'viewBox="0 0 64 64">'
    b'<rect width="64" height="64" rx="12" fill="#1d4ed8"/>'
    b'<path d="M20 44V20h10a12 12 0 0 1 0 24z" fill="#fff"/></svg>\n'
)

DIFYIGNORE = """\
# Not packaged (the daemon reads only this file, or .gitignore when it is absent)
.env
.venv/
venv/
__pycache__/
*.py[cod]
.pytest_cache/
.ruff_cache/
.mypy_cache/
.idea/
.vscode/
.DS_Store
.git/
.gitignore
.github/
*.difypkg
"""

ENV_EXAMPLE = """\
INSTALL_METHOD=remote
REMOTE_INSTALL_URL=debug.dify.ai:5003
REMOTE_INSTALL_KEY=********-****-****-****-************
"""


def readme(plugin: NewPlugin) -> str:
    """README.md of a new plugin."""
    label = plugin.label.get("en_US") or plugin.name
    description = plugin.description.get("en_US", "")
    return f"# {label}\n\n{description}\n\nA Dify model plugin made with the studio.\n"


def privacy(plugin: NewPlugin) -> str:
    """PRIVACY.md of a new plugin: what it sends, and where."""
    label = plugin.label.get("en_US") or plugin.name
    return (
        f"# Privacy policy of {label}\n\n"
        "This plugin sends the prompts, files and parameters of each request, and the "
        "credentials you configure, to the model endpoint you configure. It stores "
        "nothing itself and collects no other data.\n"
    )


def scaffold(plugin: NewPlugin) -> PluginFiles:
    """The complete source tree of a new plugin, ready to verify and package."""
    icon_name, icon_bytes = plugin.icon or ("icon.svg", DEFAULT_ICON)
    dark = plugin.icon_dark
    files: PluginFiles = {
        "manifest.yaml": dump_yaml(
            manifest_data(plugin, icon=icon_name, icon_dark=dark[0] if dark else None)
        ),
        f"provider/{plugin.name}.yaml": dump_yaml(
            provider_data(plugin, icon=icon_name)
        ),
        f"provider/{plugin.name}.py": provider_source(plugin).encode(),
        "main.py": MAIN_PY.encode(),
        f"_assets/{icon_name}": icon_bytes,
        "README.md": readme(plugin).encode(),
        "PRIVACY.md": privacy(plugin).encode(),
        "requirements.txt": f"{SDK_REQUIREMENT}\n".encode(),
        ".difyignore": DIFYIGNORE.encode(),
        ".env.example": ENV_EXAMPLE.encode(),
    }
    if dark:
        files[f"_assets/{dark[0]}"] = dark[1]
    for model_type in plugin.model_types:
        files[model_source_path(model_type)] = model_source(plugin, model_type).encode()
    files.update(plugin.extra_files)
    return files
