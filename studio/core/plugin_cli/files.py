"""`plugin` subcommands on a plugin folder, zip or .difypkg, through pluginfmt."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.core.plugin_cli import FAILED, OK
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

if TYPE_CHECKING:
    from studio.core.management.commands.plugin import Command


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
    fingerprint = signing.key_fingerprint(public_pem)
    cmd.emit(
        options,
        {
            "ok": True,
            "private_key": str(private),
            "public_key": str(public),
            "fingerprint": fingerprint,
        },
        f"wrote {private} (keep it secret) and {public}\nfingerprint: {fingerprint}",
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
    fingerprint = None
    if result.key_index is not None:
        fingerprint = signing.key_fingerprint(keys[result.key_index])
    cmd.emit(
        options,
        {
            "ok": valid,
            "status": result.status,
            "reason": result.reason,
            "category": result.category,
            "signed_at": result.signed_at,
            "key_fingerprint": fingerprint,
        },
        f"{path}: {result.status}"
        + (f" ({result.reason})" if result.reason else "")
        + (f"\nkey: {fingerprint}" if fingerprint else ""),
    )
    return OK if valid else FAILED


def handle_smoke(cmd: Command, options: dict[str, Any]) -> int:
    from studio.builds.services import sdk_venv_options
    from studio.builds.smoke import SmokeInputError, smoke_test

    path = options["path"]
    venvs = sdk_venv_options()
    try:
        if Path(path).is_dir():
            data = packaging.package(read_folder(path))
        else:
            data = Path(path).read_bytes()
        report = smoke_test(
            data,
            cache_dir=venvs["cache_dir"],
            uv_cache_dir=venvs["uv_cache_dir"],
            max_venv_bytes=venvs["max_bytes"],
        )
    except (SmokeInputError, UnsafeInput, packaging.PackageTooLarge, OSError) as exc:
        raise cmd.refuse(options, path, exc) from None
    cmd.emit(options, {"path": path, **report.as_dict()}, report.as_text())
    return OK if report.ok else FAILED
