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
        page.click("main button[type=submit]")
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
        page.click("main button[type=submit]")
        assert page.locator("[role=alert]").is_visible()
        assert "/accounts/login/" in page.url


class TestSettingsMenuInTheBrowser:
    def test_the_menu_opens_closes_and_switches_the_theme(
        self, page, live_server
    ) -> None:
        from tests.browser import log_in, screenshot
        from tests.factories import make_team

        make_team("Acme", owner=make_user("alice"))
        log_in(page, live_server.url, "alice")
        menu = page.locator("details.settings-menu")
        menu.locator("summary").click()
        assert page.get_by_role("link", name="API tokens").is_visible()
        assert page.get_by_role("link", name="Signing keys").is_visible()
        screenshot(page, "settings-menu-light")
        page.keyboard.press("Escape")
        assert not page.get_by_role("link", name="API tokens").is_visible()

        menu.locator("summary").click()
        page.get_by_role("button", name="Dark").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("data-theme") == "dark"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 20, 26)"
        menu.locator("summary").click()
        screenshot(page, "settings-menu-dark")
        # A click elsewhere closes it.
        page.locator("h1").click()
        assert not page.get_by_role("link", name="API tokens").is_visible()
