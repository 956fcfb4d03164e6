"""Issue 13's review pages in a real browser at 1280 x 800, light and dark: an
imported 104-model plugin, one price changed in the model form, the Review tab
and the revision page showing that one change; filters and comments through
htmx without a full reload; no horizontal scrolling; every button named."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.catalog.models import Provider, ProviderModel
from studio.catalog.services import imports
from studio.reviews.models import Comment
from tests.browser import chromium_page, log_in, screenshot
from tests.reviews.conftest import Personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What overflows sideways, if anything: the page, and the containers a wide
# table or line would push out.
OVERFLOW = """() => {
  const out = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) out.push(`page ${root.scrollWidth}`);
  for (const el of document.querySelectorAll('main, .card, .diff-nav, .diff-body')) {
    if (el.scrollWidth > el.clientWidth + 1)
      out.push(`${el.className} ${el.scrollWidth}>${el.clientWidth}`);
  }
  return out;
}"""
# Buttons without an accessible name (aria-label, aria-labelledby, text, title).
UNNAMED_BUTTONS = """() => [...document.querySelectorAll('button')].filter(b => {
  const by = (b.getAttribute('aria-labelledby') || '').split(/\\s+/)
    .map(id => document.getElementById(id)?.textContent || '').join('');
  const name = (b.getAttribute('aria-label') || by || b.textContent || b.title || '');
  return !name.trim();
}).map(b => b.outerHTML.slice(0, 120))"""


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=800) as page:
        yield page


def check_layout(page: Any) -> None:
    assert page.evaluate(OVERFLOW) == []
    assert page.evaluate(UNNAMED_BUTTONS) == []


def both_themes(page: Any, name: str) -> None:
    """Check and screenshot the page in the light theme, then the dark one."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        check_layout(page)
        screenshot(page, f"{name}-{scheme}")
    page.emulate_media(color_scheme="light")


class TestReviewPages:
    def test_one_price_in_a_big_imported_plugin(
        self,
        page: Any,
        live_server: Any,
        personas: Personas,
        corpus_copy: Any,
    ) -> None:
        base = live_server.url
        report = imports.import_path(
            path=Path(corpus_copy("tongyi")),
            team_slug=personas.team.slug,
            user=personas.bob,
        )
        provider = Provider.objects.get(pk=report.provider_id)
        model = (
            ProviderModel.objects.filter(
                provider=provider, model_type="llm", spec__pricing__isnull=False
            )
            .order_by("path")
            .first()
        )
        assert model is not None
        reviews = f"{base}/providers/{provider.pk}/reviews/"

        # Bob changes one price in the model form.
        log_in(page, base, "bob")
        page.goto(f"{base}/providers/{provider.pk}/models/{model.pk}/edit")
        page.fill("#id_pricing_input", "0.0123")
        page.click(".form-actions button[name=_save]")
        page.wait_for_url(f"{base}/providers/{provider.pk}/models/#m-*")

        # The Review tab: one notable change against the imported baseline.
        page.goto(reviews)
        tab = page.locator("#submit")
        assert "compared with the baseline" in tab.inner_text()
        assert "0 breaking, 1 notable, 0 cosmetic" in tab.inner_text()
        assert page.locator("ul.draft-changes li").count() == 1
        both_themes(page, "reviews-tab")

        page.fill("#id_message", "Cheaper input for one model")
        page.click("#submit button[type=submit]")
        page.wait_for_url(f"{base}/providers/{provider.pk}/revisions/1/")

        # Carol reads the revision: one notable change, counts as links.
        page.context.clear_cookies()
        log_in(page, base, "carol")
        page.goto(f"{base}/providers/{provider.pk}/revisions/1/")
        assert page.locator("li.change").count() == 1
        assert page.locator("li.change-notable").count() == 1
        assert page.locator(".level-link-notable .count").inner_text() == "1"
        assert page.locator(".level-link-breaking .count").inner_text() == "0"
        both_themes(page, "reviews-revision")

        # Filters through htmx: the page is not reloaded, the URL follows.
        page.evaluate("window.__kept = 'yes'")
        page.click(".level-link-breaking")
        page.wait_for_url("**/revisions/1/?level=breaking")
        page.wait_for_selector("text=No change matches these filters")
        assert page.evaluate("window.__kept") == "yes"
        page.click(".level-link-notable")
        page.wait_for_url("**/revisions/1/?level=notable")
        page.fill("#filter-q", model.model)
        page.click(".diff-filter button[type=submit]")
        page.wait_for_url(lambda url: "q=" in url and "level=notable" in url)
        assert page.locator("li.change-notable").count() == 1
        assert page.evaluate("window.__kept") == "yes"

        # A comment pinned to the change, through the Comment link.
        page.click("li.change .comment-link")
        page.wait_for_selector("li.change .comment-here textarea")
        assert page.evaluate("window.__kept") == "yes"
        page.fill("li.change .comment-here textarea", "Is this the new list price?")
        page.click("li.change .comment-here button[type=submit]")
        page.wait_for_selector(
            ".diff-group .comment >> text=Is this the new list price?"
        )
        comment = Comment.objects.get()
        assert comment.anchor[:3] == ["model", "llm", model.model]
        assert "level=notable" in page.url
        check_layout(page)

        # The text view: one file, folded per file, with its jump list.
        page.check("input[name=view][value=text]")
        page.click("form.compare button[type=submit]")
        page.wait_for_selector("details.textdiff-file")
        assert page.locator("details.textdiff-file").count() == 1
        assert "view=text" in page.url
        both_themes(page, "reviews-revision-text")

        # Everything as new (compared with nothing): one line per model.
        page.select_option("#compare-base", "none")
        page.check("input[name=view][value=changes]")
        page.click("form.compare button[type=submit]")
        page.wait_for_selector("li.model-line")
        # The filters came along; clearing them shows every model.
        page.click(".diff-filter a:has-text('Clear filters')")
        page.wait_for_url(lambda url: "q=" not in url and "base=none" in url)
        assert page.locator("li.model-line").count() >= 100
        first = page.locator("li.model-line details").first
        first.locator("summary").click()
        assert first.locator("pre.model-content").is_visible()
        check_layout(page)
        page.set_viewport_size({"width": 1280, "height": 800})
        page.emulate_media(color_scheme="light")
        page.screenshot(path=str(screenshot_path("reviews-revision-everything")))


def screenshot_path(name: str) -> Path:
    from tests.browser import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
