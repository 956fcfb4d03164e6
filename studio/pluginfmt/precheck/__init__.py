"""The Marketplace pre-check: what the Dify Marketplace's gate would refuse.

Community plugins reach the Marketplace through a pull request to
`langgenius/dify-plugins`; its CI and the marketplace toolkit's local
validator refuse a package for the reasons in `rules.RULES`, each reported
here as a verifier `Finding` (layer `marketplace`; severity `error` blocks,
`warning` asks a reviewer to look). `check_files` is the static part (fast,
never raises); `precheck` reads a `.difypkg`, adds the install test
(`install.install_test`, which runs the plugin) and says what was not checked.

Modules: `rules` (the catalogue and each rule's origin), `context`,
`manifest`, `readme`, `contents` (contents, binaries, secrets, financial
wording), `dependencies`, `python` (compiles; safety warnings), `hosts`
(allowed source hosts), `install` (the install test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files import PluginFiles
from ..readers import read_package
from ..verify import verify
from ..verify.findings import SEVERITY_ORDER, Finding, Report, findings_to_json
from .contents import check_binaries, check_contents, check_financial, check_secrets
from .context import PROFILES, Context, Profile
from .dependencies import check_dependencies
from .install import InstallResult, install_test, requirements_venv
from .manifest import check_manifest
from .python import check_python
from .readme import check_readme
from .rules import ORIGINS, RULE_ORIGINS, RULES

__all__ = [
    "ORIGINS",
    "PROFILES",
    "RULES",
    "RULE_ORIGINS",
    "InstallResult",
    "PrecheckReport",
    "Profile",
    "check_files",
    "install_test",
    "not_checked",
    "precheck",
    "requirements_venv",
]

# Past this many findings of one rule the rest are counted, not listed.
MAX_PER_RULE = 20

_STAGES: list[Callable[[Context], None]] = [
    check_manifest,
    check_readme,
    check_contents,
    check_secrets,
    check_binaries,
    check_dependencies,
    check_python,
    check_financial,
]


@dataclass
class PrecheckReport:
    """The findings of one pre-check and the install test's result."""

    plugin: str
    profile: Profile
    findings: list[Finding]
    install: InstallResult | None
    not_checked: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> list[Finding]:
        """The findings the Marketplace's gate refuses."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def advisory(self) -> list[Finding]:
        """The findings a reviewer is asked to look at."""
        return [f for f in self.findings if f.severity != "error"]

    @property
    def ok(self) -> bool:
        """No blocking finding."""
        return not self.blocking

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data (what `plugin precheck --json` prints)."""
        return {
            "ok": self.ok,
            "plugin": self.plugin,
            "profile": self.profile,
            "blocking": len(self.blocking),
            "advisory": len(self.advisory),
            "findings": findings_to_json(self.findings),
            "install": self.install.as_dict() if self.install else None,
            "not_checked": list(self.not_checked),
        }


