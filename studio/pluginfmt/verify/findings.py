"""Findings of the verifier and the collector the checks write them to."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
Layer = Literal["package", "install", "runtime", "marketplace"]

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
        """The finding as plain JSON-able data."""
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
