"""The import page in a real browser: the upload goes through imports.js."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from studio.catalog.models import Provider
from tests.catalog.import_inputs import plugin_files, zip_of
from tests.core.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server, settings, tmp_path) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "storage")},
        },
    }
    if not CHROMIUM.exists():
        pytest.fail("the browser tests need /usr/bin/chromium")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        page = browser.new_context().new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


class TestImportInTheBrowser:
    def test_bob_uploads_a_zip_and_lands_on_its_import_report(
        self, page, live_server, personas, restored_corpus
    ):
        posts: list[dict[str, str]] = []
        page.on(
            "request",
            lambda r: posts.append(r.headers) if r.method == "POST" else None,
        )
        log_in(page, live_server, "bob")
        page.goto(f"{live_server.url}/providers/import")
        page.set_input_files(
            "#id_file",
            files=[
                {
                    "name": "deepseek.zip",
                    "mimeType": "application/zip",
                    "buffer": zip_of(plugin_files(restored_corpus)),
                }
            ],
        )
        page.click("#import-form button[type=submit]")
        page.wait_for_url("**/import-report")
        assert page.locator("h2", has_text="Import report").is_visible()
        assert "Models per type" in page.content()
        assert Provider.objects.get().plugin_id == "langgenius/deepseek"
        # The upload went through XMLHttpRequest (with its progress), not a form post.
        assert posts[-1].get("hx-request") == "true"

    def test_a_refused_upload_shows_its_error_in_place(
        self, page, live_server, personas
    ):
        log_in(page, live_server, "bob")
        page.goto(f"{live_server.url}/providers/import")
        page.set_input_files(
            "#id_file",
            files=[{"name": "junk.zip", "mimeType": "application/zip", "buffer": b"x"}],
        )
        page.click("#import-form button[type=submit]")
        error = page.locator("#file-errors")
        error.wait_for()
        assert "not a zip archive" in error.inner_text()
        assert page.url == f"{live_server.url}/providers/import"
        assert Provider.objects.count() == 0
