"""The Marketplace fields in a real browser: new provider, General edit, both themes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from studio.catalog import services
from studio.catalog.models import Provider
from tests.browser import chromium_page, log_in, screenshot
from tests.factories import make_team, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPO = "https://github.com/acme/gateway"


@pytest.fixture
def page(live_server) -> Iterator[object]:
    with chromium_page(width=1280, height=800) as page:
        yield page


def fits(page) -> bool:
    """No horizontal scrolling, of the page or of its main container."""
    return page.evaluate(
        "() => [document.documentElement, document.querySelector('main')]"
        ".every(e => e.scrollWidth <= e.clientWidth)"
    )


def unnamed_buttons(page) -> list[str]:
    return page.evaluate(
        "() => [...document.querySelectorAll('button')]"
        ".filter(b => !(b.textContent.trim() || b.getAttribute('aria-label')))"
        ".map(b => b.outerHTML)"
    )


class TestMarketplaceFieldsInTheBrowser:
    def test_an_author_fills_them_in_at_creation_and_fixes_one_in_general(
        self, page, live_server
    ) -> None:
        base = live_server.url
        make_team("Acme", owner=make_user("alice"))
        log_in(page, base, "alice")

        page.goto(f"{base}/providers/new")
        assert page.input_value("#id_privacy") == "PRIVACY.md"
        page.fill("#id_name", "gateway")
        page.fill("#id_author", "acme")
        page.fill("#id_label_en_US", "Gateway")
        page.fill("#id_description_en_US", "Our own model gateway")
        page.fill("#id_repo", REPO)
        page.fill("#id_contact", "plugins@acme.example")
        assert fits(page) and unnamed_buttons(page) == []
        screenshot(page, "marketplace-provider-new")
        page.emulate_media(color_scheme="dark")
        assert fits(page)
        screenshot(page, "marketplace-provider-new-dark")
        page.emulate_media(color_scheme="light")
        page.click("#provider-new button[type=submit]")
        page.wait_for_url(f"{base}/providers/*/")
        provider = Provider.objects.get(name="gateway")
        assert page.locator("dd", has_text=REPO).count() == 1

        page.click("text=Edit general")
        page.wait_for_selector("#marketplace-fields")
        page.fill("#id_contact", "plugins at acme")
        page.fill("#id_privacy", "../PRIVACY.md")
        page.click("#general-form button[type=submit]")
        page.wait_for_selector("#contact-errors")
        assert "one email address" in page.inner_text("#contact-errors")
        assert "inside the plugin" in page.inner_text("#privacy-errors")
        assert fits(page) and unnamed_buttons(page) == []
        screenshot(page, "marketplace-general-errors")
        page.emulate_media(color_scheme="dark")
        assert fits(page)
        screenshot(page, "marketplace-general-errors-dark")
        page.emulate_media(color_scheme="light")

        page.fill("#id_contact", "ai@acme.example")
        page.fill("#id_privacy", "legal/privacy.md")
        page.click("#general-form button[type=submit]")
        page.wait_for_url(f"{base}/providers/{provider.pk}/")
        files = services.provider_files(provider)
        manifest = yaml.safe_load(files["manifest.yaml"])
        assert (manifest["contact"], manifest["privacy"]) == (
            "ai@acme.example",
            "legal/privacy.md",
        )
        assert "legal/privacy.md" in files
        screenshot(page, "marketplace-general-saved")
