"""Run an unpacked plugin in the SDK's TCP mode against a Dify daemon.

The SDK (0.10.x) connects to REMOTE_INSTALL_HOST:PORT, sends the handshake
with REMOTE_INSTALL_KEY, its declarations, assets and `end`, then serves the
requests the daemon writes. The daemon answers a wrong key with one plain
line ("handshake failed, invalid key") and closes; the SDK does not exit but
reconnects, at times in a tight loop. So the runner reads the plugin's output
(stdout: the SDK's JSON log; stderr: the connection log `child/sitecustomize`
turns on), stops the process group on a refusal, on a flood of output, at the
deadline or when asked, and keeps only a capped tail of the log.

No Django here: the service passes settings in and saves what `on_update`
reports.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.pluginfmt.driver.launch import (
    ENTRYPOINT_RE,
    child_limits,
    plugin_environment,
    read_entrypoint,
)

CHILD_SITE = Path(__file__).resolve().parent / "child"
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
LINE_CHARS = 2000
STOP_GRACE_SECONDS = 3.0
MAX_CONNECTS = 3
PR_SET_PDEATHSIG = 1  # linux/prctl.h

CONNECTING = "connecting"
CONNECTED = "connected"
REFUSED = "refused"
ENDED = "ended"


@dataclass
class Limits:
    """How long and how much: the session's bounds."""

    max_seconds: float
    memory_mb: int = 1024
    handshake_grace: float = 2.0
    keep_lines: int = 200
    keep_bytes: int = 64 * 1024
    flood_bytes: int = 1024 * 1024
    requests_kept: int = 100


@dataclass
class Snapshot:
    """What the page shows: state, why it ended, requests seen, the log tail."""

    state: str = CONNECTING
    reason: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    output_bytes: int = 0


class _Watch:
    """Reads the plugin's lines, keeping a capped tail and what they mean."""

    def __init__(self, key: str, limits: Limits, address: str) -> None:
        self.key = key
        self.limits = limits
        self.address = address
        self.lock = threading.Lock()
        self.lines: deque[str] = deque(maxlen=limits.keep_lines)
        self.requests: deque[dict[str, Any]] = deque(maxlen=limits.requests_kept)
        self.output_bytes = 0
        self.connects = 0
        self.connected_at: float | None = None
        self.refusal = ""
        self.changed = True
        # Set on what must stop the plugin now: the SDK can reconnect dozens
        # of times a second, so the loop does not wait for its next poll.
        self.alert = threading.Event()

    def feed(self, raw: bytes) -> None:
        text = ANSI_RE.sub("", raw.decode(errors="replace")).rstrip("\n")
        if self.key:
            text = text.replace(self.key, "[key]")
        with self.lock:
            self.output_bytes += len(raw)
            self.changed = True
            shown = self._understand(text)
            if shown is not None:
                self._keep(shown[:LINE_CHARS])
            if (
                self.refusal
                or self.output_bytes > self.limits.flood_bytes
                or (self.connects > MAX_CONNECTS and not self.requests)
            ):
                self.alert.set()

    def _keep(self, line: str) -> None:
        self.lines.append(line)
        while sum(len(x) + 1 for x in self.lines) > self.limits.keep_bytes:
            self.lines.popleft()

    def _understand(self, text: str) -> str | None:
        frame = _json(text)
        if isinstance(frame, dict) and frame.get("studio") == "request":
            entry = {k: str(frame.get(k, "")) for k in ("action", "model", "type")}
            entry["at"] = f"{time.time():.3f}"
            self.requests.append(entry)
            return f"request: {entry['action'] or entry['type']} {entry['model']}"
        if isinstance(frame, dict) and frame.get("studio") == "log":
            message = ANSI_RE.sub("", str(frame.get("message", "")))
            if message.startswith("Connected to"):
                self.connects += 1
                self.connected_at = time.monotonic()
            self._look_for_refusal(message)
            return f"{frame.get('level', 'INFO')}: {message}"
        if isinstance(frame, dict) and frame.get("event") == "log":
            data = frame.get("data") or {}
            return f"{data.get('level', 'INFO')}: {data.get('message', '')}"
        self._look_for_refusal(text)
        return text

    def _look_for_refusal(self, text: str) -> None:
        if self.refusal:
            return
        match = re.search(r"(handshake failed[^'\"\n)]*)", text)
        if match:
            self.refusal = match.group(1).strip()


