"""What the plugin installs: pinned, from PyPI, and a recent enough SDK.

Both requirements files and pyproject.toml are read (Poetry's tables too):
the daemon installs from either. Includes (`-r`) are followed inside the
package, each file once.
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from typing import Any

from .context import Context

VERSION_OPERATOR = re.compile(r"(===|==|~=|!=|<=|>=|<|>|\^)")
DIRECT_URL = re.compile(r"(^|\s@)\s*(?:https?|ftp|file)://", re.IGNORECASE)
GIT_URL = re.compile(r"git\+", re.IGNORECASE)
LOCAL_PATH = re.compile(r"(^|\s@)\s*(?:\./|\.\./|/)")
LOWER_BOUND_ONLY = re.compile(r"^([^<>=!~]+)?(>=|>)\s*[^,]+$", re.IGNORECASE)
NAME = re.compile(r"^\s*([A-Za-z0-9_.-]+)")
SDK_BOUND = re.compile(r"(?:>=|==)\s*([0-9][0-9A-Za-z.+-]*)")
SDK_FLOOR = (0, 9, 0)
OPTIONS = (
    "-c ", "--constraint ", "--extra-index-url ", "--find-links ", "--index-url ",
    "--no-binary ", "--only-binary ", "--trusted-host ", "--use-pep517",
    "--use-feature ",
)  # fmt: skip
# Not a security list: these dominate install time, so a person looks.
LARGE = frozenset({
    "chromadb", "faiss-cpu", "faiss-gpu", "jax", "llama-cpp-python",
    "opencv-contrib-python", "opencv-python", "opencv-python-headless",
    "paddlepaddle", "playwright", "pyppeteer", "selenium", "spacy", "tensorflow",
    "tensorflow-cpu", "torch", "torchaudio", "torchvision", "transformers",
})  # fmt: skip


def check_dependencies(ctx: Context) -> None:
    """requirements.txt (with its includes) and pyproject.toml."""
    if "requirements.txt" in ctx.files:
        _read_requirements(ctx, "requirements.txt", set())
    if "pyproject.toml" in ctx.files:
        _read_pyproject(ctx)


def _read_requirements(ctx: Context, path: str, seen: set[str]) -> None:
    if path in seen:
        return
    seen.add(path)
    for number, raw in enumerate(ctx.text(path).splitlines(), 1):
        requirement = raw.split(" #", 1)[0].strip()
        if not requirement or requirement.startswith("#"):
            continue
        if requirement.startswith(("-r ", "--requirement ")):
            target = requirement.split(None, 1)[1].strip()
            included = posixpath.normpath(
                posixpath.join(posixpath.dirname(path), target)
            )
            if included.startswith("../") or included == ".." or target.startswith("/"):
                _local(ctx, path, number, f"includes {target}, outside the package")
            elif included not in ctx.files:
                _local(ctx, path, number, f"includes {target}, which is missing")
            else:
                _read_requirements(ctx, included, seen)
            continue
        _judge(ctx, requirement, path, number, where=f"{path}:{number}")


def _local(ctx: Context, path: str, line: int | None, what: str) -> None:
    ctx.add(
        "marketplace.dependency-local",
        path,
        line,
        f"{path} {what}.",
    )


def _judge(
    ctx: Context, requirement: str, path: str, line: int | None, *, where: str
) -> None:
    def add(rule: str, what: str) -> None:
        ctx.add(rule, path, line, f"{where}: {what}: {requirement}", value=requirement)

    if GIT_URL.search(requirement):
        return add("marketplace.dependency-source", "installs from git")
    if DIRECT_URL.search(requirement):
        return add("marketplace.dependency-source", "installs from a URL")
    if requirement.startswith(("-e ", "--editable ")):
        return add("marketplace.dependency-local", "an editable install")
    if LOCAL_PATH.search(requirement):
        return add("marketplace.dependency-local", "a local path")
    if requirement.startswith(OPTIONS):
        return None
    name = package_name(requirement)
    if name in LARGE:
        add("marketplace.dependency-large", f"{name} is a very large package")
    if name == "dify-plugin":
        bound = SDK_BOUND.search(requirement)
        if bound is None or _numbers(bound.group(1)) < SDK_FLOOR:
            return add("marketplace.dependency-sdk-floor", "dify_plugin below 0.9.0")
    if not VERSION_OPERATOR.search(requirement):
        add("marketplace.dependency-unpinned", "no version constraint")
    elif LOWER_BOUND_ONLY.match(requirement):
        add("marketplace.dependency-lower-bound", "only a lower bound")
    return None


def package_name(requirement: str) -> str:
    """The normalised distribution name a requirement line starts with."""
    match = NAME.match(requirement.split(" @ ", 1)[0])
    return match.group(1).lower().replace("_", "-") if match else ""


def _numbers(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for part in re.split(r"[.+-]", version):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def _read_pyproject(ctx: Context) -> None:
    try:
        data = tomllib.loads(ctx.text("pyproject.toml"))
    except tomllib.TOMLDecodeError:
        return  # the verifier reports it (package.pyproject.invalid)
    lines = ctx.text("pyproject.toml").splitlines()
    for source, requirement in pyproject_requirements(data):
        line = next(
            (n for n, text in enumerate(lines, 1) if requirement.split(" ")[0] in text),
            None,
        )
        _judge(
            ctx,
            requirement,
            "pyproject.toml",
            line,
            where=f"pyproject.toml {source}",
        )


def pyproject_requirements(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(table, requirement) for every dependency pyproject.toml declares."""
    found: list[tuple[str, str]] = []
    project = data.get("project")
    if isinstance(project, dict):
        found += _strings("project.dependencies", project.get("dependencies"))
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for group, items in optional.items():
                found += _strings(f"project.optional-dependencies.{group}", items)
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for group, items in groups.items():
            found += _strings(f"dependency-groups.{group}", items)
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        found += _poetry("tool.poetry.dependencies", poetry.get("dependencies"))
        found += _poetry("tool.poetry.dev-dependencies", poetry.get("dev-dependencies"))
        poetry_groups = poetry.get("group")
        if isinstance(poetry_groups, dict):
            for group, table in poetry_groups.items():
                deps = table.get("dependencies") if isinstance(table, dict) else None
                found += _poetry(f"tool.poetry.group.{group}.dependencies", deps)
    return found


def _strings(source: str, items: Any) -> list[tuple[str, str]]:
    if not isinstance(items, list):
        return []
    return [(source, item) for item in items if isinstance(item, str)]


def _poetry(source: str, table: Any) -> list[tuple[str, str]]:
    if not isinstance(table, dict):
        return []
    return [
        (source, _poetry_requirement(name, value))
        for name, value in table.items()
        if name.lower() != "python"
    ]


def _poetry_requirement(name: str, value: Any) -> str:
    if isinstance(value, str):
        spaced = "" if value.startswith(("=", "<", ">", "~", "!")) else " "
        return f"{name}{spaced}{value}"
    if isinstance(value, dict):
        if "git" in value:
            ref = value.get("rev") or value.get("tag") or value.get("branch") or ""
            return f"{name} @ git+{value['git']}{'@' + ref if ref else ''}"
        if "url" in value:
            return f"{name} @ {value['url']}"
        if "path" in value:
            return f"{name} @ {value['path']}"
        version = value.get("version", "")
        return f"{name}{version if isinstance(version, str) else ''}"
    return name
