"""Issue 15's acceptance in a real browser: a custom-runtime provider whose
LLM `_invoke` is written in the code editor, refused while it has a syntax
error, saved once fixed, built, and smoke-tested under the real SDK against
the mock upstream."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.builds.models import Build
from studio.catalog import services
from studio.catalog.models import Provider
from tests.browser import (
    chromium_page,
    log_in,
    nameless_buttons,
    screenshot,
    wide_elements,
)
from tests.builds.conftest import SDK_CACHE, broker, run_published, storage
from tests.catalog.editor_inputs import (
    with_credential_fields,
    with_syntax_error,
    written_llm,
)
from tests.factories import make_provider, make_team, make_user

__all__ = ["broker", "run_published", "storage"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LLM = "models/llm/llm.py"


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=800) as page:
        yield page


@pytest.fixture(autouse=True)
def _sdk(sdk_python: Path) -> None:
    """The build's smoke test reuses the session's cached SDK virtualenv."""


def text_of(provider: Provider, path: str) -> str:
    return services.provider_files(provider)[path].decode()


def open_file(page: Any, path: str) -> None:
    """Open a file from the tree (an htmx swap) and wait for its editor."""
    page.click(f"#files-tree a.name[href$='path={path}']")
    page.wait_for_selector(f"#file-view h2:has-text('{path}')")
    page.wait_for_selector("#file-form .cm-editor")


def replace_text(page: Any, text: str) -> None:
    """Select everything in the editor and type `text` over it."""
    page.click("#file-form .cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)


def save(page: Any) -> None:
    with page.expect_response(lambda r: r.url.endswith("/files/save")):
        page.click("#file-form .editor-actions button[type=submit]")


def test_an_author_writes_invoke_in_the_editor_and_the_build_streams_the_mock(
    page: Any,
    live_server: Any,
    settings: Any,
    broker: Any,
    run_published: Any,
    storage: Path,
) -> None:
    settings.BUILD_SMOKE_RUNNER = "studio.builds.services.pipeline.smoke_artifact"
    settings.SMOKE_VENV_DIR = SDK_CACHE
    base = live_server.url
    make_team("Acme", owner=make_user("alice"))
    log_in(page, base, "alice")

    # A provider with the custom runtime: model classes with AUTHOR: markers.
    page.goto(f"{base}/providers/new")
    page.fill("#id_name", "echo")
    page.fill("#id_author", "acme")
    page.fill("#id_label_en_US", "Echo")
    page.fill("#id_description_en_US", "Our own echo service")
    page.check("input[name=model_types][value=llm]")
    page.uncheck("input[name=configurate_methods][value=predefined-model]")
    page.check("input[name=configurate_methods][value=customizable-model]")
    page.check("input[name=runtime][value=custom]")
    page.click("#provider-new button[type=submit]")
    page.wait_for_url(f"{base}/providers/*/")
    provider = Provider.objects.get(name="echo")
    assert "AUTHOR: implement _invoke" in text_of(provider, LLM)

    # The provider YAML as text: a credential form the smoke test can fill.
    page.goto(f"{base}/providers/{provider.pk}/files/")
    open_file(page, provider.provider_path)
    replace_text(
        page, with_credential_fields(text_of(provider, provider.provider_path))
    )
    save(page)
    page.wait_for_selector(f"#file-status:has-text('Saved {provider.provider_path}.')")
    page.goto(f"{base}/providers/{provider.pk}/credentials/")
    assert page.locator("code:text-is('endpoint_url')").count() == 1

    # The LLM class in the editor: Python highlighting, line numbers.
    page.goto(f"{base}/providers/{provider.pk}/files/")
    open_file(page, LLM)
    assert page.locator("#file-form .cm-lineNumbers").count() == 1
    assert page.locator("#file-text").is_hidden()
    assert page.locator("[data-editor-indent]").inner_text() == "Indent: 4 spaces"
    scaffolded = text_of(provider, LLM)
    # The editor holds the file exactly (the textarea's first newline and all).
    shown = page.evaluate(
        "document.getElementById('file-text').editorView.state.doc.toString()"
    )
    assert shown == scaffolded
    code = written_llm(scaffolded)
    broken, error_line = with_syntax_error(code)

    # A syntax error: refused, the line marked, nothing saved.
    replace_text(page, broken)
    save(page)
    page.wait_for_selector("#file-error")
    error = page.inner_text("#file-error")
    assert f"{LLM}, line {error_line}, column " in error
    assert "Python syntax error" in error
    page.wait_for_selector("#file-form .cm-lintRange-error")
    assert page.locator("#file-form .cm-lint-marker-error").count() == 1
    assert page.locator("#file-form .cm-line.cm-error-line").count() == 1
    active = page.inner_text("#file-form .cm-activeLineGutter")
    assert active.strip() == str(error_line)
    assert text_of(provider, LLM) == scaffolded
    screenshot(page, "editor-syntax-error")
    assert wide_elements(page) == []

    # Fixed and saved.
    replace_text(page, code)
    save(page)
    page.wait_for_selector(f"#file-status:has-text('Saved {LLM}.')")
    assert page.locator("#file-error").count() == 0
    assert page.locator("#file-form .cm-lintRange-error").count() == 0
    assert page.locator("#file-form .cm-error-line").count() == 0
    assert text_of(provider, LLM) == code

    # Soft wrap and search/replace from labelled buttons.
    page.click("button[data-editor-wrap]")
    assert page.get_attribute("button[data-editor-wrap]", "aria-pressed") == "true"
    assert page.locator("#file-form .cm-content.cm-lineWrapping").count() == 1
    page.click("button[data-editor-wrap]")
    page.click("button[data-editor-search]")
    page.wait_for_selector("#file-form .cm-search")
    assert nameless_buttons(page) == []
    page.keyboard.press("Escape")

    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "editor-light")
    assert wide_elements(page) == []
    light = page.evaluate(
        "getComputedStyle(document.querySelector('.cm-editor')).backgroundColor"
    )
    page.emulate_media(color_scheme="dark")
    screenshot(page, "editor-dark")
    dark = page.evaluate(
        "getComputedStyle(document.querySelector('.cm-editor')).backgroundColor"
    )
    assert light != dark
    assert wide_elements(page) == []
    assert nameless_buttons(page) == []
    page.emulate_media(color_scheme="light")

    # Build: the smoke test runs the plugin under the SDK against the mock.
    page.goto(f"{base}/providers/{provider.pk}/builds/")
    page.click(".build-start button[type=submit]")
    deadline = time.monotonic() + 15
    while not broker and time.monotonic() < deadline:
        time.sleep(0.1)
    assert broker, "no build was queued"
    run_published()
    build = Build.objects.get(provider=provider)
    assert build.run_smoke
    assert build.status == Build.Status.SUCCEEDED, (build.error, build.smoke)
    checks = {c["name"]: c for c in build.smoke["checks"]}
    assert checks["invoke_llm"]["status"] == "passed", checks["invoke_llm"]
    assert (
        'streamed "echo: Hello from the studio smoke test"'
        in (checks["invoke_llm"]["detail"])
    )
    assert checks["validate_model_credentials:llm"]["status"] == "passed"
    page.goto(f"{base}/builds/{build.pk}/")
    assert "streamed &quot;echo: Hello from the studio smoke test&quot;" in (
        page.content()
    ) or 'streamed "echo: Hello from the studio smoke test"' in page.inner_text("main")


def test_a_stale_save_shows_the_other_change_side_by_side(
    page: Any, live_server: Any
) -> None:
    base = live_server.url
    alice = make_user("alice")
    team = make_team("Acme", owner=alice)
    provider = make_provider(team, runtime="custom")
    log_in(page, base, "alice")
    page.goto(f"{base}/providers/{provider.pk}/files/view?path=README.md")
    page.wait_for_selector("#file-form .cm-editor")
    loaded = text_of(provider, "README.md")
    # Someone else saves the file meanwhile.
    services.provider_replace_files(
        provider=provider,
        files={
            **services.provider_files(provider),
            "README.md": (loaded + "A line from someone else.\n").encode(),
        },
    )
    replace_text(page, loaded + "My own line.\n")
    save(page)
    page.wait_for_selector("#conflict")
    assert page.locator("#conflict td.yours:has-text('My own line.')").count() == 1
    assert (
        page.locator(
            "#conflict td.theirs:has-text('A line from someone else.')"
        ).count()
        == 1
    )
    assert text_of(provider, "README.md").endswith("A line from someone else.\n")
    page.click("summary:has-text('Add or upload files')")
    screenshot(page, "editor-conflict")
    assert wide_elements(page) == []
    assert nameless_buttons(page) == []
    # Saving again replaces the other version with mine.
    save(page)
    page.wait_for_selector("#file-status:has-text('Saved README.md.')")
    assert text_of(provider, "README.md") == loaded + "My own line.\n"
