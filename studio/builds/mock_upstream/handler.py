"""The mock upstream's request handler: routing, auth, bodies, endpoints."""

from __future__ import annotations

import base64
import json
import re
import struct
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from studio.builds.mock_upstream.answers import (
    FAKE_MP3,
    chat_events,
    count,
    digest,
    embed,
    last_user,
    limit,
    message_text,
    moderation,
    relevance,
    text_chunk,
    tool_call,
    usage_of,
)

if TYPE_CHECKING:
    from studio.builds.mock_upstream import MockUpstream

MODELS = ("mock-chat", "mock-embedding", "mock-rerank")


class ApiError(Exception):
    """An error answered in OpenAI's format: {"error": {"message", "type", ...}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "error": {"message": message, "type": kind, "param": param, "code": code}
        }


class Handler(BaseHTTPRequestHandler):
    """One connection to the mock; `upstream` is set on a subclass per server."""

    upstream: MockUpstream
    protocol_version = "HTTP/1.1"
    server_version = "MockOpenAI/1.0"
    # Idle keep-alive connections end on their own, so stop() leaves nothing.
    timeout = 10
    # Headers and body leave in one segment: no Nagle/delayed-ACK 40 ms stalls.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        # Clients join base URLs differently; "/v1//rerank" still means rerank.
        path = re.sub(r"/{2,}", "/", path).rstrip("/") or "/"
        body: Any = None
        status = 200
        try:
            route = ROUTES.get(path)
            if route is None:
                raise ApiError(404, f"Invalid URL ({method} {path})")
            wanted, action = route
            if method != wanted:
                raise ApiError(405, f"Method not allowed ({method} {path})")
            self._check_key()
            raw = self._read_body() if method == "POST" else b""
            body = _parse(raw, self.headers.get("Content-Type", ""))
            action(self, body)
        except ApiError as error:
            status = error.status
            self._send_json(error.status, error.body)
        except (BrokenPipeError, ConnectionResetError):
            status = 499
        finally:
            self.upstream.record(
                method=method,
                path=path,
                authorization=self.headers.get("Authorization"),
                body=body,
                status=status,
            )

    def _check_key(self) -> None:
        expected = self.upstream.api_key
        if expected is None:
            return
        header = self.headers.get("Authorization") or ""
        scheme, _, key = header.partition(" ")
        if not header or scheme.lower() != "bearer" or not key.strip():
            raise ApiError(
                401,
                "You didn't provide an API key. You need to provide your API key "
                "in an Authorization header using Bearer auth "
                "(i.e. Authorization: Bearer YOUR_KEY).",
                code="missing_api_key",
            )
        if key.strip() != expected:
            shown = key.strip()
            shown = f"{shown[:3]}****{shown[-4:]}" if len(shown) > 8 else "****"
            raise ApiError(
                401,
                f"Incorrect API key provided: {shown}.",
                code="invalid_api_key",
            )

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            raise ApiError(411, "A Content-Length header is required.")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "Invalid Content-Length header.") from None
        if length < 0 or length > self.upstream.max_body_bytes:
            # The body is left unread, so this connection cannot be reused.
            self.close_connection = True
            raise ApiError(
                413,
                f"Request body too large ({length} bytes, the limit is "
                f"{self.upstream.max_body_bytes}).",
            )
        return self.rfile.read(length)

    # ------------------------------------------------------------ responses

    def _send_json(self, status: int, data: Any) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def _send_bytes(self, data: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_events(self, events: list[Any]) -> None:
        """Server-sent events, chunked like OpenAI's: `data: {...}` then [DONE]."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in [*events, "[DONE]"]:
            text = event if isinstance(event, str) else json.dumps(event)
            chunk = f"data: {text}\n\n".encode()
            self.wfile.write(f"{len(chunk):X}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    # ------------------------------------------------------------ endpoints

    def models(self, body: Any) -> None:
        self._send_json(
            200,
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 0, "owned_by": "mock"}
                    for m in self.upstream.models
                ],
            },
        )

    def chat_completions(self, body: Any) -> None:
        data = _object(body)
        model = _model(data)
        messages = data.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ApiError(
                400, "'messages' must be a non-empty array", param="messages"
            )
        prompt_tokens = sum(
            count(message_text(m)) for m in messages if isinstance(m, dict)
        )
        tools = [t for t in data.get("tools") or [] if isinstance(t, dict)]
        functions = [f for f in data.get("functions") or [] if isinstance(f, dict)]
        last = messages[-1] if isinstance(messages[-1], dict) else {}
        answered_tool = last.get("role") in ("tool", "function")
        call = None
        if not answered_tool and data.get("tool_choice") != "none":
            if tools:
                call = tool_call(tools[0].get("function") or {}, last_user(messages))
            elif functions:
                call = tool_call(functions[0], last_user(messages))
        reply = f"echo: {message_text(last) if answered_tool else last_user(messages)}"
        words, finish = limit(reply, data.get("max_tokens"))
        if call is not None:
            words, finish = [], "tool_calls" if tools else "function_call"
        usage = usage_of(prompt_tokens, len(words) + (1 if call else 0))
        ident = f"chatcmpl-mock-{digest(json.dumps(messages))[:12]}"
        legacy = call is not None and not tools
        if data.get("stream"):
            self._send_events(
                chat_events(ident, model, words, call, legacy, finish, usage)
            )
            return
        message: dict[str, Any] = {"role": "assistant", "content": "".join(words)}
        if call is not None:
            message["content"] = None
            if legacy:
                message["function_call"] = call["function"]
            else:
                message["tool_calls"] = [call]
        self._send_json(
            200,
            {
                "id": ident,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
                "usage": usage,
            },
        )

    def completions(self, body: Any) -> None:
        data = _object(body)
        model = _model(data)
        prompt = data.get("prompt")
        if isinstance(prompt, list):
            prompt = "".join(p for p in prompt if isinstance(p, str))
        if not isinstance(prompt, str):
            raise ApiError(400, "'prompt' must be a string", param="prompt")
        words, finish = limit(f"echo: {prompt}", data.get("max_tokens"))
        usage = usage_of(count(prompt), len(words))
        ident = f"cmpl-mock-{digest(prompt)[:12]}"
        if data.get("stream"):
            events: list[Any] = [text_chunk(ident, model, word, None) for word in words]
            events.append(text_chunk(ident, model, "", finish) | {"usage": usage})
            self._send_events(events)
            return
        self._send_json(
            200,
            {
                "id": ident,
                "object": "text_completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "text": "".join(words),
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
                "usage": usage,
            },
        )

    def embeddings(self, body: Any) -> None:
        data = _object(body)
        model = _model(data)
        texts = data.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if (
            not isinstance(texts, list)
            or not texts
            or not all(isinstance(t, str) for t in texts)
        ):
            raise ApiError(
                400, "'input' must be a string or an array of strings", param="input"
            )
        as_base64 = data.get("encoding_format") == "base64"
        items = []
        for index, text in enumerate(texts):
            vector = embed(text, self.upstream.dimensions)
            value: Any = vector
            if as_base64:
                value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector))
                value = value.decode()
            items.append({"object": "embedding", "index": index, "embedding": value})
        tokens = sum(count(t) for t in texts)
        self._send_json(
            200,
            {
                "object": "list",
                "data": items,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def rerank(self, body: Any) -> None:
        data = _object(body)
        model = _model(data)
        query = data.get("query")
        documents = data.get("documents")
        if not isinstance(query, str) or not query:
            raise ApiError(400, "'query' must be a non-empty string", param="query")
        if not isinstance(documents, list) or not documents:
            raise ApiError(
                400, "'documents' must be a non-empty array", param="documents"
            )
        texts = [
            d.get("text", "") if isinstance(d, dict) else str(d) for d in documents
        ]
        scored = sorted(
            ((relevance(query, text), index) for index, text in enumerate(texts)),
            key=lambda pair: (-pair[0], pair[1]),
        )
        top_n = data.get("top_n")
        if isinstance(top_n, int) and top_n > 0:
            scored = scored[:top_n]
        results = []
        for score, index in scored:
            result: dict[str, Any] = {"index": index, "relevance_score": score}
            if data.get("return_documents"):
                result["document"] = {"text": texts[index]}
            results.append(result)
        tokens = count(query) + sum(count(t) for t in texts)
        self._send_json(
            200,
            {
                "id": f"rerank-mock-{digest(query)[:12]}",
                "model": model,
                "results": results,
                "usage": {"total_tokens": tokens},
            },
        )

    def speech(self, body: Any) -> None:
        data = _object(body)
        _model(data)
        if not isinstance(data.get("input"), str) or not data["input"]:
            raise ApiError(400, "'input' must be a non-empty string", param="input")
        self._send_bytes(FAKE_MP3, "audio/mpeg")

    def transcriptions(self, body: Any) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("file"), bytes):
            raise ApiError(400, "a multipart 'file' upload is required", param="file")
        if not body.get("model"):
            raise ApiError(400, "'model' is required", param="model")
        size = len(body["file"])
        self._send_json(200, {"text": f"mock transcript of {size} bytes"})

    def moderations(self, body: Any) -> None:
        """OpenAI's moderation: `input` a string or a list of strings; a text
        is flagged when it holds the word "forbidden" (answers.FLAGGED_WORD)."""
        data = _object(body)
        texts = data.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise ApiError(
                400, "'input' must be a string or a list of strings", param="input"
            )
        model = data.get("model") or "omni-moderation-latest"
        self._send_json(
            200,
            {
                "id": f"modr-mock-{digest(json.dumps(texts))[:12]}",
                "model": model,
                "results": [moderation(t) for t in texts],
            },
        )


ROUTES: dict[str, tuple[str, Any]] = {
    "/v1/models": ("GET", Handler.models),
    "/v1/chat/completions": ("POST", Handler.chat_completions),
    "/v1/completions": ("POST", Handler.completions),
    "/v1/embeddings": ("POST", Handler.embeddings),
    "/v1/rerank": ("POST", Handler.rerank),
    "/v1/audio/speech": ("POST", Handler.speech),
    "/v1/audio/transcriptions": ("POST", Handler.transcriptions),
    "/v1/moderations": ("POST", Handler.moderations),
}


def _parse(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if content_type.lower().startswith("multipart/form-data"):
        return _multipart(raw, content_type)
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(
            400,
            "We could not parse the JSON body of your request.",
        ) from None


def _multipart(raw: bytes, content_type: str) -> dict[str, Any]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        # Decoded, a leaf part's payload is bytes (None for a nested multipart).
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        if part.get_filename() is not None:
            fields[name] = payload
        else:
            fields[name] = payload.decode(errors="replace")
    return fields


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


def _model(data: dict[str, Any]) -> str:
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "you must provide a model parameter", param="model")
    return model
