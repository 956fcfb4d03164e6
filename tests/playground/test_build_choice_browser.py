"""In Chromium: Build the draft now (progress polled, the build offered), a
model of one's own (model credentials), and a team's debugging hosts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import check_themes, chromium_page, log_in
from tests.factories import add_llm_models
from tests.playground.test_model_credentials import custom_provider

__all__ = ["custom_provider"]


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=800) as page:
        yield page


@pytest.mark.django_db(transaction=True)
def test_build_the_draft_now_in_the_browser(
    page: Any, live_server: Any, built_provider: Any, personas: Any, run_published: Any
) -> None:
    base = live_server.url
    add_llm_models(built_provider, 1)
    log_in(page, base, "bob")
    page.goto(f"{base}/providers/{built_provider.pk}/try/")
    assert "The draft has changed since this build" in page.inner_text("#try-build")
    page.get_by_role("button", name="Build the draft now").click()
    page.locator("#try-pending").wait_for()
    queued = built_provider.builds.latest("pk")
    assert f"Build #{queued.pk} is queued" in page.inner_text("#try-pending")
    check_themes(page, "playground-build-now")
    # Polls while the build waits swap only the notice: what is typed stays.
    page.fill("input[name=cred-api_key]", "typed-while-waiting")
    with page.expect_response(lambda r: "/try/" in r.url and r.request.method == "GET"):
        pass
    page.wait_for_timeout(300)  # let htmx swap the answer in
    assert page.input_value("input[name=cred-api_key]") == "typed-while-waiting"
    run_published()
    # The page polls itself: the new build is offered without a reload.
    page.locator("#try-pending").wait_for(state="detached", timeout=10_000)
    assert f"Trying build #{queued.pk}" in page.inner_text("#try-which")
    assert page.locator("#try-draft-differs").count() == 0
    assert page.locator("input[name=build]").get_attribute("value") == str(queued.pk)


@pytest.mark.django_db(transaction=True)
def test_a_model_of_ones_own_in_the_browser(
    page: Any, live_server: Any, custom_provider: Any, playground: Any, personas: Any
) -> None:
    base = live_server.url
    log_in(page, base, "bob")
    page.goto(f"{base}/providers/{custom_provider.pk}/try/")
    page.get_by_role("link", name="A model of your own (model credentials)").click()
    page.wait_for_url(re.compile(r"form=model"))
    page.fill("#try-model-name", "my-own-model")
    page.fill("input[name=cred-api_key]", "good-key")
    page.fill("input[name=cred-endpoint_url]", "http://example.invalid/v1")
    # A choice re-renders the form as the live preview does (htmx).
    # Each re-render answers before the next step, and a redrawn form does
    # not echo the typed key back: wait for the swap (the key field empty)
    # and for htmx to have settled before the next choice or typing again,
    # or a late swap would wipe what was typed.
    for mode in ("completion", "chat"):
        with page.expect_response(lambda r: "/try/form" in r.url):
            page.select_option("select[name=cred-mode]", mode)
        page.wait_for_function(
            "document.querySelector('input[name=cred-api_key]').value === ''"
            f" && document.querySelector('select[name=cred-mode]').value === '{mode}'"
            " && !document.querySelector('.htmx-settling, .htmx-swapping')"
        )
    page.fill("#try-model-name", "my-own-model")
    page.fill("input[name=cred-api_key]", "good-key")
    check_themes(page, "playground-model-credentials")
    page.get_by_role("button", name="Start session").click()
    page.get_by_role("heading", name="Chat").wait_for()
    which = " ".join(page.inner_text("#try-session-which").split())
    assert "with your own llm model my-own-model and its model credentials" in which
    page.fill("#chat-message", "alpha beta gamma")
    page.get_by_role("button", name="Send").click()
    page.locator("#fig-cost, #fig-tokens").first.wait_for()
    answer = page.locator(".try-msg.assistant").last.inner_text()
    assert "alpha beta gamma" in answer


@pytest.mark.django_db(transaction=True)
def test_a_teams_debugging_hosts_in_the_browser(
    page: Any, live_server: Any, personas: Any
) -> None:
    base = live_server.url
    log_in(page, base, "alice")
    page.goto(f"{base}/teams/{personas.team.slug}/members/")
    page.get_by_role("link", name="Debugging hosts").click()
    page.fill("#debug-hosts", "dify.corp.internal:5003\n10.20.0.0/16\n10.0.0.0/33")
    page.get_by_role("button", name="Save debugging hosts").click()
    page.locator("#debug-hosts-error").wait_for()
    assert "“10.0.0.0/33” is not a CIDR network" in page.inner_text(
        "#debug-hosts-error"
    )
    check_themes(page, "team-debug-hosts")
    page.fill("#debug-hosts", "dify.corp.internal:5003\n10.20.0.0/16")
    page.get_by_role("button", name="Save debugging hosts").click()
    page.get_by_text("Saved: 2 debugging hosts").wait_for()
