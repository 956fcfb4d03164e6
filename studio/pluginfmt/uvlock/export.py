"""The export itself: follow the lock from the project and print one line a package."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

from studio.pluginfmt.uvlock.errors import UvLockError
from studio.pluginfmt.uvlock.marker_parser import parse_marker, requires_python_set
from studio.pluginfmt.uvlock.markers import Marker


def normalize_name(name: str) -> str:
    """PEP 503 normalized package name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class _Package:
    name: str
    version: str | None
    source: Mapping[str, Any]
    dependencies: list[Mapping[str, Any]]
    optional: Mapping[str, list[Mapping[str, Any]]]
    groups: Mapping[str, list[Mapping[str, Any]]]


def export_requirements(pyproject: bytes | str, lock: bytes | str) -> str:
    """The text `uv export --frozen --no-group dev --no-emit-project ...` prints."""
    project = _load_toml(pyproject, "pyproject.toml")
    data = _load_lock(lock)
    rp = requires_python_set(data.get("requires-python"))
    packages = [_package(p) for p in data.get("package", [])]
    by_name: dict[str, list[int]] = {}
    for i, p in enumerate(packages):
        by_name.setdefault(p.name, []).append(i)

    root = _find_root(project, packages, by_name)
    root_pkg = packages[root]
    groups = _default_groups(project, root_pkg) - {"dev"}

    # Node: (package index, extra or None); value: reachability marker.
    reach: dict[tuple[int, str | None], Marker] = {}
    queue: list[tuple[int, str | None]] = []

    def visit(edge: Mapping[str, Any], parent: Marker) -> None:
        target = _resolve(edge, packages, by_name)
        marker = parent
        if edge.get("marker"):
            marker = marker.and_(parse_marker(edge["marker"], rp))
        if marker.is_false():
            return
        for extra in [None, *edge.get("extra", [])]:
            node = (target, extra)
            old = reach.get(node)
            new = marker if old is None else old.or_(marker)
            if old is None or new != old:
                reach[node] = new
                queue.append(node)

    start = Marker.true()
    for edge in root_pkg.dependencies:
        visit(edge, start)
    for group in sorted(groups):
        for edge in root_pkg.groups.get(group, []):
            visit(edge, start)
    while queue:
        node = queue.pop()
        index, extra = node
        pkg = packages[index]
        edges = pkg.dependencies if extra is None else pkg.optional.get(extra, [])
        for edge in edges:
            visit(edge, reach[node])

    lines = []
    for (index, extra), marker in reach.items():
        pkg = packages[index]
        if extra is not None or index == root or _is_virtual(pkg):
            continue
        requirement = _requirement(pkg)
        if requirement is None:
            continue
        text = marker.to_string(rp)
        line = requirement + (f" ; {text}" if text else "")
        lines.append((pkg.name, _version_key(pkg.version), line))
    lines.sort()
    return "".join(line + "\n" for _, _, line in lines)


def _version_key(version: str | None) -> tuple[int, Version | str]:
    try:
        return (0, Version(version or ""))
    except InvalidVersion:
        return (1, version or "")


def _load_lock(raw: bytes | str) -> dict[str, Any]:
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    # Most of a uv.lock is `sdist` / `wheels` URLs and hashes, which the export
    # does not use and which dominate TOML parsing time; skip the lines uv
    # writes them on, and fall back to a full parse if the result is not TOML.
    try:
        return tomllib.loads(_without_artifacts(text))
    except tomllib.TOMLDecodeError:
        return _load_toml(text, "uv.lock")


def _without_artifacts(text: str) -> str:
    kept: list[str] = []
    in_wheels = False
    for line in text.split("\n"):
        if in_wheels:
            in_wheels = line != "]"
        elif line.startswith("sdist = {") and line.endswith("}"):
            pass
        elif line.startswith("wheels = ["):
            in_wheels = not line.endswith("]")
        else:
            kept.append(line)
    return "\n".join(kept)


def _load_toml(raw: bytes | str, what: str) -> dict[str, Any]:
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UvLockError(f"{what} is not valid TOML: {exc}") from exc


def _package(raw: Mapping[str, Any]) -> _Package:
    try:
        return _Package(
            name=normalize_name(str(raw["name"])),
            version=str(raw["version"]) if "version" in raw else None,
            source=raw.get("source", {}),
            dependencies=list(raw.get("dependencies", [])),
            optional={
                k: list(v) for k, v in raw.get("optional-dependencies", {}).items()
            },
            groups={k: list(v) for k, v in raw.get("dev-dependencies", {}).items()},
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise UvLockError(f"malformed [[package]] in uv.lock: {exc}") from exc


def _find_root(
    project: Mapping[str, Any], packages: list[_Package], by_name: dict[str, list[int]]
) -> int:
    name = project.get("project", {}).get("name")
    if isinstance(name, str):
        for i in by_name.get(normalize_name(name), []):
            if _is_local(packages[i]):
                return i
    local = [
        i
        for i, p in enumerate(packages)
        if p.source in ({"virtual": "."}, {"editable": "."})
    ]
    if len(local) == 1:
        return local[0]
    raise UvLockError("the project itself is not in uv.lock")


def _default_groups(project: Mapping[str, Any], root: _Package) -> set[str]:
    setting = project.get("tool", {}).get("uv", {}).get("default-groups", ["dev"])
    if setting == "all":
        return set(root.groups)
    return (
        {normalize_name(g) for g in setting} if isinstance(setting, list) else {"dev"}
    )


def _resolve(
    edge: Mapping[str, Any], packages: list[_Package], by_name: dict[str, list[int]]
) -> int:
    name = normalize_name(str(edge.get("name", "")))
    candidates = by_name.get(name, [])
    if "version" in edge:
        candidates = [
            i for i in candidates if packages[i].version == str(edge["version"])
        ]
    if "source" in edge:
        candidates = [i for i in candidates if packages[i].source == edge["source"]]
    if len(candidates) != 1:
        raise UvLockError(f"uv.lock does not pin exactly one {name!r}")
    return candidates[0]


def _is_local(pkg: _Package) -> bool:
    return any(k in pkg.source for k in ("virtual", "editable", "directory", "path"))


def _is_virtual(pkg: _Package) -> bool:
    return "virtual" in pkg.source


def _requirement(pkg: _Package) -> str | None:
    source = pkg.source
    if "registry" in source:
        return f"{pkg.name}=={pkg.version}"
    if "git" in source:
        url, _, commit = str(source["git"]).partition("#")
        url = url.split("?", 1)[0]
        return (
            f"{pkg.name} @ git+{url}@{commit}" if commit else f"{pkg.name} @ git+{url}"
        )
    if "url" in source:
        return f"{pkg.name} @ {source['url']}"
    if "editable" in source:
        return f"-e {_relative(source['editable'])}"
    for key in ("directory", "path"):
        if key in source:
            return _relative(source[key])
    return f"{pkg.name}=={pkg.version}" if pkg.version else None


def _relative(path: Any) -> str:
    text = str(path)
    return text if text.startswith(("/", ".")) else f"./{text}"
