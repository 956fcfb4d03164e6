"""Log lines that carry a request id, as text or as one JSON object per line.

A web request gets an id (a sane incoming `X-Request-ID`, else a new one;
`studio.core.middleware.observe`), kept in a context variable while the request
runs. Work queued by the request carries it to the worker in a message header
(`queue_after_commit` adds `TASK_HEADER`), where the Celery signals below set it
again while the task runs, so every line a build logs, in the web process and
in the worker, names the request that started it. A task queued by nobody's
request (a beat task) gets an id of its own.

`LOG_FORMAT` picks the formatter (settings.LOGGING): `text` for a terminal,
`json` for log collectors.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar, Token
from typing import Any

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# The Celery message header naming the request a task was queued by.
TASK_HEADER = "studio_request_id"

# Letters, digits and a few separators, as proxies and tracing systems make
# them (uuids, `abc-123`, `Root=1-5759e988-bd862e3fe1be46a994272793`); anything
# else (spaces, quotes, control characters, 200 characters) is replaced.
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/@-]{0,127}")

_request_id: ContextVar[str | None] = ContextVar("studio_request_id", default=None)

log = logging.getLogger("studio.tasks")


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: object) -> str | None:
    """`value` when it is usable as a request id, else None."""
    if isinstance(value, str) and _SANE_ID.fullmatch(value):
        return value
    return None


def current_request_id() -> str | None:
    """The id of the request (or task) this code runs for, if any."""
    return _request_id.get()


def bind_request_id(value: str | None) -> Token[str | None]:
    """Make `value` the current request id; `unbind_request_id` undoes it."""
    return _request_id.set(value)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Give every record a `request_id` attribute (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class TextFormatter(logging.Formatter):
    """`time level logger message`, then `[request ID]` when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        if not request_id:
            return line
        first, newline, rest = line.partition("\n")
        return f"{first} [request {request_id}]{newline}{rest}"


class JsonLineFormatter(JsonFormatter):
    """One JSON object per record: time, level, logger, message, request_id,
    and whatever the call passed in `extra` (build_id, step, duration_ms…)."""

    def __init__(self) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


# ------------------------------------------------------------- Celery signals

_task_started: dict[str, tuple[float, Token[str | None]]] = {}


def task_started(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """task_prerun: the request id of the message (or a new one) while it runs."""
    request = getattr(task, "request", None)
    request_id = sane_request_id(getattr(request, TASK_HEADER, None))
    token = _request_id.set(request_id or new_request_id())
    if task_id:
        _task_started[task_id] = (time.monotonic(), token)


def task_finished(
    task_id: str | None = None,
    task: Any = None,
    state: str | None = None,
    **kwargs: Any,
) -> None:
    """task_postrun: one line per task (name, state, duration), then unbind."""
    started = _task_started.pop(task_id or "", None)
    duration_ms = int((time.monotonic() - started[0]) * 1000) if started else None
    name = getattr(task, "name", "?")
    level = logging.INFO if state in ("SUCCESS", None) else logging.WARNING
    log.log(
        level,
        "task %s: %s in %s ms",
        name,
        (state or "done").lower(),
        duration_ms,
        extra={
            "task": name,
            "task_id": task_id,
            "state": state,
            "duration_ms": duration_ms,
        },
    )
    if started is not None:
        try:
            _request_id.reset(started[1])
        except ValueError:  # set in another context; clear it instead
            _request_id.set(None)
