"""Issue 15 items 4 and 5 in a real browser: a README rendered for readers
(light and dark) and previewed beside the editor; the General tab's to-do
list of AUTHOR: markers; a smoke failure's traceback linking to the editor."""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.builds.models import Build
from studio.catalog import services
from studio.catalog.models import Provider, Role
from studio.catalog.services import files as file_services
from studio.catalog.services.files import Upload, sha256_of
from tests.browser import (
    chromium_page,
    log_in,
    nameless_buttons,
    screenshot,
    wide_elements,
)
from tests.builds.conftest import broker, run_published, storage
from tests.factories import make_member, make_provider, make_team, make_user

__all__ = ["broker", "run_published", "storage"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

README = """\
# Gateway for Dify

Connects Dify to **our gateway**. Set the *API key* and the endpoint in the
model provider settings.

![Where the key goes](_assets/console.png)

## Models

| Model | Context | Price (input) |
|---|---:|---:|
| gw-chat | 8192 | 0.5 USD / M |
| gw-embed | 512 | 0.02 USD / M |

- Streaming answers
- `tool-call` and `agent-thought`

```python
client = Gateway(api_key="sk-...")
```

> See [PRIVACY.md](PRIVACY.md) and [dify.ai](https://dify.ai).

<img src="x" onerror="window.pwned = 1"> <a href="javascript:window.pwned = 2">x</a>
<script>window.pwned = 3</script>
"""


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=800) as page:
        yield page


@pytest.fixture
def provider() -> Provider:
    alice = make_user("alice")
    team = make_team("Acme", owner=alice)
    make_member(team, "bob", Role.AUTHOR)
    make_member(team, "victor", Role.VIEWER)
    provider = make_provider(team, runtime="custom")
    file_services.file_upload(
        provider=provider,
        user=None,
        folder="_assets",
        uploads=[Upload(name="console.png", content=png(320, 90, (37, 99, 235)))],
    )
    current = services.provider_files(provider)["README.md"]
    file_services.file_save(
        provider=provider,
        user=None,
        path="README.md",
        text=README,
        base_sha256=sha256_of(current),
    )
    return provider


def check_page(page: Any) -> None:
    assert wide_elements(page) == []
    assert nameless_buttons(page) == []


def test_a_reader_sees_the_readme_rendered_and_inert(
    page: Any, live_server: Any, provider: Provider
) -> None:
    base = live_server.url
    log_in(page, base, "victor")
    page.goto(f"{base}/providers/{provider.pk}/files/")
    page.click("#files-tree a.name[href$='path=README.md']")
    page.wait_for_selector("#md-preview .markdown-body h1")
    body = page.locator("#md-preview .markdown-body")
    assert body.locator("h1").inner_text() == "Gateway for Dify"
    assert body.locator("table tr").count() == 3
    image = body.locator("img[alt='Where the key goes']")
    page.wait_for_function(
        "document.querySelector(\"#md-preview img[alt='Where the key goes']\")"
        ".naturalWidth > 0"
    )
    assert image.evaluate("i => i.naturalWidth") == 320
    assert page.evaluate("window.pwned") is None
    page.click("#md-preview a:has-text('x')")  # a link without a target
    assert page.evaluate("window.pwned") is None
    link = body.locator("a:has-text('dify.ai')")
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    check_page(page)
    screenshot(page, "readme-preview-light")
    light = body.evaluate("b => getComputedStyle(b).color")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "readme-preview-dark")
    assert body.evaluate("b => getComputedStyle(b).color") != light
    check_page(page)
    page.emulate_media(color_scheme="light")

    # The source, with numbered lines, and back.
    page.click(".view-toggle a:has-text('Source')")
    page.wait_for_selector("table.source.lang-markdown")
    assert "view=source" in page.url
    page.click(".view-toggle a:has-text('Preview')")
    page.wait_for_selector("#md-preview .markdown-body h1")


