"""Cached virtualenvs holding the Dify plugin SDK, for running plugins in a child.

The studio never imports `dify_plugin` (it gevent-monkey-patches the importer);
plugins run with a Python 3.12 virtualenv built here, with uv (pip when uv is
missing). Venvs are cached by what got installed in them, remembered by the
requirements text that asked for them, held in use by a shared lock while a
plugin runs, and evicted least recently used first above a size cap.

Modules: `interpreter` (finding Python 3.12), `install` (`create_venv`: one
venv for given requirements, uv or pip), `cache` (the cache: `using_sdk_venv`,
`ensure_sdk_venv`), `evict` (`evict_venvs`), `layout` (names in a cache
folder), `locks` (flock files), `errors`.
"""

from __future__ import annotations

from studio.pluginfmt.sdkenv.cache import (
    DEFAULT_SDK_REQUIREMENT,
    SdkVenv,
    ensure_sdk_venv,
    normalise_requirements,
    normalise_resolved,
    prepare_sdk_venv,
    request_key,
    using_sdk_venv,
    venv_key,
)
from studio.pluginfmt.sdkenv.errors import SdkEnvError
from studio.pluginfmt.sdkenv.evict import CachedVenv, cached_venvs, evict_venvs
from studio.pluginfmt.sdkenv.install import NewVenv, create_venv, find_uv
from studio.pluginfmt.sdkenv.interpreter import Interpreter, find_python
from studio.pluginfmt.sdkenv.layout import LAST_USED_NAME, MARKER_NAME, is_complete

__all__ = [
    "DEFAULT_SDK_REQUIREMENT",
    "LAST_USED_NAME",
    "MARKER_NAME",
    "CachedVenv",
    "Interpreter",
    "NewVenv",
    "SdkEnvError",
    "SdkVenv",
    "cached_venvs",
    "create_venv",
    "ensure_sdk_venv",
    "evict_venvs",
    "find_python",
    "find_uv",
    "is_complete",
    "normalise_requirements",
    "normalise_resolved",
    "prepare_sdk_venv",
    "request_key",
    "using_sdk_venv",
    "venv_key",
]
