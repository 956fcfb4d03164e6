"""A customizable model of the user's own in the playground: the model
credential form as the live preview renders it, validated by the plugin with
validate_model_credentials, then chat with that model (real SDK, mock upstream)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.builds.conftest import login
from tests.playground.test_views import sse_events

KEY = "good-key"


@pytest.fixture
def custom_provider(
    transactional_db: None, broker: Any, run_published: Any, personas: Any
) -> Any:
    """A generated OpenAI-compatible provider with predefined and customizable
    LLMs, built."""
    from studio.builds import services
    from tests.factories import make_provider

    provider = make_provider(personas.team, "ownllm", models=1)
    services.build_start(provider=provider, user=None)
    run_published()
    assert provider.builds.get().status == "succeeded"
    return provider


def own_model(provider: Any, key: str = KEY, **extra: str) -> dict[str, Any]:
    return {
        "build": provider.builds.get().pk,
        "form": "model",
        "__model_type": "llm",
        "model-name": "my-own-model",
        "cred-api_key": key,
        "cred-endpoint_url": "http://example.invalid/v1",
        "cred-mode": "chat",
        "cred-context_size": "4096",
        "cred-max_tokens_to_sample": "4096",
        "target": "mock",
        **extra,
    }


def test_the_form_renders_the_model_credential_schema_like_the_preview(
    custom_provider: Any, personas: Any, settings: Any, tmp_path: Any
) -> None:
    settings.PLAYGROUND_SOCKET = tmp_path / "nobody.sock"
    client = login(Client(), personas.bob)
    url = reverse("playground:try", args=[custom_provider.pk])
    provider_form = client.get(url).content.decode()
    assert 'name="cred-api_key"' in provider_form
    assert 'name="model-name"' not in provider_form
    assert "A model of your own (model credentials)" in provider_form
    html = client.get(url + "?form=model").content.decode()
    assert 'name="form" value="model"' in html
    assert '<input type="radio" name="__model_type" value="llm" checked>' in html
    assert 'placeholder="Enter the model name"' in html
    assert ">Model Name<" in html
    # The LLM-only fields (show_on __model_type=llm) with their defaults.
    assert "Completion mode" in html
    assert 'name="cred-context_size" value="4096"' in html
    assert "Model name at the endpoint" in html
    # Re-rendered for what was chosen (the live preview's rules), nothing started.
    again = client.post(
        reverse("playground:start-form", args=[custom_provider.pk]),
        own_model(custom_provider, key="sk-typed-7Qm2", **{"cred-mode": "completion"}),
        headers={"HX-Request": "true"},
    )
    assert again.status_code == 200
    body = again.content.decode()
    assert "<html" not in body
    assert '<option value="completion" selected>' in body
    assert "sk-typed-7Qm2" not in body  # a secret is never echoed back


@pytest.mark.django_db(transaction=True)
def test_a_session_with_model_credentials_chats_with_that_model(
    custom_provider: Any, playground: Any, personas: Any
) -> None:
    client = login(Client(), personas.bob)
    start_url = reverse("playground:session-start", args=[custom_provider.pk])
    nameless = client.post(start_url, own_model(custom_provider, **{"model-name": ""}))
    assert nameless.status_code == 400
    assert "Type the model name of your model" in nameless.content.decode()

    refused = client.post(start_url, own_model(custom_provider, key="sk-wrong"))
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "The plugin refused the model credentials" in html
    # The SDK's OAICompat model's own message, quoting the upstream's 401.
    assert "Credentials validation failed with status code 401" in html
    assert playground.manager.sessions() == []

    response = client.post(start_url, own_model(custom_provider))
    assert response.status_code == 302, response.content.decode()[:2000]
    sid = response["Location"].split("session=")[1]
    session = playground.manager.get(sid, str(personas.bob.pk))
    assert (session.model, session.model_type) == ("my-own-model", "llm")
    assert session.credentials["context_size"] == "4096"
    page = client.get(response["Location"]).content.decode()
    assert "with your own llm model <code>my-own-model</code>" in page
    assert '<option value="my-own-model" selected>' in page
    # Parameter rules from the plugin's get_customizable_model_schema.
    assert 'name="param-temperature"' in page

    chat = client.post(
        reverse("playground:chat", args=[custom_provider.pk, sid]),
        {"model": "my-own-model", "message": "hello", "history": "[]"},
        HTTP_ACCEPT="text/event-stream",
    )
    events = sse_events(chat)
    done = events[-1][1]
    assert done["error"] is None, done
    assert done["text"]
    request = json.loads(done["trace"])["request"]
    assert request["model"] == "my-own-model"
    assert request["credentials"]["api_key"] == "••••••"
    # A model the session was not started with is refused.
    other = client.post(
        reverse("playground:chat", args=[custom_provider.pk, sid]),
        {"model": "llm-1", "message": "hello", "history": "[]"},
    )
    assert other.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_session_of_a_revisions_older_build_says_so_and_is_not_superseded(
    custom_provider: Any, playground: Any, personas: Any, run_published: Any
) -> None:
    from studio.builds import services
    from studio.reviews.services import revision_submit
    from tests.factories import add_llm_models

    revision_submit(provider=custom_provider, user=personas.bob, message="one")
    first = custom_provider.builds.get()
    add_llm_models(custom_provider, 1)
    services.build_start(provider=custom_provider, user=None)
    run_published()
    carol = login(Client(), personas.carol)
    response = carol.post(
        reverse("playground:session-start", args=[custom_provider.pk]),
        {
            "build": first.pk,
            "revision": "1",
            "cred-api_key": KEY,
            "cred-endpoint_url": "http://example.invalid/v1",
            "target": "mock",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    page = carol.get(response["Location"]).content.decode()
    assert f'Trying revision 1 (build <a href="/builds/{first.pk}/">' in page
    # Started deliberately on an older build: the newer one that was already
    # there does not end it.
    assert playground.end_superseded() == []
    assert len(playground.manager.sessions()) == 1


@pytest.mark.django_db(transaction=True)
def test_ci_tries_a_model_of_its_own_over_the_api(
    custom_provider: Any, playground: Any, personas: Any
) -> None:
    from tests.api.conftest import make_token

    token = make_token(personas.bob, personas.team)
    headers = {"Authorization": f"Bearer {token}"}
    api = Client()
    base = f"/api/v1/providers/{custom_provider.pk}/playground/sessions"
    credentials = {
        "api_key": KEY,
        "endpoint_url": "http://example.invalid/v1",
        "mode": "chat",
        "context_size": "4096",
        "max_tokens_to_sample": "4096",
    }

    def start(**body: Any) -> Any:
        return api.post(
            base, json.dumps(body), content_type="application/json", headers=headers
        )

    refused = start(model="my-own-model", credentials={**credentials, "api_key": "x"})
    assert refused.status_code == 400
    assert "refused the model credentials" in refused.json()["error"]["message"]
    started = start(model="my-own-model", model_type="llm", credentials=credentials)
    assert started.status_code == 201, started.content
    sid = started.json()["id"]
    session = playground.manager.get(sid, str(personas.bob.pk))
    assert (session.model, session.model_type) == ("my-own-model", "llm")

    def say(model: str) -> Any:
        return api.post(
            f"{base}/{sid}/messages",
            json.dumps({"model": model, "message": "red green blue"}),
            content_type="application/json",
            headers=headers,
        )

    answer = say("my-own-model")
    events = [
        json.loads(line)
        for line in b"".join(answer.streaming_content).splitlines()
        if line
    ]
    assert events[-1]["event"] == "done" and events[-1]["error"] is None
    assert "red green blue" in events[-1]["text"]
    # Only the session's own model: the build's predefined one is refused.
    assert say("llm-1").status_code == 400
