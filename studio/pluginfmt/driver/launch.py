"""How a plugin's child process is launched: entrypoint, environment, limits."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import resource
import signal
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml

DEFAULT_ENTRYPOINT = "main"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"

ENTRYPOINT_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def read_entrypoint(folder: Path) -> str:
    """Return the manifest's meta.runner.entrypoint, or "main" if it is unreadable."""
    try:
        text = (Path(folder) / "manifest.yaml").read_text(errors="replace")
        manifest = yaml.safe_load(text)
    except (OSError, yaml.YAMLError):
        return DEFAULT_ENTRYPOINT
    meta = manifest.get("meta") if isinstance(manifest, dict) else None
    runner = meta.get("runner") if isinstance(meta, dict) else None
    entrypoint = runner.get("entrypoint") if isinstance(runner, dict) else None
    if isinstance(entrypoint, str) and entrypoint.strip():
        return entrypoint.strip()
    return DEFAULT_ENTRYPOINT


def plugin_environment(
    python: Path, home: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the child's whole environment: nothing inherited from the parent."""
    env = {
        "PATH": f"{python.parent}:{SYSTEM_PATH}",
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "INSTALL_METHOD": "local",
        # Keep __pycache__ out of the plugin folder, which may be packaged later.
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra or {})
    return env


def child_limits(
    memory_bytes: int,
    cpu_seconds: int,
    *,
    die_with_parent: bool = False,
    then: Callable[[], None] | None = None,
) -> Callable[[], None]:
    """Return the pre-exec function that sets the child's memory and CPU limits.

    With `die_with_parent` the child also asks Linux for SIGKILL when its
    parent (thread) dies, and exits at once if the parent is already gone.
    `then` runs after the limits, before the death signal is asked for (a
    network jail's `enter`: its credentials change must not undo the ask).
    """
    # Computed in the parent so the forked child only makes setrlimit calls.
    limits = [
        (resource.RLIMIT_AS, _capped(resource.RLIMIT_AS, memory_bytes, 0)),
        (resource.RLIMIT_CPU, _capped(resource.RLIMIT_CPU, cpu_seconds, 5)),
        (resource.RLIMIT_CORE, (0, 0)),
    ]

    parent = os.getpid()
    prctl = _prctl() if die_with_parent else None

    def apply() -> None:
        for which, values in limits:
            resource.setrlimit(which, values)
        if then is not None:
            then()
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:
                os._exit(1)

    return apply


def _capped(which: int, soft: int, slack: int) -> tuple[int, int]:
    _, hard = resource.getrlimit(which)
    wanted = soft + slack
    if hard != resource.RLIM_INFINITY:
        return min(soft, hard), min(wanted, hard)
    return soft, wanted


PR_SET_PDEATHSIG = 1


def _prctl() -> Callable[[int, int], int] | None:
    """libc's prctl, or None where there is none (not Linux)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        function: Callable[[int, int], int] = libc.prctl
    except (OSError, AttributeError, TypeError):
        return None
    return function
