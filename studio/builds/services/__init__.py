"""Workflows of builds: start, cancel, retry, run, reap, prune; signing keys;
downloads; deleting a provider with its builds."""

from __future__ import annotations

from .builds import (
    BuildInProgress,
    NotCancellable,
    NotRetryable,
    QueueUnavailable,
    WaitTimedOut,
    build_cancel,
    build_lost,
    build_retry,
    build_start,
    build_wait,
    builds_delete_for_provider,
    builds_prune,
    builds_reap_stale,
    publish,
    snapshot,
)
from .downloads import download_record
from .pipeline import SIGNING_CATEGORY, SmokeOutcome, build_run, smoke_artifact
from .providers import ProviderInUse, provider_delete
from .signing_keys import (
    daemon_settings,
    signing_key_deactivate,
    signing_key_generate,
    signing_key_upload,
)
from .venvs import sdk_venv_options, sdk_venv_prewarm

__all__ = [
    "SIGNING_CATEGORY",
    "BuildInProgress",
    "NotCancellable",
    "NotRetryable",
    "ProviderInUse",
    "QueueUnavailable",
    "SmokeOutcome",
    "WaitTimedOut",
    "build_cancel",
    "build_lost",
    "build_retry",
    "build_run",
    "build_start",
    "build_wait",
    "builds_delete_for_provider",
    "builds_prune",
    "builds_reap_stale",
    "daemon_settings",
    "download_record",
    "provider_delete",
    "publish",
    "sdk_venv_options",
    "sdk_venv_prewarm",
    "signing_key_deactivate",
    "signing_key_generate",
    "signing_key_upload",
    "smoke_artifact",
    "snapshot",
]
