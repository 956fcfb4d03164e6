"""The verifier's findings as the pages show them: the stored findings of the
last save, the findings tab's rows, and markers that place findings next to
the field or row of the YAML they point into.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from studio.catalog.models import Provider
from studio.pluginfmt.verify import RULES, Finding
from studio.pluginfmt.verify.findings import as_severity
from studio.pluginfmt.yamlio import YamlError, load_yaml

SEVERITIES = ("error", "warning", "info")

# ---------------------------------------------------------------- the findings tab


@dataclass(frozen=True)
class FindingRow:
    """A finding with what the findings tab shows beside it."""

    finding: Finding
    summary: str  # the rule's one-line summary
    value_text: str  # the finding's value as text ("" when it has none)
    in_files: bool  # the file it points at exists (so it can be linked)


def finding_rows(findings: Iterable[Finding], paths: set[str]) -> list[FindingRow]:
    """Findings ready for display; `paths` are the provider's file paths."""
    return [
        FindingRow(
            finding=f,
            summary=RULES[f.rule].summary if f.rule in RULES else "",
            value_text=_value_text(f.value),
            in_files=f.file in paths,
        )
        for f in findings
    ]


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings of each severity: {"error": n, "warning": n, "info": n}."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts


def findings_for_file(findings: Iterable[Finding], path: str) -> list[Finding]:
    """The findings that point at the file `path` (any line), in verifier order."""
    return [f for f in findings if f.file == path]


# ---------------------------------------------------------------- placing them


def stored_findings(provider: Provider) -> list[Finding]:
    """The findings of the provider's last save (`Provider.findings`), as Findings."""
    data = provider.findings if isinstance(provider.findings, list) else []
    found: list[Finding] = []
    for item in data:
        if not isinstance(item, dict):
            continue
        line = item.get("line")
        found.append(
            Finding(
                rule=str(item.get("rule") or ""),
                severity=as_severity(item.get("severity")) or "info",
                layer=item.get("layer") or "install",
                file=str(item.get("file") or ""),
                line=line if isinstance(line, int) and line > 0 else None,
                message=str(item.get("message") or ""),
                value=item.get("value"),
                fix=str(item.get("fix") or ""),
            )
        )
    return found


@dataclass(frozen=True)
class Marker:
    """Findings shown together next to one field: the findings and their counts."""

    findings: tuple[Finding, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    @property
    def infos(self) -> int:
        return sum(1 for f in self.findings if f.severity == "info")

    @property
    def level(self) -> str:
        """The worst severity among the findings ("" for none)."""
        return next(
            (s for s in SEVERITIES if any(f.severity == s for f in self.findings)), ""
        )


def marker(findings: Iterable[Finding]) -> Marker:
    """A marker for `findings`, errors first (then the verifier's order)."""
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return Marker(tuple(sorted(findings, key=lambda f: order.get(f.severity, 9))))


class FileFindings:
    """The findings of one YAML file, placed by key; the file is parsed once.

    `at("parameter_rules", 2)` lists what points into the third parameter
    rule; `rest(...)` what no caller placed.
    """

    def __init__(
        self, findings: Iterable[Finding], path: str, content: bytes | None
    ) -> None:
        self.path = path
        self.findings = findings_for_file(findings, path)
        self._lines: dict[tuple[str | int, ...], int] = {}
        if content is not None and any(f.line is not None for f in self.findings):
            # An unreadable file places nothing by key; `findings` has them all.
            with contextlib.suppress(YamlError):
                self._lines = dict(load_yaml(content).lines)

    def at(self, *key: str | int) -> list[Finding]:
        """The findings inside the value of `key` (no key: those with no line).

        `key` is a path into the document, e.g. ("parameter_rules", 2) or
        ("provider_credential_schema", "credential_form_schemas", 0, "label").
        A finding belongs to the key when its line is the key's own line or
        lies between the first and last line of the key's nested keys and
        items (the lines the YAML loader records). A file that cannot be
        loaded matches by key on nothing (`findings` still has them all).
        """
        if not key:
            return [f for f in self.findings if f.line is None]
        span = [line for p, line in self._lines.items() if p[: len(key)] == key]
        if not span:
            return []
        first, last = min(span), max(span)
        return [
            f for f in self.findings if f.line is not None and first <= f.line <= last
        ]

    def marker(self, *key: str | int) -> Marker:
        return marker(self.at(*key))

    def rest(self, *placed: Iterable[Finding]) -> list[Finding]:
        """The file's findings that are in none of `placed`."""
        seen = {id(f) for group in placed for f in group}
        return [f for f in self.findings if id(f) not in seen]


def file_contents(provider: Provider, paths: Iterable[str]) -> dict[str, bytes]:
    """The contents of the provider's files at `paths` (one query; none if no path)."""
    wanted = sorted({p for p in paths if p})
    if not wanted:
        return {}
    return {
        path: bytes(content)
        for path, content in provider.files.filter(path__in=wanted).values_list(
            "path", "content"
        )
    }


def provider_yaml_findings(provider: Provider) -> FileFindings:
    """The stored findings of the provider YAML, placed by key.

    The file's content is read (one query) only when it has findings.
    """
    path = provider.provider_path
    findings = stored_findings(provider)
    content = None
    if any(f.file == path and f.line is not None for f in findings):
        content = file_contents(provider, [path]).get(path)
    return FileFindings(findings, path, content)
