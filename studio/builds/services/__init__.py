"""Workflows of builds: start, cancel, retry, run, reap, prune; signing keys;
downloads; the Marketplace pre-check; deleting a provider with its builds."""

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
    builds_prune_all,
    builds_reap_stale,
    publish,
    snapshot,
)
from .downloads import download_record, signature_note
from .pipeline import SIGNING_CATEGORY, SmokeOutcome, build_run, smoke_artifact
from .providers import ProviderInUse, provider_delete
from .readiness import NotCheckable, marketplace_check_run, marketplace_check_start
from .sdk_cache import sdk_venvs_evict
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
    "NotCheckable",
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
    "builds_prune_all",
    "builds_reap_stale",
    "daemon_settings",
    "download_record",
    "marketplace_check_run",
    "marketplace_check_start",
    "provider_delete",
    "publish",
    "sdk_venv_options",
    "sdk_venv_prewarm",
    "sdk_venvs_evict",
    "signature_note",
    "signing_key_deactivate",
    "signing_key_generate",
    "signing_key_upload",
    "smoke_artifact",
    "snapshot",
]
