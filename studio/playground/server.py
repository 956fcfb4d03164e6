"""The playground server: one process holding every session of this machine.

Web processes (any number of them) talk to it over a Unix socket
(`settings.PLAYGROUND_SOCKET`, mode 0600) with small JSON requests; an invoke
answers newline-delimited JSON events as the plugin streams them. Started by
`manage.py playground` (which `make run` supervises beside web and worker).
Why a dedicated process, not Celery: docs/playground.md.

    POST   /sessions                 {owner, build_id, credentials, target, model…}
    GET    /sessions?owner=…         the owner's sessions
    POST   /sessions/ID/invoke       {owner, …request} → NDJSON events
    DELETE /sessions/ID?owner=…      end it

A reaper thread ends idle sessions and sessions of a provider with a newer
succeeded build. Nothing here logs a request body: the credentials only pass
through memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import socketserver
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from studio.builds.mock_upstream import MockUpstream
from studio.playground.egress_proxy import EgressProxy
from studio.playground.sessions import (
    Limits,
    PlaygroundError,
    Session,
    SessionManager,
)
from studio.pluginfmt import driver
from studio.pluginfmt.egress import EgressRefused, check_url

MAX_BODY_BYTES = 1024 * 1024
# An invoke may carry an upload (audio as hex, an image as base64): the Try
# it panels cap those at a few MB (studio/playground/chat.py).
MAX_INVOKE_BYTES = 12 * 1024 * 1024
REAP_EVERY = 1.0


class PlaygroundServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    # A Unix socket on the filesystem is reachable from any network namespace:
    # a contained plugin running as this user could otherwise drive the
    # sessions of others through it.

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """Refuse a peer in another network namespace (a contained plugin)."""
        return not in_other_network_namespace(request)

    def __init__(self, path: Path, app: PlaygroundApp) -> None:
        self.app = app
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        old = os.umask(0o177)
        try:
            super().__init__(str(path), Handler)
        finally:
            os.umask(old)


class PlaygroundApp:
    """The session manager, the mock upstream and the egress proxy, wired."""

    def __init__(
        self,
        limits: Limits,
        *,
        venv_options: dict[str, Any],
        isolation: str | None = None,
    ) -> None:
        from django.conf import settings

        self.mock = MockUpstream().start()
        self.proxy = EgressProxy(allow=self.allow, always=[self._mock_hostport()])
        self.proxy.__enter__()
        self.manager = SessionManager(
            limits,
            venv_options=venv_options,
            proxy=self.proxy,
            isolation=isolation or settings.PLAYGROUND_NETWORK_ISOLATION,
        )
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="reaper", daemon=True)
        self._reaper.start()

    def _mock_hostport(self) -> str:
        return urlsplit(self.mock.url).netloc

    def allow(self) -> list[str]:
        from django.conf import settings

        return list(settings.PLAYGROUND_EGRESS_ALLOW)

    def close(self) -> None:
        self._stop.set()
        self.manager.stop_all()
        self.proxy.__exit__()
        self.mock.stop()

    def _reap(self) -> None:
        last_builds = 0.0
        while not self._stop.wait(REAP_EVERY):
            with contextlib.suppress(Exception):
                self.manager.reap_idle()
            if time.monotonic() - last_builds >= 5:
                last_builds = time.monotonic()
                with contextlib.suppress(Exception):
                    self.end_superseded()

    def end_superseded(self) -> list[str]:
        """End sessions whose provider has a newer succeeded build."""
        from studio.playground.builds import latest_build_ids

        sessions = self.manager.sessions()
        latest = latest_build_ids({s.provider_id for s in sessions})
        ended = []
        for provider_id, newest in latest.items():
            ended += self.manager.end_older_builds(provider_id, newest)
        return ended

    # ------------------------------------------------------------ actions

    def start(self, body: dict[str, Any]) -> dict[str, Any]:
        from studio.playground.builds import latest_build_ids, package_of

        owner = _text(body, "owner")
        build_id = body.get("build_id")
        if not isinstance(build_id, int):
            raise PlaygroundError("build_id must be a number")
        credentials = body.get("credentials") or {}
        if not isinstance(credentials, dict):
            raise PlaygroundError("credentials must be an object")
        credentials = {str(k): v for k, v in credentials.items()}
        if body.get("target", "mock") == "mock":
            if "endpoint_url" in credentials or body.get("needs_endpoint"):
                credentials["endpoint_url"] = self.mock.url
        elif credentials.get("endpoint_url"):
            try:
                check_url(str(credentials["endpoint_url"]), allow=self.allow())
            except EgressRefused as error:
                raise PlaygroundError(str(error)) from None
        model = str(body.get("model") or "")
        model_type = str(body.get("model_type") or "llm") if model else ""
        provider_id, package = package_of(build_id)
        newest = latest_build_ids([provider_id]).get(provider_id, 0)
        session = self.manager.start(
            owner=owner,
            build_id=build_id,
            provider_id=provider_id,
            package=package,
            credentials=credentials,
            model=model,
            model_type=model_type,
            newest_build=newest,
        )
        check = self.validate(session, body)
        if check is not None and check.get("event") == "error":
            self.manager.end(session.id)
            message = (check.get("data") or {}).get("message") or "refused"
            what = "model credentials" if model else "credentials"
            raise PlaygroundError(f"The plugin refused the {what}: {message}", 400)
        if model:
            session.model_schema = self.model_schema(session)
        return {**session.describe(), "validation": check}

    def model_schema(self, session: Session) -> dict[str, Any] | None:
        """What the plugin's get_customizable_model_schema answers for the
        session's own model (parameter rules, pricing), or None."""
        # The session fills in its own credentials (they stay in its memory).
        data = driver.get_ai_model_schemas(
            session.provider, session.model_type, session.model, {}
        )
        schema = None
        for event in self.manager.invoke(session, data):
            if event.get("event") == "chunk" and isinstance(event.get("data"), dict):
                schema = event["data"].get("model_schema") or schema
        return schema if isinstance(schema, dict) else None

    def validate(self, session: Session, body: dict[str, Any]) -> dict[str, Any] | None:
        spec = session.document.provider.spec
        model = body.get("model")
        if spec.provider_credential_schema is not None and not model:
            data = driver.validate_provider_credentials(session.provider, {})
        elif model:
            data = driver.validate_model_credentials(
                session.provider, str(body.get("model_type") or "llm"), str(model), {}
            )
        else:
            return None
        events = list(self.manager.invoke(session, data))
        return events[-1]