def check_files(
    files: PluginFiles,
    *,
    profile: Profile = "community",
    released_versions: Iterable[str] = (),
    package_size: int | None = None,
) -> list[Finding]:
    """The static findings for an unpacked package's files; never raises.

    `released_versions` are the versions released before (the version must be
    new and greater); `package_size` is the `.difypkg`'s size in bytes.
    """
    ctx = Context(
        files=dict(files),
        report=Report(RULES),
        profile=profile,
        released_versions=[str(v) for v in released_versions],
        package_size=package_size,
    )
    _check_packaging(ctx)
    if profile == "official" and "pyproject.toml" not in ctx.files:
        ctx.add(
            "marketplace.official-pyproject",
            "pyproject.toml",
            None,
            "The package has no pyproject.toml; official plugins install with uv "
            "from it.",
        )
    for stage in _STAGES:
        try:
            stage(ctx)
        except Exception as exc:  # a checker bug must not hide the other findings
            ctx.report.findings.append(
                Finding(
                    rule="verifier.internal",
                    severity="error",
                    layer="marketplace",
                    file="",
                    line=None,
                    message=f"The check {stage.__name__} stopped early: {exc!r}.",
                    fix="Report this finding to the studio maintainers.",
                )
            )
    return _capped(ordered(ctx.report.findings))


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Blocking findings first, then by file, line and rule."""
    return sorted(
        findings,
        key=lambda f: (
            SEVERITY_ORDER[f.severity],
            f.file == "",
            f.file,
            f.line or 0,
            f.rule,
            f.message,
        ),
    )


def _check_packaging(ctx: Context) -> None:
    # The CI's last step packages the plugin with the daemon's own packager;
    # the verifier's errors are what that packager (or the daemon) refuses.
    errors = [f for f in verify(ctx.files) if f.severity == "error"]
    if not errors:
        return
    shown = "; ".join(
        f"[{f.rule}] {f.file}{f':{f.line}' if f.line else ''}" for f in errors[:3]
    )
    more = f" and {len(errors) - 3} more" if len(errors) > 3 else ""
    ctx.add(
        "marketplace.packaging",
        errors[0].file,
        errors[0].line,
        f"The verifier reports {len(errors)} error{'s' * (len(errors) != 1)} the "
        f"daemon's packager would refuse: {shown}{more}.",
        value=[f.rule for f in errors],
    )


def _capped(findings: list[Finding]) -> list[Finding]:
    counts: dict[str, int] = {}
    kept: list[Finding] = []
    for finding in findings:
        counts[finding.rule] = counts.get(finding.rule, 0) + 1
        if counts[finding.rule] <= MAX_PER_RULE:
            kept.append(finding)
    for rule, count in sorted(counts.items()):
        if count > MAX_PER_RULE:
            first = next(f for f in kept if f.rule == rule)
            kept.append(
                Finding(
                    rule=rule,
                    severity=first.severity,
                    layer=first.layer,
                    file="",
                    line=None,
                    message=f"… and {count - MAX_PER_RULE} more of this rule.",
                    value=count,
                    fix=first.fix,
                )
            )
    return kept


def not_checked(profile: Profile, *, install: bool) -> list[str]:
    """What the Marketplace checks that this pre-check cannot, or was told not to."""
    notes = [
        "that the pull request changes one .difypkg only (a check of the pull "
        "request, not of the package)",
        "the version against marketplace.dify.ai: only against the releases "
        "given (a build page: the plugin's earlier releases; the command line: "
        "--last-version)",
        "the pull request's disclosure of sensitive capabilities",
        "executable bits (a package read here keeps none)",
    ]
    if profile == "official":
        notes.append(
            "the pull request's `## Release Notes` section (a check of the pull "
            "request: write it from the release's notes)"
        )
        notes.append("the official repository's tests/ folder for the plugin")
    if not install:
        notes.append(
            "the install test (requirements.txt into a clean virtualenv, then a "
            "serverless start): skipped on request"
        )
    return notes


def plugin_id(files: PluginFiles) -> str:
    """`author/name:version` from the manifest, as far as it can be read."""
    ctx = Context(files=dict(files), report=Report(RULES))
    data = ctx.manifest_data
    return (
        f"{data.get('author', '?')}/{data.get('name', '?')}:{data.get('version', '?')}"
    )


def precheck(
    package: bytes,
    *,
    profile: Profile = "community",
    released_versions: Iterable[str] = (),
    install: bool = True,
    cache_dir: Path | None = None,
    memory_limit_mb: int = 1024,
) -> PrecheckReport:
    """Pre-check a `.difypkg` as the Marketplace would; the install test runs
    the plugin unless `install` is false (then `cache_dir` may be None).

    Raises `UnsafeInput` for bytes that are not a readable package.
    """
    files = read_package(package)
    findings = check_files(
        files,
        profile=profile,
        released_versions=released_versions,
        package_size=len(package),
    )
    result: InstallResult | None = None
    if install:
        if cache_dir is None:
            raise ValueError("the install test needs a cache_dir for its virtualenvs")
        result = install_test(
            dict(files), cache_dir=cache_dir, memory_limit_mb=memory_limit_mb
        )
        findings = ordered([*findings, *result.findings()])
    return PrecheckReport(
        plugin=plugin_id(files),
        profile=profile,
        findings=findings,
        install=result,
        not_checked=not_checked(profile, install=install),
    )
