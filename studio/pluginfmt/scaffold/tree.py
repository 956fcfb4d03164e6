"""The whole tree of a new plugin: its YAML, its Python and the files around them."""

from __future__ import annotations

from studio.pluginfmt.document.yamltext import dump_yaml
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.marketplace import PRIVACY_DEFAULT, has_scheme, privacy_file
from studio.pluginfmt.scaffold.declarations import manifest_data, provider_data
from studio.pluginfmt.scaffold.new_plugin import OPENAI_COMPATIBLE, NewPlugin
from studio.pluginfmt.scaffold.python import (
    MAIN_PY,
    model_source,
    model_source_path,
    provider_source,
)

SDK_REQUIREMENT = "dify_plugin>=0.10.0,<0.11.0"
# The README section that links the source, the contact and the privacy policy.
SOURCE_SECTION = "## Source and support\n\n"
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


_TYPE_NAMES = {
    "llm": "LLM",
    "text-embedding": "text embedding",
    "rerank": "rerank",
    "speech2text": "speech-to-text",
    "tts": "text-to-speech",
    "moderation": "moderation",
}


def _credentials_text(plugin: NewPlugin) -> str:
    if plugin.runtime == OPENAI_COMPATIBLE:
        return (
            "- **API Key**: the key of your OpenAI-compatible endpoint. Dify stores "
            "it encrypted and the plugin sends it only to that endpoint, as a "
            "Bearer token.\n"
            "- **API endpoint URL**: the base URL of the API, e.g. "
            "`https://api.example.com/v1` (the plugin calls `/chat/completions`, "
            "`/embeddings` and the like under it).\n"
        )
    return (
        "Enter the API key or token your service needs in the provider's "
        "settings; Dify stores credentials encrypted. The credential fields are "
        "declared in the provider YAML (`provider_credential_schema`).\n"
    )


# Where each model type is used in Dify, for the README's usage section.
_TYPE_USES = {
    "llm": "in an LLM node of a workflow or chatflow, or as the model of a chat app",
    "text-embedding": "as the embedding model of a knowledge base",
    "rerank": "as the rerank model of a knowledge base's retrieval",
    "speech2text": "for an app's speech to text",
    "tts": "for an app's text to speech",
    "moderation": "for an app's content moderation",
}


def _and(items: list[str]) -> str:
    return (
        ", ".join(items[:-1]) + " and " + items[-1]
        if len(items) > 1
        else "".join(items)
    )


def _usage_text(plugin: NewPlugin, label: str) -> str:
    types = _and([_TYPE_NAMES.get(t, t) for t in plugin.model_types])
    lines = [f"The plugin adds {types} models to Dify."]
    if "predefined-model" in plugin.configurate_methods:
        lines.append(
            f"Once {label} is configured, its models appear in Dify's model lists."
        )
    if "customizable-model" in plugin.configurate_methods:
        lines.append(
            "To use a model by its name at the endpoint, choose **Add model** "
            f"under {label} and enter the name and its credentials."
        )
    uses = [
        f"- {_TYPE_NAMES[t][:1].upper()}{_TYPE_NAMES[t][1:]}: {_TYPE_USES[t]}."
        for t in plugin.model_types
        if t in _TYPE_USES
    ]
    return " ".join(lines) + "\n\n" + "\n".join(uses) + "\n"


