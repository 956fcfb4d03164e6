"""Cached virtualenvs holding the Dify plugin SDK, for running plugins in a child.

The studio never imports `dify_plugin` (it gevent-monkey-patches the importer);
plugins run with a Python 3.12 virtualenv built here. One venv per normalised
requirements text and interpreter: it is built in a temporary folder under an
exclusive lock, renamed into place, and only counts as ready once its marker
file exists, so a crashed or concurrent build never leaves a half venv that
looks ready.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SDK_REQUIREMENT = "dify_plugin>=0.10.0,<0.11.0"
MARKER_NAME = ".studio-sdk-venv.json"
MIN_PYTHON = (3, 12)
PIP_TAIL_CHARS = 4000

_SDK_NAME_RE = re.compile(r"^dify[-_.]plugin(?![A-Za-z0-9._-])", re.IGNORECASE)
_COMMENT_RE = re.compile(r"(^|\s)#.*$")
_PROBE = (
    "import json, platform, sys; print(json.dumps("
    "{'version': list(sys.version_info[:3]),"
    " 'executable': sys.executable, 'machine': platform.machine(),"
    " 'implementation': sys.implementation.name}))"
)


class SdkEnvError(RuntimeError):
    """The SDK virtualenv could not be found, built or locked."""


@dataclass(frozen=True)
class Interpreter:
    """A probed Python interpreter that can create the SDK venv."""

    executable: str
    version: tuple[int, int, int]
    machine: str
    implementation: str

    @property
    def tag(self) -> str:
        """Describe the interpreter for the cache key."""
        version = ".".join(str(part) for part in self.version)
        return f"{self.implementation}-{version}-{self.machine}-{self.executable}"


def normalise_requirements(requirements: str) -> str:
    """Return the requirement lines without comments or blanks, sorted, SDK added."""
    text = requirements.replace("\\\n", "")
    lines: set[str] = set()
    for raw in text.splitlines():
        line = _COMMENT_RE.sub("", raw).strip()
        if line:
            lines.add(re.sub(r"\s+", " ", line))
    if not any(_SDK_NAME_RE.match(line) for line in lines):
        lines.add(DEFAULT_SDK_REQUIREMENT)
    return "\n".join(sorted(lines)) + "\n"


def venv_key(requirements: str, interpreter: Interpreter) -> str:
    """Return the cache folder name for these requirements and interpreter."""
    digest = hashlib.sha256()
    digest.update(normalise_requirements(requirements).encode())
    digest.update(b"\0" + interpreter.tag.encode())
    major, minor, _ = interpreter.version
    return f"py{major}{minor}-{digest.hexdigest()[:20]}"


def find_python(python: str | None = None) -> Interpreter:
    """Find a Python >= 3.12: the given one, else python3.12 on PATH, else pyenv's."""
    if python is not None:
        found = _probe(python)
        if found is None:
            raise SdkEnvError(f"the Python interpreter {python!r} cannot be run")
        if found.version[:2] < MIN_PYTHON:
            raise SdkEnvError(
                f"{python} is Python {'.'.join(map(str, found.version))}; the Dify "
                "plugin SDK needs Python 3.12 (pip would silently install 0.7.4)"
            )
        return found
    for candidate in _candidates():
        found = _probe(candidate)
        if found is not None and found.version[:2] >= MIN_PYTHON:
            return found
    raise SdkEnvError(
        "no Python 3.12 interpreter found: install python3.12 on PATH (for example "
        "`apt-get install python3.12 python3.12-venv` or `pyenv install 3.12`) or "
        "pass its path explicitly"
    )


