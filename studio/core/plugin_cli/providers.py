"""`plugin` subcommands on the providers stored in the studio."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.catalog.services import exports, imports
from studio.core.plugin_cli import FAILED, OK, UNREADABLE

if TYPE_CHECKING:
    from studio.core.management.commands.plugin import Command


def handle_import(cmd: Command, options: dict[str, Any]) -> int:
    source = options["path"]
    try:
        report = imports.import_path(
            path=source, team_slug=options["team"], mode=options["mode"]
        )
    except imports.ImportRefused as exc:
        data = {"ok": False, "path": source, **exc.as_dict()}
        _fail(cmd, options, data, f"{source}: refused: {exc}")
        return UNREADABLE
    except imports.ImportFailed as exc:
        data = {"ok": False, "path": source, "error": exc.message}
        _fail(cmd, options, data, f"{source}: not imported: {exc.message}")
        return FAILED
    cmd.emit(options, {"ok": True, **report.as_dict()}, import_summary(report))
    return OK


def _fail(
    cmd: Command, options: dict[str, Any], data: dict[str, Any], text: str
) -> None:
    if options["json"]:
        cmd.emit(options, data, text)
    else:
        cmd.stderr.write(text)


def import_summary(report: Any) -> str:
    per_type = ", ".join(f"{t} {n}" for t, n in report.models.items()) or "none"
    lines = [
        f"imported {report.plugin_id} {report.version} as provider "
        f"{report.provider_id} ({report.mode})",
        f"models: {report.model_count} ({per_type})",
        f"files: {len(report.files)} ({report.total_bytes} bytes)",
        f"verifier: {report.errors} errors, {report.warnings} warnings",
    ]
    lines += [
        f"  {f.severity} [{f.rule}] {f.file}"
        + (f":{f.line}" if f.line else "")
        + f" {f.message}"
        for f in report.verifier_findings
        if f.severity in ("error", "warning")
    ]
    lines += [f"ignored: {item.path}: {item.reason}" for item in report.ignored]
    lines += report.notes
    return "\n".join(lines)


def handle_export(cmd: Command, options: dict[str, Any]) -> int:
    try:
        provider = exports.provider_lookup(
            ref=options["provider"], team_slug=options["team"]
        )
        result = exports.provider_export(
            provider=provider, dest=options["output"], overwrite=options["force"]
        )
    except exports.ExportFailed as exc:
        _fail(cmd, options, {"ok": False, "error": str(exc)}, f"not exported: {exc}")
        return FAILED
    cmd.emit(
        options,
        result.as_dict(),
        f"wrote {result.files} files ({result.total_bytes} bytes) of "
        f"{provider.plugin_id} to {result.path}",
    )
    return OK


def handle_reverify(cmd: Command, options: dict[str, Any]) -> int:
    from studio.catalog.models import Provider
    from studio.catalog.services import provider_reverify

    providers = Provider.objects.order_by("pk")
    if options.get("team"):
        providers = providers.filter(team__slug=options["team"])
    rows = []
    for provider in providers.iterator():
        provider_reverify(provider=provider)
        rows.append(
            {
                "provider": provider.pk,
                "plugin": provider.plugin_id,
                "errors": provider.error_count,
                "warnings": provider.warning_count,
            }
        )
    cmd.emit(
        options,
        {"ok": True, "providers": rows},
        "\n".join(
            f"{r['plugin']} (#{r['provider']}): {r['errors']} errors, "
            f"{r['warnings']} warnings"
            for r in rows
        )
        or "no provider",
    )
    return OK


def handle_build(cmd: Command, options: dict[str, Any]) -> int:
    from studio.builds.cli import run_build

    return run_build(cmd, options)


def handle_sync(cmd: Command, options: dict[str, Any]) -> int:
    from studio.sync.cli import run_sync

    return run_sync(cmd, options)


RECHECK_FIX = (
    "replace the icon in the provider's General section (icons nothing refers "
    "to any more are dropped), or import a fixed version of the plugin with "
    "--mode new-version; nothing was changed"
)


def handle_recheck_icons(cmd: Command, options: dict[str, Any]) -> int:
    from studio.catalog.selectors.icons import UnknownTeam, unsafe_stored_icons

    try:
        checked, unsafe = unsafe_stored_icons(team_slug=options.get("team"))
    except UnknownTeam as exc:
        _fail(cmd, options, {"ok": False, "error": str(exc)}, f"not checked: {exc}")
        return FAILED
    rows = [
        {
            "provider": item.provider.pk,
            "plugin": item.provider.plugin_id,
            "team": item.provider.team.slug,
            "icons": [
                {"path": path, "line": problem.line, "message": problem.message}
                for path, problems in item.icons.items()
                for problem in problems
            ],
        }
        for item in unsafe
    ]
    lines = []
    for item in unsafe:
        provider = item.provider
        lines.append(
            f"{provider.plugin_id} (#{provider.pk}, team {provider.team.slug}):"
        )
        lines += [
            f"  {path}"
            + (f":{problem.line}" if problem.line else "")
            + f": {problem.message}"
            for path, problems in item.icons.items()
            for problem in problems
        ]
    if unsafe:
        lines.append(
            f"{len(unsafe)} of {checked} provider{'s' * (checked != 1)} "
            f"{'has' if len(unsafe) == 1 else 'have'} SVG icons the icon checker "
            f"refuses: {RECHECK_FIX}."
        )
    else:
        lines.append(
            f"{checked} provider{'s' * (checked != 1)} checked: every SVG icon "
            "passes the icon checker."
        )
    data = {
        "ok": not unsafe,
        "checked": checked,
        "providers": rows,
        "fix": RECHECK_FIX if unsafe else None,
    }
    cmd.emit(options, data, "\n".join(lines))
    return FAILED if unsafe else OK
