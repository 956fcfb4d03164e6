"""File locks (flock) shared between the processes that use one venv cache.

A lock file is never deleted: a process that opened it just before the
deletion would lock a file nobody else can see, and two processes would both
think they hold it. The files are empty, one per venv key.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from studio.pluginfmt.sdkenv.errors import SdkEnvError

POLL_SECONDS = 0.1


class FileLock:
    """An flock on one file, exclusive or shared.

    Locks belong to the open file, so two FileLocks on the same path conflict
    even within one process (one thread building, another evicting).
    """

    def __init__(self, path: Path, *, shared: bool = False) -> None:
        self.path = path
        self.shared = shared
        self.fd = -1

    def acquire(self, deadline: float | None) -> bool:
        """Take the lock, waiting until `deadline` (monotonic; None: try once)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        mode = (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
        while True:
            try:
                fcntl.flock(fd, mode)
            except BlockingIOError:
                if deadline is None or time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(POLL_SECONDS)
            else:
                self.fd = fd
                return True

    def release(self) -> None:
        if self.fd >= 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1


@contextlib.contextmanager
def held(
    path: Path, *, deadline: float, waiting_for: str, shared: bool = False
) -> Iterator[None]:
    """Hold the lock for the block; SdkEnvError names what it waited for."""
    lock = FileLock(path, shared=shared)
    if not lock.acquire(deadline):
        raise SdkEnvError(f"timed out waiting for {waiting_for}")
    try:
        yield
    finally:
        lock.release()
