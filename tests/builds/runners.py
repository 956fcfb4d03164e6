"""Stand-in smoke runners (settings.BUILD_SMOKE_RUNNER) for tests and workers."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from studio.builds.services import SmokeOutcome
from studio.pluginfmt.readers import read_package

CALLS: list[dict[str, object]] = []


def passing(
    package: bytes, *, runtime: str, should_stop: Callable[[], bool]
) -> SmokeOutcome:
    files = read_package(package)
    CALLS.append({"runtime": runtime, "files": len(files)})
    checks = [{"name": "starts", "status": "passed", "detail": "heartbeat"}]
    return SmokeOutcome(
        "passed",
        "smoke test passed (1 checks)",
        {"ok": True, "checks": checks},
        ["passed: starts — heartbeat"],
    )


def failing(
    package: bytes, *, runtime: str, should_stop: Callable[[], bool]
) -> SmokeOutcome:
    checks = [{"name": "invoke_llm", "status": "failed", "detail": "no chunks"}]
    return SmokeOutcome(
        "failed", "invoke_llm", {"ok": False, "checks": checks}, ["failed: invoke_llm"]
    )


def crashing(
    package: bytes, *, runtime: str, should_stop: Callable[[], bool]
) -> SmokeOutcome:
    raise RuntimeError("the sandbox is on fire")


def slow(
    package: bytes, *, runtime: str, should_stop: Callable[[], bool]
) -> SmokeOutcome:
    """Passes after SLOW_SMOKE_SECONDS (default 3), or stops early when asked."""
    deadline = time.monotonic() + float(os.environ.get("SLOW_SMOKE_SECONDS", "3"))
    while time.monotonic() < deadline:
        if should_stop():
            return SmokeOutcome("failed", "stopped", {"ok": False})
        time.sleep(0.05)
    return passing(package, runtime=runtime, should_stop=should_stop)


def raising(
    package: bytes, *, runtime: str, should_stop: Callable[[], bool]
) -> SmokeOutcome:
    """Fails invoke_llm with the recorded traceback of a plugin whose
    `_invoke` raised (tests/builds/traceback_inputs.py)."""
    from tests.builds.traceback_inputs import INVOKE_PLUGIN_DIR, INVOKE_TRACEBACK

    checks = [
        {"name": "starts", "status": "passed", "detail": "heartbeat"},
        {
            "name": "invoke_llm",
            "status": "failed",
            "detail": "smoke-llm: InvokeError: [models] Error: boom in smoke-llm",
            "traceback": INVOKE_TRACEBACK,
        },
    ]
    report = {"ok": False, "checks": checks, "plugin_dir": INVOKE_PLUGIN_DIR}
    return SmokeOutcome("failed", "invoke_llm", report, ["failed: invoke_llm"])
