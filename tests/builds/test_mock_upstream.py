"""The mock OpenAI-compatible upstream speaks OpenAI's wire format."""

from __future__ import annotations

import base64
import http.client
import json
import math
import struct
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from studio.builds.mock_upstream import FAKE_MP3, MockUpstream, embed

KEY = "good-key"


@pytest.fixture
def upstream() -> Iterator[MockUpstream]:
    with MockUpstream(api_key=KEY) as up:
        yield up


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    def events(self) -> list[Any]:
        """The server-sent events: `data: ...` blocks separated by blank lines."""
        blocks = self.body.decode().split("\n\n")
        assert blocks[-1] == ""
        events = []
        for block in blocks[:-1]:
            assert block.startswith("data: "), block
            data = block.removeprefix("data: ")
            events.append(data if data == "[DONE]" else json.loads(data))
        return events


def call(
    up: MockUpstream,
    method: str,
    path: str,
    body: Any = None,
    *,
    key: str | None = KEY,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> Response:
    url = urlsplit(up.url)
    conn = connection or http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    sent = dict(headers or {})
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    payload = raw
    if body is not None:
        payload = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    conn.request(method, url.path + path, body=payload, headers=sent)
    response = conn.getresponse()
    result = Response(response.status, dict(response.getheaders()), response.read())
    if connection is None:
        conn.close()
    return result


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": text}], **extra}


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}


