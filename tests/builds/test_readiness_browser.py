"""The Marketplace readiness panel in a real browser, light and dark: it fits
the window, names its button, re-runs with htmx and fills in by polling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from studio.builds import services
from studio.builds.models import Build, MarketplaceCheck
from tests.browser import chromium_page, log_in, screenshot
from tests.builds.conftest import Published, broker, run_published, storage
from tests.catalog.conftest import Personas
from tests.factories import NO_MARKETPLACE_FIELDS, make_provider
from tests.pluginfmt.echo_plugin import SDK_CACHE

__all__ = ["broker", "run_published", "storage"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FITS = """() => [document.documentElement, document.querySelector('main'),
    document.querySelector('#marketplace-readiness')].every(
    (el) => el.scrollWidth <= el.clientWidth)"""
UNNAMED_BUTTONS = """() => [...document.querySelectorAll('button')].filter(
    (b) => !(b.textContent.trim() || b.getAttribute('aria-label'))).length"""


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=800) as page:
        yield page


def run_checks(published: Published) -> None:
    while published.checks:
        services.marketplace_check_run(**published.checks.pop(0))


class TestReadinessPanel:
    @pytest.mark.parametrize("scheme", ["light", "dark"])
    def test_the_panel_fits_names_its_button_and_reruns_with_htmx(
        self,
        page: Any,
        live_server: Any,
        personas: Personas,
        broker: Published,
        run_published: Any,
        settings: Any,
        scheme: str,
    ) -> None:
        settings.MARKETPLACE_CHECK_AFTER_BUILD = True
        settings.SMOKE_VENV_DIR = SDK_CACHE
        provider = make_provider(personas.team, models=2, **NO_MARKETPLACE_FIELDS)
        build = services.build_start(provider=provider, user=personas.bob, smoke=False)
        run_published()
        build.refresh_from_db()
        assert build.status == Build.Status.SUCCEEDED, build.error
        run_checks(broker)

        page.emulate_media(color_scheme=scheme)
        log_in(page, live_server.url, "bob")
        page.goto(f"{live_server.url}/builds/{build.pk}/")
        panel = page.locator("#marketplace-readiness")
        panel.get_by_text("4 blocking").wait_for()
        assert panel.get_by_text("marketplace.icon-studio-default").count() == 1
        assert page.evaluate(FITS) is True
        assert page.evaluate(UNNAMED_BUTTONS) == 0
        page.locator("details.readiness-advisory summary").click()
        panel.scroll_into_view_if_needed()
        screenshot(page, f"build-marketplace-readiness-{scheme}")

        page.get_by_role("button", name="Check again").click()
        panel.get_by_text("Queued for a worker").wait_for()
        assert MarketplaceCheck.objects.get(build=build).attempt == 2
        run_checks(broker)
        # The panel polls and fills in again without a reload.
        panel.get_by_text("4 blocking").wait_for(timeout=10_000)
        assert page.evaluate(FITS) is True