class Handler(BaseHTTPRequestHandler):
    server: PlaygroundServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: request lines are harmless, but keep the rule simple."""

    def address_string(self) -> str:
        return "unix"

    @property
    def app(self) -> PlaygroundApp:
        return self.server.app

    def _json(self, status: int, data: Any) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body(self, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            raise PlaygroundError("request too large", 413)
        try:
            data = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            raise PlaygroundError("the body is not JSON") from None
        if not isinstance(data, dict):
            raise PlaygroundError("the body must be a JSON object")
        return data

    def _route(self) -> tuple[list[str], dict[str, str]]:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        return [p for p in parts.path.split("/") if p], query

    def _guarded(self, action: Any) -> None:
        try:
            action()
        except PlaygroundError as error:
            self._json(error.status, {"error": error.message})
        except BrokenPipeError:
            pass
        except Exception as error:  # answer, never hang the caller
            self._json(
                500, {"error": f"playground server error: {type(error).__name__}"}
            )

    def do_GET(self) -> None:
        def action() -> None:
            path, query = self._route()
            if path == ["sessions"]:
                owner = query.get("owner")
                self._json(
                    200, [s.describe() for s in self.app.manager.sessions(owner)]
                )
            elif path == ["health"]:
                self._json(200, {"sessions": len(self.app.manager.sessions())})
            else:
                raise PlaygroundError("not found", 404)

        self._guarded(action)

    def do_DELETE(self) -> None:
        def action() -> None:
            path, query = self._route()
            if len(path) != 2 or path[0] != "sessions":
                raise PlaygroundError("not found", 404)
            if not self.app.manager.end(path[1], query.get("owner", "")):
                raise PlaygroundError("no such playground session", 404)
            self._json(200, {"ended": path[1]})

        self._guarded(action)

    def do_POST(self) -> None:
        def action() -> None:
            path, _ = self._route()
            invoking = len(path) == 3 and path[0] == "sessions" and path[2] == "invoke"
            body = self._body(MAX_INVOKE_BYTES if invoking else MAX_BODY_BYTES)
            if path == ["sessions"]:
                self._json(201, self.app.start(body))
            elif invoking:
                session = self.app.manager.get(path[1], _text(body, "owner"))
                data = {k: v for k, v in body.items() if k not in ("owner",)}
                data.pop("credentials", None)
                self._stream(self.app.manager.invoke(session, data))
            else:
                raise PlaygroundError("not found", 404)

        self._guarded(action)

    def _stream(self, events: Any) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for event in events:
                self.wfile.write(json.dumps(event).encode() + b"\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The browser stopped reading (the stop button): let the plugin
            # finish on its own; the session stays usable.
            with contextlib.suppress(Exception):
                events.close()


def in_other_network_namespace(connection: socket.socket) -> bool:
    """Whether the peer process is seen in another network namespace than ours.

    False when it cannot be told (no SO_PEERCRED, a peer in another PID
    namespace, /proc unreadable): only a positive sighting refuses.
    """
    try:
        raw = connection.getsockopt(
            socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
        )
        pid, _, _ = struct.unpack("3i", raw)
        if pid <= 0:
            return False
        theirs = os.readlink(f"/proc/{pid}/ns/net")
        ours = os.readlink("/proc/self/ns/net")
    except (OSError, AttributeError, struct.error):
        return False
    return theirs != ours


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise PlaygroundError(f"{name} is required")
    return value


def serve(path: Path, limits: Limits, venv_options: dict[str, Any]) -> None:
    """Run the server until SIGTERM/SIGINT; ends every session on the way out."""
    import signal

    app = PlaygroundApp(limits, venv_options=venv_options)
    server = PlaygroundServer(path, app)

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        app.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
