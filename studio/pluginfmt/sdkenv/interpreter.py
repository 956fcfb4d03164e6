"""Finding the Python 3.12 interpreter the SDK virtualenvs are made with."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from studio.pluginfmt.sdkenv.errors import SdkEnvError

MIN_PYTHON = (3, 12)

_PROBE = (
    "import json, platform, sys; print(json.dumps("
    "{'version': list(sys.version_info[:3]),"
    " 'executable': sys.executable, 'machine': platform.machine(),"
    " 'implementation': sys.implementation.name}))"
)


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
