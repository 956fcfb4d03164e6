"""Run a Dify plugin in a child process and talk to it over stdio, as the daemon does.

The protocol is in the format doc §7: the SDK writes the manifest as one JSON
line, then frames (one JSON object per line, blank lines between), and reads
one JSON request per line on stdin. The child gets a clean environment, its
own process group and resource limits; `stop()` kills the whole group.

Modules: `launch` (entrypoint, environment and limits of the child),
`process` (`PluginProcess`, its errors and `SessionResult`), `actions` (the
request body of each SDK action), `netjail` (a network namespace whose only
way out is a listener the parent serves: `PluginProcess.start(isolate_network=True)`).
"""

from __future__ import annotations

from studio.pluginfmt.driver.actions import (
    get_ai_model_schemas,
    get_llm_num_tokens,
    invoke_llm,
    invoke_moderation,
    invoke_rerank,
    invoke_speech2text,
    invoke_text_embedding,
    invoke_tts,
    validate_model_credentials,
    validate_provider_credentials,
)
from studio.pluginfmt.driver.launch import (
    DEFAULT_ENTRYPOINT,
    SYSTEM_PATH,
    plugin_environment,
    read_entrypoint,
)
from studio.pluginfmt.driver.process import (
    KEPT_LOGS,
    KEPT_NOISE,
    MAX_LINE_BYTES,
    MESSAGE_STDERR_CHARS,
    STDERR_KEEP_BYTES,
    STOP_GRACE_SECONDS,
    PluginError,
    PluginExited,
    PluginProcess,
    PluginStartError,
    RequestTimeout,
    SessionResult,
)

__all__ = [
    "DEFAULT_ENTRYPOINT",
    "KEPT_LOGS",
    "KEPT_NOISE",
    "MAX_LINE_BYTES",
    "MESSAGE_STDERR_CHARS",
    "STDERR_KEEP_BYTES",
    "STOP_GRACE_SECONDS",
    "SYSTEM_PATH",
    "PluginError",
    "PluginExited",
    "PluginProcess",
    "PluginStartError",
    "RequestTimeout",
    "SessionResult",
    "get_ai_model_schemas",
    "get_llm_num_tokens",
    "invoke_llm",
    "invoke_moderation",
    "invoke_rerank",
    "invoke_speech2text",
    "invoke_text_embedding",
    "invoke_tts",
    "plugin_environment",
    "read_entrypoint",
    "validate_model_credentials",
    "validate_provider_credentials",
]
