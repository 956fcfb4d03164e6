"""`plugin precheck`: what the Dify Marketplace's gate would say of a plugin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from studio.core.plugin_cli import FAILED, OK
from studio.core.plugin_cli.files import format_finding
from studio.pluginfmt import package as packaging
from studio.pluginfmt.files import UnsafeInput
from studio.pluginfmt.precheck import PrecheckReport, precheck
from studio.pluginfmt.readers import read_any
from studio.pluginfmt.uvlock import UvLockError

if TYPE_CHECKING:
    from studio.core.management.commands.plugin import Command


def add_precheck_arguments(parser: Any) -> None:
    """The arguments of `plugin precheck`."""
    parser.add_argument("path", help="plugin folder, zip or .difypkg")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument(
        "--community",
        dest="profile",
        action="store_const",
        const="community",
        help="a community plugin for langgenius/dify-plugins (the default)",
    )
    kind.add_argument(
        "--official",
        dest="profile",
        action="store_const",
        const="official",
        help="an official plugin for langgenius/dify-official-plugins",
    )
    parser.set_defaults(profile="community")
    parser.add_argument(
        "--last-version",
        metavar="X",
        help="the last released version: this one must be new and greater",
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="skip the install test (pip install, then a serverless start)",
    )


def _package_bytes(path: str) -> bytes:
    source = Path(path)
    if source.is_file() and source.suffix.lower() == ".difypkg":
        return source.read_bytes()
    return packaging.package(read_any(source))


def handle_precheck(cmd: Command, options: dict[str, Any]) -> int:
    path = options["path"]
    last = options.get("last_version")
    try:
        report = precheck(
            _package_bytes(path),
            profile=options["profile"],
            released_versions=[last] if last else [],
            install=not options["no_install"],
            cache_dir=Path(settings.SMOKE_VENV_DIR),
            memory_limit_mb=settings.BUILD_SMOKE_MEMORY_MB,
        )
    except (
        UnsafeInput,
        OSError,
        ValueError,
        UvLockError,
        packaging.PackageTooLarge,
    ) as exc:
        raise cmd.refuse(options, path, exc) from None
    cmd.emit(options, {"path": path, **report.as_dict()}, report_text(report))
    return OK if report.ok else FAILED


def report_text(report: PrecheckReport) -> str:
    """The pre-check as the command prints it: findings, install test, summary."""
    lines = [format_finding(f) for f in report.findings]
    install = report.install
    if install is None:
        lines.append("install test: skipped (--no-install)")
    else:
        lines.append(
            f"install test: {install.status} in {install.duration_ms / 1000:.1f} s "
            f"— {install.detail}"
        )
        if install.status == "failed" and install.output_tail:
            tail = install.output_tail.splitlines()[-15:]
            lines += [f"    | {line}" for line in tail]
    lines.append("not checked here:")
    lines += [f"  - {note}" for note in report.not_checked]
    blocking, advisory = len(report.blocking), len(report.advisory)
    lines.append(
        f"{report.plugin} ({report.profile}): {blocking} blocking, "
        f"{advisory} advisory — "
        + (
            "ready for the Marketplace"
            if report.ok
            else "not ready for the Marketplace"
        )
    )
    return "\n".join(lines)
