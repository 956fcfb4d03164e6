"""Shared pieces of the browser tests: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


@contextmanager
def chromium_page(*, width: int = 1280, height: int = 900) -> Iterator[object]:
    """A fresh page in a headless system Chromium."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise RuntimeError(
            "the browser tests need /usr/bin/chromium (apt-get install chromium)"
        )
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # test makes around it are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            page = browser.new_context(
                viewport={"width": width, "height": height}
            ).new_page()
            page.set_default_timeout(15_000)
            yield page
            # ORM calls made while Playwright's loop runs get their own
            # connections (asgiref context); close them here, in that context,
            # or PostgreSQL refuses to drop the test database afterwards.
            from django.db import connections

            connections.close_all()
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def log_in(page, base_url: str, username: str) -> None:
    """Log in through the login page."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under var/screenshots/ (a CI artifact)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# Sideways scrolling of the page and of the containers a page is built from (a
# wide table inside a card scrolls the card, not the window). Code blocks and
# previews scroll on purpose.
_WIDE_JS = """() => {
  const wide = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    wide.push(`html ${root.scrollWidth}>${root.clientWidth}`);
  }
  const boxes = 'main, .topbar, main .card, main section, main form, main table';
  for (const el of document.querySelectorAll(boxes)) {
    if (el.closest('pre, .source-wrap, .textdiff, .preview-pane')) continue;
    if (!el.getClientRects().length) continue;  // not rendered
    if (el.scrollWidth > el.clientWidth + 1) {
      const id = el.id ? '#' + el.id : '';
      const cls = el.className ? '.' + String(el.className).split(' ').join('.') : '';
      const name = el.tagName.toLowerCase() + id + cls;
      wide.push(`${name} ${el.scrollWidth}>${el.clientWidth}`);
    }
  }
  return wide;
}"""

# A button's accessible name, in short as a screen reader computes it: its
# aria-labelledby target, its aria-label, its text, its value, its title.
_NAMELESS_JS = """() => {
  const nameless = [];
  const buttons = 'button, [role=button], input[type=submit], input[type=button]';
  for (const b of document.querySelectorAll(buttons)) {
    const ids = (b.getAttribute('aria-labelledby') || '').split(' ').filter(Boolean);
    const labelled = ids.map(id => document.getElementById(id))
      .filter(Boolean).map(e => e.textContent).join(' ');
    const name = labelled || b.getAttribute('aria-label') || b.textContent
      || b.value || b.title || '';
    if (!name.trim()) nameless.push(b.outerHTML.slice(0, 160));
  }
  return nameless;
}"""


def wide_elements(page) -> list[str]:
    """What scrolls sideways on the page (empty when everything fits)."""
    return page.evaluate(_WIDE_JS)


def nameless_buttons(page) -> list[str]:
    """The buttons of the page without an accessible name (hidden ones too)."""
    return page.evaluate(_NAMELESS_JS)


def check_themes(page, name: str) -> None:
    """In light then dark (left light): nothing scrolls sideways, every button
    has a name, and a screenshot `NAME-light` / `NAME-dark` is saved."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert wide_elements(page) == [], scheme
        assert nameless_buttons(page) == [], scheme
        screenshot(page, f"{name}-{scheme}")
    page.emulate_media(color_scheme="light")
