"""A mock OpenAI-compatible server on loopback, the upstream of smoke tests.

It answers the endpoints the SDK's `OAICompat*` classes call (chat and text
completions, streamed or not, with tool calls; embeddings; rerank; speech and
transcription; the model list) and OpenAI's moderation, in OpenAI's wire
format, deterministically: chat echoes the last user message ("echo: <text>"),
embeddings are hashes of the input, rerank scores are word overlap, moderation
flags a text holding the word "forbidden" (`FLAGGED_WORD`) and nothing else. A
missing or wrong `Authorization: Bearer` key gets OpenAI's 401 body. Stdlib
only, so the worker can start one per smoke test in a daemon thread.

`GET /v1/models` lists `models`: the constructor's argument, else the
comma-separated ids of the `MOCK_UPSTREAM_MODELS` environment variable, else
`MODELS` — fixed per server, so a catalogue-sync test knows what "upstream"
serves (docs/sync.md).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from studio.builds.mock_upstream.answers import (
    EMBEDDING_DIMENSIONS,
    FAKE_MP3,
    FLAGGED_WORD,
    embed,
    relevance,
)
from studio.builds.mock_upstream.handler import MODELS, ApiError, Handler

__all__ = [
    "EMBEDDING_DIMENSIONS",
    "FAKE_MP3",
    "FLAGGED_WORD",
    "MODELS",
    "ApiError",
    "MockRequest",
    "MockUpstream",
    "embed",
    "relevance",
]

DEFAULT_API_KEY = "good-key"
MAX_BODY_BYTES = 4 * 1024 * 1024
KEPT_REQUESTS = 1000


@dataclass(frozen=True)
class MockRequest:
    """One request the mock received, as logged in `MockUpstream.requests`."""

    method: str
    path: str
    authorization: str | None
    body: Any
    status: int


def listed_models() -> tuple[str, ...]:
    """The ids `GET /v1/models` lists by default (MOCK_UPSTREAM_MODELS or MODELS)."""
    configured = os.environ.get("MOCK_UPSTREAM_MODELS", "")
    ids = [m.strip() for m in configured.split(",") if m.strip()]
    return tuple(ids) if ids else MODELS


class MockUpstream:
    """A running mock server: `with MockUpstream() as up: up.url` ("…/v1")."""

    def __init__(
        self,
        api_key: str | None = DEFAULT_API_KEY,
        *,
        dimensions: int = EMBEDDING_DIMENSIONS,
        max_body_bytes: int = MAX_BODY_BYTES,
        models: Sequence[str] | None = None,
    ) -> None:
        self.api_key = api_key
        self.models = tuple(models) if models is not None else listed_models()
        self.dimensions = dimensions
        self.max_body_bytes = max_body_bytes
        self._log: deque[MockRequest] = deque(maxlen=KEPT_REQUESTS)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL plugins take as `endpoint_url`: http://127.0.0.1:PORT/v1."""
        if self._server is None:
            raise RuntimeError("the mock upstream is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def requests(self) -> list[MockRequest]:
        """The requests received so far, oldest first (the last 1000)."""
        with self._lock:
            return list(self._log)

    def start(self) -> MockUpstream:
        """Listen on an ephemeral loopback port and serve in a daemon thread."""
        if self._server is not None:
            return self
        handler = type("Handler", (Handler,), {"upstream": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="mock-upstream",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MockUpstream:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def record(
        self,
        *,
        method: str,
        path: str,
        authorization: str | None,
        body: Any,
        status: int,
    ) -> None:
        """Log one request (called by the handler threads)."""
        request = MockRequest(method, path, authorization, body, status)
        with self._lock:
            self._log.append(request)
