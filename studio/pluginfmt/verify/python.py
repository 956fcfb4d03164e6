"""Static checks of the Python side (format doc §5): files exist, classes are findable.

The SDK is never imported (it monkey-patches gevent into the process): the
sources are parsed with `ast`, and class hierarchies are followed by name.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

from .context import Context, ProviderInfo
from .schema import describe

PROVIDER_BASE = "ModelProvider"
# ModelProvider subclasses the SDK exports: importing one by name puts a
# second subclass into vars(module), next to the plugin's own.
SDK_PROVIDER_SUBCLASSES = {"OAICompatProvider"}
MODEL_BASES = {
    "LargeLanguageModel": "llm",
    "TextEmbeddingModel": "text-embedding",
    "RerankModel": "rerank",
    "Speech2TextModel": "speech2text",
    "TTSModel": "tts",
    "ModerationModel": "moderation",
}
# Strict subclasses of the bases above: the SDK registers them if they end
# up last in vars(module).
SDK_MODEL_SUBCLASSES = {
    "OAICompatLargeLanguageModel": "llm",
    "OAICompatEmbeddingModel": "text-embedding",
    "OAICompatRerankModel": "rerank",
    "OAICompatSpeech2TextModel": "speech2text",
    "OAICompatText2SpeechModel": "tts",
}
_BUILTINS = set(dir(builtins))
_MODEL_SUFFIXES = {
    "LargeLanguageModel": "llm",
    "EmbeddingModel": "text-embedding",
    "RerankModel": "rerank",
    "Speech2TextModel": "speech2text",
    "Text2SpeechModel": "tts",
    "TTSModel": "tts",
    "ModerationModel": "moderation",
}


@dataclass
class ModuleFacts:
    """What a module binds at top level, by name, in binding order."""

    sdk_imports: dict[str, tuple[str, int]] = field(default_factory=dict)
    other_imports: set[str] = field(default_factory=set)
    star_import: bool = False
    provider_classes: list[tuple[str, int]] = field(default_factory=list)
    unknown_base_classes: list[str] = field(default_factory=list)
    model_classes: list[tuple[str, str, int]] = field(default_factory=list)
    calls: set[str] = field(default_factory=set)


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _base_name(node.value)
    return None


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    # Statements run at import time, including those under if/try/with.
    out: list[ast.stmt] = []
    for stmt in body:
        out.append(stmt)
        if isinstance(stmt, (ast.If, ast.For, ast.While)):
            out.extend(_top_level(stmt.body + stmt.orelse))
        elif isinstance(stmt, ast.With):
            out.extend(_top_level(stmt.body))
        elif isinstance(stmt, ast.Try):
            blocks = stmt.body + stmt.orelse + stmt.finalbody
            for handler in stmt.handlers:
                blocks += handler.body
            out.extend(_top_level(blocks))
    return out


def analyse(tree: ast.Module) -> ModuleFacts:
    """Collect imports, provider classes and model classes of a module."""
    facts = ModuleFacts()
    local_provider: set[str] = set()
    local_model: dict[str, str] = {}
    local_other: set[str] = set()
    for stmt in _top_level(tree.body):
        if isinstance(stmt, ast.ImportFrom):
            module = stmt.module or ""
            from_sdk = stmt.level == 0 and (
                module == "dify_plugin" or module.startswith("dify_plugin.")
            )
            for alias in stmt.names:
                if alias.name == "*":
                    facts.star_import = True
                    continue
                local = alias.asname or alias.name
                if from_sdk:
                    facts.sdk_imports[local] = (alias.name, stmt.lineno)
                else:
                    facts.other_imports.add(local)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                facts.other_imports.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(stmt, ast.ClassDef):
            kind: str | None = None
            provider = False
            unknown = False
            for base in stmt.bases:
                name = _base_name(base)
                if name is None:
                    continue
                sdk = facts.sdk_imports.get(name, (name, 0))[0]
                if (
                    sdk in (PROVIDER_BASE, *SDK_PROVIDER_SUBCLASSES)
                    or name in local_provider
                    or sdk.endswith("ModelProvider")
                    or (name in facts.sdk_imports and sdk.endswith("Provider"))
                ):
                    provider = True
                elif sdk in MODEL_BASES or sdk in SDK_MODEL_SUBCLASSES:
                    kind = MODEL_BASES.get(sdk) or SDK_MODEL_SUBCLASSES[sdk]
                elif name in local_model:
                    kind = local_model[name]
                else:
                    suffix = next((s for s in _MODEL_SUFFIXES if sdk.endswith(s)), None)
                    if suffix:
                        kind = _MODEL_SUFFIXES[suffix]
                    elif name not in local_other and name not in facts.sdk_imports:
                        # imported from elsewhere, or a base of unknown kind
                        unknown = unknown or name not in _BUILTINS
            if provider:
                local_provider.add(stmt.name)
                facts.provider_classes.append((stmt.name, stmt.lineno))
            elif kind:
                local_model[stmt.name] = kind
                facts.model_classes.append((stmt.name, kind, stmt.lineno))
            elif unknown:
                facts.unknown_base_classes.append(stmt.name)
            else:
                local_other.add(stmt.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _base_name(node.func)
            if name:
                facts.calls.add(name)
    return facts


def _parse(ctx: Context, path: str) -> ast.Module | None:
    raw = ctx.files[path]
    try:
        return ast.parse(raw, filename=path)
    except SyntaxError as exc:
        ctx.add(
            "python.syntax",
            path,
            exc.lineno,
            f"{path} does not parse as Python: {exc.msg}.",
        )
    except (ValueError, TypeError) as exc:
        ctx.add("python.syntax", path, None, f"{path} is not Python source: {exc}.")
    return None


def check_python(ctx: Context) -> None:
    """Check the entrypoint, the provider source and the model sources."""
    _check_entrypoint(ctx)
    for info in ctx.providers:
        _check_sources(ctx, info)


def _check_entrypoint(ctx: Context) -> None:
    if not ctx.manifest or not ctx.manifest_yaml:
        return
    runner = ctx.manifest.get("meta")
    runner = runner.get("runner") if isinstance(runner, dict) else None
    entry = runner.get("entrypoint") if isinstance(runner, dict) else None
    if not isinstance(entry, str) or not entry:
        return
    module = entry.replace(".", "/")
    candidates = [f"{module}.py", f"{module}/__main__.py"]
    found = next((c for c in candidates if c in ctx.files), None)
    if found is None:
        hint = ""
        if entry.endswith(".py"):
            hint = f" (the entrypoint is a module name: write {entry[:-3]!r})"
        ctx.add(
            "python.entrypoint.missing",
            "manifest.yaml",
            ctx.manifest_yaml.line_of("meta", "runner", "entrypoint"),
            f"The daemon runs `python -m {entry}`, but {candidates[0]} is not in "
            f"the package{hint}.",
            value=entry,
        )
        return
    tree = _parse(ctx, found)
    if tree is None:
        return
    facts = analyse(tree)
    if "Plugin" not in facts.calls or "run" not in facts.calls:
        ctx.add(
            "python.entrypoint.no-run",
            found,
            1,
            f"{found} never creates a Plugin and calls run(), so the process exits "
            "before its first heartbeat.",
        )


def _check_sources(ctx: Context, info: ProviderInfo) -> None:
    path, loaded, data = info.path, info.loaded, info.data
    extra = data.get("extra")
    python = extra.get("python") if isinstance(extra, dict) else None
    source = python.get("provider_source") if isinstance(python, dict) else None
    if source is None or source == "" or isinstance(source, (dict, list)):
        ctx.add(
            "python.provider-source.missing",
            path,
            loaded.line_of("extra", "python", "provider_source"),
            "extra.python.provider_source is missing; the SDK refuses to start.",
        )
    else:
        source_path = str(source).removeprefix("./")
        if source_path not in ctx.files:
            ctx.add(
                "python.provider-source.not-found",
                path,
                loaded.line_of("extra", "python", "provider_source"),
                f"provider_source names {source!r}, which is not in the package.",
                value=source,
            )
        else:
            _check_provider_module(ctx, source_path)
    if not isinstance(python, dict) or "model_sources" not in python:
        return
    sources = python.get("model_sources")
    at = loaded.line_of("extra", "python", "model_sources")
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        ctx.add(
            "python.model-sources.type",
            path,
            at,
            f"extra.python.model_sources must be a list of paths, not "
            f"{describe(sources)}.",
            value=sources if not isinstance(sources, dict) else None,
        )
        return
    found: set[str] = set()
    complete = True
    for i, raw in enumerate(sources):
        line = loaded.line_of("extra", "python", "model_sources", i)
        source_path = raw.removeprefix("./")
        if source_path not in ctx.files:
            complete = False
            ctx.add(
                "python.model-source.not-found",
                path,
                line,
                f"model_sources names {raw!r}, which is not in the package.",
                value=raw,
            )
            continue
        if len(source_path.removesuffix(".py").split("/")) < 3:
            ctx.add(
                "python.model-source.shallow",
                path,
                line,
                f"{raw} is a module less than three levels deep; the SDK then turns "
                "every invoke error into IndexError.",
                value=raw,
            )
        tree = _parse(ctx, source_path)
        if tree is None:
            complete = False
            continue
        facts = analyse(tree)
        kinds = {kind for _, kind, _ in facts.model_classes}
        found |= kinds
        if not facts.model_classes:
            if facts.unknown_base_classes or facts.star_import:
                complete = False
            else:
                ctx.add(
                    "python.model-source.no-model-class",
                    source_path,
                    1,
                    f"{source_path} defines no model class (e.g. a "
                    "LargeLanguageModel subclass).",
                )
        _check_import_order(ctx, source_path, facts)
    if complete:
        for kind in sorted(info.supported_types - found):
            ctx.add(
                "python.model-class.missing-type",
                path,
                at,
                f"{kind} is a supported model type, but no model source defines a "
                "class for it.",
                value=kind,
            )


def _check_provider_module(ctx: Context, source_path: str) -> None:
    tree = _parse(ctx, source_path)
    if tree is None:
        return
    facts = analyse(tree)
    imported = [
        (local, line)
        for local, (name, line) in facts.sdk_imports.items()
        if name in SDK_PROVIDER_SUBCLASSES
    ]
    names = [n for n, _ in facts.provider_classes] + [n for n, _ in imported]
    if len(names) > 1:
        lines = [line for _, line in facts.provider_classes] + [
            line for _, line in imported
        ]
        ctx.add(
            "python.provider.multiple-subclasses",
            source_path,
            max(lines),
            f"{source_path} binds {len(names)} ModelProvider subclasses "
            f"({', '.join(names)}); the SDK needs exactly one.",
            value=names,
        )
    elif not names and not facts.unknown_base_classes and not facts.star_import:
        ctx.add(
            "python.provider.no-subclass",
            source_path,
            1,
            f"{source_path} defines no ModelProvider subclass; the SDK refuses to "
            "start.",
        )


def _check_import_order(ctx: Context, path: str, facts: ModuleFacts) -> None:
    first_class: dict[str, int] = {}
    for _, class_kind, line in facts.model_classes:
        first_class.setdefault(class_kind, line)
    for local, (name, line) in facts.sdk_imports.items():
        kind = SDK_MODEL_SUBCLASSES.get(name)
        if kind and kind in first_class and line > first_class[kind]:
            ctx.add(
                "python.model-class.import-order",
                path,
                line,
                f"{local} is imported after the {kind} class of line "
                f"{first_class[kind]}, so the SDK registers {local} instead.",
                value=local,
            )
