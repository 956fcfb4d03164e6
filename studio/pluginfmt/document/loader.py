"""The plugin as a document: YAML parts as pydantic models, every other file as bytes.

Round trip: each YAML part keeps its original bytes and a snapshot of the data
its model dumped to at load time. On dump, a part whose model still dumps to
that snapshot is written back byte for byte (BOM, CRLF, comments, anchors and
all); an edited part is re-serialised in the original's key order and style.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from studio.pluginfmt.document.specs import (
    MODEL_TYPES,
    Manifest,
    ModelSpec,
    ProviderSpec,
    Spec,
)
from studio.pluginfmt.document.yamltext import dump_yaml
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.globs import glob_files, glob_match
from studio.pluginfmt.yamlio import LoadedYaml, YamlError, load_yaml

MANIFEST = "manifest.yaml"
POSITION_SUFFIX = "_position.yaml"


class DocumentError(ValueError):
    """A plugin that cannot be turned into a document: which file, which line, why."""

    def __init__(self, message: str, *, file: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


@dataclass(eq=False, kw_only=True)
class YamlPart[SpecT: Spec]:
    """One YAML file of the plugin read into a model; edit `spec` in place."""

    path: str
    spec: SpecT
    source: bytes | None = field(default=None, repr=False)
    loaded: LoadedYaml | None = field(default=None, repr=False)
    baseline: Any = field(default=None, repr=False)

    @property
    def changed(self) -> bool:
        """Whether dumping would produce anything else than the original bytes."""
        return self.source is None or self.spec.to_data() != self.baseline

    def line_of(self, *path: str | int) -> int | None:
        """Line of a key or item in the original file, if there is one."""
        return self.loaded.line_of(*path) if self.loaded else None

    def to_bytes(self) -> bytes:
        """The file's bytes: the original if unchanged, else a fresh dump."""
        if not self.changed and self.source is not None:
            return self.source
        return _serialise(self.spec.to_data(), self.source, self.loaded)


@dataclass(eq=False, kw_only=True)
class ModelEntry(YamlPart[ModelSpec]):
    """A model YAML and the `models:` key (`llm`, `text_embedding`…) that globbed it."""

    type_key: str


@dataclass(eq=False, kw_only=True)
class PositionFile:
    """A `_position.yaml`: model ids in display order (`items`, plain YAML data).

    `declared`: named by `models.<type>.position` (what the daemon reads).
    `globbed`: matched by a `predefined` glob (what the SDK reads).
    """

    path: str
    type_key: str
    items: Any
    declared: bool = False
    globbed: bool = False
    source: bytes | None = field(default=None, repr=False)
    loaded: LoadedYaml | None = field(default=None, repr=False)
    baseline: Any = field(default=None, repr=False)

    @property
    def names(self) -> list[str]:
        """The model ids listed, ignoring anything that is not a list of strings."""
        if not isinstance(self.items, list):
            return []
        return [item for item in self.items if isinstance(item, str)]

    @property
    def changed(self) -> bool:
        """Whether dumping would produce anything else than the original bytes."""
        return self.source is None or self.items != self.baseline

    def line_of(self, *path: str | int) -> int | None:
        """Line of an item in the original file, if there is one."""
        return self.loaded.line_of(*path) if self.loaded else None

    def to_bytes(self) -> bytes:
        """The file's bytes: the original if unchanged, else a fresh dump."""
        if not self.changed and self.source is not None:
            return self.source
        return _serialise(self.items, self.source, self.loaded)


@dataclass(eq=False, kw_only=True)
class PluginDocument:
    """A model plugin: manifest, provider, models and positions, other files as bytes.

    `orphans` lists YAML files under `models/` that no glob loads (the daemon
    ignores them); they stay in `files` like any other file.
    """

    manifest: YamlPart[Manifest]
    provider: YamlPart[ProviderSpec]
    models: list[ModelEntry] = field(default_factory=list)
    positions: list[PositionFile] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    orphans: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list, repr=False)

    def models_of(self, type_key: str) -> list[ModelEntry]:
        """The model entries globbed under one `models:` key."""
        return [m for m in self.models if m.type_key == type_key]

    def position_of(self, type_key: str) -> PositionFile | None:
        """The position file of a type: the declared one, else a globbed one."""
        candidates = [p for p in self.positions if p.type_key == type_key]
        candidates.sort(key=lambda p: (not p.declared, not p.globbed))
        return candidates[0] if candidates else None

    def parts(self) -> list[YamlPart[Any] | PositionFile]:
        """Every YAML part: manifest, provider, positions, models."""
        return [self.manifest, self.provider, *self.positions, *self.models]


# ---------------------------------------------------------------- loading