class TestLifecycle:
    def test_it_listens_on_loopback_with_a_v1_url(self, upstream):
        url = urlsplit(upstream.url)
        assert url.scheme == "http"
        assert url.hostname == "127.0.0.1"
        assert url.port and url.port > 0
        assert url.path == "/v1"

    def test_it_stops_cleanly_and_refuses_connections_afterwards(self):
        before = threading.active_count()
        up = MockUpstream().start()
        url = urlsplit(up.url)
        assert call(up, "GET", "/models").status == 200
        up.stop()
        up.stop()  # a second stop is harmless
        assert threading.active_count() <= before + 1  # at most an idle handler
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=2)
        with pytest.raises(ConnectionRefusedError):
            conn.request("GET", "/v1/models")
        with pytest.raises(RuntimeError):
            _ = up.url

    def test_one_connection_serves_several_requests(self, upstream):
        url = urlsplit(upstream.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        first = call(upstream, "POST", "/chat/completions", chat("a"), connection=conn)
        second = call(upstream, "POST", "/chat/completions", chat("b"), connection=conn)
        conn.close()
        assert first.json()["choices"][0]["message"]["content"] == "echo: a"
        assert second.json()["choices"][0]["message"]["content"] == "echo: b"

    def test_it_logs_every_request(self, upstream):
        call(upstream, "POST", "/chat/completions", chat("hi"))
        call(upstream, "GET", "/models", key="wrong")
        logged = upstream.requests
        assert [(r.method, r.path, r.status) for r in logged] == [
            ("POST", "/v1/chat/completions", 200),
            ("GET", "/v1/models", 401),
        ]
        assert logged[0].body["messages"][0]["content"] == "hi"
        assert logged[0].authorization == f"Bearer {KEY}"


class TestErrors:
    def test_a_missing_key_gets_openais_401(self, upstream):
        response = call(upstream, "GET", "/models", key=None)
        assert response.status == 401
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["code"] == "missing_api_key"
        assert "Authorization: Bearer" in error["message"]

    def test_a_wrong_key_gets_openais_401(self, upstream):
        response = call(upstream, "POST", "/chat/completions", chat("hi"), key="nope")
        assert response.status == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
        assert response.json()["error"]["message"].startswith("Incorrect API key")

    def test_without_an_api_key_any_caller_is_served(self):
        with MockUpstream(api_key=None) as up:
            assert call(up, "GET", "/models", key=None).status == 200

    def test_an_unknown_path_is_a_404_with_openais_body(self, upstream):
        response = call(upstream, "POST", "/nope", {"model": "m"})
        assert response.status == 404
        assert response.json()["error"]["message"] == "Invalid URL (POST /v1/nope)"

    def test_a_known_path_with_the_wrong_method_is_a_405(self, upstream):
        assert call(upstream, "GET", "/chat/completions").status == 405

    def test_a_body_that_is_not_json_is_a_400(self, upstream):
        response = call(
            upstream,
            "POST",
            "/chat/completions",
            raw=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert response.status == 400
        assert "JSON" in response.json()["error"]["message"]

    def test_a_missing_model_is_a_400(self, upstream):
        body = {"messages": [{"role": "user", "content": "hi"}]}
        response = call(upstream, "POST", "/chat/completions", body)
        assert response.status == 400
        assert response.json()["error"]["param"] == "model"

    def test_a_body_over_the_limit_is_refused_unread(self):
        with MockUpstream(max_body_bytes=1024) as up:
            response = call(up, "POST", "/chat/completions", chat("x" * 2000))
            assert response.status == 413
            assert response.headers.get("Connection") == "close"
            assert call(up, "POST", "/chat/completions", chat("ok")).status == 200


class TestChatCompletions:
    def test_it_echoes_the_last_user_message(self, upstream):
        body = {
            "model": "m",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "echo: first"},
                {"role": "user", "content": [{"type": "text", "text": "second one"}]},
            ],
        }
        data = call(upstream, "POST", "/chat/completions", body).json()
        assert data["object"] == "chat.completion"
        assert data["model"] == "m"
        choice = data["choices"][0]
        assert choice["message"] == {"role": "assistant", "content": "echo: second one"}
        assert choice["finish_reason"] == "stop"
        usage = data["usage"]
        assert usage["completion_tokens"] == 3
        assert usage["total_tokens"] == usage["prompt_tokens"] + 3

    def test_max_tokens_cuts_the_answer(self, upstream):
        data = call(
            upstream, "POST", "/chat/completions", chat("one two three", max_tokens=2)
        ).json()
        assert data["choices"][0]["message"]["content"] == "echo: one "
        assert data["choices"][0]["finish_reason"] == "length"

    def test_a_stream_is_sse_chunks_then_usage_then_done(self, upstream):
        response = call(
            upstream, "POST", "/chat/completions", chat("hello world", stream=True)
        )
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = response.events()
        assert events[-1] == "[DONE]"
        chunks = events[:-1]
        assert all(c["object"] == "chat.completion.chunk" for c in chunks)
        assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        assert text == "echo: hello world"
        assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
        last = chunks[-1]
        assert last["choices"][0]["finish_reason"] == "stop"
        assert last["usage"] == {
            "prompt_tokens": 2,
            "completion_tokens": 3,
            "total_tokens": 5,
        }
        assert "usage" not in chunks[0]

    def test_with_tools_it_calls_the_first_tool(self, upstream):
        data = call(
            upstream,
            "POST",
            "/chat/completions",
            chat("Paris", tools=[WEATHER], tool_choice="auto"),
        ).json()
        choice = data["choices"][0]
        assert choice["finish_reason"] == "tool_calls"
        assert choice["message"]["content"] is None
        (tool_call,) = choice["message"]["tool_calls"]
        assert tool_call["type"] == "function"
        assert tool_call["id"].startswith("call_")
        assert tool_call["function"]["name"] == "get_weather"
        arguments = json.loads(tool_call["function"]["arguments"])
        assert arguments == {"city": "Paris", "days": 1, "unit": "celsius"}

    def test_a_streamed_tool_call_arrives_in_pieces_with_one_id(self, upstream):
        events = call(
            upstream,
            "POST",
            "/chat/completions",
            chat("Paris", tools=[WEATHER], stream=True),
        ).events()
        pieces = [
            part
            for event in events[:-1]
            for part in event["choices"][0]["delta"].get("tool_calls", [])
        ]
        assert len(pieces) == 2
        assert pieces[0]["id"].startswith("call_")
        assert pieces[0]["function"]["name"] == "get_weather"
        assert "id" not in pieces[1]
        assert {p["index"] for p in pieces} == {0}
        arguments = "".join(p["function"]["arguments"] for p in pieces)
        assert json.loads(arguments)["city"] == "Paris"
        assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"
        assert events[-2]["usage"]["completion_tokens"] == 1

    def test_after_a_tool_result_it_answers_with_text(self, upstream):
        body = {
            "model": "m",
            "tools": [WEATHER],
            "messages": [
                {"role": "user", "content": "Paris"},
                {"role": "assistant", "content": None, "tool_calls": []},
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            ],
        }
        data = call(upstream, "POST", "/chat/completions", body).json()
        assert data["choices"][0]["message"]["content"] == "echo: sunny"
        assert data["choices"][0]["finish_reason"] == "stop"

    def test_legacy_functions_get_a_function_call(self, upstream):
        body = chat("Paris", functions=[WEATHER["function"]], stream=True)
        events = call(upstream, "POST", "/chat/completions", body).events()
        calls = [
            e["choices"][0]["delta"]["function_call"]
            for e in events[:-1]
            if "function_call" in e["choices"][0]["delta"]
        ]
        assert calls[0]["name"] == "get_weather"
        assert json.loads("".join(c["arguments"] for c in calls))["city"] == "Paris"
        assert events[-2]["choices"][0]["finish_reason"] == "function_call"


class TestCompletions:
    def test_it_echoes_the_prompt(self, upstream):
        data = call(
            upstream, "POST", "/completions", {"model": "m", "prompt": "ping"}
        ).json()
        assert data["object"] == "text_completion"
        assert data["choices"][0]["text"] == "echo: ping"
        assert data["usage"]["total_tokens"] == 3

    def test_a_stream_carries_text_pieces_and_usage(self, upstream):
        events = call(
            upstream,
            "POST",
            "/completions",
            {"model": "m", "prompt": "ping pong", "stream": True},
        ).events()
        assert events[-1] == "[DONE]"
        text = "".join(e["choices"][0]["text"] for e in events[:-1])
        assert text == "echo: ping pong"
        assert events[-2]["choices"][0]["finish_reason"] == "stop"
        assert events[-2]["usage"]["completion_tokens"] == 3


