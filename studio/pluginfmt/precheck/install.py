"""The install test of the Marketplace CI, run for real.

The CI installs `requirements.txt` with pip into a clean Python 3.12
virtualenv, starts the unpacked plugin with `python -m main` and
`INSTALL_METHOD=serverless`, waits for "Serving Flask app" in its output and
asks the port for `/`: an answer of 200 or 404 within 20 seconds passes.

Here the virtualenv comes from `requirements_venv` (cached by the
requirements' hash, shared with the smoke test, wheels only, so no package's
setup.py runs on the worker), and the plugin runs as the smoke test runs it:
a clean environment, its own process group, memory and CPU limits, no proxy
to the internet, on a free loopback port. In serverless mode the SDK (0.10)
serves Flask through gevent's WSGI server on SERVERLESS_HOST:SERVERLESS_PORT
and prints the "Serving Flask app" banner itself; `/` has no route, so the
answer is 404.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from .. import sdkenv
from ..driver.launch import child_limits, plugin_environment
from ..files import PluginFiles
from ..render import render_tree
from ..verify.findings import Finding, Report
from .rules import RULES

START_TIMEOUT = 20.0
BANNER = b"Serving Flask app"
KEEP_BYTES = 64 * 1024
TAIL_CHARS = 4000
STOP_GRACE = 1.0

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")

InstallStatus = Literal["passed", "failed", "skipped"]
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b.*", re.M)


@dataclass
class InstallResult:
    """What the install test found; `step` names what failed."""

    status: InstallStatus
    detail: str
    step: Literal["requirements", "start", ""] = ""
    output_tail: str = ""
    duration_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data, as stored on rows and printed by `--json`."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> InstallResult | None:
        """A stored result, None when there is none (or it is unreadable)."""
        if not isinstance(data, dict) or data.get("status") not in (
            "passed",
            "failed",
            "skipped",
        ):
            return None
        step = data.get("step")
        return cls(
            status=data["status"],
            detail=str(data.get("detail") or ""),
            step=step if step in ("requirements", "start") else "",
            output_tail=str(data.get("output_tail") or ""),
            duration_ms=int(data.get("duration_ms") or 0),
        )

    def findings(self) -> list[Finding]:
        """The failure as a finding of the pre-check (none when it passed)."""
        if self.status != "failed":
            return []
        report = Report(RULES)
        rule = (
            "marketplace.requirements-install"
            if self.step == "requirements"
            else "marketplace.serverless-start"
        )
        file = "requirements.txt" if self.step == "requirements" else "main.py"
        report.add(rule, file, None, self.detail, value={"output": self.output_tail})
        return report.findings


@contextlib.contextmanager
def requirements_venv(requirements: str, *, cache_dir: Path) -> Iterator[Path]:
    """The python of a clean 3.12 virtualenv with `requirements` installed,
    held in use (never evicted) for the block.

    The one place the pre-check makes a virtualenv: the smoke test's cache
    (`sdkenv.using_sdk_venv`: one venv per installed package set, built with
    uv at most once).
    """
    with sdkenv.using_sdk_venv(requirements, cache_dir=cache_dir) as venv:
        yield venv.python


def install_test(
    files: PluginFiles,
    *,
    cache_dir: Path,
    timeout: float = START_TIMEOUT,
    memory_limit_mb: int = 1024,
    cpu_limit_s: int = 60,
) -> InstallResult:
    """Install the requirements, start the plugin serverless, ask it for `/`."""
    started = time.monotonic()

    def result(status: InstallStatus, detail: str, **kw: Any) -> InstallResult:
        ms = round((time.monotonic() - started) * 1000)
        return InstallResult(status, detail, duration_ms=ms, **kw)

    requirements = files.get("requirements.txt")
    if requirements is None:
        return result(
            "skipped",
            "the package has no requirements.txt, so the CI skips its install test too",
        )
    try:
        with (
            requirements_venv(
                requirements.decode("utf-8", "replace"), cache_dir=cache_dir
            ) as python,
            tempfile.TemporaryDirectory(prefix="precheck-") as tmp,
        ):
            folder = Path(tmp) / "plugin"
            render_tree(files, folder)
            status, detail, output = _serve(
                folder,
                python,
                timeout=timeout,
                memory_limit_mb=memory_limit_mb,
                cpu_limit_s=cpu_limit_s,
            )
    except sdkenv.SdkEnvError as exc:
        head, _, tail = str(exc).partition("\n")
        return result(
            "failed",
            f"requirements.txt does not install into a clean Python 3.12 "
            f"virtualenv: {head}",
            step="requirements",
            output_tail=tail[-TAIL_CHARS:],
        )
    return result(
        status, detail, step="" if status == "passed" else "start", output_tail=output
    )


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Output:
    """Both output streams of the child, their tails, and whether the banner came."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.tails = {"stdout": bytearray(), "stderr": bytearray()}
        self.banner = threading.Event()
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._read, args=(stream, name), daemon=True)
            for stream, name in ((process.stdout, "stdout"), (process.stderr, "stderr"))
        ]
        for thread in self.threads:
            thread.start()

    def _read(self, stream: Any, name: str) -> None:
        seen = b""
        with contextlib.suppress(OSError, ValueError):
            while chunk := os.read(stream.fileno(), 65536):
                with self.lock:
                    tail = self.tails[name]
                    tail += chunk
                    del tail[:-KEEP_BYTES]
                # The banner may arrive split across two reads.
                seen = (seen + chunk)[-4096:]
                if BANNER in seen:
                    self.banner.set()

    def text(self, name: str) -> str:
        with self.lock:
            return self.tails[name].decode(errors="replace")


