"""The Try it tab in Chromium: start, chat streamed, embedding, rerank, wrong key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.browser import (
    check_themes,
    chromium_page,
    log_in,
)


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=800) as page:
        yield page


@pytest.mark.django_db(transaction=True)
def test_trying_a_provider_in_the_browser(
    page: Any, live_server: Any, built_provider: Any, playground: Any, personas: Any
) -> None:
    base = live_server.url
    provider = built_provider
    log_in(page, base, "bob")
    page.goto(f"{base}/providers/{provider.pk}/")
    page.get_by_role("link", name="Try it").click()
    page.wait_for_url(re.compile(r"/try/$"))
    check_themes(page, "playground-start")

    # A wrong key: the plugin's own credential error, nothing started.
    page.fill("input[name=cred-api_key]", "sk-wrong")
    page.fill("input[name=cred-endpoint_url]", "http://example.invalid/v1")
    page.get_by_role("button", name="Start session").click()
    notice = page.locator("#try-notice")
    notice.wait_for()
    assert "The plugin refused the credentials" in notice.inner_text()
    assert "The API key was refused." in notice.inner_text()
    wrong = notice.inner_text()

    page.fill("input[name=cred-api_key]", "good-key")
    page.get_by_role("button", name="Start session").click()
    page.get_by_role("heading", name="Chat").wait_for()
    network = page.locator("#try-network").inner_text()
    assert network == "Network: only through the studio's egress proxy."

    page.fill("#chat-message", "alpha beta gamma delta epsilon")
    page.get_by_role("button", name="Send").click()
    page.locator("#fig-cost").wait_for()
    updates = int(page.locator("#try-log").get_attribute("data-updates") or 0)
    assert updates >= 3
    answer = page.locator(".try-msg.assistant").last.inner_text()
    assert "echo: alpha beta gamma delta epsilon" in answer
    tokens = page.locator("#fig-tokens").inner_text()
    prompt, completion = (int(n) for n in tokens.split(" / "))
    expected = Decimal("0.0000005") * prompt + Decimal("0.0000015") * completion
    cost = page.locator("#fig-cost").inner_text()
    assert Decimal(cost.split()[0]) == expected and cost.endswith("USD")
    check_themes(page, "playground-chat")

    page.fill("#embed-1", "the same words")
    page.fill("#embed-2", "other words entirely")
    page.get_by_role("button", name="Embed and compare").click()
    page.locator("#embed-similarity").wait_for()
    assert re.fullmatch(r"-?\d\.\d{4}", page.locator("#embed-similarity").inner_text())

    page.fill("#rerank-query", "capital of France")
    page.fill("#rerank-docs", "Paris is the capital of France.\nBananas are yellow.")
    page.get_by_role("button", name="Rerank").click()
    page.locator("#rerank-scores").wait_for()
    assert page.locator("#rerank-scores tbody tr").count() == 2
    check_themes(page, "playground-embed-rerank")
    print("wrong key:", wrong)

    page.get_by_role("button", name="End session").click()
    page.get_by_role("heading", name="Start a session").wait_for()
    assert playground.manager.sessions() == []


@pytest.mark.django_db(transaction=True)
def test_the_panels_keep_their_results_side_by_side(
    page: Any,
    live_server: Any,
    all_types_provider: Any,
    playground: Any,
    personas: Any,
    tmp_path: Any,
) -> None:
    from studio.builds.mock_upstream import FAKE_MP3

    base = live_server.url
    provider = all_types_provider
    log_in(page, base, "bob")
    page.goto(f"{base}/providers/{provider.pk}/try/")
    page.fill("input[name=cred-api_key]", "good-key")
    page.fill("input[name=cred-endpoint_url]", "http://example.invalid/v1")
    page.get_by_role("button", name="Start session").click()
    page.get_by_role("heading", name="Moderation").wait_for()
    url = page.url

    # The image field shows only for a model that declares vision.
    assert page.locator("#chat-image-field").is_hidden()
    page.select_option("#chat-model", "see-1")
    assert page.locator("#chat-image-field").is_visible()
    page.select_option("#chat-model", "chat-1")

    page.fill("#embed-1", "the same words")
    page.fill("#embed-2", "the same words")
    page.get_by_role("button", name="Embed and compare").click()
    page.locator("#embed-similarity").wait_for()

    page.fill("#rerank-query", "capital of France")
    page.fill("#rerank-docs", "Paris is the capital of France.\nBananas are yellow.")
    page.get_by_role("button", name="Rerank").click()
    page.locator("#rerank-scores").wait_for()

    page.fill("#moderate-text", "a forbidden thing")
    page.get_by_role("button", name="Moderate").click()
    page.locator("#moderate-verdict").wait_for()

    audio = tmp_path / "hello.mp3"
    audio.write_bytes(FAKE_MP3)
    page.set_input_files("#transcribe-audio", str(audio))
    page.get_by_role("button", name="Transcribe").click()
    page.locator("#transcript").wait_for()

    page.fill("#speak-voice", "echo")
    page.fill("#speak-text", "Hello there.")
    page.get_by_role("button", name="Read aloud").click()
    page.locator("#speak-audio").wait_for()

    # No full reload: every panel's result is still on the page.
    assert page.url == url
    assert page.locator("#embed-similarity").inner_text() == "1.0000"
    assert page.locator("#rerank-scores tbody tr").count() == 2
    assert "Flagged" in page.locator("#moderate-verdict").inner_text()
    transcript = page.locator("#transcript").inner_text()
    assert transcript == f"mock transcript of {len(FAKE_MP3)} bytes"
    src = page.locator("#speak-audio").get_attribute("src") or ""
    assert src.startswith("data:audio/")

    # A refusal shows in its own panel, the others stay.
    big = tmp_path / "big.mp3"
    big.write_bytes(b"\0" * (3 * 1024 * 1024 + 1))
    page.set_input_files("#transcribe-audio", str(big))
    page.get_by_role("button", name="Transcribe").click()
    page.locator("#transcribe-problem").wait_for()
    assert "is over 3.0 MB" in page.locator("#transcribe-problem").inner_text()
    assert page.locator("#moderate-verdict").is_visible()

    page.fill("#chat-message", "alpha beta gamma")
    page.get_by_role("button", name="Send").click()
    page.locator("#fig-cost").wait_for()
    assert page.locator("#embed-similarity").is_visible()
    page.locator("#moderate-title").scroll_into_view_if_needed()
    check_themes(page, "playground-panels")