class TestEmbeddings:
    def test_each_input_gets_a_deterministic_unit_vector(self, upstream):
        body = {"model": "e", "input": ["alpha", "beta gamma", "alpha"]}
        data = call(upstream, "POST", "/embeddings", body).json()
        vectors = [item["embedding"] for item in data["data"]]
        assert [item["index"] for item in data["data"]] == [0, 1, 2]
        assert all(len(v) == 8 for v in vectors)
        assert vectors[0] == vectors[2] != vectors[1]
        assert vectors[0] == embed("alpha")
        assert math.isclose(sum(x * x for x in vectors[1]), 1.0, abs_tol=1e-4)
        assert data["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
        assert data["model"] == "e"

    def test_a_single_string_and_base64_encoding_work(self):
        with MockUpstream(api_key=KEY, dimensions=4) as up:
            body = {"model": "e", "input": "alpha", "encoding_format": "base64"}
            data = call(up, "POST", "/embeddings", body).json()
        raw = base64.b64decode(data["data"][0]["embedding"])
        values = struct.unpack("<4f", raw)
        assert all(
            math.isclose(a, b, abs_tol=1e-6)
            for a, b in zip(values, embed("alpha", 4), strict=True)
        )

    def test_an_input_that_is_not_text_is_a_400(self, upstream):
        response = call(upstream, "POST", "/embeddings", {"model": "e", "input": [1]})
        assert response.status == 400


class TestRerank:
    def test_it_scores_documents_by_shared_words(self, upstream):
        body = {
            "model": "r",
            "query": "capital of France",
            "documents": ["Bananas", "Paris is the capital of France", "capital"],
            "return_documents": True,
        }
        data = call(upstream, "POST", "/rerank", body).json()
        results = data["results"]
        assert [r["index"] for r in results] == [1, 2, 0]
        assert [r["relevance_score"] for r in results] == [1.0, 0.3333, 0.0]
        assert results[0]["document"] == {"text": "Paris is the capital of France"}
        assert data["model"] == "r"

    def test_top_n_limits_the_results(self, upstream):
        body = {"model": "r", "query": "a", "documents": ["a", "b", "c"], "top_n": 1}
        data = call(upstream, "POST", "/rerank", body).json()
        assert len(data["results"]) == 1
        assert "document" not in data["results"][0]

    def test_documents_may_be_objects_with_text(self, upstream):
        body = {"model": "r", "query": "b", "documents": [{"text": "a"}, {"text": "b"}]}
        data = call(upstream, "POST", "/rerank", body).json()
        assert data["results"][0]["index"] == 1

    def test_no_documents_is_a_400(self, upstream):
        body = {"model": "r", "query": "a", "documents": []}
        assert call(upstream, "POST", "/rerank", body).status == 400


class TestAudio:
    def test_speech_returns_mp3_bytes(self, upstream):
        body = {"model": "tts-1", "input": "Hello", "voice": "alloy"}
        response = call(upstream, "POST", "/audio/speech", body)
        assert response.status == 200
        assert response.headers["Content-Type"] == "audio/mpeg"
        assert response.body == FAKE_MP3
        assert response.body.startswith(b"ID3")

    def test_a_transcription_reads_the_multipart_upload(self, upstream):
        boundary = "xyzzy"
        raw = (
            (
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="model"\r\n\r\n'
                "whisper-1\r\n"
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="file"; filename="a.mp3"\r\n'
                "Content-Type: audio/mpeg\r\n\r\n"
            ).encode()
            + FAKE_MP3
            + f"\r\n--{boundary}--\r\n".encode()
        )
        response = call(
            upstream,
            "POST",
            "/audio/transcriptions",
            raw=raw,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert response.status == 200
        assert response.json() == {"text": f"mock transcript of {len(FAKE_MP3)} bytes"}


class TestModeration:
    def test_a_text_with_the_fixed_word_is_flagged_and_others_are_not(self, upstream):
        body = {"model": "m", "input": ["a kind word", "This is FORBIDDEN."]}
        data = call(upstream, "POST", "/moderations", body).json()
        assert [r["flagged"] for r in data["results"]] == [False, True]
        assert data["results"][1]["categories"]["violence"] is True
        one = call(upstream, "POST", "/moderations", {"input": "forbidden"}).json()
        assert one["results"][0]["flagged"] is True

    def test_an_input_that_is_not_text_is_a_400(self, upstream):
        response = call(upstream, "POST", "/moderations", {"input": [1, 2]})
        assert response.status == 400


class TestModels:
    def test_it_lists_models_in_openais_format(self, upstream):
        data = call(upstream, "GET", "/models").json()
        assert data["object"] == "list"
        assert {m["object"] for m in data["data"]} == {"model"}
        assert "mock-chat" in [m["id"] for m in data["data"]]
