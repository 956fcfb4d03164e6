"""State shared by the checks of one verify run: files, parsed YAML, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..files import PluginFiles
from ..yamlio import LoadedYaml, YamlError, load_yaml
from .findings import Report


@dataclass
class ModelFile:
    """One model YAML found through the provider's globs."""

    path: str
    keys: list[str]  # the `models:` keys whose globs matched it
    loaded: LoadedYaml | None
    data: dict[str, Any] | None  # None when empty or not a mapping


@dataclass
class ProviderInfo:
    """What later checks need to know about one provider YAML."""

    path: str
    loaded: LoadedYaml
    data: dict[str, Any]
    supported_types: set[str] = field(default_factory=set)
    model_files: list[ModelFile] = field(default_factory=list)
    # `models:` key (llm, text_embedding, ...) -> position path Go reads
    declared_positions: dict[str, str] = field(default_factory=dict)
    # `models:` key -> _position.yaml files its globs match (the SDK reads them)
    globbed_positions: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Context:
    """Files of the plugin, parsed once, and the report the checks write to."""

    files: PluginFiles
    report: Report
    now: datetime
    # What the reader saw (`ReadFiles`): files read through a link -> target,
    # and a package's directory entries.
    links: dict[str, str] = field(default_factory=dict)
    directory_entries: list[str] = field(default_factory=list)
    _parsed: dict[str, LoadedYaml | YamlError] = field(default_factory=dict)
    _reported: set[str] = field(default_factory=set)
    used_yaml: set[str] = field(default_factory=set)
    manifest: dict[str, Any] | None = None
    manifest_yaml: LoadedYaml | None = None
    providers: list[ProviderInfo] = field(default_factory=list)
    _assets: set[str] | None = None

    @property
    def assets(self) -> set[str]:
        """Names of the files under `_assets/`, relative to it."""
        if self._assets is None:
            self._assets = {
                p[len("_assets/") :] for p in self.files if p.startswith("_assets/")
            }
        return self._assets

    def add(self, *args: Any, **kwargs: Any) -> None:
        """Shortcut for `report.add`."""
        self.report.add(*args, **kwargs)

    def parse(self, path: str) -> LoadedYaml | YamlError:
        """The file parsed as YAML (once per run), or the error it raised."""
        if path not in self._parsed:
            try:
                self._parsed[path] = load_yaml(self.files[path])
            except YamlError as exc:
                self._parsed[path] = exc
        return self._parsed[path]

    def load_declared(self, path: str) -> LoadedYaml | None:
        """Parse a YAML file the Go decoder reads, reporting what Go refuses."""
        self.used_yaml.add(path)
        result = self.parse(path)
        first = path not in self._reported
        self._reported.add(path)
        if isinstance(result, YamlError):
            if first:
                self.add(
                    "yaml.syntax",
                    path,
                    result.line,
                    f"{path} is not valid YAML: {result.message}.",
                )
            return None
        if first:
            if result.has_bom:
                self.add("yaml.bom", path, 1, f"{path} starts with a UTF-8 BOM.")
            for key_path, line in result.duplicate_keys:
                dotted = ".".join(str(p) for p in key_path)
                self.add(
                    "yaml.duplicate-key",
                    path,
                    line,
                    f"The key `{dotted}` is defined twice; the daemon's YAML "
                    "decoder refuses the file.",
                    value=str(key_path[-1]) if key_path else None,
                )
        return result
