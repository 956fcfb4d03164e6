"""Release notes and the submission kit in a real browser, light and dark: the
form filled with the generated notes, Regenerate, an edit kept with the
release, the Releases list showing them, both downloads."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.builds.models import Build
from studio.reviews import services
from tests.browser import (
    chromium_page,
    log_in,
    nameless_buttons,
    screenshot,
    wide_elements,
)
from tests.factories import make_provider
from tests.reviews.conftest import (
    Personas,
    Published,
    approve,
    bump,
    edit,
    set_price,
    submit,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GENERATED = "the input price rose from 0.5 to 0.75 USD per 1M tokens"
THANKS = "Thanks to the reviewers."


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=800) as page:
        yield page


def fits(page: Any) -> None:
    assert wide_elements(page) == []
    assert nameless_buttons(page) == []


def both_themes(page: Any, name: str) -> None:
    """Screenshots in the light and the dark theme, each fitting the window."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        fits(page)
        screenshot(page, f"{name}-{scheme}")
    page.emulate_media(color_scheme="light")


class TestReleaseNotesInTheBrowser:
    def test_notes_are_generated_edited_released_shown_and_downloaded(
        self,
        page: Any,
        live_server: Any,
        personas: Personas,
        broker: Published,
        run_published: Any,
        storage: Path,
    ) -> None:
        base = live_server.url
        provider = make_provider(personas.team, models=2)
        first = approve(submit(provider, personas.bob, "First cut"), personas.carol)
        services.release_start(revision=first, user=personas.alice, smoke=False)
        run_published()
        edit(provider, set_price("0.75"))
        edit(provider, bump("0.1.0"))
        second = approve(submit(provider, personas.bob, "Dearer"), personas.carol)

        # Bob opens the approved r2: the form holds the generated notes.
        log_in(page, base, "bob")
        page.goto(f"{base}{second.get_absolute_url()}")
        notes = page.locator("#id_notes")
        assert GENERATED in notes.input_value()
        assert "Changes since 0.0.1, the previous release (r1)." in (
            notes.input_value()
        )
        # An edit, then Regenerate: the generated notes come back (htmx swap).
        notes.fill("scratch")
        page.click("#decision button:has-text('Regenerate notes')")
        page.wait_for_function(
            "() => document.querySelector('#id_notes').value.includes('0.75')"
        )
        assert "scratch" not in page.locator("#id_notes").input_value()
        generated = page.locator("#id_notes").input_value()
        page.locator("#id_notes").fill(f"{generated.rstrip()}\n\n{THANKS}\n")
        page.locator("#decision").scroll_into_view_if_needed()
        both_themes(page, "release-notes-form")

        # The release keeps the edited notes.
        page.click("#decision button:has-text('Build release')")
        page.wait_for_url(f"{base}/builds/*/")
        run_published()
        build = Build.objects.get(kind=Build.Kind.RELEASE, revision_label="r2")
        assert build.status == Build.Status.SUCCEEDED, build.error
        assert build.release_notes.endswith(f"{GENERATED}.\n\n{THANKS}\n")

        # The Releases list shows them, newest open.
        page.goto(f"{base}/providers/{provider.pk}/reviews/#releases")
        newest = page.locator("#releases details.release-notes").first
        assert newest.get_attribute("open") is not None
        text = newest.inner_text()
        assert "Release notes of 0.1.0" in text and THANKS in text
        assert GENERATED in text
        both_themes(page, "releases-list")

        with page.expect_download() as markdown:
            newest.locator("a:has-text('Download as Markdown')").click()
        assert markdown.value.suggested_filename == "gateway-0.1.0-release-notes.md"
        saved = Path(markdown.value.path()).read_text()
        assert saved.startswith("## Release Notes\n\n### 0.1.0\n")

        with page.expect_download() as kit:
            page.locator("#releases a:has-text('Submission kit')").first.click()
        assert kit.value.suggested_filename == "gateway-0.1.0-submission-kit.zip"
        names = zipfile.ZipFile(
            io.BytesIO(Path(kit.value.path()).read_bytes())
        ).namelist()
        assert names[0] == f"{provider.author}/gateway/gateway-0.1.0.difypkg"
