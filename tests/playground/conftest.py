from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from studio.pluginfmt.package import package
from tests.pluginfmt.echo_plugin import ECHO_FILES, SDK_CACHE, UV_CACHE


@pytest.fixture(scope="session")
def echo_package(sdk_python: Path) -> bytes:
    """The echo plugin as a .difypkg (its SDK virtualenv warmed by sdk_python)."""
    return package({name: text.encode() for name, text in ECHO_FILES.items()})


@pytest.fixture(scope="session")
def venv_options() -> dict[str, Any]:
    return {"cache_dir": SDK_CACHE, "uv_cache_dir": UV_CACHE, "max_bytes": None}