def readme(plugin: NewPlugin) -> str:
    """README.md of a new plugin, with the sections Marketplace reviewers read.

    Setup, usage, credentials and connection are what the Marketplace's
    validator looks for, and the source link is required there.
    """
    label = plugin.label.get("en_US") or plugin.name
    description = plugin.description.get("en_US", "")
    endpoint = (
        "the endpoint URL you configure"
        if plugin.runtime == OPENAI_COMPATIBLE
        else "your service's API"
    )
    parts = [
        f"# {label}\n\n{description}\n",
        "## Setup\n\n"
        "1. Install the plugin in Dify: from the Marketplace, or upload its "
        "`.difypkg` under **Plugins → Install plugin → Local package file**.\n"
        f"2. Open **Settings → Model provider**, find **{label}** and enter the "
        "credentials below.\n",
        f"## Credentials\n\n{_credentials_text(plugin)}",
        f"## Usage\n\n{_usage_text(plugin, label)}",
        "## Connection\n\n"
        f"The plugin connects to {endpoint} over HTTPS from the Dify plugin "
        "daemon, so that host must be reachable from the daemon's network (set "
        "a proxy there if it needs one).\n",
    ]
    about = []
    if plugin.repo:
        about.append(f"- Source code: <{plugin.repo}>")
    if plugin.contact:
        about.append(f"- Contact: <{plugin.contact}>")
    policy = plugin.privacy
    if policy:
        target = policy if has_scheme(policy) else policy.removeprefix("./")
        about.append(f"- Privacy policy: [{target}]({target})")
    if about:
        parts.append(SOURCE_SECTION + "\n".join(about) + "\n")
    parts.append("Made with the Dify plugin studio.\n")
    return "\n".join(parts)


def privacy(plugin: NewPlugin) -> str:
    """The privacy policy of a new plugin: what it sends, where, and what it keeps."""
    return privacy_policy(
        label=plugin.label.get("en_US") or plugin.name,
        runtime=plugin.runtime,
        contact=plugin.contact,
        url=plugin.privacy if has_scheme(plugin.privacy) else "",
    )


def privacy_policy(
    *, label: str, runtime: str = "", contact: str = "", url: str = ""
) -> str:
    """A privacy policy for a model plugin that stores nothing itself.

    It answers what the Marketplace's validator looks for (what is sent where,
    what is kept, third parties) and is no template placeholder; with `url`
    it points to the policy published there.
    """
    where = (
        "the OpenAI-compatible endpoint you configure"
        if runtime == OPENAI_COMPATIBLE
        else "the model service the plugin calls"
    )
    text = (
        f"# Privacy policy of {label}\n\n"
        "## Data the plugin sends\n\n"
        "For each request, the plugin sends the prompts, files and parameters "
        f"Dify passes to it, and the credentials you configure, to {where}. That "
        "service processes them under its own privacy policy.\n\n"
        "## Data the plugin keeps\n\n"
        "None. The plugin stores nothing itself, keeps no logs of requests and "
        "does not collect personal data or usage statistics. Dify keeps the "
        "credentials (encrypted) and the conversations, as your Dify is set up.\n\n"
        "## Third parties\n\n"
        f"Data is shared only with {where}.\n"
    )
    if url:
        text += (
            f"\nThis file summarises the policy published at <{url}>, which is "
            "the one that applies.\n"
        )
    if contact:
        text += f"\n## Contact\n\nQuestions about this policy: <{contact}>.\n"
    return text


def link_source(readme_text: str, *, old: str, new: str) -> str:
    """README text that links the source repository `new` (was `old`).

    The Marketplace refuses a README without a link to the source repository.
    The old link is replaced where it stands; otherwise a line goes into the
    scaffold's "Source and support" section, or a new section at the end.
    """
    if not new or new in readme_text:
        return readme_text
    if old and old in readme_text:
        return readme_text.replace(old, new)
    line = f"- Source code: <{new}>\n"
    if SOURCE_SECTION in readme_text:
        return readme_text.replace(SOURCE_SECTION, SOURCE_SECTION + line, 1)
    ending = "" if readme_text.endswith("\n") or not readme_text else "\n"
    return f"{readme_text}{ending}\n## Source code\n\n<{new}>\n"


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
        # The Marketplace wants PRIVACY.md at the root whatever `privacy` says.
        PRIVACY_DEFAULT: privacy(plugin).encode(),
        "requirements.txt": f"{SDK_REQUIREMENT}\n".encode(),
        ".difyignore": DIFYIGNORE.encode(),
        ".env.example": ENV_EXAMPLE.encode(),
    }
    if dark:
        files[f"_assets/{dark[0]}"] = dark[1]
    policy = privacy_file(plugin.privacy) if plugin.privacy else None
    if policy:
        files.setdefault(policy, privacy(plugin).encode())
    for model_type in plugin.model_types:
        files[model_source_path(model_type)] = model_source(plugin, model_type).encode()
    files.update(plugin.extra_files)
    return files
