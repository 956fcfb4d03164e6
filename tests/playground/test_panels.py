"""The Try it tab's panels with a real build declaring all six model types, the
playground server, the SDK and the mock upstream: each panel answers on its own
URL, an htmx request gets only that panel's result region, uploads are capped."""

from __future__ import annotations

import base64
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from studio.builds.mock_upstream import FAKE_MP3
from studio.playground import chat
from tests.builds.conftest import login
from tests.playground.test_views import session_id, sse_events, start

HTMX = {"HTTP_HX_REQUEST": "true"}
# A one-pixel PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGA"
    "hKmMIQAAAABJRU5ErkJggg=="
)


def url(name: str, provider: Any, sid: str) -> str:
    return reverse(f"playground:{name}", args=[provider.pk, sid])


def only_partial(response: Any, panel: str) -> str:
    """The response body, checked to be exactly the panel's result region."""
    body = response.content.decode()
    assert body.lstrip().startswith(f'<div id="{panel}-result"'), body[:500]
    assert "<html" not in body and "try-panels" not in body
    others = {"embed", "rerank", "moderate", "transcribe", "speak"} - {panel}
    assert not [p for p in others if f'id="{p}-result"' in body]
    return body


@pytest.fixture
def bob_session(all_types_provider: Any, playground: Any, personas: Any) -> Any:
    client = login(Client(), personas.bob)
    sid = session_id(start(client, all_types_provider))
    return client, all_types_provider, sid


@pytest.mark.django_db(transaction=True)
def test_every_declared_type_has_a_panel_answering_its_own_region(
    bob_session: Any, playground: Any
) -> None:
    client, provider, sid = bob_session
    page = client.get(reverse("playground:try", args=[provider.pk]) + f"?session={sid}")
    html = page.content.decode()
    for title in (
        "Chat",
        "Text embedding",
        "Rerank",
        "Moderation",
        "Speech to text",
        "Text to speech",
    ):
        assert f">{title}</h2>" in html
    assert 'hx-target="#moderate-result"' in html
    assert '<option value="echo">Echo (Speak 1)</option>' in html

    embedded = client.post(
        url("embed", provider, sid),
        {"model": "embed-1", "text1": "a cat sat", "text2": "a cat sat"},
        **HTMX,
    )
    body = only_partial(embedded, "embed")
    assert re.search(r'id="embed-similarity">1\.0000<', body)
    # The embedding's tokens priced from its YAML (0.02 per million tokens).
    tokens = int(re.search(r'id="embed-fig-tokens">(\d+)<', body).group(1))
    cost = re.search(r'id="embed-fig-cost">([\d.]+) USD<', body).group(1)
    assert Decimal(cost) == tokens * Decimal("0.02") * Decimal("0.000001")

    ranked = client.post(
        url("rerank", provider, sid),
        {"model": "rerank-1", "query": "capital of France", "docs": "Paris\nBananas"},
        **HTMX,
    )
    assert 'id="rerank-scores"' in only_partial(ranked, "rerank")

    flagged = client.post(
        url("moderate", provider, sid),
        {"model": "mod-1", "text": "something forbidden here"},
        **HTMX,
    )
    body = only_partial(flagged, "moderate")
    assert 'class="try-verdict flagged"' in body and "Flagged" in body
    trace = re.search(r'id="moderate-trace">(.*?)</pre>', body, re.S).group(1)
    assert "invoke_moderation" in trace and "good-key" not in trace
    assert "&quot;api_key&quot;: &quot;\\u2022\\u2022" in trace  # masked
    clean = client.post(
        url("moderate", provider, sid), {"model": "mod-1", "text": "hello"}, **HTMX
    )
    assert "Not flagged." in only_partial(clean, "moderate")

    heard = client.post(
        url("transcribe", provider, sid),
        {"model": "whisper-1", "audio": SimpleUploadedFile("a.mp3", FAKE_MP3)},
        **HTMX,
    )
    body = only_partial(heard, "transcribe")
    assert f"mock transcript of {len(FAKE_MP3)} bytes" in body
    sent = [r for r in playground.mock.requests if r.path == "/v1/audio/transcriptions"]
    assert sent[-1].body["file"] == FAKE_MP3

    spoken = client.post(
        url("speak", provider, sid),
        {"model": "speak-1", "voice": "echo", "text": "Hello there."},
        **HTMX,
    )
    body = only_partial(spoken, "speak")
    audio = re.search(r'<audio controls src="data:([^;]+);base64,([^"]+)"', body)
    assert audio and base64.b64decode(audio.group(2)) == FAKE_MP3
    sent = [r for r in playground.mock.requests if r.path == "/v1/audio/speech"]
    assert sent[-1].body["voice"] == "echo"
    assert sent[-1].body["input"] == "Hello there."

    # Without JavaScript: the whole page, with the posted panel's result.
    plain = client.post(
        url("moderate", provider, sid), {"model": "mod-1", "text": "forbidden"}
    )
    html = plain.content.decode()
    assert "<html" in html and 'class="try-verdict flagged"' in html
    assert ">Text to speech</h2>" in html


