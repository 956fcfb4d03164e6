"""Loaded first by the plugin's own Python when the studio runs it for remote
debugging (the studio puts this folder on PYTHONPATH; never imported by Django).

The SDK's TCP reader logs its connection and each request Dify sends at INFO
on a logger with no handler, so nothing shows. This handler writes those
records to stderr as one JSON line each; a request is summarised (event,
action, model) so the credentials Dify sends never reach the log.
"""

import json
import logging
import sys


class _StudioHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            args = record.args
            if (
                str(record.msg).startswith("Received event")
                and isinstance(args, tuple)
                and len(args) == 3
            ):
                event, session_id, data = args
                data = data if isinstance(data, dict) else {}
                line = {
                    "studio": "request",
                    "event": str(getattr(event, "value", event)),
                    "session_id": str(session_id),
                    "type": str(data.get("type", "")),
                    "action": str(data.get("action", "")),
                    "provider": str(data.get("provider", "")),
                    "model": str(data.get("model", "")),
                }
            else:
                message = record.getMessage()
                if record.exc_info and record.exc_info[1] is not None:
                    error = record.exc_info[1]
                    message += f" ({type(error).__name__}: {error})"
                line = {"studio": "log", "level": record.levelname, "message": message}
            sys.stderr.write(json.dumps(line) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: S110 - a log line must never break the plugin
            pass


_logger = logging.getLogger("dify_plugin.core.server.tcp.request_reader")
_logger.setLevel(logging.INFO)
_logger.addHandler(_StudioHandler())
_logger.propagate = False
