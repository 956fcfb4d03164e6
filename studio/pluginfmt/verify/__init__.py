"""Static verifier of a Dify model plugin: every rule of format doc §9 and §5.

`verify(files)` never raises on bad input: unparsable YAML, missing files and
wrong types all become findings, each naming the Dify layer that would refuse
the plugin (Go packager, daemon install, SDK start-up) or the Marketplace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ..files import PluginFiles, ReadFiles
from .context import Context
from .findings import (
    LAYERS,
    SEVERITIES,
    Finding,
    Layer,
    Report,
    Rule,
    Severity,
    findings_from_json,
    findings_to_json,
    severity_counts,
)
from .manifest import check_manifest
from .model_ids import MAX_MODEL_ID, IdProblem, model_id_problems
from .package import check_package
from .provider import check_providers
from .python import check_python
from .rules import RULES

__all__ = [
    "LAYERS",
    "MAX_MODEL_ID",
    "RULES",
    "SEVERITIES",
    "Finding",
    "IdProblem",
    "Layer",
    "Rule",
    "Severity",
    "findings_from_json",
    "findings_to_json",
    "model_id_problems",
    "severity_counts",
    "verify",
]

_STAGES: list[Callable[[Context], None]] = [
    check_manifest,
    check_providers,
    check_python,
    check_package,
]


def _clean(files: Any) -> PluginFiles:
    # Tolerate callers that hand in str contents or stray non-string keys.
    if not isinstance(files, Mapping):
        return {}
    out: PluginFiles = {}
    for path, content in files.items():
        if not isinstance(path, str):
            continue
        if isinstance(content, str):
            content = content.encode("utf-8")
        elif isinstance(content, (bytearray, memoryview)):
            content = bytes(content)
        elif not isinstance(content, bytes):
            continue
        out[path] = content
    return out


def verify(files: PluginFiles, *, now: datetime | None = None) -> list[Finding]:
    """All findings for the plugin made of `files`, sorted by file and line.

    `ReadFiles` also tell which files were read through symlinks and which
    directory entries a package holds; plain dicts hold neither.
    """
    report = Report(RULES)
    read = files if isinstance(files, ReadFiles) else ReadFiles()
    ctx = Context(
        files=_clean(files),
        report=report,
        now=now or datetime.now(UTC),
        links=dict(read.links),
        directory_entries=list(read.directory_entries),
    )
    for stage in _STAGES:
        try:
            stage(ctx)
        except Exception as exc:  # a verifier bug must not hide the other findings
            report.add(
                "verifier.internal",
                "",
                None,
                f"The check {stage.__name__} stopped early: {exc!r}.",
            )
    return report.sorted()
