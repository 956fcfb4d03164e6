"""Keeping this machine's cache of SDK virtualenvs under its size cap (beat)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from studio.pluginfmt import sdkenv


def sdk_venvs_evict() -> list[str]:
    """Evict least recently used SDK venvs above SDK_VENV_CACHE_MAX_MB; their keys.

    The work is the cache's own eviction (`sdkenv.evict_venvs`): it spares
    venvs in use or being built and lets one process evict at a time, so it
    is safe beside running smoke tests and on two workers of one machine.
    """
    return sdkenv.evict_venvs(
        Path(settings.SMOKE_VENV_DIR),
        max_bytes=settings.SDK_VENV_CACHE_MAX_MB * 1024 * 1024,
    )
