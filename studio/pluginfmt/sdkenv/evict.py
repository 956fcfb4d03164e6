"""Evicting the least recently used venvs of a cache above a size cap."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from studio.pluginfmt.sdkenv.layout import (
    LAST_USED_NAME,
    MARKER_NAME,
    REQUESTS_DIR,
    VENV_NAME_RE,
    disk_usage,
    is_complete,
    lock_path,
)
from studio.pluginfmt.sdkenv.locks import FileLock

EVICT_LOCK = ".evict.lock"
EVICT_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class CachedVenv:
    """A complete venv in the cache, for eviction and listings."""

    key: str
    size_bytes: int
    last_used: float  # a time.time() value


def cached_venvs(cache_dir: Path) -> list[CachedVenv]:
    """The complete venvs of the cache, least recently used first."""
    found: list[CachedVenv] = []
    with contextlib.suppress(FileNotFoundError):
        for folder in Path(cache_dir).iterdir():
            if not VENV_NAME_RE.match(folder.name) or not is_complete(folder):
                continue
            with contextlib.suppress(OSError):
                found.append(
                    CachedVenv(
                        key=folder.name,
                        size_bytes=_size_of(folder),
                        last_used=_last_used(folder),
                    )
                )
    return sorted(found, key=lambda venv: (venv.last_used, venv.key))


def evict_venvs(
    cache_dir: Path,
    *,
    max_bytes: int,
    keep: Collection[str] = (),
    wait: float = EVICT_WAIT_SECONDS,
) -> list[str]:
    """Remove least recently used venvs while the cache is above `max_bytes`.

    A venv in use or being built (its lock is held) is spared, and so are the
    keys in `keep`. One process evicts at a time (others wait up to `wait`
    seconds, then see the result, or give up); each removal is a rename under
    the venv's lock, then a delete, so a half-deleted venv never looks ready.
    Returns the evicted keys, oldest first.
    """
    cache_dir = Path(cache_dir).absolute()
    if not cache_dir.is_dir():
        return []
    lock = FileLock(cache_dir / EVICT_LOCK)
    if not lock.acquire(time.monotonic() + wait):
        return []
    try:
        _remove_debris(cache_dir)
        venvs = cached_venvs(cache_dir)
        total = sum(venv.size_bytes for venv in venvs)
        evicted: list[str] = []
        for venv in venvs:
            if total <= max_bytes:
                break
            if venv.key in keep or not _evict(cache_dir, venv.key):
                continue
            total -= venv.size_bytes
            evicted.append(venv.key)
        _forget_missing(cache_dir)
        return evicted
    finally:
        lock.release()


def _evict(cache_dir: Path, key: str) -> bool:
    """Remove one venv unless it is in use or being built (its lock is held)."""
    lock = FileLock(lock_path(cache_dir, key))
    if not lock.acquire(None):
        return False
    folder = cache_dir / key
    doomed = cache_dir / f".{key}.evicted-{uuid.uuid4().hex[:8]}"
    try:
        if not is_complete(folder):
            return False
        os.rename(folder, doomed)
    except OSError:
        return False
    finally:
        lock.release()
    shutil.rmtree(doomed, ignore_errors=True)
    return True


def _remove_debris(cache_dir: Path) -> None:
    """Remove what crashed evictions and builds left (called under EVICT_LOCK)."""
    for doomed in cache_dir.glob(".*.evicted-*"):
        shutil.rmtree(doomed, ignore_errors=True)
    for work in cache_dir.glob(".req-*.tmp-*"):
        request = work.name[1:].split(".tmp-")[0]
        lock = FileLock(lock_path(cache_dir, request))
        if lock.acquire(None):  # nobody is building that request
            try:
                shutil.rmtree(work, ignore_errors=True)
            finally:
                lock.release()
    for folder in cache_dir.iterdir():
        if VENV_NAME_RE.match(folder.name) and not is_complete(folder):
            lock = FileLock(lock_path(cache_dir, folder.name))
            if lock.acquire(None):  # renamed in, never marked: a crashed build
                try:
                    if not is_complete(folder):
                        shutil.rmtree(folder, ignore_errors=True)
                finally:
                    lock.release()


def _forget_missing(cache_dir: Path) -> None:
    """Drop remembered resolutions whose venv is gone (they resolve again)."""
    with contextlib.suppress(FileNotFoundError):
        for remembered in (cache_dir / REQUESTS_DIR).iterdir():
            with contextlib.suppress(OSError):
                key = remembered.read_text().strip()
                if not (cache_dir / key).is_dir():
                    remembered.unlink()


def _last_used(folder: Path) -> float:
    for name in (LAST_USED_NAME, MARKER_NAME):
        with contextlib.suppress(OSError):
            return (folder / name).stat().st_mtime
    return 0.0


def _size_of(folder: Path) -> int:
    """The size the marker recorded, else what `du` would count."""
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        size = json.loads((folder / MARKER_NAME).read_text()).get("size_bytes")
        if isinstance(size, int) and size >= 0:
            return size
    return disk_usage(folder)
