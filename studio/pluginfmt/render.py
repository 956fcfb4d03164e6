"""Write a plugin source tree to disk, all at once or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from studio.pluginfmt.files import PluginFiles, UnsafeInput
from studio.pluginfmt.readers import check_entry_name, check_file_folder_conflicts

_FILE_MODE = 0o644
_DIR_MODE = 0o755


def render_tree(
    files: PluginFiles, dest: str | os.PathLike[str], *, overwrite: bool = False
) -> None:
    """Write `files` under `dest`, replacing it only once every file is written."""
    names = list(files)
    for name in names:
        check_entry_name(name)
    check_file_folder_conflicts(names)

    target = Path(dest)
    if target.is_symlink():
        raise UnsafeInput("the destination is a symlink", entry=str(target))
    if target.exists():
        if not target.is_dir():
            raise FileExistsError(f"{target}: exists and is not a folder")
        if any(target.iterdir()) and not overwrite:
            raise FileExistsError(f"{target}: folder is not empty")
    target.parent.mkdir(parents=True, exist_ok=True)

    # A sibling on the same file system, so the final rename is atomic.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name in sorted(names):
            _write(staging, name, files[name])
        staging.chmod(_DIR_MODE)
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write(root: Path, name: str, content: bytes) -> None:
    path = root / name
    parent = path.parent
    if parent != root:
        parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    # O_EXCL | O_NOFOLLOW: never write through something that appeared meanwhile.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0), _FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)


def _swap_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        staging.rename(target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    old.rmdir()
    target.rename(old)
    try:
        staging.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
