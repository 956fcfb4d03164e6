"""The studio in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser import chromium_page
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server) -> Iterator[object]:
    with chromium_page() as page:
        yield page


class TestLoginInTheBrowser:
    def test_alice_logs_in_and_sees_the_home_page(self, page, live_server) -> None:
        make_user("alice")
        page.goto(f"{live_server.url}/")
        assert page.url.startswith(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        assert page.locator("h1").inner_text() == "Welcome, alice"
        assert page.locator("nav a", has_text="Home").count() == 1

    def test_a_wrong_password_keeps_the_user_on_the_login_page(
        self, page, live_server
    ) -> None:
        make_user("alice")
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", "wrong")
        page.click("button[type=submit]")
        assert page.locator("[role=alert]").is_visible()
        assert "/accounts/login/" in page.url
