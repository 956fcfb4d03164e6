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

import functools
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from studio.pluginfmt.sdkenv.errors import SdkEnvError
from studio.pluginfmt.sdkenv.interpreter import Interpreter, find_python

OUTPUT_TAIL_CHARS = 4000

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
    (see `compile_bytecode`). Raises SdkEnvError with the installer's output.
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


def freeze(venv: Path, *, timeout: float = 60) -> str:
    """What is installed in the venv, one `name==version` line per package.

    Read with the tool that built it (uv when present, else pip); names are
    not normalised here (see `cache.normalise_resolved`).
    """
    deadline = time.monotonic() + timeout
    python = Path(venv) / "bin" / "python"
    uv = find_uv()
    if uv is not None:
        command = [uv, "pip", "freeze", "--color", "never", "--python", str(python)]
    else:
        command = [str(python), "-m", "pip", "freeze", "--disable-pip-version-check"]
    return _run(
        command, what="listing the installed packages", deadline=deadline, merge=False
    )


def compile_bytecode(venv: Path, *, timeout: float = 300) -> None:
    """Compile the venv's site-packages on all CPUs, tests folders left out.

    Plugins run with PYTHONDONTWRITEBYTECODE, so without this every start
    would compile the SDK again (about a second). Failures are not fatal.
    """
    deadline = time.monotonic() + timeout
    command = [
        str(Path(venv) / "bin" / "python"),
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "-x",
        r"[/\\]tests?[/\\]",
        str(Path(venv) / "lib"),
    ]
    try:
        _run(command, what="compileall", deadline=deadline, check=False)
    except SdkEnvError as exc:
        log.warning("compiling %s failed: %s", venv.name, exc)


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
