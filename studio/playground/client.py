"""How a web process talks to the playground server over its Unix socket."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from django.conf import settings

from studio.playground.sessions import PlaygroundError

UNREACHABLE = (
    "The playground server is not running (it is started by `make run`, or "
    "`manage.py playground`); nothing was started."
)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("playground", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        self.sock = sock


def _request(
    method: str, path: str, body: Any = None, *, timeout: float = 30
) -> http.client.HTTPResponse:
    connection = _UnixConnection(str(settings.PLAYGROUND_SOCKET), timeout)
    payload = b"" if body is None else json.dumps(body).encode()
    try:
        connection.request(
            method, path, body=payload, headers={"Content-Type": "application/json"}
        )
        return connection.getresponse()
    except OSError:
        connection.close()
        raise PlaygroundError(UNREACHABLE, 503) from None


def _json(response: http.client.HTTPResponse) -> Any:
    data = json.loads(response.read() or b"null")
    if response.status >= 400:
        message = data.get("error") if isinstance(data, dict) else None
        raise PlaygroundError(message or "playground error", response.status)
    return data


def start_session(
    *,
    owner: int | str,
    build_id: int,
    credentials: dict[str, Any],
    target: str = "mock",
    model_type: str = "",
    model: str = "",
) -> dict[str, Any]:
    """Start a session; raises PlaygroundError with the server's message."""
    body = {
        "owner": str(owner),
        "build_id": build_id,
        "credentials": credentials,
        "target": target,
        "model_type": model_type,
        "model": model,
    }
    # Starting may build a virtualenv: allow it a few minutes.
    result: dict[str, Any] = _json(_request("POST", "/sessions", body, timeout=300))
    return result


def sessions(owner: int | str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = _json(
        _request("GET", f"/sessions?owner={quote(str(owner))}")
    )
    return result


def end_session(owner: int | str, session_id: str) -> None:
    _json(
        _request("DELETE", f"/sessions/{quote(session_id)}?owner={quote(str(owner))}")
    )


def invoke(owner: int | str, session_id: str, data: dict[str, Any]) -> Iterator[dict]:
    """Send one request; yield the server's events as they arrive."""
    body = {**data, "owner": str(owner)}
    response = _request(
        "POST",
        f"/sessions/{quote(session_id)}/invoke",
        body,
        timeout=float(settings.PLAYGROUND_REQUEST_TIMEOUT) + 10,
    )
    if response.status >= 400:
        _json(response)
    try:
        while line := response.readline():
            yield json.loads(line)
    finally:
        response.close()


def running_sessions() -> int:
    """How many sessions the playground server holds (for /metrics); raises
    PlaygroundError when the server does not answer within a second."""
    data = _json(_request("GET", "/health", timeout=1))
    return int(data["sessions"]) if isinstance(data, dict) else 0