def load_document(files: PluginFiles) -> PluginDocument:
    """Read plugin files into a document, finding models exactly as the daemon does."""
    manifest = _load_part(files, MANIFEST, Manifest)
    provider_path = _provider_path(manifest)
    if provider_path not in files:
        raise DocumentError(
            "the provider file listed in manifest.yaml (plugins.models) is missing",
            file=provider_path,
        )
    provider = _load_part(files, provider_path, ProviderSpec)

    paths = list(files)
    used = {MANIFEST, provider_path}
    models: list[ModelEntry] = []
    positions: list[PositionFile] = []
    for key, block in (provider.spec.models or {}).items():
        # The daemon and the SDK only look at the underscore keys.
        if key not in MODEL_TYPES or block is None:
            continue
        patterns = [p for p in block.predefined or [] if isinstance(p, str)]
        for path in glob_files(patterns, paths):
            loaded = _load_part(files, path, ModelSpec)
            models.append(
                ModelEntry(
                    path=path,
                    spec=loaded.spec,
                    source=loaded.source,
                    loaded=loaded.loaded,
                    baseline=loaded.baseline,
                    type_key=key,
                )
            )
            used.add(path)
        globbed = [
            p
            for p in paths
            if p.endswith(POSITION_SUFFIX) and any(glob_match(g, p) for g in patterns)
        ]
        declared = (block.position or "").removeprefix("./")
        for path in dict.fromkeys([declared, *globbed]):
            if path not in files:
                continue  # a declared file that is missing: the verifier's finding
            positions.append(
                _load_position(
                    files,
                    path,
                    key,
                    declared=path == declared,
                    globbed=path in globbed,
                )
            )
            used.add(path)

    others = {path: content for path, content in files.items() if path not in used}
    orphans = [
        path
        for path in others
        if path.startswith("models/") and path.endswith((".yaml", ".yml"))
    ]
    return PluginDocument(
        manifest=manifest,
        provider=provider,
        models=models,
        positions=positions,
        files=others,
        orphans=orphans,
        order=paths,
    )


def _provider_path(manifest: YamlPart[Manifest]) -> str:
    plugins = manifest.spec.plugins
    listed = plugins.models if plugins else None
    if not listed:
        raise DocumentError(
            "the manifest lists no model provider (plugins.models)",
            file=MANIFEST,
            line=manifest.line_of("plugins"),
        )
    # The daemon keeps the last provider it decodes; a model plugin has one.
    return listed[-1].removeprefix("./")


def _parse(files: PluginFiles, path: str) -> LoadedYaml:
    if path not in files:
        raise DocumentError("the file is missing", file=path)
    try:
        return load_yaml(files[path])
    except YamlError as exc:
        raise DocumentError(exc.message, file=path, line=exc.line) from None


def _load_part[SpecT: Spec](
    files: PluginFiles, path: str, model: type[SpecT]
) -> YamlPart[SpecT]:
    loaded = _parse(files, path)
    if not isinstance(loaded.data, dict):
        found = "an empty file" if loaded.data is None else type(loaded.data).__name__
        raise DocumentError(
            f"expected a mapping at the top level, found {found}",
            file=path,
            line=loaded.line_of(),
        )
    try:
        spec = model.model_validate(loaded.data)
    except ValidationError as exc:
        raise _validation_error(exc, path, loaded) from None
    return YamlPart(
        path=path,
        spec=spec,
        source=files[path],
        loaded=loaded,
        baseline=copy.deepcopy(spec.to_data()),
    )


def _load_position(
    files: PluginFiles, path: str, key: str, *, declared: bool, globbed: bool
) -> PositionFile:
    loaded = _parse(files, path)
    return PositionFile(
        path=path,
        type_key=key,
        items=copy.deepcopy(loaded.data),
        declared=declared,
        globbed=globbed,
        source=files[path],
        loaded=loaded,
        baseline=loaded.data,
    )


def _validation_error(
    exc: ValidationError, path: str, loaded: LoadedYaml
) -> DocumentError:
    error = exc.errors(include_url=False)[0]
    # Keep only the parts of pydantic's location that address the data
    # (union branches such as 'str' or 'int' do not).
    where: list[str | int] = []
    node: Any = loaded.data
    for part in error["loc"]:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if not (in_dict or in_list):
            continue
        node = node[part]
        where.append(part)
    dotted = ".".join(str(p) for p in where) or "(top level)"
    return DocumentError(
        f"{dotted}: {error['msg']}", file=path, line=loaded.line_of(*where)
    )


# ---------------------------------------------------------------- dumping


def dump_document(doc: PluginDocument) -> PluginFiles:
    """The document's files: unchanged parts byte for byte, edited parts re-dumped."""
    out: dict[str, bytes] = dict(doc.files)
    written: dict[str, bool] = {}
    for part in doc.parts():
        path = part.path
        changed = part.changed
        if path in doc.files:
            raise DocumentError(
                "a YAML part and a plain file share this path", file=path
            )
        if path in written:
            if not changed:
                continue
            if written[path]:
                raise DocumentError("two edited parts share this path", file=path)
        out[path] = part.to_bytes()
        written[path] = changed
    rank = {path: i for i, path in enumerate(doc.order)}
    return dict(sorted(out.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def _serialise(data: Any, source: bytes | None, loaded: LoadedYaml | None) -> bytes:
    if loaded is not None:
        data = _in_original_order(data, loaded.data)
    return dump_yaml(data, like=source)


def _in_original_order(new: Any, old: Any) -> Any:
    """`new` with its keys in the order `old` had them; new keys come last."""
    if isinstance(new, dict) and isinstance(old, dict):
        ordered = {k: _in_original_order(new[k], old[k]) for k in old if k in new}
        ordered.update((k, v) for k, v in new.items() if k not in ordered)
        return ordered
    if isinstance(new, list) and isinstance(old, list):
        return [
            _in_original_order(item, old[i]) if i < len(old) else item
            for i, item in enumerate(new)
        ]
    return new
