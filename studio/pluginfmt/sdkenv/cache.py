"""The cache of SDK virtualenvs: one per resolved package set, LRU-evicted.

Layout of the cache folder:

- `py312-<hash>/`: a venv, named by the hash of what is installed in it
  (`name==version` of every package, from its dist-info folders) and the
  interpreter. It counts as ready once its marker file exists; its
  `.studio-last-used` file's mtime is when it was last used.
- `.requests/<key>`: which venv a requirements text resolved to (the text
  normalised, the interpreter, wheels-only or not), so a text seen before costs
  one file read, not a resolution. Two texts that resolve to the same packages
  share one venv. A venv keeps serving a text until it is evicted; the next
  use then resolves the text again.
- `.<key>.lock`: flock files. A request's lock serialises building for one
  text; a venv's lock is held exclusively while it is renamed into place or
  evicted, and shared while it is in use (`using_sdk_venv`), so eviction,
  which only takes it without waiting, never removes a venv in use.
- `.<key>.tmp-*`: a build in progress (a crashed one is removed later).

A venv is built in a temporary folder, its package list read, then renamed to
its key under that key's lock and its marker written: a crashed or concurrent
build never leaves a half venv that looks ready. Its bytecode is then compiled
in the background (`install.compile_bytecode_later`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from studio.pluginfmt.sdkenv import install
from studio.pluginfmt.sdkenv.errors import SdkEnvError
from studio.pluginfmt.sdkenv.interpreter import Interpreter, find_python
from studio.pluginfmt.sdkenv.locks import FileLock, held

DEFAULT_SDK_REQUIREMENT = "dify_plugin>=0.10.0,<0.11.0"
MARKER_NAME = ".studio-sdk-venv.json"
LAST_USED_NAME = ".studio-last-used"
REQUESTS_DIR = ".requests"
EVICT_LOCK = ".evict.lock"
EVICT_WAIT_SECONDS = 10.0
# How often in a row a venv may vanish between being found and being locked.
USE_ATTEMPTS = 3

VENV_NAME_RE = re.compile(r"^py\d+-[0-9a-f]{20}$")
_SDK_NAME_RE = re.compile(r"^dify[-_.]plugin(?![A-Za-z0-9._-])", re.IGNORECASE)
_COMMENT_RE = re.compile(r"(^|\s)#.*$")
_NAME_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(.*)$")


@dataclass(frozen=True)
class SdkVenv:
    """A complete cached venv, as found or built."""

    python: Path
    key: str
    interpreter: Interpreter
    built: bool  # this call built it
    installer: str  # what built it ("uv 0.13.9", "pip"), from its marker


@dataclass(frozen=True)
class CachedVenv:
    """A complete venv in the cache, for eviction and listings."""

    key: str
    size_bytes: int
    last_used: float  # a time.time() value


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


def normalise_resolved(frozen: str) -> str:
    """Return a package list with PEP 503 names, sorted, one line each."""
    lines: set[str] = set()
    for raw in frozen.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _NAME_RE.match(line)
        if match is None:
            continue
        name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
        lines.add(f"{name}{match.group(2).replace(' ', '')}")
    return "\n".join(sorted(lines)) + "\n"


def request_key(
    requirements: str, interpreter: Interpreter, *, only_binary: bool = True
) -> str:
    """Return the key under which a requirements text's venv is remembered."""
    digest = hashlib.sha256()
    digest.update(normalise_requirements(requirements).encode())
    digest.update(b"\0" + interpreter.tag.encode())
    digest.update(b"\0wheels-only" if only_binary else b"\0sdists")
    return f"req-{digest.hexdigest()[:20]}"


def venv_key(resolved: str, interpreter: Interpreter) -> str:
    """Return the cache folder name for these installed packages and interpreter."""
    digest = hashlib.sha256()
    digest.update(normalise_resolved(resolved).encode())
    digest.update(b"\0" + interpreter.tag.encode())
    major, minor, _ = interpreter.version
    return f"py{major}{minor}-{digest.hexdigest()[:20]}"


