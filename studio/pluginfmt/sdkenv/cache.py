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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from studio.pluginfmt.sdkenv import install
from studio.pluginfmt.sdkenv.errors import SdkEnvError
from studio.pluginfmt.sdkenv.evict import evict_venvs
from studio.pluginfmt.sdkenv.interpreter import Interpreter, find_python
from studio.pluginfmt.sdkenv.layout import (
    MARKER_NAME,
    REQUESTS_DIR,
    VENV_NAME_RE,
    disk_usage,
    is_complete,
    lock_path,
    mark_used,
)
from studio.pluginfmt.sdkenv.locks import held

DEFAULT_SDK_REQUIREMENT = "dify_plugin>=0.10.0,<0.11.0"
# How often in a row a venv may vanish between being found and being locked.
USE_ATTEMPTS = 3

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
            lock_path(cache_dir, venv.key),
            shared=True,
            deadline=deadline,
            waiting_for=f"the virtualenv {venv.key}",
        ):
            if not is_complete(folder):
                continue  # evicted between being found and being locked
            mark_used(folder)
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
        mark_used(known)
        return _found(known, interpreter, built=False)

    deadline = time.monotonic() + timeout
    with held(
        lock_path(cache_dir, request),
        deadline=deadline,
        waiting_for=f"another build of {request}",
    ):
        # Another process may have finished while this one waited for the lock.
        known = _known_venv(cache_dir, request)
        if known is not None:
            mark_used(known)
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
    mark_used(final)
    if built and max_bytes is not None:
        evict_venvs(cache_dir, max_bytes=max_bytes, keep={final.name})
    return _found(final, interpreter, built=built)


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
        lock_path(cache_dir, key),
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
    install.compile_bytecode_later(final, hold=lock_path(cache_dir, key))
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
                "size_bytes": disk_usage(venv),
                "built_at": time.time(),
            },
            indent=2,
        )
    )
    os.replace(partial, marker)
    mark_used(venv)
