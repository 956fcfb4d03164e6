"""The one error of the uv.lock export, raised by the marker parser and the export."""

from __future__ import annotations


class UvLockError(ValueError):
    """A `pyproject.toml` / `uv.lock` pair that cannot be exported."""
