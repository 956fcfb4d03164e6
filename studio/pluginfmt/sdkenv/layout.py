"""Where things are in a venv cache folder (see `cache` for the whole layout)."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

MARKER_NAME = ".studio-sdk-venv.json"
LAST_USED_NAME = ".studio-last-used"
REQUESTS_DIR = ".requests"
VENV_NAME_RE = re.compile(r"^py\d+-[0-9a-f]{20}$")


def is_complete(venv: Path) -> bool:
    """Tell whether the venv folder was fully built (its marker file exists)."""
    return (venv / MARKER_NAME).is_file() and (venv / "bin" / "python").exists()


def lock_path(cache_dir: Path, key: str) -> Path:
    """The flock file of a venv or request key (see `locks`)."""
    return cache_dir / f".{key}.lock"


def mark_used(folder: Path) -> None:
    """Record a use of the venv: its last-used file's mtime is now."""
    with contextlib.suppress(OSError):
        (folder / LAST_USED_NAME).touch()


def disk_usage(folder: Path) -> int:
    """Bytes on disk, each file once (hard links to uv's cache count in full)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            with contextlib.suppress(OSError):
                stat = os.lstat(os.path.join(root, name))
                if (stat.st_dev, stat.st_ino) not in seen:
                    seen.add((stat.st_dev, stat.st_ino))
                    total += stat.st_blocks * 512
    return total
