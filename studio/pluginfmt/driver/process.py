"""The running plugin: `PluginProcess` and what its requests raise and return."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from studio.pluginfmt.driver import netjail
from studio.pluginfmt.driver.launch import (
    ENTRYPOINT_RE,
    child_limits,
    plugin_environment,
    read_entrypoint,
)

STDERR_KEEP_BYTES = 64 * 1024
MESSAGE_STDERR_CHARS = 4000
MAX_LINE_BYTES = 16 * 1024 * 1024
STOP_GRACE_SECONDS = 3.0
KEPT_LOGS = 1000
KEPT_NOISE = 100

_decoder = json.JSONDecoder()


class PluginError(RuntimeError):
    """A plugin process failed; carries its exit code and the tail of its stderr."""

    def __init__(
        self, message: str, *, exit_code: int | None = None, stderr: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.stderr = stderr

    def __str__(self) -> str:
        text = self.message
        if self.stderr.strip():
            text += "\n--- stderr (tail) ---\n" + self.stderr[-MESSAGE_STDERR_CHARS:]
        return text.rstrip()


class PluginStartError(PluginError):
    """The plugin exited, or sent no heartbeat, before its start timeout."""


class PluginExited(PluginError):
    """The plugin process ended while a request was being sent or awaited."""


class RequestTimeout(PluginError):
    """No end frame arrived for a request within its timeout."""


@dataclass
class SessionResult:
    """What one request produced: stream chunks, an optional error, any invokes."""

    session_id: str
    chunks: list[Any]
    error: dict[str, Any] | None
    invocations: list[Any]
    elapsed: float

    @property
    def ok(self) -> bool:
        """Tell whether the plugin answered without an error message."""
        return self.error is None

    @property
    def error_type(self) -> str | None:
        """Return the exception class name the plugin reported, if any."""
        return None if self.error is None else self.error.get("error_type")

    @property
    def error_message(self) -> str | None:
        """Return the error message the plugin reported, if any."""
        return None if self.error is None else self.error.get("message")


@dataclass
class _Pending:
    session_id: str
    started: float
    chunks: list[Any] = field(default_factory=list)
    error: dict[str, Any] | None = None
    invocations: list[Any] = field(default_factory=list)
    ended: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    on_chunk: Callable[[Any], None] | None = None


class PluginProcess:
    """A running plugin: start it, wait for its first heartbeat, send requests."""

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        *,
        home: Path,
        timeout: float,
        network_listener: socket.socket | None = None,
    ) -> None:
        self.pid = popen.pid
        # With isolate_network: the socket the plugin reaches as
        # netjail.PROXY_URL inside its namespace; its owner serves it.
        self.network_listener = network_listener
        self.declaration: dict[str, Any] | None = None
        self.logs: deque[Any] = deque(maxlen=KEPT_LOGS)
        self.errors: deque[Any] = deque(maxlen=KEPT_LOGS)
        self.noise: deque[str] = deque(maxlen=KEPT_NOISE)
        self.heartbeats = 0
        self.ready_after: float | None = None
        self._popen = popen
        self._home = home
        self._started = time.monotonic()
        self._ready_deadline = self._started + timeout
        self._timeout = timeout
        self._ready = threading.Event()
        self._stdout_closed = threading.Event()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop_lock = threading.Lock()
        self._stopped = False
        self._stdin_torn = False
        self._pending: dict[str, _Pending] = {}
        self._stderr = bytearray()
        # If nobody calls stop(), still kill the group when the parent exits.
        self._finalizer = weakref.finalize(self, _kill_group, popen.pid)
        assert popen.stdin and popen.stdout and popen.stderr
        os.set_blocking(popen.stdin.fileno(), False)
        self._threads = [
            threading.Thread(
                target=self._read_stdout, name=f"plugin-{self.pid}-stdout", daemon=True
            ),
            threading.Thread(
                target=self._read_stderr, name=f"plugin-{self.pid}-stderr", daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()

    @classmethod
    def start(
        cls,
        folder: Path,
        python: Path | str,
        *,
        timeout: float = 60,
        memory_limit_mb: int = 1024,
        cpu_limit_s: int = 300,
        env: Mapping[str, str] | None = None,
        die_with_parent: bool = False,
        isolate_network: bool = False,
    ) -> PluginProcess:
        """Launch `python -m <entrypoint>` in folder; `timeout` bounds wait_ready().

        `die_with_parent` has Linux kill the child when the thread that started
        it ends (PR_SET_PDEATHSIG): start it from a thread that lives as long as
        the process, so a SIGKILLed parent leaves no orphan.

        `isolate_network` runs it in a network namespace of its own
        (netjail.py) whose only way out is `network_listener`, which the
        caller must serve (an egress proxy) and stop() closes. It raises
        PluginStartError when netjail.support() says this machine cannot.
        """
        folder = Path(folder).absolute()
        # Not resolved: a venv's python is a symlink, and the venv is found from it.
        python = Path(python).absolute()
        entrypoint = read_entrypoint(folder)
        if not ENTRYPOINT_RE.match(entrypoint):
            raise PluginStartError(f"invalid runner entrypoint {entrypoint!r}")
        jail: netjail.Jail | None = None
        if isolate_network:
            support = netjail.support()
            if not support.available:
                raise PluginStartError(
                    f"cannot isolate the plugin's network: {support.reason}"
                )
            jail = netjail.Jail(support.flags)
        home = Path(tempfile.mkdtemp(prefix="plugin-home-"))
        listener: socket.socket | None = None
        try:
            popen = subprocess.Popen(
                [str(python), "-m", entrypoint],
                cwd=folder,
                env=plugin_environment(python, home, env),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=child_limits(
                    memory_limit_mb * 1024 * 1024,
                    cpu_limit_s,
                    die_with_parent=die_with_parent,
                    then=None if jail is None else jail.enter,
                ),
            )
            if jail is not None:
                try:
                    listener = jail.listener()
                except OSError:
                    _kill_group(popen.pid)
                    popen.wait()
                    for stream in (popen.stdin, popen.stdout, popen.stderr):
                        if stream is not None:
                            stream.close()
                    raise
        except (OSError, subprocess.SubprocessError) as error:
            shutil.rmtree(home, ignore_errors=True)
            why = (jail.failure() if jail is not None else "") or str(error)
            raise PluginStartError(f"could not start {python}: {why}") from None
        finally:
            if jail is not None:
                jail.close()
        return cls(popen, home=home, timeout=timeout, network_listener=listener)

    def __enter__(self) -> PluginProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def returncode(self) -> int | None:
        """Return the exit code (negative for a signal), or None while running."""
        return self._popen.poll()

    @property
    def stderr(self) -> str:
        """Return the last STDERR_KEEP_BYTES of the child's stderr."""
        with self._lock:
            return self._stderr.decode(errors="replace")

    def wait_ready(self, timeout: float | None = None) -> float:
        """Wait for the first heartbeat; return seconds since start; stop on failure."""
        deadline = (
            self._ready_deadline if timeout is None else time.monotonic() + timeout
        )
        limit = self._timeout if timeout is None else timeout
        while not self._ready.is_set():
            if self._popen.poll() is not None:
                self.stop()
                raise PluginStartError(
                    f"the plugin exited with code {self._popen.returncode} "
                    "before its first heartbeat",
                    exit_code=self._popen.returncode,
                    stderr=self.stderr,
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise PluginStartError(
                    f"the plugin sent no heartbeat within {limit:g} s and was stopped",
                    exit_code=self._popen.returncode,
                    stderr=self.stderr,
                )
            self._ready.wait(min(0.05, remaining))
        assert self.ready_after is not None
        return self.ready_after

    def request(
        self,
        data: Mapping[str, Any],
        *,
        timeout: float = 30,
        on_chunk: Callable[[Any], None] | None = None,
    ) -> SessionResult:
        """Send one request and collect its session frames until `end`.

        `on_chunk` is called with each stream chunk as it arrives (from the
        reader thread; it must be quick and must not raise).
        """
        session_id = str(uuid.uuid4())
        pending = _Pending(
            session_id=session_id, started=time.monotonic(), on_chunk=on_chunk
        )
        line = (
            json.dumps(
                {
                    "session_id": session_id,
                    "event": "request",
                    "conversation_id": None,
                    "message_id": None,
                    "app_id": None,
                    "endpoint_id": None,
                    "context": {},
                    "data": dict(data),
                }
            )
            + "\n"
        )
        deadline = pending.started + timeout
        action = str(data.get("action", "request"))
        if self._stopped or self._popen.poll() is not None:
            self._raise_exited(action)
        with self._lock:
            self._pending[session_id] = pending
        try:
            self._send(line.encode(), deadline, action=action, timeout=timeout)
            while not pending.done.wait(
                min(0.05, max(0.0, deadline - time.monotonic()))
            ):
                if time.monotonic() >= deadline:
                    raise RequestTimeout(
                        f"{action}: no end frame within {timeout:g} s "
                        f"({len(pending.chunks)} chunks received)",
                        exit_code=self.returncode,
                        stderr=self.stderr,
                    )
                if self._stdout_closed.is_set() or self._popen.poll() is not None:
                    # Frames written just before the exit may still be in the pipe.
                    self._threads[0].join(timeout=2)
                    if not pending.done.is_set():
                        self._raise_exited(action)
        finally:
            with self._lock:
                self._pending.pop(session_id, None)
        if not pending.ended:
            self._raise_exited(action)
        return SessionResult(
            session_id=session_id,
            chunks=pending.chunks,
            error=pending.error,
            invocations=pending.invocations,
            elapsed=time.monotonic() - pending.started,
        )

    def stop(self, *, grace: float = STOP_GRACE_SECONDS) -> int | None:
        """Terminate the whole process group (TERM, then KILL) and join the readers."""
        with self._stop_lock:
            if self._stopped:
                return self._popen.returncode
            self._stopped = True
            self._finalizer.detach()
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(grace)
            # Also reaches anything the plugin forked that outlived its leader.
            self._signal_group(signal.SIGKILL)
            self._popen.wait()
            for thread in self._threads:
                thread.join(timeout=5)
            # Under the write lock: a request must never write to a reused fd.
            with self._write_lock:
                for stream in (
                    self._popen.stdin,
                    self._popen.stdout,
                    self._popen.stderr,
                ):
                    if stream is not None:
                        with contextlib.suppress(OSError):
                            stream.close()
            with self._lock:
                for pending in self._pending.values():
                    pending.done.set()
            if self.network_listener is not None:
                netjail.close_listener(self.network_listener)
            shutil.rmtree(self._home, ignore_errors=True)
            return self._popen.returncode

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def _send(
        self, payload: bytes, deadline: float, *, action: str, timeout: float
    ) -> None:
        # Non-blocking writes so a plugin that stops reading stdin cannot hang us.
        assert self._popen.stdin is not None
        view = memoryview(payload)
        with self._write_lock:
            if self._popen.stdin.closed:
                self._raise_exited(action)
            if self._stdin_torn:
                raise PluginError(
                    f"{action}: an earlier request was cut off mid-line; "
                    "restart the plugin"
                )
            fd = self._popen.stdin.fileno()
            while view:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._stdin_torn = len(view) < len(payload)
                    raise RequestTimeout(
                        f"{action}: the plugin did not read its request within "
                        f"{timeout:g} s",
                        exit_code=self.returncode,
                        stderr=self.stderr,
                    )
                try:
                    _, writable, _ = select.select([], [fd], [], min(remaining, 0.5))
                    if writable:
                        view = view[os.write(fd, view) :]
                except (BrokenPipeError, ValueError, OSError):
                    self._raise_exited(action)

    def _raise_exited(self, action: str) -> None:
        code = self._popen.poll()
        if code is not None:
            # Let the stderr reader drain so the message carries the traceback.
            self._threads[1].join(timeout=2)
        raise PluginExited(
            f"{action}: the plugin process ended (exit code {code})",
            exit_code=code,
            stderr=self.stderr,
        )

    def _read_stdout(self) -> None:
        assert self._popen.stdout is not None
        stream = self._popen.stdout
        try:
            while True:
                line = stream.readline(MAX_LINE_BYTES)
                if not line:
                    break
                if len(line) >= MAX_LINE_BYTES and not line.endswith(b"\n"):
                    while line and not line.endswith(b"\n"):
                        line = stream.readline(MAX_LINE_BYTES)
                    self.noise.append(
                        f"<dropped a stdout line over {MAX_LINE_BYTES} bytes>"
                    )
                    continue
                self._handle_line(line.decode(errors="replace").strip())
        except (OSError, ValueError):
            pass
        finally:
            self._stdout_closed.set()

    def _read_stderr(self) -> None:
        assert self._popen.stderr is not None
        fd = self._popen.stderr.fileno()
        try:
            while chunk := os.read(fd, 65536):
                with self._lock:
                    self._stderr += chunk
                    del self._stderr[:-STDERR_KEEP_BYTES]
        except (OSError, ValueError):
            pass

    def _handle_line(self, line: str) -> None:
        # Frames from concurrent SDK threads may share a line ("{..}{..}"),
        # since the SDK writes each frame and its "\n\n" in two calls.
        position = 0
        while position < len(line):
            try:
                frame, position = _decoder.raw_decode(line, position)
            except ValueError:
                self.noise.append(line[position:])
                return
            self._dispatch(frame)
            while position < len(line) and line[position].isspace():
                position += 1

    def _dispatch(self, frame: Any) -> None:
        if not isinstance(frame, dict):
            self.noise.append(json.dumps(frame))
            return
        event = frame.get("event")
        data = frame.get("data")
        if event is None:
            # The SDK's first line in local mode: the manifest, not a frame.
            if self.declaration is None:
                self.declaration = frame
            else:
                self.noise.append(json.dumps(frame))
        elif event == "heartbeat":
            self.heartbeats += 1
            if not self._ready.is_set():
                self.ready_after = time.monotonic() - self._started
                self._ready.set()
        elif event == "log":
            self.logs.append(data)
        elif event == "error":
            pending = self._pending_for(frame.get("session_id"))
            if pending is None:
                self.errors.append(data)
            else:
                message = data.get("error") if isinstance(data, dict) else data
                pending.error = {"error_type": "PluginError", "message": str(message)}
                pending.ended = True
                pending.done.set()
        elif event == "session":
            self._route_session(frame.get("session_id"), data)
        else:
            self.noise.append(json.dumps(frame))

    def _route_session(self, session_id: Any, data: Any) -> None:
        pending = self._pending_for(session_id)
        if pending is None or not isinstance(data, dict):
            # A late frame for a request that already timed out.
            return
        kind = data.get("type")
        payload = data.get("data")
        if kind == "stream":
            pending.chunks.append(payload)
            if pending.on_chunk is not None:
                with contextlib.suppress(Exception):
                    pending.on_chunk(payload)
        elif kind == "error":
            pending.error = (
                payload if isinstance(payload, dict) else {"message": payload}
            )
        elif kind == "invoke":
            pending.invocations.append(payload)
        elif kind == "end":
            pending.ended = True
            pending.done.set()

    def _pending_for(self, session_id: Any) -> _Pending | None:
        if not isinstance(session_id, str):
            return None
        with self._lock:
            return self._pending.get(session_id)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
