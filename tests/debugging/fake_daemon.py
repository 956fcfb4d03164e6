"""A test server speaking the Dify plugin daemon's remote-debugging protocol.

As `internal/core/debugging_runtime` (langgenius/dify-plugin-daemon) defines it:
newline-delimited JSON over TCP. The plugin's first message must be the
handshake `{"type": "handshake", "data": {"key": ...}}`; a wrong key gets the
plain-text line "handshake failed, invalid key" and the connection is closed
(hooks.go `closeConn`). Then come `manifest_declaration`, `model_declaration`
(and other declarations), `asset_chunk`s (base64, `end` on a file's last
chunk) and `end`; from then on each line is a session frame of the plugin, and
the daemon writes requests `{"session_id", "event": "request", "data"}`.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Connection:
    key: str = ""
    accepted: bool = False
    messages: list[str] = field(default_factory=list)  # registration types
    manifest: dict[str, Any] | None = None
    models: list[Any] = field(default_factory=list)
    assets: dict[str, bytes] = field(default_factory=dict)
    ended: bool = False


@dataclass
class Answer:
    chunks: list[Any] = field(default_factory=list)
    error: Any = None
    ended: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class FakeDaemon:
    """`with FakeDaemon(key) as d:` listens on 127.0.0.1:`d.port`."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.connections: list[Connection] = []
        self.ready = threading.Event()  # a plugin finished its registration
        self.heartbeats = 0
        self._sock: socket.socket | None = None
        self._conn: socket.socket | None = None
        self._answers: dict[str, Answer] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    @property
    def port(self) -> int:
        assert self._sock is not None
        return int(self._sock.getsockname()[1])

    def __enter__(self) -> FakeDaemon:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        state = Connection()
        with self._lock:
            self.connections.append(state)
        buffer = b""
        conn.settimeout(0.2)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                buffer += data
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip() and not self._on_line(conn, state, line):
                        return

    def _on_line(self, conn: socket.socket, state: Connection, line: bytes) -> bool:
        message = json.loads(line)
        if state.ended:
            self._on_frame(message)
            return True
        kind = message.get("type")
        data = message.get("data")
        state.messages.append(kind)
        if not state.accepted:
            if kind != "handshake":
                conn.sendall(
                    b"handshake failed, registration message before handshake\n"
                )
                return False
            state.key = data.get("key", "")
            if state.key != self.key:
                conn.sendall(b"handshake failed, invalid key\n")
                return False
            state.accepted = True
        elif kind == "manifest_declaration":
            state.manifest = data
        elif kind == "model_declaration":
            state.models = list(data)
        elif kind == "asset_chunk":
            name = data["filename"]
            state.assets[name] = state.assets.get(name, b"") + base64.b64decode(
                data["data"]
            )
        elif kind == "end":
            state.ended = True
            self._conn = conn
            self.ready.set()
        return True

    def _on_frame(self, frame: dict[str, Any]) -> None:
        event = frame.get("event")
        if event == "heartbeat":
            self.heartbeats += 1
            return
        if event != "session":
            return
        with self._lock:
            answer = self._answers.get(frame.get("session_id", ""))
        if answer is None:
            return
        data = frame.get("data") or {}
        if data.get("type") == "stream":
            answer.chunks.append(data.get("data"))
        elif data.get("type") == "error":
            answer.error = data.get("data")
        elif data.get("type") == "end":
            answer.ended = True
            answer.done.set()

    def request(self, data: dict[str, Any], *, timeout: float = 30) -> Answer:
        """Send a request to the registered plugin and wait for its end frame."""
        assert self._conn is not None, "no plugin registered"
        session_id = str(uuid.uuid4())
        answer = Answer()
        with self._lock:
            self._answers[session_id] = answer
        line = {
            "session_id": session_id,
            "event": "request",
            "conversation_id": None,
            "message_id": None,
            "app_id": None,
            "endpoint_id": None,
            "context": {},
            "data": data,
        }
        self._conn.sendall(json.dumps(line).encode() + b"\n")
        if not answer.done.wait(timeout):
            raise TimeoutError(f"no end frame within {timeout} s")
        return answer

    def wait_connections(self, count: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.connections) < count and time.monotonic() < deadline:
            time.sleep(0.05)
