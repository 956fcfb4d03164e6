"""Checks of the package contents (format doc §1, §5.5, §6, §9 "Package")."""

from __future__ import annotations

import os
import re
import tomllib

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from ..ignore import select_files
from .context import Context

MIB = 1024 * 1024
SDK_REQUIREMENT = re.compile(r"\s*dify[-_.]plugin\b", re.IGNORECASE)
_JUNK_DIRS = {
    ".venv", "venv", "__pycache__", ".git", ".pytest_cache", ".mypy_cache",
    ".ruff_cache", ".uv-cache", ".idea", ".tox",
}  # fmt: skip
_JUNK_FILES = (".pyc", ".pyo", ".difypkg")
_TOML_LINE = re.compile(r"line (\d+)")


def check_package(ctx: Context) -> None:
    """Check which files the package carries and its dependency files."""
    files = ctx.files
    _check_as_read(ctx)
    if not ctx.assets:
        ctx.add(
            "package.assets.missing",
            "_assets/",
            None,
            "The package has no _assets/ folder: the packager cannot check icons and "
            "the SDK crashes at start-up listing it.",
        )
    _check_shipped(ctx)
    _check_dependencies(ctx)
    if "README.md" not in files:
        ctx.add(
            "package.readme.missing",
            "README.md",
            None,
            "The package has no README.md; the Marketplace requires an English one.",
        )
    total = sum(len(v) for v in files.values())
    if total > 50 * MIB:
        ctx.add(
            "package.size.limit",
            "",
            None,
            f"Files total {total / MIB:.1f} MiB uncompressed; the packager and the "
            "daemon refuse more than 50 MiB.",
            value=total,
        )
    elif total > 15 * MIB:
        ctx.add(
            "package.size.console",
            "",
            None,
            f"Files total {total / MIB:.1f} MiB; Dify's console refuses uploads over "
            "15 MiB unless they compress well.",
            value=total,
        )
    _check_orphans(ctx)


def _check_as_read(ctx: Context) -> None:
    # What the reader saw: links followed in a folder, a package's folder entries.
    for path in sorted(ctx.links):
        target = ctx.links[path]
        where = ", outside the plugin folder" if os.path.isabs(target) else ""
        ctx.add(
            "package.symlink",
            path,
            None,
            f"{path} is a symbolic link to {target}{where}; the packager stores "
            f"that file's bytes under {path}.",
            value=target,
        )
    entries = ctx.directory_entries
    if entries:
        others = len(entries) - 1
        more = f" (and {others} other{'s' * (others != 1)})" if others else ""
        ctx.add(
            "package.directory-entry",
            entries[0],
            None,
            f"The package holds the directory entry {entries[0]}{more}; the daemon "
            "reads every zip entry as a file, so installing it fails with "
            '"package decode failed".',
            value=entries,
        )


def _check_shipped(ctx: Context) -> None:
    # From a source folder, the packager leaves out what .difyignore excludes.
    junk: dict[str, int] = {}
    for path in select_files(ctx.files):
        parts = path.split("/")
        if parts[-1] == ".env":
            ctx.add(
                "package.env-file",
                path,
                None,
                f"{path} would be shipped; it may hold the remote-debug key and "
                "overrides settings when present.",
            )
        for i, part in enumerate(parts[:-1]):
            if part in _JUNK_DIRS:
                root = "/".join(parts[: i + 1]) + "/"
                junk[root] = junk.get(root, 0) + 1
                break
        else:
            if parts[-1].endswith(_JUNK_FILES) or parts[-1] == ".DS_Store":
                junk[path] = junk.get(path, 0) + 1
    for root in sorted(junk):
        ctx.add(
            "package.junk",
            root,
            None,
            f"{root} ({junk[root]} file{'s' if junk[root] > 1 else ''}) would be "
            "shipped in the package.",
            value=root,
        )


def _check_dependencies(ctx: Context) -> None:
    files = ctx.files
    has_req = "requirements.txt" in files
    has_pyproject = "pyproject.toml" in files
    has_lock = "uv.lock" in files
    if not has_req and not has_pyproject:
        ctx.add(
            "package.requirements.missing",
            "requirements.txt",
            None,
            "There is neither requirements.txt nor pyproject.toml, so the daemon "
            "cannot install dify_plugin.",
        )
        return
    if not has_req and has_lock:
        ctx.add(
            "package.requirements.generated",
            "requirements.txt",
            None,
            "requirements.txt is missing; the packager generates it from uv.lock "
            "(daemons >= 0.5.3 install from pyproject.toml anyway).",
        )
    elif not has_req:
        ctx.add(
            "package.requirements.no-lock",
            "pyproject.toml",
            None,
            "pyproject.toml comes without uv.lock or requirements.txt: the install is "
            "unpinned and daemons older than 0.5.3 fail.",
        )
    # The daemon installs from pyproject.toml when it exists (since 0.5.3).
    if has_pyproject:
        _check_pyproject(ctx)
    else:
        _check_requirements(ctx)


def _check_pyproject(ctx: Context) -> None:
    try:
        text = ctx.files["pyproject.toml"].decode("utf-8-sig")
        data = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        match = _TOML_LINE.search(str(exc))
        ctx.add(
            "package.pyproject.invalid",
            "pyproject.toml",
            int(match.group(1)) if match else None,
            f"pyproject.toml does not parse ({exc}), so `uv sync` fails at install.",
        )
        return
    project = data.get("project")
    project = project if isinstance(project, dict) else {}
    requires = project.get("requires-python")
    if isinstance(requires, str):
        try:
            spec = SpecifierSet(requires)
        except InvalidSpecifier:
            spec = None
        if spec is not None and not (
            spec.contains("3.12", prereleases=True)
            or spec.contains("3.12.12", prereleases=True)
        ):
            ctx.add(
                "package.pyproject.requires-python",
                "pyproject.toml",
                _line_of(ctx, "pyproject.toml", "requires-python"),
                f"requires-python = {requires!r} excludes Python 3.12, which the "
                "daemon always uses.",
                value=requires,
            )
    deps = project.get("dependencies")
    deps = deps if isinstance(deps, list) else []
    if not any(isinstance(d, str) and SDK_REQUIREMENT.match(d) for d in deps):
        ctx.add(
            "package.requirements.no-sdk",
            "pyproject.toml",
            _line_of(ctx, "pyproject.toml", "dependencies"),
            "pyproject.toml does not depend on dify_plugin, so the plugin cannot "
            "import the SDK.",
        )


def _check_requirements(ctx: Context) -> None:
    text = ctx.files["requirements.txt"].decode("utf-8", "replace")
    lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    if any(
        ln.startswith(("-r", "-c", "--requirement", "--constraint")) for ln in lines
    ):
        return  # the SDK may come from an included file
    if not any(SDK_REQUIREMENT.match(ln) for ln in lines if ln):
        ctx.add(
            "package.requirements.no-sdk",
            "requirements.txt",
            None,
            "requirements.txt does not require dify_plugin, so the plugin cannot "
            "import the SDK.",
        )


def _line_of(ctx: Context, path: str, key: str) -> int | None:
    text = ctx.files[path].decode("utf-8", "replace")
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(key):
            return number
    return None


def _check_orphans(ctx: Context) -> None:
    for path in sorted(ctx.files):
        if not path.endswith((".yaml", ".yml")) or path in ctx.used_yaml:
            continue
        if any(part.startswith(".") for part in path.split("/")):
            continue
        ctx.add(
            "package.orphan-yaml",
            path,
            None,
            f"{path} is not read by Dify: no models glob matches it and nothing "
            "declares it.",
        )
