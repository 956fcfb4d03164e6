"""`python manage.py plugin build`: queue a build like the button, maybe wait."""

from __future__ import annotations

import argparse
from typing import Any, Protocol

from studio.catalog.services import exports
from studio.lib.durations import format_duration
from studio.lib.storage import stored_location

from . import services
from .models import Build

OK, FAILED = 0, 1


class Emitter(Protocol):
    def emit(
        self, options: dict[str, Any], data: dict[str, Any], text: str
    ) -> None: ...


def add_build_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("provider", help="the provider's id or author/name")
    p.add_argument("--team", help="team slug (when author/name is ambiguous)")
    p.add_argument("--wait", action="store_true", help="wait and print the outcome")
    p.add_argument("--no-smoke", action="store_true", help="skip the smoke test")
    p.add_argument(
        "--timeout",
        type=float,
        default=900,
        help="seconds --wait waits at most (default 900)",
    )


def build_summary(build: Build) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ok": build.status == Build.Status.SUCCEEDED,
        "build": build.pk,
        "provider": build.provider.plugin_id,
        "status": build.status,
        "kind": build.kind,
        "attempt": build.attempt,
        "error": build.error,
        "steps": {s.name.value: s.status.value for s in build.step_records()},
    }
    name = build.artifact.name
    if build.has_artifact and name:
        data |= {
            "artifact": name,
            # A local path, or s3://bucket/key when the storage is a bucket.
            "path": stored_location(name),
            "filename": build.artifact_name,
            "size": build.size,
            "sha256": build.sha256,
            "checksum": build.checksum,
            "identifier": build.identifier,
            "signed": build.signed,
            "key_fingerprint": build.display_key_fingerprint,
        }
    return data


def run_build(cmd: Emitter, options: dict[str, Any]) -> int:
    try:
        provider = exports.provider_lookup(
            ref=options["provider"], team_slug=options["team"]
        )
    except exports.ExportFailed as exc:
        cmd.emit(options, {"ok": False, "error": str(exc)}, f"not built: {exc}")
        return FAILED
    try:
        build = services.build_start(
            provider=provider, user=None, smoke=not options["no_smoke"]
        )
    except (services.QueueUnavailable, services.BuildInProgress) as exc:
        cmd.emit(options, {"ok": False, "error": str(exc)}, f"not built: {exc}")
        return FAILED
    if not options["wait"]:
        cmd.emit(
            options,
            {"ok": True, "build": build.pk, "status": build.status},
            f"queued build {build.pk} of {provider.plugin_id}",
        )
        return OK
    try:
        build = services.build_wait(build=build, timeout=options["timeout"])
    except services.WaitTimedOut as exc:
        cmd.emit(options, {"ok": False, "build": build.pk, "error": str(exc)}, str(exc))
        return FAILED
    data = build_summary(build)
    cmd.emit(options, data, build_report(build, data))
    return OK if data["ok"] else FAILED


def build_report(build: Build, data: dict[str, Any]) -> str:
    """What `plugin build --wait` prints about a finished build."""
    plugin_id = build.provider.plugin_id
    if not data["ok"]:
        return f"build {build.pk} of {plugin_id} {build.status}: {build.error}"
    signature = f"yes, key {build.display_key_fingerprint}" if build.signed else "no"
    return (
        f"build {build.pk} of {plugin_id} succeeded"
        f" in {format_duration(build.run_time())}\n"
        f"artifact: {data['path']}\n"
        f"file name: {build.artifact_name}\n"
        f"sha256: {build.sha256}\n"
        f"checksum: {build.checksum}\n"
        f"identifier: {build.identifier}\n"
        f"signed: {signature}"
    )