def ensure_sdk_venv(
    requirements: str,
    *,
    cache_dir: Path,
    python: str | None = None,
    timeout: float = 600,
    only_binary: bool = True,
    uv_cache_dir: Path | None = None,
    max_bytes: int | None = None,
) -> Path:
    """Return the python of a complete venv for these requirements; build it once.

    The venv is not held in use: eviction may remove it once other venvs are
    used more recently. Runs use `using_sdk_venv` instead.
    """
    return prepare_sdk_venv(
        requirements,
        cache_dir=cache_dir,
        python=python,
        timeout=timeout,
        only_binary=only_binary,
        uv_cache_dir=uv_cache_dir,
        max_bytes=max_bytes,
    ).python


@contextlib.contextmanager
def using_sdk_venv(
    requirements: str,
    *,
    cache_dir: Path,
    python: str | None = None,
    timeout: float = 600,
    only_binary: bool = True,
    uv_cache_dir: Path | None = None,
    max_bytes: int | None = None,
) -> Iterator[SdkVenv]:
    """Find or build the venv and hold it in use (never evicted) for the block.

    With `max_bytes`, a venv built here is followed by an eviction of the least
    recently used others while the cache is larger than that.
    """
    cache_dir = Path(cache_dir).absolute()
    deadline = time.monotonic() + timeout
    for _ in range(USE_ATTEMPTS):
        venv = prepare_sdk_venv(
            requirements,
            cache_dir=cache_dir,
            python=python,
            timeout=max(1.0, deadline - time.monotonic()),
            only_binary=only_binary,
            uv_cache_dir=uv_cache_dir,
        )
        folder = cache_dir / venv.key
        with held(
            _lock_path(cache_dir, venv.key),
            shared=True,
            deadline=deadline,
            waiting_for=f"the virtualenv {venv.key}",
        ):
            if not is_complete(folder):
                continue  # evicted between being found and being locked
            _mark_used(folder)
            if venv.built and max_bytes is not None:
                evict_venvs(cache_dir, max_bytes=max_bytes)
            yield venv
            return
    raise SdkEnvError(
        f"the virtualenv for these requirements was evicted {USE_ATTEMPTS} times "
        "before it could be used: raise the venv cache's size cap"
    )


