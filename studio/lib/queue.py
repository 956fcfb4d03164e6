"""Queueing work for the workers without a 500 or a row waiting for nothing.

Every service that hands work to a worker does two things, in this order:

1. `require_broker()` before it writes anything: a stopped broker raises
   QueueUnavailable (the views answer 503 with its message), and no row, no
   stored file is left behind.
2. `queue_after_commit(task, kwargs=..., on_failure=...)` inside its
   transaction: the task is published once the rows are committed (a worker
   must find them). The broker may still die in between; then the publish
   fails after the commit, `on_failure(reason)` marks the row failed ("could
   not queue: ...") and removes what it stored, and the returned Publication
   says so, for the service to raise QueueUnavailable naming what it kept.

Publishing never retries the connection for long (no `retry`, and the broker
transport options in settings give up after one quick reconnect): a request
must not hang on a dead broker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import transaction

from .health import check_broker
from .logs import TASK_HEADER, current_request_id

log = logging.getLogger(__name__)

QUEUE_DOWN = "The job queue (Redis) is unreachable"
COULD_NOT_QUEUE = "could not queue"


class QueueUnavailable(Exception):
    """The broker cannot take the work now.

    `kept` says what was saved anyway (a row marked failed because the
    publish failed after its commit), `context` names it for the API
    (`{"import_id": 3}`); both are empty when nothing was saved. `detail` is
    the technical reason, for the logs.
    """

    def __init__(
        self,
        detail: str,
        *,
        kept: str = "",
        hint: str = "",
        context: dict[str, int] | None = None,
    ) -> None:
        self.detail = detail
        self.kept = kept
        self.context = context or {}
        message = f"{QUEUE_DOWN}; {kept or 'nothing was saved'}. Try again in a minute."
        super().__init__(f"{message} {hint}" if hint else message)


class Publishable(Protocol):
    """What `queue_after_commit` needs of a Celery task."""

    name: str

    def apply_async(self, *args: Any, **kwargs: Any) -> Any: ...


@dataclass
class Publication:
    """What became of a task queued after commit."""

    sent: bool = False
    error: str = ""  # "could not queue: ..." when the publish failed

    @property
    def failed(self) -> bool:
        return bool(self.error)

    @property
    def pending(self) -> bool:
        """The transaction has not committed yet (or was rolled back)."""
        return not self.sent and not self.failed


def require_broker(*, hint: str = "") -> None:
    """Raise QueueUnavailable unless the broker answers a ping (one second)."""
    broker = check_broker()
    if not broker.ok:
        log.warning("refusing to queue work: %s", broker.detail)
        raise QueueUnavailable(broker.detail, hint=hint)


def queue_after_commit(
    task: Publishable,
    *,
    kwargs: dict[str, Any],
    on_failure: Callable[[str], object],
    describe: str | None = None,
    **options: Any,
) -> Publication:
    """Publish `task` with `kwargs` once the current transaction commits.

    If the publish fails, `on_failure` is called with the reason ("could not
    queue: ...", outside any transaction) to mark the row failed and clean up;
    an error in it is logged, never raised. The log names the task and its
    kwargs, or `describe` instead when the kwargs hold what no log may (a
    mail's text with an invitation link). `options` go to `apply_async` (a
    `queue`, say). The current request id rides along in a message header, so
    the worker's log lines name the request that queued the work
    (studio/lib/logs.py).
    """
    publication = Publication()
    what = describe if describe is not None else f"{task.name} {kwargs}"
    request_id = current_request_id()
    if request_id:
        options["headers"] = {**options.get("headers", {}), TASK_HEADER: request_id}

    def publish() -> None:
        try:
            task.apply_async(kwargs=kwargs, retry=False, **options)
        except Exception as exc:  # kombu, redis and socket errors alike
            publication.error = f"{COULD_NOT_QUEUE}: {exc}"
            log.warning("%s: %s", what, publication.error)
            try:
                on_failure(publication.error)
            except Exception:
                log.exception("%s: cleaning up after the failed publish failed", what)
            return
        publication.sent = True

    transaction.on_commit(publish)
    return publication
