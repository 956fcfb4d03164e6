"""The import page in a real browser: the upload goes through imports.js."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.catalog.models import ImportJob, Provider
from studio.catalog.services import import_jobs
from tests.browser import chromium_page, log_in
from tests.catalog.import_inputs import plugin_files, zip_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server, settings, tmp_path) -> Iterator[object]:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "storage")},
        },
    }
    with chromium_page() as page:
        yield page


class TestImportInTheBrowser:
    def test_bob_uploads_a_zip_and_lands_on_its_import_report(
        self, page, live_server, personas, restored_corpus
    ):
        posts: list[dict[str, str]] = []
        page.on(
            "request",
            lambda r: posts.append(r.headers) if r.method == "POST" else None,
        )
        log_in(page, live_server.url, "bob")
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
        log_in(page, live_server.url, "bob")
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

    def test_a_large_upload_with_the_job_queue_down_says_so_in_place(
        self, page, live_server, personas, restored_corpus, dead_broker, monkeypatch
    ):
        monkeypatch.setattr(import_jobs, "INLINE_IMPORT_MAX_BYTES", 1024)
        log_in(page, live_server.url, "bob")
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
        error = page.locator("#import-form p.error")
        error.wait_for()
        assert error.inner_text().startswith(
            "The job queue (Redis) is unreachable; nothing was saved."
        )
        assert page.url == f"{live_server.url}/providers/import"
        assert ImportJob.objects.count() == 0 and Provider.objects.count() == 0
