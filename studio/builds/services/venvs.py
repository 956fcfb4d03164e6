"""The SDK virtualenv cache as the settings configure it; pre-warming it."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TypedDict

from django.conf import settings

from studio.pluginfmt import sdkenv
from studio.pluginfmt.scaffold import SDK_REQUIREMENT

log = logging.getLogger(__name__)


class VenvCacheOptions(TypedDict):
    cache_dir: Path
    uv_cache_dir: Path
    max_bytes: int


def sdk_venv_options() -> VenvCacheOptions:
    """Where venvs and uv's downloads live, and the size cap (the settings)."""
    return {
        "cache_dir": Path(settings.SMOKE_VENV_DIR),
        "uv_cache_dir": Path(settings.SDK_UV_CACHE_DIR),
        "max_bytes": settings.SDK_VENV_CACHE_MAX_MB * 1024 * 1024,
    }


def sdk_venv_prewarm() -> sdkenv.SdkVenv | None:
    """Find or build the venv of a new plugin's requirements; log, never raise.

    A worker runs this in the background when it starts, so the first build of
    a scaffolded plugin finds its venv ready. Above the size cap it evicts.
    """
    started = time.monotonic()
    try:
        venv = sdkenv.prepare_sdk_venv(f"{SDK_REQUIREMENT}\n", **sdk_venv_options())
    except sdkenv.SdkEnvError as exc:
        log.warning("pre-warming the SDK virtualenv failed: %s", exc)
        return None
    except Exception:  # a background thread: nobody else would see it
        log.exception("pre-warming the SDK virtualenv failed")
        return None
    log.info(
        "SDK virtualenv %s %s in %.1f s",
        venv.key,
        f"built with {venv.installer}" if venv.built else "was ready",
        time.monotonic() - started,
    )
    return venv