def ensure_sdk_venv(
    requirements: str,
    *,
    cache_dir: Path,
    python: str | None = None,
    timeout: float = 600,
    only_binary: bool = True,
) -> Path:
    """Return the python of a complete venv for these requirements; build it once."""
    interpreter = find_python(python)
    normalised = normalise_requirements(requirements)
    cache_dir = Path(cache_dir).absolute()
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = venv_key(requirements, interpreter)
    final = cache_dir / key
    if is_complete(final):
        return final / "bin" / "python"

    deadline = time.monotonic() + timeout
    with _locked(cache_dir / f".{key}.lock", deadline):
        # Another worker may have finished while this one waited for the lock.
        if is_complete(final):
            return final / "bin" / "python"
        _remove_leftovers(cache_dir, key)
        work = Path(tempfile.mkdtemp(prefix=f".{key}.tmp-", dir=cache_dir))
        try:
            _build(
                work / "venv",
                interpreter=interpreter,
                requirements=normalised,
                cache_dir=cache_dir,
                deadline=deadline,
                only_binary=only_binary,
            )
            os.rename(work / "venv", final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        # Bytecode is compiled after the rename so tracebacks show the real
        # paths; it only speeds up the first start, so a failure is not fatal.
        with contextlib.suppress(SdkEnvError):
            _run(
                [str(final / "bin" / "python"), "-m", "compileall", "-q", str(final)],
                what="compileall",
                deadline=deadline,
                check=False,
            )
        _write_marker(final, interpreter=interpreter, requirements=normalised)
    return final / "bin" / "python"


def is_complete(venv: Path) -> bool:
    """Tell whether the venv folder was fully built (its marker file exists)."""
    return (venv / MARKER_NAME).is_file() and (venv / "bin" / "python").exists()


def _candidates() -> list[str]:
    found: list[str] = []
    on_path = shutil.which("python3.12")
    if on_path:
        found.append(on_path)
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    versions = sorted(
        (pyenv_root / "versions").glob("3.12*/bin/python3.12"),
        key=lambda path: [int(n) for n in re.findall(r"\d+", path.parts[-3])],
        reverse=True,
    )
    found.extend(str(path) for path in versions)
    return found


@functools.lru_cache(maxsize=16)
def _probe(python: str) -> Interpreter | None:
    try:
        result = subprocess.run(
            [python, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tempfile.gettempdir(),
        )
        data = json.loads(result.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None
    if result.returncode != 0:
        return None
    return Interpreter(
        executable=data["executable"],
        version=tuple(data["version"]),
        machine=data["machine"],
        implementation=data["implementation"],
    )


class _locked:
    """An exclusive flock on a lock file, waited for until the deadline."""

    def __init__(self, path: Path, deadline: float) -> None:
        self.path = path
        self.deadline = deadline
        self.fd = -1

    def __enter__(self) -> _locked:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() >= self.deadline:
                    os.close(self.fd)
                    raise SdkEnvError(
                        f"timed out waiting for another build of {self.path.name[1:-5]}"
                    ) from None
                time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _remove_leftovers(cache_dir: Path, key: str) -> None:
    # Called under the key's lock: nobody else is building it, so any temp
    # folder or unmarked venv for this key is a crashed build.
    for stale in cache_dir.glob(f".{key}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    final = cache_dir / key
    if final.exists():
        shutil.rmtree(final)


def _build(
    venv: Path,
    *,
    interpreter: Interpreter,
    requirements: str,
    cache_dir: Path,
    deadline: float,
    only_binary: bool,
) -> None:
    _run(
        [interpreter.executable, "-m", "venv", str(venv)],
        what="venv creation",
        deadline=deadline,
    )
    requirements_file = venv.parent / "requirements.txt"
    requirements_file.write_text(requirements)
    command = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--no-input",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "--no-compile",
        "--cache-dir",
        str(cache_dir / ".pip-cache"),
        "-r",
        str(requirements_file),
    ]
    if only_binary:
        # Wheels run no code at install time; sdists would run setup.py here.
        command[4:4] = ["--only-binary", ":all:"]
    _run(command, what="pip install", deadline=deadline)


def _run(command: list[str], *, what: str, deadline: float, check: bool = True) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise SdkEnvError(f"{what} did not start: the build timed out")
    try:
        result = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            timeout=remaining,
        )
    except subprocess.TimeoutExpired as error:
        output = error.output or ""
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        raise SdkEnvError(
            f"{what} timed out:\n{output[-PIP_TAIL_CHARS:]}".rstrip()
        ) from None
    except OSError as error:
        raise SdkEnvError(f"{what} could not run: {error}") from None
    if check and result.returncode != 0:
        raise SdkEnvError(
            f"{what} failed with exit code {result.returncode}:\n"
            f"{result.stdout[-PIP_TAIL_CHARS:]}".rstrip()
        )


def _write_marker(venv: Path, *, interpreter: Interpreter, requirements: str) -> None:
    marker = venv / MARKER_NAME
    partial = venv / f"{MARKER_NAME}.partial"
    partial.write_text(
        json.dumps(
            {
                "requirements": requirements,
                "python": interpreter.tag,
                "built_at": time.time(),
            },
            indent=2,
        )
    )
    os.replace(partial, marker)