def prepare_sdk_venv(
    requirements: str,
    *,
    cache_dir: Path,
    python: str | None = None,
    timeout: float = 600,
    only_binary: bool = True,
    uv_cache_dir: Path | None = None,
    max_bytes: int | None = None,
) -> SdkVenv:
    """Find the venv these requirements resolved to, or build it; see the module."""
    interpreter = find_python(python)
    normalised = normalise_requirements(requirements)
    cache_dir = Path(cache_dir).absolute()
    cache_dir.mkdir(parents=True, exist_ok=True)
    request = request_key(normalised, interpreter, only_binary=only_binary)
    known = _known_venv(cache_dir, request)
    if known is not None:
        _mark_used(known)
        return _found(known, interpreter, built=False)

    deadline = time.monotonic() + timeout
    with held(
        _lock_path(cache_dir, request),
        deadline=deadline,
        waiting_for=f"another build of {request}",
    ):
        # Another process may have finished while this one waited for the lock.
        known = _known_venv(cache_dir, request)
        if known is not None:
            _mark_used(known)
            return _found(known, interpreter, built=False)
        for stale in cache_dir.glob(f".{request}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f".{request}.tmp-", dir=cache_dir))
        try:
            final, built = _build(
                work / "venv",
                cache_dir=cache_dir,
                requirements=normalised,
                interpreter=interpreter,
                deadline=deadline,
                only_binary=only_binary,
                uv_cache_dir=uv_cache_dir,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        _remember(cache_dir, request, final.name)
    _mark_used(final)
    if built and max_bytes is not None:
        evict_venvs(cache_dir, max_bytes=max_bytes, keep={final.name})
    return _found(final, interpreter, built=built)


def is_complete(venv: Path) -> bool:
    """Tell whether the venv folder was fully built (its marker file exists)."""
    return (venv / MARKER_NAME).is_file() and (venv / "bin" / "python").exists()


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


def _build(
    venv: Path,
    *,
    cache_dir: Path,
    requirements: str,
    interpreter: Interpreter,
    deadline: float,
    only_binary: bool,
    uv_cache_dir: Path | None,
) -> tuple[Path, bool]:
    """Build in `venv`, then move it to its key unless that venv exists already."""
    new = install.create_venv(
        venv,
        requirements,
        python=interpreter,
        timeout=_remaining(deadline),
        only_binary=only_binary,
        uv_cache_dir=uv_cache_dir,
        pip_cache_dir=cache_dir / ".pip-cache",
    )
    resolved = normalise_resolved(install.installed_packages(venv))
    key = venv_key(resolved, interpreter)
    final = cache_dir / key
    if is_complete(final):
        return final, False
    with held(
        _lock_path(cache_dir, key),
        deadline=deadline,
        waiting_for=f"the virtualenv {key}",
    ):
        if is_complete(final):
            return final, False
        if final.exists():  # a crashed build: renamed in, never marked
            shutil.rmtree(final)
        os.rename(venv, final)
        _write_marker(
            final,
            interpreter=interpreter,
            requirements=requirements,
            resolved=resolved,
            installer=new.installer,
        )
    # After the rename, so the bytecode names the real paths.
    install.compile_bytecode_later(final, hold=_lock_path(cache_dir, key))
    return final, True


def _found(folder: Path, interpreter: Interpreter, *, built: bool) -> SdkVenv:
    installer = ""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        installer = str(json.loads((folder / MARKER_NAME).read_text()).get("installer"))
    return SdkVenv(
        python=folder / "bin" / "python",
        key=folder.name,
        interpreter=interpreter,
        built=built,
        installer=installer or "pip",
    )


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise SdkEnvError("building the virtualenv timed out")
    return remaining


def _lock_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f".{key}.lock"


def _known_venv(cache_dir: Path, request: str) -> Path | None:
    """The complete venv a requirements text resolved to before, if any."""
    try:
        key = (cache_dir / REQUESTS_DIR / request).read_text().strip()
    except OSError:
        return None
    if not VENV_NAME_RE.match(key) or not is_complete(cache_dir / key):
        return None
    return cache_dir / key


def _remember(cache_dir: Path, request: str, key: str) -> None:
    folder = cache_dir / REQUESTS_DIR
    folder.mkdir(exist_ok=True)
    partial = folder / f".{request}.{uuid.uuid4().hex}"
    partial.write_text(key + "\n")
    os.replace(partial, folder / request)


def _mark_used(folder: Path) -> None:
    with contextlib.suppress(OSError):
        (folder / LAST_USED_NAME).touch()


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
    return _disk_usage(folder)


def _disk_usage(folder: Path) -> int:
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


def _evict(cache_dir: Path, key: str) -> bool:
    """Remove one venv unless it is in use or being built (its lock is held)."""
    lock = FileLock(_lock_path(cache_dir, key))
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
        lock = FileLock(_lock_path(cache_dir, request))
        if lock.acquire(None):  # nobody is building that request
            try:
                shutil.rmtree(work, ignore_errors=True)
            finally:
                lock.release()
    for folder in cache_dir.iterdir():
        if VENV_NAME_RE.match(folder.name) and not is_complete(folder):
            lock = FileLock(_lock_path(cache_dir, folder.name))
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


def _write_marker(
    venv: Path,
    *,
    interpreter: Interpreter,
    requirements: str,
    resolved: str,
    installer: str,
) -> None:
    marker = venv / MARKER_NAME
    partial = venv / f"{MARKER_NAME}.partial"
    partial.write_text(
        json.dumps(
            {
                "requirements": requirements,
                "resolved": resolved,
                "python": interpreter.tag,
                "installer": installer,
                "size_bytes": _disk_usage(venv),
                "built_at": time.time(),
            },
            indent=2,
        )
    )
    os.replace(partial, marker)
    _mark_used(venv)