def test_an_author_previews_unsaved_text_beside_the_editor(
    page: Any, live_server: Any, provider: Provider
) -> None:
    base = live_server.url
    log_in(page, base, "bob")
    page.goto(f"{base}/providers/{provider.pk}/files/view?path=README.md")
    page.wait_for_selector("#file-form .cm-editor")
    panes = page.locator(".file-panes.with-preview")
    assert panes.count() == 1
    editor_box = page.locator("#file-form").bounding_box()
    preview_box = page.locator("#md-preview").bounding_box()
    assert preview_box["x"] > editor_box["x"] + editor_box["width"] - 1  # beside it

    page.click("#file-form .cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text("# Draft heading\n\nNot saved yet.\n")
    with page.expect_response(lambda r: r.url.endswith("/files/preview")):
        page.click("#file-form button:has-text('Preview')")
    page.wait_for_selector("#md-preview h1:has-text('Draft heading')")
    assert "not saved" in page.inner_text("#md-preview h3")
    assert services.provider_files(provider)["README.md"].decode() == README
    check_page(page)
    screenshot(page, "readme-editor-preview-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "readme-editor-preview-dark")
    check_page(page)
    page.emulate_media(color_scheme="light")

    # Saving (Ctrl-S in the editor) refreshes the preview with what was saved.
    page.click("#file-form .cm-content")
    with page.expect_response(lambda r: r.url.endswith("/files/save")):
        page.keyboard.press("Control+s")
    page.wait_for_selector("#file-status:has-text('Saved README.md.')")
    page.wait_for_function(
        "!document.querySelector('#md-preview h3').textContent.includes('not saved')"
    )
    assert page.inner_text("#md-preview h1") == "Draft heading"
    assert (
        services.provider_files(provider)["README.md"]
        .decode()
        .startswith("# Draft heading")
    )


def test_the_todo_list_links_each_marker_to_its_line_in_the_editor(
    page: Any, live_server: Any, provider: Provider
) -> None:
    base = live_server.url
    log_in(page, base, "bob")
    page.goto(f"{base}/providers/{provider.pk}/")
    todos = page.locator("#todos li")
    assert todos.count() >= 5
    assert page.locator("#todos li:has-text('implement _invoke')").count() == 1
    check_page(page)
    page.locator("#todos").scroll_into_view_if_needed()
    screenshot(page, "provider-todos-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "provider-todos-dark")
    check_page(page)
    page.emulate_media(color_scheme="light")

    page.click("#todos li:has-text('implement _invoke') a")
    page.wait_for_selector("#file-form .cm-editor")
    assert "path=models/llm/llm.py&line=" in page.url
    wanted = int(page.url.rsplit("line=", 1)[1])
    assert page.inner_text("#file-form .cm-activeLineGutter").strip() == str(wanted)
    selected = page.evaluate(
        "(() => { const v = document.getElementById('file-text').editorView;"
        " const s = v.state.selection.main; return v.state.sliceDoc(s.from, s.to); })()"
    )
    assert "AUTHOR: implement _invoke" in selected


def test_a_smoke_tracebacks_frame_opens_the_editor_at_its_line(
    page: Any,
    live_server: Any,
    provider: Provider,
    settings: Any,
    broker: Any,
    run_published: Any,
    storage: Path,
) -> None:
    settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.raising"
    base = live_server.url
    log_in(page, base, "bob")
    page.goto(f"{base}/providers/{provider.pk}/builds/")
    page.click(".build-start button[type=submit]")
    deadline = time.monotonic() + 15
    while not broker and time.monotonic() < deadline:
        time.sleep(0.1)
    assert broker, "no build was queued"
    run_published()
    build = Build.objects.get(provider=provider)
    assert build.status == Build.Status.FAILED
    page.goto(f"{base}/builds/{build.pk}/")
    frames = page.locator(".traceback-frames a")
    assert [frames.nth(i).inner_text() for i in range(frames.count())] == [
        "models/llm/llm.py line 27",
        "models/llm/llm.py line 30",
    ]
    page.click("details.traceback summary")
    assert page.locator("details.traceback pre a").count() == 2
    check_page(page)
    screenshot(page, "build-traceback-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "build-traceback-dark")
    check_page(page)
    page.emulate_media(color_scheme="light")
    page.click(".traceback-frames a:has-text('line 30')")
    page.wait_for_selector("#file-form .cm-editor")
    assert page.inner_text("#file-form .cm-activeLineGutter").strip() == "30"
