"""The report of an import: what it stored, read and left out, kept as JSON
on its ImportJob (pages, the API and `plugin import --json` show it)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, Field

from studio.catalog.models import ImportJob
from studio.pluginfmt.document import (
    MODEL_TYPE_KEYS,
    MODEL_TYPES,
    PluginDocument,
    model_type_of,
)
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.ignore import select_files
from studio.pluginfmt.verify import (
    Finding,
    findings_from_json,
    findings_to_json,
    severity_counts,
)

from . import SaveResult


class IgnoredItem(BaseModel):
    path: str
    reason: str


class FileItem(BaseModel):
    path: str
    size: int


class ImportReport(BaseModel):
    """What an import did, stored as JSON on its ImportJob."""

    plugin_id: str
    version: str = ""
    mode: str = ImportJob.Mode.NEW
    provider_id: int
    job_id: int | None = None
    source: str = ""
    renamed_from: str | None = None
    models: dict[str, int] = Field(default_factory=dict)
    files: list[FileItem] = Field(default_factory=list)
    total_bytes: int = 0
    findings: list[dict[str, Any]] = Field(default_factory=list)
    orphans: list[str] = Field(default_factory=list)
    ignored: list[IgnoredItem] = Field(default_factory=list)
    changed_paths: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def model_count(self) -> int:
        return sum(self.models.values())

    @property
    def verifier_findings(self) -> list[Finding]:
        """The stored `findings` read back as Findings (what pages and the CLI show)."""
        return findings_from_json(self.findings)

    @property
    def errors(self) -> int:
        return severity_counts(self.findings)["error"]

    @property
    def warnings(self) -> int:
        return severity_counts(self.findings)["warning"]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data, with the counts pages and `--json` show."""
        return self.model_dump(mode="json") | {
            "model_count": self.model_count,
            "file_count": len(self.files),
            "errors": self.errors,
            "warnings": self.warnings,
        }


def build_report(
    *,
    doc: PluginDocument,
    files: PluginFiles,
    result: SaveResult,
    mode: str,
    source: str,
    renamed_from: str | None,
    notes: list[str],
) -> ImportReport:
    """The report of an import that saved `result` from `files`."""
    provider = result.provider
    counts = Counter(model_type_of(m.type_key) for m in doc.models)
    order = list(MODEL_TYPE_KEYS)
    models = {
        t: counts[t]
        for t in sorted(counts, key=lambda t: (order.index(t) if t in order else 99, t))
    }
    ignored = [
        IgnoredItem(
            path=path,
            reason="YAML under models/ that no `models.<type>.predefined` glob of "
            "the provider matches: Dify does not load it (kept as a file)",
        )
        for path in doc.orphans
    ]
    for key in doc.provider.spec.models or {}:
        if key not in MODEL_TYPES:
            ignored.append(
                IgnoredItem(
                    path=doc.provider.path,
                    reason=f"`models.{key}` is not a key Dify reads "
                    f"({', '.join(MODEL_TYPES)}): its models are not loaded",
                )
            )
    packaged = select_files(files)
    ignored.extend(
        IgnoredItem(
            path=path,
            reason="left out of packages by .difyignore (kept in the studio)",
        )
        for path in sorted(files)
        if path not in packaged
    )
    return ImportReport(
        plugin_id=provider.plugin_id,
        version=provider.version,
        mode=mode,
        provider_id=provider.pk,
        source=source,
        renamed_from=renamed_from,
        models=models,
        files=[FileItem(path=p, size=len(files[p])) for p in sorted(files)],
        total_bytes=sum(len(c) for c in files.values()),
        findings=findings_to_json(result.findings),
        orphans=list(doc.orphans),
        ignored=ignored,
        changed_paths=result.changed_paths if mode == "new-version" else [],
        notes=notes,
    )
