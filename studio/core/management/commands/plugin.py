"""`python manage.py plugin <subcommand>`: the studio's command line.

Exit status: 0 fine, 1 findings or failure, 2 unreadable or unsafe input.
Every subcommand takes `--json` for machine-readable output.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from studio.catalog.services import exports, imports
from studio.pluginfmt import checksum as checksums
from studio.pluginfmt import package as packaging
from studio.pluginfmt import signing
from studio.pluginfmt.files import PluginFiles, UnsafeInput
from studio.pluginfmt.readers import read_any, read_folder, read_package
from studio.pluginfmt.verify import (
    Finding,
    findings_to_json,
    severity_counts,
    verify,
)
from studio.pluginfmt.yamlio import YamlError, load_yaml

OK, FAILED, UNREADABLE = 0, 1, 2


class CommandExit(Exception):
    """Stop the subcommand with an exit status (the message is already printed)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Command(BaseCommand):
    help = "Verify, package, checksum and sign Dify model plugins."
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        subs = parser.add_subparsers(dest="subcommand", required=True)

        def sub(name: str, help_text: str) -> argparse.ArgumentParser:
            p = subs.add_parser(name, help=help_text, description=help_text)
            p.add_argument("--json", action="store_true", help="print JSON")
            return p

        p = sub(
            "verify", "Verify a plugin folder, zip or .difypkg against Dify's rules."
        )
        p.add_argument("path")
        p = sub(
            "package", "Package a plugin folder into a .difypkg as the daemon expects."
        )
        p.add_argument("path")
        p.add_argument("-o", "--output", required=True)
        p.add_argument("--force", action="store_true", help="package despite errors")
        p = sub("checksum", "Print the daemon checksum and unique identifier.")
        p.add_argument("path")
        p = sub(
            "keygen", "Generate an RSA-4096 key pair NAME.private.pem/NAME.public.pem."
        )
        p.add_argument("name")
        p.add_argument("--force", action="store_true", help="overwrite existing keys")
        p = sub("sign", "Sign a .difypkg with a private key.")
        p.add_argument("path")
        p.add_argument("--key", required=True, help="private key (PEM)")
        p.add_argument(
            "--category",
            default="community",
            choices=signing_categories(),
            help="authorized category written into the package",
        )
        p.add_argument("-o", "--output", help="default: <name>.signed.difypkg")
        p = sub("verify-signature", "Check a .difypkg's signature against public keys.")
        p.add_argument("path")
        p.add_argument(
            "--key",
            action="append",
            default=[],
            help="public key (PEM); repeat for several; default: Dify's official key",
        )

        p = sub(
            "import",
            "Import a plugin folder, zip or .difypkg into a team as a provider.",
        )
        p.add_argument("path")
        p.add_argument("--team", help="team slug (needed when there are several)")
        p.add_argument(
            "--mode",
            choices=["new", "new-version", "copy"],
            default="new",
            help="when the team has this author/name: replace its files as a new "
            "version, or import a renamed copy (default: refuse)",
        )
        p = sub("export", "Write a provider's files to a folder, exactly as stored.")
        p.add_argument("provider", help="the provider's id or author/name")
        p.add_argument("-o", "--output", required=True, help="folder to create")
        p.add_argument("--team", help="team slug (when author/name is ambiguous)")
        p.add_argument(
            "--force", action="store_true", help="replace a folder that is not empty"
        )
        p = sub(
            "reverify",
            "Re-run the verifier on stored providers and refresh their findings.",
        )
        p.add_argument("--team", help="only this team's providers (slug)")
        p = sub(
            "recheck-icons",
            "List providers whose stored SVG icons the icon checker refuses "
            "(nothing is changed).",
        )
        p.add_argument("--team", help="only this team's providers (slug)")
        p = sub("smoke", "Start a .difypkg (or folder) and check that it answers.")
        p.add_argument("path")
        from studio.builds.cli import add_build_arguments

        add_build_arguments(
            sub("build", "Queue a build of a provider like the Build button.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        handler = HANDLERS[options["subcommand"]]
        try:
            status = handler(self, options)
        except CommandExit as exc:
            status = exc.status
        sys.stdout.flush()
        if status:
            sys.exit(status)

    # ------------------------------------------------------------ output

    def emit(self, options: dict[str, Any], data: dict[str, Any], text: str) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(text)

    def refuse(self, options: dict[str, Any], path: str, exc: Exception) -> CommandExit:
        message = str(exc)
        if options["json"]:
            self.stdout.write(
                json.dumps({"ok": False, "path": path, "error": message}, indent=2)
            )
        else:
            self.stderr.write(f"{path}: refused: {message}")
        return CommandExit(UNREADABLE)


def signing_categories() -> list[str]:
    return list(signing.CATEGORIES)


def _read(cmd: Command, options: dict[str, Any], path: str) -> PluginFiles:
    try:
        return read_any(path)
    except (UnsafeInput, OSError, ValueError) as exc:
        raise cmd.refuse(options, path, exc) from None


def plugin_id(files: PluginFiles) -> str:
    """`author/name:version` from the manifest, as far as it can be read."""
    try:
        data = load_yaml(files.get("manifest.yaml", b"")).data
    except YamlError:
        data = None
    if not isinstance(data, dict):
        return "?/?:?"
    return (
        f"{data.get('author', '?')}/{data.get('name', '?')}:{data.get('version', '?')}"
    )


def format_finding(f: Finding) -> str:
    where = f"{f.file}:{f.line}" if f.line else (f.file or "(plugin)")
    text = f"{where}: {f.severity} [{f.rule}] ({f.layer}) {f.message}"
    if f.fix:
        text += f"\n    fix: {f.fix}"
    return text


def findings_report(files: PluginFiles, findings: list[Finding]) -> str:
    counts = severity_counts(findings)
    errors, warnings = counts["error"], counts["warning"]
    lines = [format_finding(f) for f in findings]
    lines.append(
        f"{plugin_id(files)}: {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}, "
        f"{counts['info']} info"
    )
    return "\n".join(lines)


def _write_atomically(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- subcommands


def handle_verify(cmd: Command, options: dict[str, Any]) -> int:
    files = _read(cmd, options, options["path"])
    findings = verify(files)
    ok = severity_counts(findings)["error"] == 0
    cmd.emit(
        options,
        {
            "ok": ok,
            "plugin": plugin_id(files),
            "findings": findings_to_json(findings),
        },
        findings_report(files, findings),
    )
    return OK if ok else FAILED


def handle_package(cmd: Command, options: dict[str, Any]) -> int:
    source = options["path"]
    try:
        files = read_folder(source)
    except (UnsafeInput, OSError, ValueError) as exc:
        raise cmd.refuse(options, source, exc) from None
    findings = verify(files)
    errors = severity_counts(findings)["error"]
    output = Path(options["output"])
    result: dict[str, Any] = {
        "ok": False,
        "plugin": plugin_id(files),
        "output": None,
        "findings": findings_to_json(findings),
    }
    if errors and not options["force"]:
        result["error"] = "the verifier reports errors; fix them or use --force"
        cmd.emit(
            options,
            result,
            findings_report(files, findings)
            + "\nnot packaged: fix the errors above (or use --force)",
        )
        return FAILED
    try:
        data = packaging.package(files)
    except packaging.PackageTooLarge as exc:
        result["error"] = str(exc)
        cmd.emit(options, result, f"not packaged: {exc}")
        return FAILED
    _write_atomically(output, data)
    digest = checksums.checksum(data)
    result |= {
        "ok": True,
        "output": str(output),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "checksum": digest,
        "identifier": _identifier(files, digest),
    }
    cmd.emit(
        options,
        result,
        f"wrote {output} ({len(data)} bytes, {errors} errors, "
        f"{len(findings) - errors} other findings)\n"
        f"identifier: {result['identifier']}",
    )
    return OK


def _identifier(files: PluginFiles, digest: str) -> str:
    author, _, rest = plugin_id(files).partition("/")
    name, _, version = rest.partition(":")
    return checksums.unique_identifier(author, name, version, digest)


def handle_checksum(cmd: Command, options: dict[str, Any]) -> int:
    path = options["path"]
    try:
        if Path(path).is_dir():
            files = read_folder(path)
            data = packaging.package(files)
        else:
            data = Path(path).read_bytes()
            files = read_package(data)
    except (UnsafeInput, OSError, ValueError) as exc:
        raise cmd.refuse(options, path, exc) from None
    digest = checksums.checksum(data)
    identifier = _identifier(files, digest)
    valid = checksums.is_valid_identifier(identifier)
    cmd.emit(
        options,
        {"checksum": digest, "identifier": identifier, "identifier_valid": valid},
        f"{digest}\n{identifier}"
        + ("" if valid else "\nwarning: the daemon would refuse this identifier"),
    )
    return OK


def handle_keygen(cmd: Command, options: dict[str, Any]) -> int:
    name = options["name"]
    private, public = Path(f"{name}.private.pem"), Path(f"{name}.public.pem")
    existing = [str(p) for p in (private, public) if p.exists()]
    if existing and not options["force"]:
        cmd.emit(
            options,
            {"ok": False, "error": f"already exists: {', '.join(existing)}"},
            f"refusing to overwrite {', '.join(existing)} (use --force)",
        )
        return FAILED
    private_pem, public_pem = signing.generate_keypair()
    _write_atomically(private, private_pem, mode=0o600)
    _write_atomically(public, public_pem)
    cmd.emit(
        options,
        {"ok": True, "private_key": str(private), "public_key": str(public)},
        f"wrote {private} (keep it secret) and {public}",
    )
    return OK


def handle_sign(cmd: Command, options: dict[str, Any]) -> int:
    path = Path(options["path"])
    try:
        data = path.read_bytes()
        read_package(data)
        key = Path(options["key"]).read_bytes()
        signed = signing.sign(data, key, category=options["category"])
    except (UnsafeInput, OSError, ValueError) as exc:
        raise cmd.refuse(options, str(path), exc) from None
    output = Path(options["output"] or path.with_name(f"{path.stem}.signed.difypkg"))
    _write_atomically(output, signed)
    cmd.emit(
        options,
        {"ok": True, "output": str(output), "checksum": checksums.checksum(signed)},
        f"wrote {output}",
    )
    return OK


def handle_verify_signature(cmd: Command, options: dict[str, Any]) -> int:
    path = options["path"]
    try:
        data = Path(path).read_bytes()
        keys = [Path(k).read_bytes() for k in options["key"]] or [
            signing.OFFICIAL_PUBLIC_KEY
        ]
    except OSError as exc:
        raise cmd.refuse(options, path, exc) from None
    try:
        result = signing.verify_signature(data, keys)
    except (UnsafeInput, ValueError) as exc:
        raise cmd.refuse(options, path, exc) from None
    valid = result.status == "valid"
    cmd.emit(
        options,
        {
            "ok": valid,
            "status": result.status,
            "reason": result.reason,
            "category": result.category,
            "signed_at": result.signed_at,
        },
        f"{path}: {result.status}" + (f" ({result.reason})" if result.reason else ""),
    )
    return OK if valid else FAILED


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


def handle_smoke(cmd: Command, options: dict[str, Any]) -> int:
    from django.conf import settings

    from studio.builds.smoke import SmokeInputError, smoke_test

    path = options["path"]
    default_cache = Path(settings.BASE_DIR) / "var" / "cache" / "sdk-venvs"
    cache_dir = Path(getattr(settings, "SMOKE_VENV_DIR", default_cache))
    try:
        if Path(path).is_dir():
            data = packaging.package(read_folder(path))
        else:
            data = Path(path).read_bytes()
        report = smoke_test(data, cache_dir=cache_dir)
    except (SmokeInputError, UnsafeInput, packaging.PackageTooLarge, OSError) as exc:
        raise cmd.refuse(options, path, exc) from None
    cmd.emit(options, {"path": path, **report.as_dict()}, report.as_text())
    return OK if report.ok else FAILED


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


def handle_build(cmd: Command, options: dict[str, Any]) -> int:
    from studio.builds.cli import run_build

    return run_build(cmd, options)


HANDLERS: dict[str, Callable[[Command, dict[str, Any]], int]] = {
    "verify": handle_verify,
    "package": handle_package,
    "checksum": handle_checksum,
    "keygen": handle_keygen,
    "sign": handle_sign,
    "verify-signature": handle_verify_signature,
    "import": handle_import,
    "export": handle_export,
    "build": handle_build,
    "smoke": handle_smoke,
    "reverify": handle_reverify,
    "recheck-icons": handle_recheck_icons,
}
