"""The Try it tab end to end: a real build of an OpenAI-compatible provider,
the playground server, the SDK and the mock upstream."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.builds.conftest import login

KEY = "good-key"  # the mock upstream's key: typed into the form like a secret


def start(client: Client, provider: Any, key: str = KEY) -> Any:
    build = provider.builds.get()
    return client.post(
        reverse("playground:session-start", args=[provider.pk]),
        {
            "build": build.pk,
            "cred-api_key": key,
            "cred-endpoint_url": "http://example.invalid/v1",
            "target": "mock",
        },
    )


def session_id(response: Any) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"].split("session=")[1]


def sse_events(response: Any) -> list[tuple[str, Any]]:
    text = b"".join(response.streaming_content).decode()
    events = []
    for block in text.strip().split("\n\n"):
        name = re.search(r"^event: (.*)$", block, re.M)
        data = re.search(r"^data: (.*)$", block, re.M)
        assert name and data
        events.append((name.group(1), json.loads(data.group(1))))
    return events


@pytest.mark.django_db(transaction=True)
def test_chat_streams_with_usage_and_cost_embedding_and_rerank(
    built_provider: Any,
    playground: Any,
    personas: Any,
    storage: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = login(Client(), personas.bob)
    provider = built_provider
    sid = session_id(start(client, provider))
    page = client.get(reverse("playground:try", args=[provider.pk]) + f"?session={sid}")
    html = page.content.decode()
    assert "Chat" in html and "Text embedding" in html and "Rerank" in html
    # The plugin below reaches the mock upstream from its own network
    # namespace, through the egress proxy only (this machine allows it).
    assert playground.manager.get(sid, str(personas.bob.pk)).contained
    assert "Network: only through the studio's egress proxy." in html
    # A parameter control from the rule's template: min, max, precision.
    assert 'name="param-temperature"' in html and 'max="2' in html

    response = client.post(
        reverse("playground:chat", args=[provider.pk, sid]),
        {
            "model": "chat-1",
            "system": "Be brief.",
            "message": "one two three four five six",
            "history": "[]",
            "use-max_tokens": "1",
            "param-max_tokens": "100",
        },
        HTTP_ACCEPT="text/event-stream",
    )
    assert response["Content-Type"] == "text/event-stream"
    events = sse_events(response)
    tokens = [data["text"] for name, data in events if name == "token"]
    assert len(tokens) >= 3
    name, done = events[-1]
    assert name == "done" and done["error"] is None
    assert "".join(tokens) == done["text"]
    assert "one two three four five six" in done["text"]
    usage = done["usage"]
    expected = (
        Decimal("0.5") * Decimal("0.000001") * usage["prompt_tokens"]
        + Decimal("1.5") * Decimal("0.000001") * usage["completion_tokens"]
    )
    assert Decimal(done["cost"]["total"]) == expected
    assert done["first_chunk_ms"] <= done["total_ms"]
    trace = json.loads(done["trace"])
    assert trace["request"]["credentials"]["api_key"] == "••••••"
    assert trace["request"]["model_parameters"] == {"max_tokens": 100}
    assert [m["role"] for m in done["history"]] == ["user", "assistant"]

    # Without JavaScript the same form answers a whole page.
    plain = client.post(
        reverse("playground:chat", args=[provider.pk, sid]),
        {"model": "chat-1", "message": "hello there", "history": "[]"},
    )
    assert "echo: hello there" in plain.content.decode()
    assert 'id="fig-cost"' in plain.content.decode()

    embedded = client.post(
        reverse("playground:embed", args=[provider.pk, sid]),
        {"model": "embed-1", "text1": "a cat sat", "text2": "a cat sat"},
    )
    body = embedded.content.decode()
    assert embedded.status_code == 200, body[:3000]
    assert re.search(r'id="embed-similarity">1\.0000<', body)

    ranked = client.post(
        reverse("playground:rerank", args=[provider.pk, sid]),
        {
            "model": "rerank-1",
            "query": "capital of France",
            "docs": "Paris is the capital of France.\nBananas are yellow.",
        },
    )
    body = ranked.content.decode()
    assert ranked.status_code == 200, body[:3000]
    assert 'id="rerank-scores"' in body and "Bananas are yellow." in body

    # The typed key is nowhere: no row, no log line, no stored file.
    assert_key_nowhere(KEY, caplog, storage)

    client.post(reverse("playground:session-end", args=[provider.pk, sid]))
    assert playground.manager.sessions() == []


def assert_key_nowhere(key: str, caplog: Any, storage: Path) -> None:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - names from the schema
            for row in cursor.fetchall():
                assert key not in repr(row), f"the key is in a row of {table}"
    assert key not in caplog.text
    for path in storage.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


@pytest.mark.django_db(transaction=True)
def test_a_wrong_key_shows_the_plugins_own_credential_error(
    built_provider: Any, playground: Any, personas: Any
) -> None:
    client = login(Client(), personas.bob)
    response = start(client, built_provider, key="sk-wrong")
    assert response.status_code == 400
    html = response.content.decode()
    assert "The plugin refused the credentials" in html
    # The generated plugin's own message (its validate_provider_credentials
    # turns the mock upstream's 401 into it).
    assert "The API key was refused." in html
    assert playground.manager.sessions() == []


@pytest.mark.django_db(transaction=True)
def test_an_internal_endpoint_is_refused(
    built_provider: Any, playground: Any, personas: Any
) -> None:
    client = login(Client(), personas.bob)
    response = client.post(
        reverse("playground:session-start", args=[built_provider.pk]),
        {
            "build": built_provider.builds.get().pk,
            "cred-api_key": "x",
            "cred-endpoint_url": "http://169.254.169.254/v1",
            "target": "endpoint",
        },
    )
    assert response.status_code == 400
    assert "cloud metadata address" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_new_build_ends_the_sessions_of_older_ones(
    built_provider: Any, playground: Any, personas: Any, run_published: Any
) -> None:
    from studio.builds import services

    client = login(Client(), personas.bob)
    sid = session_id(start(client, built_provider))
    pid = playground.manager.get(sid, str(personas.bob.pk)).plugin.pid
    assert playground.end_superseded() == []
    services.build_start(provider=built_provider, user=None)
    run_published()
    assert playground.end_superseded() == [sid]
    assert playground.manager.sessions() == []
    page = client.get(reverse("playground:try", args=[built_provider.pk]))
    assert "Start a session" in page.content.decode()
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_a_tool_defined_as_json_is_called_and_the_call_shown(
    built_provider: Any, playground: Any, personas: Any
) -> None:
    client = login(Client(), personas.bob)
    sid = session_id(start(client, built_provider))
    tool = {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    url = reverse("playground:chat", args=[built_provider.pk, sid])
    data = {"model": "chat-1", "message": "weather in Paris", "history": "[]"}
    streamed = client.post(
        url, {**data, "tools": json.dumps([tool])}, HTTP_ACCEPT="text/event-stream"
    )
    done = sse_events(streamed)[-1][1]
    assert done["error"] is None
    names = [c["function"]["name"] for c in done["tool_calls"]]
    assert "get_weather" in names
    page = client.post(url, {**data, "tools": json.dumps(tool)})
    assert 'id="chat-tools-called"' in page.content.decode()
    bad = client.post(url, {**data, "tools": "{not json"})
    assert bad.status_code == 400
    assert "The tools are not valid JSON" in bad.content.decode()


@pytest.mark.django_db(transaction=True)
def test_where_plugins_cannot_be_isolated_the_page_says_so_or_refuses(
    built_provider: Any,
    playground: Any,
    personas: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from studio.pluginfmt.driver import netjail

    monkeypatch.setattr(
        netjail, "support", lambda: netjail.Support(False, reason="simulated")
    )
    client = login(Client(), personas.bob)
    # "auto": the session runs with the proxy variables only, and says so.
    sid = session_id(start(client, built_provider))
    page = client.get(
        reverse("playground:try", args=[built_provider.pk]) + f"?session={sid}"
    )
    assert (
        "Network: proxy variables only (this machine cannot isolate plugin "
        "processes)." in page.content.decode()
    )
    client.post(reverse("playground:session-end", args=[built_provider.pk, sid]))
    # "required": refused with the reason, nothing runs.
    playground.manager.isolation = "required"
    response = start(client, built_provider)
    assert response.status_code == 503
    html = response.content.decode()
    assert "PLAYGROUND_NETWORK_ISOLATION=required" in html
    assert "cannot isolate them: simulated" in html
    assert playground.manager.sessions() == []


@pytest.mark.django_db(transaction=True)
def test_odd_input_gets_a_clear_answer_never_a_500(
    built_provider: Any, playground: Any, personas: Any, storage: Path
) -> None:
    client = login(Client(), personas.bob)
    try_url = reverse("playground:try", args=[built_provider.pk])
    # "²" is a digit to str.isdigit() but not to int().
    assert client.get(f"{try_url}?build=²&revision=²").status_code == 200
    odd_build = client.post(
        reverse("playground:session-start", args=[built_provider.pk]),
        {"build": "²", "cred-api_key": KEY, "target": "mock"},
    )
    assert odd_build.status_code == 400
    assert "Choose a succeeded build to try." in odd_build.content.decode()

    sid = session_id(start(client, built_provider))
    chat_url = reverse("playground:chat", args=[built_provider.pk, sid])
    deep = "[" * 100_000
    for fields, expected in [
        ({"tools": deep}, "The tools are not valid JSON"),
        ({"history": deep, "use-temperature": "on", "param-temperature": "1e400"}, ""),
    ]:
        response = client.post(
            chat_url, {"model": "chat-1", "message": "one two three", **fields}
        )
        assert response.status_code in (200, 400), response.status_code
        assert expected in response.content.decode()
    answered = client.post(chat_url, {"model": "chat-1", "message": "one two three"})
    assert "echo: one two three" in answered.content.decode()

    # The session ended meanwhile: a 404 page, not a traceback.
    playground.manager.end(sid)
    ended = client.post(chat_url, {"model": "chat-1", "message": "still there?"})
    assert ended.status_code == 404
    assert "There is nothing here" in ended.content.decode()
