"""What the checks of one pre-check share: the package's files, the parsed
manifest, the options, and the report they write to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..files import PluginFiles
from ..verify.findings import Report
from ..yamlio import LoadedYaml, YamlError, load_yaml

Profile = Literal["community", "official"]
PROFILES: tuple[Profile, ...] = ("community", "official")

# Files the text checks read no further than (the validator skips them too).
MAX_TEXT_BYTES = 1024 * 1024
SAMPLE_BYTES = 4096


@dataclass
class Context:
    """The files of the unpacked package and what the checks found so far."""

    files: PluginFiles
    report: Report
    profile: Profile = "community"
    released_versions: list[str] = field(default_factory=list)
    package_size: int | None = None
    _manifest: LoadedYaml | None = None
    _manifest_read: bool = False

    def add(self, *args: Any, **kwargs: Any) -> None:
        """Shortcut for `report.add`."""
        self.report.add(*args, **kwargs)

    @property
    def manifest(self) -> LoadedYaml | None:
        """manifest.yaml parsed with line numbers; None when it cannot be read."""
        if not self._manifest_read:
            self._manifest_read = True
            raw = self.files.get("manifest.yaml")
            if raw is not None:
                try:
                    self._manifest = load_yaml(raw)
                except YamlError:
                    self._manifest = None
        return self._manifest

    @property
    def manifest_data(self) -> dict[str, Any]:
        """The manifest as a mapping ({} when it is not one)."""
        loaded = self.manifest
        data = loaded.data if loaded is not None else None
        return data if isinstance(data, dict) else {}

    def manifest_line(self, *path: str) -> int | None:
        """Line of a manifest key (or its closest ancestor)."""
        loaded = self.manifest
        return loaded.line_of(*path) if loaded is not None else None

    def text(self, path: str) -> str:
        """A file as text, undecodable bytes dropped (as the validator reads it)."""
        return self.files[path].decode("utf-8", "ignore")

    def is_text(self, path: str, binary_suffixes: frozenset[str]) -> bool:
        """Whether the text checks read this file: small, no binary suffix, no NUL."""
        data = self.files[path]
        if suffix_of(path) in binary_suffixes or len(data) > MAX_TEXT_BYTES:
            return False
        return b"\0" not in data[:SAMPLE_BYTES]


def suffix_of(path: str) -> str:
    """The lower-cased suffix of the file name (`.py`), "" when it has none."""
    name = path.rsplit("/", 1)[-1]
    stem, dot, suffix = name.rpartition(".")
    return f".{suffix.lower()}" if dot and stem else ""


def text_value(value: Any) -> str:
    """A manifest value as the CI's `yq -r` prints it ("" for null or absent)."""
    # `yq '.x // ""'` falls back on null and false alike.
    if value is None or value is False:
        return ""
    if value is True:
        return "true"
    if isinstance(value, (dict, list)):
        return repr(value) if value else ("{}" if isinstance(value, dict) else "[]")
    return str(value).strip()


def lookup(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at a dotted manifest path, None when any part is missing."""
    value: Any = data
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