@pytest.mark.django_db(transaction=True)
def test_uploads_and_inputs_are_capped_with_a_message(
    bob_session: Any, playground: Any
) -> None:
    client, provider, sid = bob_session
    # A file of exactly the cap goes through, as hex, to the plugin and the mock.
    full = SimpleUploadedFile("full.mp3", FAKE_MP3.ljust(chat.MAX_AUDIO_BYTES, b"\0"))
    response = client.post(
        url("transcribe", provider, sid), {"model": "whisper-1", "audio": full}, **HTMX
    )
    body = only_partial(response, "transcribe")
    assert f"mock transcript of {chat.MAX_AUDIO_BYTES} bytes" in body
    assert "characters in all)" in body  # the hex is shortened in the trace
    assert len(body) < 100_000
    big = SimpleUploadedFile("big.mp3", b"\0" * (chat.MAX_AUDIO_BYTES + 1))
    response = client.post(
        url("transcribe", provider, sid), {"model": "whisper-1", "audio": big}, **HTMX
    )
    assert response.status_code == 413
    body = only_partial(response, "transcribe")
    size = f"{chat.MAX_AUDIO_BYTES + 1:,}"
    assert f"The audio file ({size} bytes) is over 3.0 MB, the most" in body

    odd = SimpleUploadedFile("a.ogg", FAKE_MP3)
    response = client.post(
        url("transcribe", provider, sid), {"model": "whisper-1", "audio": odd}
    )
    assert response.status_code == 415
    assert "Whisper 1 takes mp3, wav files, not a.ogg." in response.content.decode()

    missing = client.post(url("transcribe", provider, sid), {"model": "whisper-1"})
    assert missing.status_code == 400
    assert "Choose an audio file to transcribe." in missing.content.decode()

    voice = client.post(
        url("speak", provider, sid),
        {"model": "speak-1", "voice": "nobody", "text": "hi"},
        **HTMX,
    )
    assert voice.status_code == 400
    assert "Choose one of Speak 1&#x27;s voices." in voice.content.decode()

    chat_url = url("chat", provider, sid)
    data = {"model": "see-1", "message": "what is this?", "history": "[]"}
    huge = SimpleUploadedFile("a.png", PNG + b"\0" * chat.MAX_IMAGE_BYTES)
    response = client.post(chat_url, {**data, "image": huge})
    assert response.status_code == 413
    assert "is over 2.0 MB, the most the playground sends" in response.content.decode()
    fake = SimpleUploadedFile("a.png", b"not an image at all")
    response = client.post(chat_url, {**data, "image": fake})
    assert response.status_code == 415
    assert "a.png is not an image the playground sends" in response.content.decode()
    blind = SimpleUploadedFile("a.png", PNG)
    response = client.post(chat_url, {**data, "model": "chat-1", "image": blind})
    assert response.status_code == 400
    assert "CHAT-1 does not declare the vision feature" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_image_reaches_the_upstream_as_image_content(
    bob_session: Any, playground: Any
) -> None:
    client, provider, sid = bob_session
    page = client.get(reverse("playground:try", args=[provider.pk]) + f"?session={sid}")
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html and 'name="image"' in html
    assert '<option value="see-1" data-vision="1">' in html
    response = client.post(
        url("chat", provider, sid),
        {
            "model": "see-1",
            "message": "describe the picture",
            "history": "[]",
            "image": SimpleUploadedFile("dot.png", PNG),
        },
        HTTP_ACCEPT="text/event-stream",
    )
    done = sse_events(response)[-1][1]
    assert done["error"] is None, done["error"]
    assert "echo: describe the picture" in done["text"]
    # The plugin got Dify's image content; the mock got OpenAI's image_url part.
    sent = json.loads(done["trace"])["request"]["prompt_messages"][-1]["content"]
    assert sent[1]["type"] == "image" and sent[1]["mime_type"] == "image/png"
    upstream = [r for r in playground.mock.requests if r.path == "/v1/chat/completions"]
    parts = upstream[-1].body["messages"][-1]["content"]
    image = next(p for p in parts if p["type"] == "image_url")
    encoded = base64.b64encode(PNG).decode()
    assert image["image_url"]["url"] == f"data:image/png;base64,{encoded}"
    assert {"type": "text", "text": "describe the picture"} in parts

    # An image of exactly the cap reaches the upstream too.
    full = SimpleUploadedFile("full.png", PNG.ljust(chat.MAX_IMAGE_BYTES, b"\0"))
    page = client.post(
        url("chat", provider, sid),
        {"model": "see-1", "message": "and this?", "history": "[]", "image": full},
    )
    assert "echo: and this?" in page.content.decode()
    upstream = [r for r in playground.mock.requests if r.path == "/v1/chat/completions"]
    parts = upstream[-1].body["messages"][-1]["content"]
    image = next(p for p in parts if p["type"] == "image_url")
    assert len(image["image_url"]["url"]) > chat.MAX_IMAGE_BYTES * 4 // 3


