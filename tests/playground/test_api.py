"""The playground over the API: start, send and read the stream, end."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.api.conftest import make_token


@pytest.mark.django_db(transaction=True)
def test_ci_can_try_a_build_over_the_api(
    built_provider: Any, playground: Any, personas: Any
) -> None:
    token = make_token(personas.bob, personas.team)
    headers = {"Authorization": f"Bearer {token}"}
    client = Client()
    base = f"/api/v1/providers/{built_provider.pk}/playground/sessions"

    wrong = client.post(
        base,
        json.dumps({"credentials": {"api_key": "nope", "endpoint_url": "x"}}),
        content_type="application/json",
        headers=headers,
    )
    assert wrong.status_code == 400
    assert "The plugin refused the credentials" in wrong.json()["error"]["message"]

    started = client.post(
        base,
        json.dumps({"credentials": {"api_key": "good-key", "endpoint_url": "x"}}),
        content_type="application/json",
        headers=headers,
    )
    assert started.status_code == 201, started.content
    session = started.json()["id"]

    answer = client.post(
        f"{base}/{session}/messages",
        json.dumps({"model": "chat-1", "message": "red green blue yellow"}),
        content_type="application/json",
        headers=headers,
    )
    assert answer["Content-Type"] == "application/x-ndjson"
    events = [
        json.loads(line)
        for line in b"".join(answer.streaming_content).splitlines()
        if line
    ]
    tokens = [e for e in events if e["event"] == "token"]
    done = events[-1]
    assert len(tokens) >= 3 and done["event"] == "done" and done["error"] is None
    assert done["text"] == "".join(t["text"] for t in tokens)
    assert done["usage"]["completion_tokens"] > 0 and done["cost"]["currency"] == "USD"

    # A viewer's token may not run plugin code; another user cannot see it.
    viewer = make_token(personas.victor, personas.team)
    refused = client.post(
        base,
        "{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {viewer}"},
    )
    assert refused.status_code == 403
    alice = make_token(personas.alice, personas.team)
    hidden = client.delete(
        f"{base}/{session}", headers={"Authorization": f"Bearer {alice}"}
    )
    assert hidden.status_code == 404

    # A model of one's own needs a provider declaring customizable-model.
    own = client.post(
        base,
        json.dumps({"model": "mine", "credentials": {"api_key": "good-key"}}),
        content_type="application/json",
        headers=headers,
    )
    assert own.status_code == 400
    assert "does not declare customizable-model" in own.json()["error"]["message"]

    ended = client.delete(f"{base}/{session}", headers=headers)
    assert ended.status_code == 200 and ended.json() == {"id": session, "ended": True}
    assert playground.manager.sessions() == []
