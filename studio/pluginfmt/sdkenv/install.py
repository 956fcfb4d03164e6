"""Making one virtualenv with given requirements: uv, or pip when uv is missing.

uv (the tool the Dify plugin daemon installs plugin environments with) creates
the venv with the given interpreter and installs from its own download cache,
hard-linking files out of it: with the wheels cached a venv takes about half a
second instead of pip's twenty. The venv is relocatable, so it can be built in
a temporary folder and renamed into place. When PyPI cannot be reached the
install is retried with `--offline` (only what uv's cache holds).

pip is the fallback when no uv binary is found (the studio's requirements pin
the `uv` package, which puts one beside the studio's Python); the log says so.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from studio.pluginfmt.sdkenv.errors import SdkEnvError
from studio.pluginfmt.sdkenv.interpreter import Interpreter, find_python

OUTPUT_TAIL_CHARS = 4000
# Run by the venv's python: lower its priority, then compile every module but
# those under tests folders, on all CPUs (the workers inherit the priority).
_COMPILE = (
    "import compileall, os, re, sys; os.nice(19); "
    "compileall.compile_dir(sys.argv[1], quiet=1, workers=0, "
    "rx=re.compile(r'[/\\\\]tests?[/\\\\]'))"
)

log = logging.getLogger("studio.pluginfmt.sdkenv")


@dataclass(frozen=True)
class NewVenv:
    """A virtualenv `create_venv` made."""

    python: Path
    installer: str  # "uv 0.13.9" or "pip"
    offline: bool  # uv installed from its cache alone (PyPI was unreachable)


def find_uv() -> str | None:
    """The uv binary beside this Python (the `uv` package), else on PATH."""
    scripts = Path(sysconfig.get_path("scripts")) / "uv"
    for candidate in (scripts, Path(sys.executable).parent / "uv"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("uv")


def create_venv(
    target: Path,
    requirements: str,
    *,
    python: Interpreter | str | None = None,
    timeout: float = 600,
    only_binary: bool = True,
    uv_cache_dir: Path | None = None,
    pip_cache_dir: Path | None = None,
) -> NewVenv:
    """Create a Python 3.12 virtualenv at `target` (a new path) with `requirements`.

    With uv: `uv venv --relocatable` then `uv pip install -r`, downloads kept in
    `uv_cache_dir` (uv's default cache when None). Without uv: `python -m venv`
    and pip, downloads kept in `pip_cache_dir`. `only_binary` installs wheels
    only, so no package runs code at install time. Bytecode is not compiled
    (see `compile_bytecode_later`). Raises SdkEnvError with the installer's
    output.
    """
    interpreter = python if isinstance(python, Interpreter) else find_python(python)
    deadline = time.monotonic() + timeout
    target = Path(target).absolute()
    uv = find_uv()
    with tempfile.TemporaryDirectory(prefix="sdkenv-requirements-") as folder:
        requirements_file = Path(folder) / "requirements.txt"
        requirements_file.write_text(requirements)
        if uv is None:
            log.warning(
                "uv is not installed (pip install uv); building the virtualenv "
                "%s with pip, which is much slower",
                target.name,
            )
            _pip_build(
                target,
                interpreter=interpreter,
                requirements_file=requirements_file,
                cache_dir=pip_cache_dir,
                deadline=deadline,
                only_binary=only_binary,
            )
            python_path = target / "bin" / "python"
            return NewVenv(python=python_path, installer="pip", offline=False)
        offline = _uv_build(
            uv,
            target,
            interpreter=interpreter,
            requirements_file=requirements_file,
            cache_dir=uv_cache_dir,
            deadline=deadline,
            only_binary=only_binary,
        )
    return NewVenv(
        python=target / "bin" / "python",
        installer=f"uv {uv_version(uv)}".strip(),
        offline=offline,
    )


def installed_packages(venv: Path) -> str:
    """What is installed in the venv: `name==version` a line, sorted.

    Read from the `*.dist-info` folders (both installers write them; their
    names are `name-version` with `-` escaped), `name @ url` for a package
    installed from a URL. No subprocess: this is on every build's path.
    """
    lines: set[str] = set()
    for info in Path(venv).glob("lib/python*/site-packages/*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").partition("-")
        line = f"{name}=={version}"
        with contextlib.suppress(OSError, ValueError, AttributeError):
            url = json.loads((info / "direct_url.json").read_text()).get("url")
            if isinstance(url, str) and url:
                line = f"{name} @ {url}"
        lines.add(line)
    return "".join(f"{line}\n" for line in sorted(lines))


def compile_bytecode_later(
    venv: Path, *, hold: Path | None = None
) -> subprocess.Popen[bytes] | None:
    """Start compiling the venv's site-packages in a low-priority background process.

    Plugins run with PYTHONDONTWRITEBYTECODE, so a venv without bytecode
    compiles the SDK at every start (about a second of CPU). Compiling it all
    takes a few CPU seconds, more than the first run needs, so it is done
    behind that run, at nice 19, on every CPU, tests folders left out; a
    plugin started meanwhile compiles what it imports itself. With `hold` (a
    lock file), a shared flock on it is held until the process ends, so
    eviction leaves the venv alone. Returns the process, or None when it could
    not start (or the lock was taken: the venv is being evicted).
    """
    fd = -1
    if hold is not None:
        fd = os.open(hold, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
    python, lib = str(Path(venv) / "bin" / "python"), str(Path(venv) / "lib")
    try:
        process = subprocess.Popen(
            [python, "-c", _COMPILE, lib],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=tempfile.gettempdir(),
            pass_fds=(fd,) if fd >= 0 else (),
            start_new_session=True,
        )
    except OSError as exc:
        log.warning("compiling %s could not start: %s", Path(venv).name, exc)
        return None
    finally:
        if fd >= 0:
            os.close(fd)  # the child's copy keeps the lock until it exits
    # Reap it, so a long-lived worker does not collect zombies.
    threading.Thread(target=process.wait, name="sdkenv-compile", daemon=True).start()
    return process


@functools.lru_cache(maxsize=4)
def uv_version(uv: str) -> str:
    """The version uv reports ("0.13.9"), or "" when it cannot say."""
    try:
        result = subprocess.run(
            [uv, "--version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    words = result.stdout.split()
    return words[1] if len(words) > 1 and result.returncode == 0 else ""


def _uv_build(
    uv: str,
    target: Path,
    *,
    interpreter: Interpreter,
    requirements_file: Path,
    cache_dir: Path | None,
    deadline: float,
    only_binary: bool,
) -> bool:
    common = ["--quiet", "--color", "never"]
    if cache_dir is not None:
        common += ["--cache-dir", str(cache_dir)]
    venv = [uv, "venv", *common, "--relocatable", "--python", interpreter.executable]
    _run(
        [*venv, str(target)],
        what="uv venv",
        deadline=deadline,
    )
    python = str(target / "bin" / "python")
    install = [uv, "pip", "install", *common, "--python", python]
    if only_binary:
        # Wheels run no code at install time; sdists would run setup.py here.
        install += ["--only-binary", ":all:"]
    install += ["-r", str(requirements_file)]
    try:
        _run(install, what="uv pip install", deadline=deadline)
    except SdkEnvError as online:
        # PyPI may be out of reach; uv's cache may still hold every wheel.
        try:
            _run([*install, "--offline"], what="uv pip install", deadline=deadline)
        except SdkEnvError:
            raise online from None
        log.warning(
            "uv pip install could not reach the package index; %s was "
            "installed from uv's cache (--offline)",
            target.name,
        )
        return True
    return False


def _pip_build(
    target: Path,
    *,
    interpreter: Interpreter,
    requirements_file: Path,
    cache_dir: Path | None,
    deadline: float,
    only_binary: bool,
) -> None:
    _run(
        [interpreter.executable, "-m", "venv", str(target)],
        what="venv creation",
        deadline=deadline,
    )
    command = [
        str(target / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--no-input",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "--no-compile",
    ]
    if cache_dir is not None:
        command += ["--cache-dir", str(cache_dir)]
    if only_binary:
        command += ["--only-binary", ":all:"]
    command += ["-r", str(requirements_file)]
    _run(command, what="pip install", deadline=deadline)


def _run(
    command: list[str],
    *,
    what: str,
    deadline: float,
    check: bool = True,
    merge: bool = True,
) -> str:
    """Run a command; return its output (stdout alone when not `merge`)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise SdkEnvError(f"{what} did not start: the build timed out")
    try:
        result = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge else subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            timeout=remaining,
            cwd=tempfile.gettempdir(),
        )
    except subprocess.TimeoutExpired as error:
        output = error.output or ""
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        raise SdkEnvError(
            f"{what} timed out:\n{output[-OUTPUT_TAIL_CHARS:]}".rstrip()
        ) from None
    except OSError as error:
        raise SdkEnvError(f"{what} could not run: {error}") from None
    if check and result.returncode != 0:
        output = result.stdout if merge else f"{result.stderr}{result.stdout}"
        raise SdkEnvError(
            f"{what} failed with exit code {result.returncode}:\n"
            f"{output[-OUTPUT_TAIL_CHARS:]}".rstrip()
        )
    return result.stdout