@pytest.mark.django_db(transaction=True)
def test_a_viewer_is_refused_and_another_team_gets_404(
    bob_session: Any, personas: Any
) -> None:
    _, provider, sid = bob_session
    victor = login(Client(), personas.victor)
    data = {"model": "mod-1", "text": "forbidden"}
    refused = victor.post(url("moderate", provider, sid), data, **HTMX)
    assert refused.status_code == 403
    assert "A viewer may not run plugins" in only_partial(refused, "moderate")
    chat_refused = victor.post(
        url("chat", provider, sid), {"model": "chat-1", "message": "hi"}
    )
    assert chat_refused.status_code == 403
    mallory = login(Client(), personas.mallory)
    for name in ("moderate", "transcribe", "speak", "embed", "rerank", "chat"):
        assert mallory.post(url(name, provider, sid), data).status_code == 404
    # Another member of the team cannot use bob's session either.
    carol = login(Client(), personas.carol)
    assert carol.post(url("moderate", provider, sid), data).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_panel_answer_makes_as_many_queries_with_many_models(
    bob_session: Any, run_published: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from studio.builds import services
    from tests.factories import add_llm_models

    client, provider, sid = bob_session
    counts = []
    for more in (0, 20):
        if more:
            add_llm_models(provider, more)
            services.build_start(provider=provider, user=None)
            run_published()
            sid = session_id(start_newest(client, provider))
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                url("moderate", provider, sid), {"model": "mod-1", "text": "x"}, **HTMX
            )
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def start_newest(client: Client, provider: Any) -> Any:
    build = provider.builds.order_by("-pk").first()
    return client.post(
        reverse("playground:session-start", args=[provider.pk]),
        {
            "build": build.pk,
            "cred-api_key": "good-key",
            "cred-endpoint_url": "http://example.invalid/v1",
            "target": "mock",
        },
    )
