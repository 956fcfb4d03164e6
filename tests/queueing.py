"""Stand-ins for the broker: a stopped one, one that is up, one that dies
between the check and the publish. Fixtures in tests/conftest.py."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from kombu.exceptions import OperationalError


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Tasks:
    """The tasks the studio queues, with `apply_async` recording what is sent
    instead of publishing, or raising as a dead broker does once `refuse`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from studio.builds.tasks import build_run
        from studio.catalog.tasks import import_job_run
        from studio.core.tasks import worker_check_run

        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.refuse = False
        for task in (import_job_run, worker_check_run, build_run):
            monkeypatch.setattr(task, "apply_async", self._publisher(task.name))

    def _publisher(self, name: str) -> Any:
        def apply_async(
            args: Any = None, kwargs: dict[str, Any] | None = None, **options: Any
        ) -> None:
            if self.refuse:
                raise OperationalError(
                    "Error 111 connecting to 127.0.0.1:6379. Connection refused."
                )
            self.sent.append((name, kwargs or {}))

        return apply_async
