"""Findings of the verifier and the collector the checks write them to."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
Layer = Literal["package", "install", "runtime", "marketplace"]

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
LAYERS: tuple[Layer, ...] = ("package", "install", "runtime", "marketplace")
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Rule:
    """One check of the catalogue: what it finds, how bad it is, where Dify fails."""

    id: str
    severity: Severity
    layer: Layer
    summary: str
    fix: str

    def as_dict(self) -> dict[str, Any]:
        """The rule as plain JSON-able data."""
        return asdict(self)


@dataclass(frozen=True)
class Finding:
    """One problem found in a plugin, pointing at a file and line."""

    rule: str
    severity: Severity
    layer: Layer
    file: str
    line: int | None
    message: str
    value: Any = None
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The finding as plain data; `to_json` is the form stored on rows."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "layer": self.layer,
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "value": self.value,
            "fix": self.fix,
        }

    def to_json(self) -> dict[str, Any]:
        """The finding as stored on rows: the keys of `as_dict`, plain JSON values."""
        # `default=str` as the stored rows were always written: a value the
        # verifier did not already make JSON-ready is kept as its text.
        data: dict[str, Any] = json.loads(json.dumps(self.as_dict(), default=str))
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        """A finding read back from a stored row, tolerant of older or damaged data.

        A missing or unknown severity reads as info, a missing or unknown layer
        as install, a line that is not a positive number as none (file-wide),
        and missing text as "".
        """
        line = data.get("line")
        return cls(
            rule=str(data.get("rule") or ""),
            severity=as_severity(data.get("severity")) or "info",
            layer=as_layer(data.get("layer")) or "install",
            file=str(data.get("file") or ""),
            line=line if isinstance(line, int) and line > 0 else None,
            message=str(data.get("message") or ""),
            value=data.get("value"),
            fix=str(data.get("fix") or ""),
        )


def findings_to_json(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Findings as stored on rows (`Provider.findings`, `Build.findings`, reports)."""
    return [f.to_json() for f in findings]


def findings_from_json(data: object) -> list[Finding]:
    """The findings of a stored row; anything but a list of objects is skipped."""
    if not isinstance(data, list):
        return []
    return [Finding.from_json(item) for item in data if isinstance(item, Mapping)]


def severity_counts(
    findings: Iterable[Finding | Mapping[str, Any]],
) -> dict[Severity, int]:
    """How many findings of each severity: {"error": n, "warning": n, "info": n}.

    Takes Findings or their stored JSON; a stored severity outside the three is
    not counted.
    """
    counts: dict[Severity, int] = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        raw = (
            finding.severity
            if isinstance(finding, Finding)
            else finding.get("severity")
        )
        severity = as_severity(raw)
        if severity is not None:
            counts[severity] += 1
    return counts


def as_severity(value: object) -> Severity | None:
    """`value` as a Severity, None when it is not one."""
    for severity in SEVERITIES:
        if value == severity:
            return severity
    return None


def as_layer(value: object) -> Layer | None:
    """`value` as a Layer, None when it is not one."""
    for layer in LAYERS:
        if value == layer:
            return layer
    return None


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return str(value)


@dataclass
class Report:
    """Collects findings; severity, layer and default fix come from the catalogue."""

    rules: dict[str, Rule]
    findings: list[Finding] = field(default_factory=list)

    def add(
        self,
        rule_id: str,
        file: str,
        line: int | None,
        message: str,
        *,
        value: Any = None,
        fix: str | None = None,
    ) -> None:
        """Record one finding of `rule_id` (which must be in the catalogue)."""
        rule = self.rules[rule_id]
        self.findings.append(
            Finding(
                rule=rule.id,
                severity=rule.severity,
                layer=rule.layer,
                file=file,
                line=line,
                message=message,
                value=_jsonable(value),
                fix=fix or rule.fix,
            )
        )

    def sorted(self) -> list[Finding]:
        """Findings ordered by file, line, severity and rule."""
        return sorted(
            self.findings,
            key=lambda f: (
                f.file,
                f.line or 0,
                SEVERITY_ORDER[f.severity],
                f.rule,
                f.message,
            ),
        )