def _serve(
    folder: Path,
    python: Path,
    *,
    timeout: float,
    memory_limit_mb: int,
    cpu_limit_s: int,
) -> tuple[InstallStatus, str, str]:
    port = free_port()
    home = Path(tempfile.mkdtemp(prefix="precheck-home-"))
    closed_proxy = f"http://127.0.0.1:{free_port()}"
    env = plugin_environment(
        python,
        home,
        {
            "INSTALL_METHOD": "serverless",
            "SERVERLESS_HOST": "127.0.0.1",
            "SERVERLESS_PORT": str(port),
            # Outbound HTTP goes to a closed port: start-up must not need the net.
            **dict.fromkeys(PROXY_VARIABLES, closed_proxy),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        },
    )
    try:
        process = subprocess.Popen(
            [str(python), "-m", "main"],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=child_limits(memory_limit_mb * 1024 * 1024, cpu_limit_s),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(home, ignore_errors=True)
        return "failed", f"the plugin could not be started: {exc}", ""
    output = _Output(process)
    try:
        status, detail = _wait(process, output, port, timeout)
    finally:
        _stop(process)
        for thread in output.threads:
            thread.join(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        shutil.rmtree(home, ignore_errors=True)
    stdout, stderr = output.text("stdout").strip(), output.text("stderr").strip()
    # A failure's story is on stderr; a start's banner on stdout.
    tail = (stderr or stdout) if status == "failed" else (stdout or stderr)
    if status == "failed":
        reason = _reason(stderr)
        if reason:
            detail = f"{detail}: {reason}"
    return status, detail, tail[-TAIL_CHARS:]


def _wait(
    process: subprocess.Popen[bytes], output: _Output, port: int, timeout: float
) -> tuple[InstallStatus, str]:
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if output.banner.is_set():
            code = _ask(opener, port)
            if code in (200, 404):
                return "passed", f"served HTTP (GET / answered {code})"
            if code is not None:
                return "failed", f"GET / answered HTTP {code}, not 200 or 404"
        elif process.poll() is not None:
            # Let the readers drain what the plugin wrote before it died.
            for thread in output.threads:
                thread.join(timeout=2)
            return (
                "failed",
                f"the plugin exited with code {process.returncode} before serving",
            )
        time.sleep(0.1)
    if output.banner.is_set():
        return "failed", f"no HTTP answer on 127.0.0.1:{port} within {timeout:g} s"
    return "failed", f'no "Serving Flask app" within {timeout:g} s'


def _ask(opener: urllib.request.OpenerDirector, port: int) -> int | None:
    try:
        with opener.open(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None  # not listening yet


def _stop(process: subprocess.Popen[bytes]) -> None:
    _signal_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(STOP_GRACE)
    # Also reaches anything the plugin forked that outlived its leader.
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _reason(stderr: str) -> str:
    """The exception that ended the plugin: the last one in its stderr."""
    found = list(_EXCEPTION_LINE.finditer(stderr))
    if not found:
        return ""
    return found[-1].group(0).strip()[:500]
