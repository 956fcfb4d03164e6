"""Checks of manifest.yaml (format doc §2 and §9 "Manifest")."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from packaging.version import InvalidVersion, Version

from .. import marketplace
from . import schema
from .context import Context
from .gotime import parse_go_time
from .schema import describe

MANIFEST = "manifest.yaml"

# Go `version` validator; `\w` is ASCII in Go's RE2.
VERSION_RE = re.compile(r"\d{1,4}(\.\d{1,4}){2}(-[0-9A-Za-z_]{1,16})?")
AUTHOR_RE = re.compile(r"[a-z0-9_-]{1,64}")
NAME_RE = re.compile(r"[a-z0-9_-]{1,128}")
UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")
TAGS = {
    "search", "image", "videos", "weather", "finance", "design", "travel",
    "social", "news", "medical", "productivity", "education", "business",
    "entertainment", "utilities", "agent", "rag", "other", "trigger",
}  # fmt: skip
ARCHES = {"amd64", "arm64"}
OTHER_PLUGIN_LISTS = (
    "tools",
    "endpoints",
    "agent_strategies",
    "datasources",
    "triggers",
)

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|z|[+-]\d{2}:\d{2})"
)


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def check_manifest(ctx: Context) -> None:
    """Check manifest.yaml and remember it for the other checks."""
    if MANIFEST not in ctx.files:
        ctx.add(
            "manifest.missing",
            MANIFEST,
            None,
            "The package has no manifest.yaml at its root.",
        )
        return
    loaded = ctx.load_declared(MANIFEST)
    if loaded is None:
        return
    data = loaded.data
    if not isinstance(data, dict):
        ctx.add(
            "manifest.not-mapping",
            MANIFEST,
            loaded.line_of(),
            f"manifest.yaml must be a mapping of fields, not {describe(data)}.",
        )
        return
    ctx.manifest, ctx.manifest_yaml = data, loaded
    schema.check(ctx, MANIFEST, loaded, "manifest", schema.MANIFEST)

    def line(*path: Any) -> int | None:
        return loaded.line_of(*path)

    def required(*path: str) -> Any:
        value = _get(data, *path)
        if value is None or value == "":
            ctx.add(
                "manifest.required",
                MANIFEST,
                line(*path),
                f"`{'.'.join(path)}` is required in manifest.yaml.",
            )
        return value

    for key in ("version", "type", "name", "label", "description", "icon"):
        required(key)
    for key in ("resource", "plugins", "meta", "created_at"):
        if key not in data or data[key] is None:
            required(key)

    _check_version(ctx, data.get("version"), line("version"))
    kind = data.get("type")
    if kind is not None and kind != "plugin":
        ctx.add(
            "manifest.type.invalid",
            MANIFEST,
            line("type"),
            f"type is {describe(kind)}; a plugin manifest must say `type: plugin`.",
            value=kind,
        )
    _check_identity(ctx, data, line)
    _check_icons(ctx, data, line)
    _check_resource(ctx, data, line)
    _check_plugins(ctx, data, line)
    _check_meta(ctx, data, line, required)
    _check_created_at(ctx, data, line)
    _check_optional(ctx, data, line)


def _check_version(ctx: Context, version: Any, line: int | None) -> None:
    if version is None or version == "" or isinstance(version, (dict, list)):
        return
    text = str(version)
    if not VERSION_RE.fullmatch(text):
        ctx.add(
            "manifest.version.format",
            MANIFEST,
            line,
            f"version {text!r} is not X.Y.Z[-suffix] (at most 4 digits per part, "
            "suffix of letters, digits or _); the packager and the daemon refuse it.",
            value=version,
        )
        return
    try:
        Version(text)
    except InvalidVersion:
        ctx.add(
            "manifest.version.pep440",
            MANIFEST,
            line,
            f"version {text!r} is not a PEP 440 version, so the SDK refuses to start.",
            value=version,
        )


def _check_identity(ctx: Context, data: dict[str, Any], line: Any) -> None:
    author = data.get("author")
    if not isinstance(author, (dict, list)):
        text = "" if author is None else str(author)
        if not AUTHOR_RE.fullmatch(text):
            ctx.add(
                "manifest.author.pattern",
                MANIFEST,
                line("author"),
                f"author {text!r} must be 1-64 characters of a-z, 0-9, _ or -; "
                "the daemon refuses the plugin at install.",
                value=author,
            )
        elif UUID_RE.fullmatch(text):
            ctx.add(
                "manifest.author.uuid",
                MANIFEST,
                line("author"),
                f"author {text!r} is a UUID, which the daemon refuses.",
                value=author,
            )
        if "langgenius" in text.lower() or "dify" in text.lower():
            ctx.add(
                "manifest.author.reserved",
                MANIFEST,
                line("author"),
                f"author {text!r} contains `langgenius` or `dify`, reserved on the "
                "Marketplace for official plugins.",
                value=author,
            )
    name = data.get("name")
    if (
        name not in (None, "")
        and not isinstance(name, (dict, list))
        and not NAME_RE.fullmatch(str(name))
    ):
        ctx.add(
            "manifest.name.pattern",
            MANIFEST,
            line("name"),
            f"name {str(name)!r} must be 1-128 characters of a-z, 0-9, _ or -.",
            value=name,
        )


def _check_icons(ctx: Context, data: dict[str, Any], line: Any) -> None:
    for key, rule in (
        ("icon", "manifest.icon.missing-file"),
        ("icon_dark", "manifest.icon-dark.missing-file"),
    ):
        icon = data.get(key)
        if icon is None or icon == "" or isinstance(icon, (dict, list)):
            continue
        icon = str(icon)
        if len(icon) > 128:
            ctx.add(
                "manifest.icon.too-long",
                MANIFEST,
                line(key),
                f"`{key}` is {len(icon)} characters long; the limit is 128.",
                value=icon,
            )
        # Without any _assets/ folder, package.assets.missing says it once.
        if ctx.assets and icon not in ctx.assets:
            ctx.add(
                rule,
                MANIFEST,
                line(key),
                f"`{key}` names {icon!r}, but there is no _assets/{icon}.",
                value=icon,
            )


def _check_resource(ctx: Context, data: dict[str, Any], line: Any) -> None:
    resource = data.get("resource")
    if not isinstance(resource, dict):
        return
    memory = resource.get("memory")
    if memory is None or memory == 0:
        ctx.add(
            "manifest.resource.memory",
            MANIFEST,
            line("resource", "memory"),
            "resource.memory is missing or zero; the packager requires it.",
            value=memory,
        )
    elif (
        isinstance(memory, (int, float)) and not isinstance(memory, bool) and memory < 0
    ):
        ctx.add(
            "manifest.resource.memory-negative",
            MANIFEST,
            line("resource", "memory"),
            f"resource.memory is negative ({memory}).",
            value=memory,
        )
    storage = _get(resource, "permission", "storage")
    if isinstance(storage, dict):
        size = storage.get("size")
        ok = (
            isinstance(size, (int, float))
            and not isinstance(size, bool)
            and 1024 <= size <= 1073741824
        )
        if not ok:
            ctx.add(
                "manifest.storage.size",
                MANIFEST,
                line("resource", "permission", "storage", "size"),
                f"resource.permission.storage.size is {describe(size)}; the "
                "packager requires 1024..1073741824 bytes when storage is declared.",
                value=size,
            )


def _check_plugins(ctx: Context, data: dict[str, Any], line: Any) -> None:
    plugins = data.get("plugins")
    if not isinstance(plugins, dict):
        return
    for key, paths in plugins.items():
        if not isinstance(paths, list):
            continue
        for i, path in enumerate(paths):
            if isinstance(path, str) and len(path) > 128:
                ctx.add(
                    "manifest.plugins.path-too-long",
                    MANIFEST,
                    line("plugins", key, i),
                    f"plugins.{key} path is {len(path)} characters; the limit is 128.",
                    value=path,
                )
    others = [k for k in OTHER_PLUGIN_LISTS if plugins.get(k)]
    if others:
        ctx.add(
            "manifest.plugins.mixed-categories",
            MANIFEST,
            line("plugins", others[0]),
            f"A model plugin cannot also declare {', '.join(others)}; the daemon "
            "refuses the manifest.",
            value=others,
        )
    models = plugins.get("models")
    if not isinstance(models, list) or not models:
        if not isinstance(models, (dict, str, int, float, bool)):
            ctx.add(
                "manifest.plugins.no-provider",
                MANIFEST,
                line("plugins", "models"),
                "plugins.models lists no provider YAML, so this is no model plugin "
                "and the daemon refuses it.",
            )
        return
    if len(models) > 1:
        ctx.add(
            "manifest.plugins.multiple-providers",
            MANIFEST,
            line("plugins", "models"),
            f"plugins.models lists {len(models)} providers; the daemon keeps only "
            "the last one while the SDK loads all of them.",
            value=models,
        )
    for i, path in enumerate(models):
        if not isinstance(path, str) or not path:
            continue
        if path.removeprefix("./") not in ctx.files:
            ctx.add(
                "manifest.plugins.file-missing",
                MANIFEST,
                line("plugins", "models", i),
                f"plugins.models names {path!r}, which is not in the package.",
                value=path,
            )


def _check_meta(ctx: Context, data: dict[str, Any], line: Any, required: Any) -> None:
    meta = data.get("meta")
    if not isinstance(meta, dict):
        return
    version = required("meta", "version")
    if (
        version not in (None, "")
        and not isinstance(version, (dict, list))
        and not VERSION_RE.fullmatch(str(version))
    ):
        ctx.add(
            "manifest.meta-version.format",
            MANIFEST,
            line("meta", "version"),
            f"meta.version {str(version)!r} is not X.Y.Z[-suffix]; the "
            "packager refuses it.",
            value=version,
        )
    arch = meta.get("arch")
    if arch is None:
        required("meta", "arch")
    elif isinstance(arch, list):
        bad = [a for a in arch if not (isinstance(a, str) and a in ARCHES)]
        if bad:
            ctx.add(
                "manifest.arch.invalid",
                MANIFEST,
                line("meta", "arch", arch.index(bad[0])),
                f"meta.arch holds {bad[0]!r}; only amd64 and arm64 exist.",
                value=bad[0],
            )
        elif not arch:
            ctx.add(
                "manifest.arch.empty",
                MANIFEST,
                line("meta", "arch"),
                "meta.arch is empty.",
            )
        elif len(set(arch)) == 1:
            ctx.add(
                "manifest.arch.partial",
                MANIFEST,
                line("meta", "arch"),
                f"meta.arch lists only {arch[0]}; the plugin cannot run on the other "
                "architecture.",
                value=arch,
            )
    runner = meta.get("runner")
    if runner is None:
        required("meta", "runner")
    elif isinstance(runner, dict):
        for key in ("language", "version", "entrypoint"):
            required("meta", "runner", key)
        language = runner.get("language")
        if language is not None and language != "python":
            ctx.add(
                "manifest.runner.language",
                MANIFEST,
                line("meta", "runner", "language"),
                f"meta.runner.language is {describe(language)}; only python is "
                "supported.",
                value=language,
            )
        version = runner.get("version")
        if version is not None and str(version) != "3.12":
            ctx.add(
                "manifest.runner.version",
                MANIFEST,
                line("meta", "runner", "version"),
                f"meta.runner.version is {str(version)!r}; the daemon ignores it "
                "and always runs Python 3.12.",
                value=version,
            )
    minimum = meta.get("minimum_dify_version")
    if isinstance(minimum, (str, int, float)) and not isinstance(minimum, bool):
        try:
            Version(str(minimum))
        except InvalidVersion:
            ctx.add(
                "manifest.minimum-dify-version.pep440",
                MANIFEST,
                line("meta", "minimum_dify_version"),
                f"meta.minimum_dify_version {str(minimum)!r} is not a PEP 440 "
                "version; the SDK refuses it.",
                value=minimum,
            )


def _check_created_at(ctx: Context, data: dict[str, Any], line: Any) -> None:
    value = data.get("created_at")
    if value is None:
        return
    at = line("created_at")
    when = parse_go_time(value) if isinstance(value, str) else None
    if when is None:
        ctx.add(
            "manifest.created-at.invalid",
            MANIFEST,
            at,
            f"created_at is {describe(value)}, not a timestamp the daemon can decode.",
            value=value,
        )
        return
    if not _RFC3339.fullmatch(value):
        ctx.add(
            "manifest.created-at.not-rfc3339",
            MANIFEST,
            at,
            f"created_at {value!r} decodes but is not an RFC 3339 date-time.",
            value=value,
        )
    now = ctx.now if ctx.now.tzinfo else ctx.now.replace(tzinfo=UTC)
    if when > now:
        ctx.add(
            "manifest.created-at.future",
            MANIFEST,
            at,
            f"created_at {value!r} lies in the future; the Marketplace requires it "
            "to be no later than now.",
            value=value,
        )


def _check_optional(ctx: Context, data: dict[str, Any], line: Any) -> None:
    _check_privacy(ctx, data, line)
    _check_repo(ctx, data, line)
    _check_contact(ctx, data, line)
    tags = data.get("tags")
    if isinstance(tags, list):
        for i, tag in enumerate(tags):
            if isinstance(tag, (dict, list)):
                continue
            if str(tag) not in TAGS:
                ctx.add(
                    "manifest.tags.unknown",
                    MANIFEST,
                    line("tags", i),
                    f"tag {str(tag)!r} is not one the daemon knows; the packager "
                    "refuses it.",
                    value=tag,
                )


def _check_privacy(ctx: Context, data: dict[str, Any], line: Any) -> None:
    privacy = data.get("privacy")
    if privacy is None or privacy == "":
        ctx.add(
            "manifest.privacy.missing",
            MANIFEST,
            line("privacy") if "privacy" in data else line(),
            "The manifest has no privacy policy; the Marketplace requires one.",
        )
        return
    if not isinstance(privacy, str):
        return
    if marketplace.has_scheme(privacy):
        if not marketplace.is_http_url(privacy):
            ctx.add(
                "manifest.privacy.url",
                MANIFEST,
                line("privacy"),
                f"privacy {privacy!r} is a URL but not http(s); the Marketplace "
                "refuses it.",
                value=privacy,
            )
        return
    path = privacy.removeprefix("./")
    if path.startswith("/") or ".." in path.split("/"):
        ctx.add(
            "manifest.privacy.outside",
            MANIFEST,
            line("privacy"),
            f"privacy {privacy!r} points outside the package; the Marketplace "
            "requires a file inside it or an http(s) URL.",
            value=privacy,
        )
    elif path not in ctx.files:
        ctx.add(
            "manifest.privacy.file-missing",
            MANIFEST,
            line("privacy"),
            f"privacy names {privacy!r}, which is not in the package.",
            value=privacy,
        )
    elif not ctx.files[path].strip():
        ctx.add(
            "manifest.privacy.empty",
            MANIFEST,
            line("privacy"),
            f"The privacy policy {privacy!r} is empty.",
            value=privacy,
        )
    elif marketplace.PRIVACY_TEMPLATE_MARKER in (
        ctx.files[path].decode("utf-8", "replace").lower()
    ):
        ctx.add(
            "manifest.privacy.template",
            MANIFEST,
            line("privacy"),
            f"The privacy policy {privacy!r} still holds the template's "
            "placeholder text; the Marketplace refuses it.",
            value=privacy,
        )


def _check_repo(ctx: Context, data: dict[str, Any], line: Any) -> None:
    repo = data.get("repo")
    if repo is None or repo == "":
        ctx.add(
            "manifest.repo.missing",
            MANIFEST,
            line("repo") if "repo" in data else line(),
            "The manifest has no `repo`; the Marketplace requires the URL of the "
            f"source repository ({marketplace.SOURCE_HOSTS_TEXT}).",
        )
        return
    if isinstance(repo, (dict, list)):
        return
    text = str(repo)
    if not URL_RE.fullmatch(text):
        ctx.add(
            "manifest.repo.url",
            MANIFEST,
            line("repo"),
            f"repo {text!r} is not a URL; the packager refuses it.",
            value=repo,
        )
        return
    problem = marketplace.repo_problem(text)
    if problem:
        ctx.add(
            "manifest.repo.host",
            MANIFEST,
            line("repo"),
            f"repo {text!r} is no source repository the Marketplace accepts: "
            f"{problem}.",
            value=repo,
        )


def _check_contact(ctx: Context, data: dict[str, Any], line: Any) -> None:
    contact = data.get("contact")
    if contact is None or contact == "":
        ctx.add(
            "manifest.contact.missing",
            MANIFEST,
            line("contact") if "contact" in data else line(),
            "The manifest has no `contact`; the Marketplace requires an email "
            "address for the plugin's users and reviewers.",
        )
    elif not (isinstance(contact, str) and marketplace.is_email(contact)):
        ctx.add(
            "manifest.contact.email",
            MANIFEST,
            line("contact"),
            f"contact is {describe(contact)}, not an email address; the "
            "Marketplace refuses it.",
            value=contact,
        )
