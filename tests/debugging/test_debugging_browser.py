"""Debug in Dify in a real browser at 1280x800, light and dark: the start form,
a refused key arriving through htmx polling, a connected session's requests and
log; nothing scrolls sideways and every button has a name."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from studio.builds.models import Build
from studio.debugging import services
from studio.debugging.models import DebugSession
from tests.browser import (
    check_themes,
    chromium_page,
    log_in,
)
from tests.debugging.fake_daemon import FakeDaemon

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=800) as page:
        yield page


class TestDebuggingInTheBrowser:
    def test_a_wrong_key_shows_the_refusal_and_a_session_shows_its_requests(
        self,
        page: Any,
        live_server: Any,
        personas: Any,
        build: Build,
        sent: list[dict[str, Any]],
        settings: Any,
        sdk_python: Any,
    ) -> None:
        base = live_server.url
        provider = build.provider
        log_in(page, base, "bob")
        page.goto(f"{base}/providers/{provider.pk}/builds/")
        page.get_by_role("link", name="Debug in Dify").click()
        page.fill("#id_address", "10.0.0.1:5003")
        page.fill("#id_key", "whatever")
        page.get_by_role("button", name="Start debugging").click()
        page.get_by_text("is a private address").wait_for()
        check_themes(page, "debug-start-refused-address")

        settings.DEBUG_EGRESS_ALLOW = ["127.0.0.1"]
        with FakeDaemon("the-right-key") as daemon:
            page.fill("#id_address", f"127.0.0.1:{daemon.port}")
            page.fill("#id_key", "a-wrong-key")
            page.get_by_role("button", name="Start debugging").click()
            page.get_by_text("Waiting for a worker").wait_for()
            session = DebugSession.objects.get()
            worker = threading.Thread(
                target=services.debug_session_run, kwargs={"session_id": session.pk}
            )
            worker.start()
            # The page polls: the refusal arrives without a reload.
            page.get_by_text("refused the key").wait_for(timeout=30_000)
            worker.join(30)
        assert page.get_by_role("button", name="Stop").count() == 0
        check_themes(page, "debug-session-refused")

        connected = DebugSession.objects.create(
            build=build,
            created_by=personas.bob,
            host="dify.example.com",
            port=5003,
            state=DebugSession.State.CONNECTED,
            requests=[
                {
                    "action": "validate_provider_credentials",
                    "model": "",
                    "type": "model",
                },
                {"action": "invoke_llm", "model": "gw-chat", "type": "model"},
            ],
            log="\n".join(
                ["INFO: Connected to dify.example.com:5003"]
                + [f"request: invoke_llm gw-chat ({i})" for i in range(40)]
                + ["INFO: " + "a-very-long-log-line-without-spaces-" * 20]
            ),
        )
        page.goto(f"{base}/debug/{connected.pk}/")
        page.get_by_role("button", name="Stop").wait_for()
        check_themes(page, "debug-session-connected")
        page.get_by_role("button", name="Stop").click()
        page.get_by_text("Stopping: the worker ends").wait_for(timeout=5_000)
        connected.refresh_from_db()
        assert connected.stop_requested