def run_remote(
    folder: Path,
    python: Path,
    *,
    host: str,
    port: int,
    key: str,
    limits: Limits,
    on_update: Callable[[Snapshot], None],
    should_stop: Callable[[], bool],
    env: dict[str, str] | None = None,
    poll: float = 0.2,
) -> Snapshot:
    """Run the plugin in remote mode until refused, ended, stopped or out of time."""
    folder = Path(folder).absolute()
    python = Path(python).absolute()
    entrypoint = read_entrypoint(folder)
    address = f"{host}:{port}"
    watch = _Watch(key, limits, address)
    if not ENTRYPOINT_RE.match(entrypoint):
        return _finish(watch, ENDED, f"invalid runner entrypoint {entrypoint!r}")
    home = Path(tempfile.mkdtemp(prefix="debug-home-"))
    extra = {
        **(env or {}),
        "INSTALL_METHOD": "remote",
        "REMOTE_INSTALL_HOST": host,
        "REMOTE_INSTALL_PORT": str(port),
        "REMOTE_INSTALL_KEY": key,
        "PYTHONPATH": str(CHILD_SITE),
    }
    try:
        popen = subprocess.Popen(
            [str(python), "-m", entrypoint],
            cwd=folder,
            env=plugin_environment(python, home, extra),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_with_parent_death(
                child_limits(
                    limits.memory_mb * 1024 * 1024, int(limits.max_seconds) + 5
                )
            ),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(home, ignore_errors=True)
        return _finish(watch, ENDED, f"could not start the plugin: {exc}")
    readers = [
        threading.Thread(target=_read, args=(stream, watch), daemon=True)
        for stream in (popen.stdout, popen.stderr)
    ]
    for reader in readers:
        reader.start()
    started = time.monotonic()
    deadline = started + limits.max_seconds
    state, reason = CONNECTING, ""
    try:
        while True:
            with watch.lock:
                refusal = watch.refusal
                flooded = watch.output_bytes > limits.flood_bytes
                connects = watch.connects
                connected_at = watch.connected_at
                requests = len(watch.requests)
            if refusal:
                state = REFUSED
                reason = (
                    f"The Dify daemon at {address} refused the key ({refusal}). "
                    "Copy the current key from Dify's plugin page and start again."
                )
                break
            if connects > MAX_CONNECTS and not requests:
                state = REFUSED
                reason = (
                    f"The Dify daemon at {address} refused the key (it closed the "
                    f"connection after each handshake; {connects} tries). Copy the "
                    "current key from Dify's plugin page and start again."
                )
                break
            if flooded:
                state, reason = (
                    ENDED,
                    (
                        f"stopped: the plugin wrote more than "
                        f"{limits.flood_bytes // 1024} KiB of output"
                    ),
                )
                break
            if popen.poll() is not None:
                state, reason = ENDED, f"the plugin exited with code {popen.returncode}"
                break
            now = time.monotonic()
            if now >= deadline:
                state, reason = (
                    ENDED,
                    (f"the time limit of {_minutes(limits.max_seconds)} was reached"),
                )
                break
            if should_stop():
                state, reason = ENDED, "stopped by a user"
                break
            if state == CONNECTING and (
                requests
                or (
                    connected_at is not None
                    and now - connected_at >= limits.handshake_grace
                )
            ):
                state = CONNECTED
                watch.changed = True
            if watch.changed:
                watch.changed = False
                on_update(_snapshot(watch, state, ""))
            watch.alert.wait(poll)
    finally:
        _stop(popen)
        for reader in readers:
            reader.join(timeout=2)
        shutil.rmtree(home, ignore_errors=True)
    return _finish(watch, state, reason, on_update)


def _finish(
    watch: _Watch,
    state: str,
    reason: str,
    on_update: Callable[[Snapshot], None] | None = None,
) -> Snapshot:
    snapshot = _snapshot(watch, state, reason)
    if on_update is not None:
        on_update(snapshot)
    return snapshot


def _snapshot(watch: _Watch, state: str, reason: str) -> Snapshot:
    with watch.lock:
        return Snapshot(
            state=state,
            reason=reason,
            requests=list(watch.requests),
            log=list(watch.lines),
            output_bytes=watch.output_bytes,
        )


def _read(stream: Any, watch: _Watch) -> None:
    for raw in iter(lambda: stream.readline(64 * 1024), b""):
        watch.feed(raw)
    stream.close()


def _stop(popen: subprocess.Popen[bytes]) -> None:
    for signum, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signum)
        try:
            popen.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # The group may outlive its leader (a child the plugin forked).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signal.SIGKILL)


def _with_parent_death(limits: Callable[[], None]) -> Callable[[], None]:
    """Also have the kernel kill the plugin if the worker dies without stopping it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return limits

    def apply() -> None:
        limits()
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    return apply


def _json(text: str) -> Any:
    if not text.startswith("{"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _minutes(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"
