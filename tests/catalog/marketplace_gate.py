"""The blocking rules of the Dify Marketplace's gate, restated for tests only.

Sources (public, `langgenius/dify-marketplace-toolkit`): the local validator's
`toolkit/checks/manifest.py` (required keys, author, type, repo, contact,
privacy), `readme.py` (README present, links the source repository on an
admitted host, English outside code blocks), `source_hosts.py` (the hosts),
`dependencies.py` (every requirement constrained, dify-plugin at least 0.9.0
through `>=` or `==`), and the CI's icon check (`pre-check-plugin.yaml`: the
icon exists under `_assets/`, has no template marker, is not the template's
default drawing). Written independently of the studio's own code, so that a
studio-authored plugin is judged by a second reading of the rules.
"""

from __future__ import annotations

import re

import yaml

from studio.pluginfmt.files import PluginFiles

HOSTS = (
    "github.com",
    "gitlab.com",
    "bitbucket.org",
    "gitee.com",
    "codeberg.org",
    "git.sr.ht",
)
_HOSTS = "|".join(re.escape(h) for h in HOSTS)
REPO_VALUE = re.compile(rf"^https?://(www\.)?({_HOSTS})/[^\s)>\"]+$", re.IGNORECASE)
REPO_LINK = re.compile(rf"https?://(www\.)?({_HOSTS})/[^\s)>\"]+", re.IGNORECASE)
EMAIL = re.compile(r"^[\w.!#$%&'*+/=?^`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
FENCED = re.compile(r"```.*?```", re.DOTALL)
ICON_MARKER = "DIFY_MARKETPLACE_TEMPLATE_ICON_DO_NOT_USE"
# The drawing of the plugin template's default icon (a stroked "P").
TEMPLATE_ICON_PATH = "M20 20 V80 M20 20 H60 Q80 20 80 40 T60 60 H20"
REQUIRED = (
    "author", "name", "version", "type", "icon", "plugins", "privacy", "repo",
    "contact", "label.en_US", "description.en_US", "meta.version", "meta.arch",
    "meta.runner.language", "meta.runner.version", "meta.runner.entrypoint",
)  # fmt: skip
VERSION_OPS = re.compile(r"===|==|~=|!=|<=|>=|<|>")


def _value(data: object, dotted: str) -> object:
    for key in dotted.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


def blocking_problems(files: PluginFiles) -> list[str]:
    """Every blocking rule the package at `files` breaks (none: it passes)."""
    problems: list[str] = []
    manifest = yaml.safe_load(files.get("manifest.yaml", b"")) or {}
    for key in REQUIRED:
        if _value(manifest, key) in (None, "", [], {}):
            problems.append(f"missing required field: {key}")
    author = str(manifest.get("author") or "")
    if "langgenius" in author or "dify" in author:
        problems.append("author contains langgenius or dify")
    if manifest.get("type") not in (None, "plugin"):
        problems.append("type is not plugin")
    repo = str(manifest.get("repo") or "")
    if repo and not REPO_VALUE.search(repo):
        problems.append("repo is not a URL on an admitted source host")
    contact = str(manifest.get("contact") or "")
    if contact and not EMAIL.match(contact):
        problems.append("contact is not an email address")
    if "PRIVACY.md" not in files:
        problems.append("missing required file: PRIVACY.md")
    problems += _privacy_problems(files, str(manifest.get("privacy") or ""))
    problems += _icon_problems(files, str(manifest.get("icon") or ""))
    problems += _readme_problems(files)
    problems += _requirement_problems(files)
    return problems


def _privacy_problems(files: PluginFiles, privacy: str) -> list[str]:
    if not privacy or privacy.startswith(("http://", "https://")):
        return []
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", privacy):
        return ["privacy URL is not http(s)"]
    path = privacy.removeprefix("./")
    if path.startswith("/") or ".." in path.split("/"):
        return ["privacy points outside the package"]
    if path not in files:
        return ["privacy names a missing file"]
    text = files[path].decode("utf-8", "ignore").lower()
    if not text.strip():
        return ["privacy policy is empty"]
    if "please fill in the privacy policy" in text:
        return ["privacy policy is the template"]
    return []


def _icon_problems(files: PluginFiles, icon: str) -> list[str]:
    content = files.get(f"_assets/{icon}") if icon else None
    if content is None:
        return ["icon file missing under _assets/"]
    text = content.decode("utf-8", "ignore")
    if ICON_MARKER in text:
        return ["icon holds the template marker"]
    if TEMPLATE_ICON_PATH in text and 'stroke="black"' in text:
        return ["icon is the template's default icon"]
    return []


def _readme_problems(files: PluginFiles) -> list[str]:
    text = files.get("README.md", b"").decode("utf-8", "ignore")
    if not text.strip():
        return ["README.md missing or empty"]
    problems = []
    if not REPO_LINK.search(text):
        problems.append("README.md links no source repository")
    if CJK.search(FENCED.sub("", text)):
        problems.append("README.md is not English")
    return problems


def _requirement_problems(files: PluginFiles) -> list[str]:
    problems = []
    for raw in files.get("requirements.txt", b"").decode().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        if "git+" in line or re.search(r"(^|\s@)\s*(https?|ftp|file)://", line):
            problems.append(f"requirement installs from a URL: {line}")
            continue
        name = re.match(r"[A-Za-z0-9_.-]+", line)
        if name and name.group().lower().replace("_", "-") == "dify-plugin":
            floor = re.search(r"(>=|==)\s*(\d+)\.(\d+)", line)
            if not floor or (int(floor[2]), int(floor[3])) < (0, 9):
                problems.append(f"dify-plugin below 0.9.0 or unbounded: {line}")
                continue
        if not VERSION_OPS.search(line):
            problems.append(f"requirement without a version constraint: {line}")
    return problems
