"""The one exception of the SDK virtualenv cache."""

from __future__ import annotations


class SdkEnvError(RuntimeError):
    """The SDK virtualenv could not be found, built or locked."""
