"""Keeping this machine's cache of SDK virtualenvs under its size cap (beat)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.conf import settings

from studio.pluginfmt import sdkenv

log = logging.getLogger(__name__)


def sdk_venvs_evict() -> list[str]:
    """Evict least recently used SDK venvs above SDK_VENV_CACHE_MAX_MB; their keys.

    The work is `sdkenv.evict_venvs(cache_dir, max_bytes=...)`, the cache's
    own eviction, which spares venvs in use or being built and lets one
    process evict at a time. A `sdkenv` without it cannot tell which venv a
    running smoke test uses, so then nothing is removed and the log says how
    far the cache is over its cap.
    """
    cache_dir = Path(settings.SMOKE_VENV_DIR)
    max_bytes = settings.SDK_VENV_CACHE_MAX_MB * 1024 * 1024
    evict = getattr(sdkenv, "evict_venvs", None)
    if evict is not None:
        return list(evict(cache_dir, max_bytes=max_bytes))
    size = _size(cache_dir)
    if size > max_bytes:
        log.warning(
            "SDK venv cache %s holds %d MB, above its %d MB cap; this sdkenv "
            "cannot evict safely, so nothing was removed",
            cache_dir,
            size // (1024 * 1024),
            settings.SDK_VENV_CACHE_MAX_MB,
        )
    return []


def _size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:  # removed while we walked
                continue
    return total
