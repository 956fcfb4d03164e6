"""The Try it tab in Chromium: start, chat streamed, embedding, rerank, wrong key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.browser import (
    chromium_page,
    log_in,
    nameless_buttons,
    screenshot,
    wide_elements,
)


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=800) as page:
        yield page


def check(page: Any, name: str) -> None:
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert wide_elements(page) == [], scheme
        assert nameless_buttons(page) == [], scheme
        screenshot(page, f"{name}-{scheme}")


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
    check(page, "playground-start")

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
    check(page, "playground-chat")

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
    check(page, "playground-embed-rerank")
    print("wrong key:", wrong)

    page.get_by_role("button", name="End session").click()
    page.get_by_role("heading", name="Start a session").wait_for()
    assert playground.manager.sessions() == []
