"""The smoke test's report: one SmokeCheck per check, JSON-able for a Build row."""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel

PASSED: Final = "passed"
FAILED: Final = "failed"
SKIPPED: Final = "skipped"
CheckStatus = Literal["passed", "failed", "skipped"]
CHECK_STATUSES: tuple[str, ...] = (PASSED, FAILED, SKIPPED)


class SmokeInputError(ValueError):
    """The bytes are not a plugin package the smoke test can unpack."""


class SmokeCheck(BaseModel):
    """One check: what was asked, how it went, why, and how long it took."""

    name: str
    status: CheckStatus
    detail: str = ""
    duration_ms: int = 0
    # The plugin's Python traceback when the failure came with one (the SDK's
    # error for a request, or an uncaught exception in its output).
    traceback: str = ""


class SmokeReport(BaseModel):
    """The outcome of a smoke test; `ok` unless a check failed (skips are fine)."""

    ok: bool
    checks: list[SmokeCheck]
    stderr_tail: str = ""
    duration_ms: int = 0
    # The temporary folder the plugin ran from: its tracebacks' frames under
    # it are the plugin's own files (smoke/tracebacks.py).
    plugin_dir: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-able data, for a Build row or `--json`."""
        return self.model_dump(mode="json")

    def check(self, name: str) -> SmokeCheck | None:
        """The check of that name, if it ran."""
        return next((c for c in self.checks if c.name == name), None)

    def as_text(self) -> str:
        """The report for a terminal: one line per check, details indented."""
        verdict = "passed" if self.ok else "FAILED"
        lines = [
            f"smoke test {verdict}: {self.summary} in {self.duration_ms / 1000:.1f} s"
        ]
        for check in self.checks:
            head, *rest = (check.detail or "-").splitlines()
            lines.append(
                f"  {check.status:<7} {check.name} ({check.duration_ms} ms): {head}"
            )
            lines += [f"            {line}" for line in rest]
        return "\n".join(lines)

    @property
    def summary(self) -> str:
        """`3 passed, 1 failed, 2 skipped`."""
        counts = {s: sum(c.status == s for c in self.checks) for s in CHECK_STATUSES}
        return ", ".join(f"{n} {s}" for s, n in counts.items())
