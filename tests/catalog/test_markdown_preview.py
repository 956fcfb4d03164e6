"""README, PRIVACY and any Markdown file rendered in the files tab: the readers'
default view, the editors' preview beside the editor (on demand and after a
save), sanitised so hostile Markdown renders inert."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.audit.models import AuditEvent
from studio.catalog import services
from studio.catalog.models import Provider
from studio.catalog.selectors.files import MAX_MARKDOWN_BYTES, PNG_MAGIC
from studio.catalog.services import files as file_services
from studio.catalog.services.files import Upload, sha256_of
from tests.factories import add_llm_models, make_provider

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
README = """\
# Gateway plugin

Set **API key** in the console.

![Console](_assets/console.png)
![Outside](docs/shot.png)
[Privacy](PRIVACY.md) · [Dify](https://dify.ai)

| Model | Price |
|---|---|
| gw-chat | 0.5 |
"""
HOSTILE = """\
# Hello

<script>alert('readme')</script>
[click](javascript:alert(1)) <a href="&#106;avascript:alert(2)">two</a>
<a href="JaVaScRiPt:alert(3)">three</a> [d](data:text/html,x) [v](vbscript:x)
<img src="x" onerror="alert(4)"> <p onmouseover="alert(5)" style="color:red">p</p>
<svg><script>alert(6)</script></svg> <iframe src="https://evil.example"></iframe>
<form action="https://evil.example"><input name="pw"></form>
"""


def url(name: str, provider: Provider) -> str:
    return reverse(f"catalog:provider-{name}", kwargs={"provider_id": provider.pk})


def file_page(provider: Provider, path: str, extra: str = "") -> str:
    return f"{url('file', provider)}?path={path}{extra}"


def content(provider: Provider, path: str) -> bytes:
    found = services.provider_files(provider).get(path)
    assert found is not None
    return found


def write(provider: Provider, path: str, text: str) -> None:
    """Save a text through the files service, as the editor does."""
    file_services.file_save(
        provider=provider,
        user=None,
        path=path,
        text=text,
        base_sha256=sha256_of(content(provider, path)),
    )


def preview_form(provider: Provider, path: str, text: str) -> dict[str, str]:
    return {
        "path": path,
        "content": text,
        "sha256": sha256_of(content(provider, path)),
        "lock_version": str(provider.lock_version),
    }


def rendered(body: str) -> str:
    """The rendered Markdown pane of a page or partial."""
    start = body.index('id="md-preview"')
    return body[start : body.index("</section>", start)]


@pytest.fixture
def provider(personas) -> Provider:
    provider = make_provider(personas.team, runtime="custom")
    file_services.file_upload(
        provider=provider,
        user=None,
        folder="_assets",
        uploads=[Upload(name="console.png", content=PNG_MAGIC + b"\0" * 16)],
    )
    file_services.file_add(provider=provider, user=None, path="docs/shot.png")
    write(provider, "README.md", README)
    provider.refresh_from_db()
    return provider


@pytest.fixture
def bob(client: Client, personas) -> Client:
    client.force_login(personas.bob)
    return client


class TestReaders:
    def test_a_reader_sees_the_readme_rendered_with_a_source_toggle(
        self, client, personas, provider
    ):
        for reader in (personas.carol, personas.victor):
            client.force_login(reader)
            body = client.get(file_page(provider, "README.md")).content.decode()
            pane = rendered(body)
            assert "<h1>Gateway plugin</h1>" in pane
            assert "<strong>API key</strong>" in pane
            assert "<th>Model</th>" in pane
            assert 'class="source lang-markdown"' not in body
            assert f'href="{file_page(provider, "README.md", "&amp;view=source")}"' in (
                body
            )
            assert '<span aria-current="true">Preview</span>' in body

    def test_images_load_from_the_plugins_assets_through_the_raw_view_only(
        self, client, personas, provider
    ):
        client.force_login(personas.carol)
        pane = rendered(client.get(file_page(provider, "README.md")).content.decode())
        raw = url("file-raw", provider)
        assert f'<img src="{raw}?path=_assets/console.png" alt="Console">' in pane
        # docs/shot.png is a file of the plugin, but not under _assets/.
        assert '<img alt="Outside">' in pane
        assert f'href="{file_page(provider, "PRIVACY.md")}"' in pane
        assert 'href="https://dify.ai" rel="noopener noreferrer nofollow"' in pane

    def test_the_source_view_shows_numbered_lines_and_a_preview_toggle(
        self, client, personas, provider
    ):
        client.force_login(personas.victor)
        for extra in ("&view=source", "&line=3"):
            body = client.get(file_page(provider, "README.md", extra)).content.decode()
            assert 'class="source lang-markdown"' in body
            assert 'id="md-preview"' not in body
            assert '<span aria-current="true">Source</span>' in body

    def test_htmx_gets_the_section_with_the_preview(self, client, personas, provider):
        client.force_login(personas.carol)
        response = client.get(file_page(provider, "README.md"), **HX)
        body = response.content.decode()
        assert "<html" not in body
        assert "<h1>Gateway plugin</h1>" in rendered(body)

    def test_hostile_markdown_renders_inert(self, client, personas, provider):
        write(provider, "README.md", HOSTILE)
        client.force_login(personas.carol)
        pane = rendered(client.get(file_page(provider, "README.md")).content.decode())
        assert "<h1>Hello</h1>" in pane
        hrefs = re.findall(r'(?:href|src)="([^"]*)"', pane)
        assert all(h.startswith(("https://", "/providers/")) for h in hrefs), hrefs
        for absent in (
            "<script",
            "alert('readme')",
            "onerror",
            "onmouseover",
            "style=",
            "<svg",
            "<iframe",
            "<form",
            "<input",
        ):
            assert absent not in pane, absent
        assert '<a rel="noopener noreferrer nofollow">two</a>' in pane
        assert '<a rel="noopener noreferrer nofollow">three</a>' in pane
        # A Markdown link with a refused target stays as its (escaped) text.
        assert "[click](javascript:alert(1))" in pane

    def test_a_python_file_has_no_preview(self, client, personas, provider):
        client.force_login(personas.carol)
        body = client.get(file_page(provider, "main.py")).content.decode()
        assert 'id="md-preview"' not in body
        assert 'class="view-toggle"' not in body

    def test_the_readme_page_keeps_its_query_count_as_models_grow(
        self, client, personas
    ):
        few = make_provider(personas.team, "few", models=2)
        many = make_provider(personas.team, "many", models=2)
        add_llm_models(many, 30)
        client.force_login(personas.carol)
        client.get(url("files", few))
        counts = []
        for p in (few, many):
            with CaptureQueriesContext(connection) as queries:
                body = client.get(file_page(p, "README.md")).content.decode()
            assert 'class="markdown-body"' in body
            counts.append(len(queries))
        assert counts[0] == counts[1]


class TestEditors:
    def test_the_editor_has_the_preview_beside_it_and_a_preview_button(
        self, bob, provider
    ):
        body = bob.get(file_page(provider, "README.md")).content.decode()
        assert 'class="file-panes with-preview"' in body
        assert 'name="content" data-editor data-language="markdown"' in body
        # The saved text, rendered beside it.
        assert "<h1>Gateway plugin</h1>" in rendered(body)
        assert "Set **API key** in the console." in body.split("<textarea", 1)[1]
        preview = url("file-preview", provider)
        assert f'formaction="{preview}"' in body
        assert f'hx-post="{preview}" hx-target="#md-preview"' in body
        assert ">Preview</button>" in body

    def test_a_python_file_has_no_preview_pane(self, bob, provider):
        body = bob.get(file_page(provider, "main.py")).content.decode()
        assert 'class="file-panes"' in body
        assert "with-preview" not in body
        assert url("file-preview", provider) not in body

    def test_htmx_preview_renders_the_posted_text_and_saves_nothing(
        self, bob, provider
    ):
        before = content(provider, "README.md")
        response = bob.post(
            url("file-preview", provider),
            preview_form(provider, "README.md", "# Draft title\n\n<script>x</script>"),
            **HX,
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in body
        assert "<h1>Draft title</h1>" in rendered(body)
        assert "<script" not in body
        assert "not saved" in body
        assert content(provider, "README.md") == before
        assert not AuditEvent.objects.filter(
            provider=provider, summary__contains="Draft"
        ).exists()

    def test_without_javascript_the_page_returns_with_the_text_and_its_preview(
        self, bob, provider
    ):
        text = "# Unsaved heading\n\nStill editing.\n"
        response = bob.post(
            url("file-preview", provider), preview_form(provider, "README.md", text)
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "<html" in body
        assert "<h1>Unsaved heading</h1>" in rendered(body)
        assert "# Unsaved heading" in body.split("<textarea", 1)[1]
        # The form still edits the saved version: a later save is checked against it.
        saved = sha256_of(content(provider, "README.md"))
        assert f'name="sha256" value="{saved}"' in body
        assert "data-dirty" in body
        assert content(provider, "README.md") != text.encode()

    def test_a_save_answers_the_new_preview_out_of_band(self, bob, provider):
        response = bob.post(
            url("file-save", provider),
            preview_form(provider, "README.md", "# Saved title\n"),
            **HX,
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert 'id="md-preview" class="md-preview"' in body
        assert 'hx-swap-oob="true"' in rendered(body)
        assert "<h1>Saved title</h1>" in rendered(body)

    def test_a_refused_save_leaves_the_preview_alone(self, bob, provider):
        form = preview_form(provider, "README.md", "# Lost\n")
        form["sha256"] = "0" * 64
        response = bob.post(url("file-save", provider), form, **HX)
        assert response.status_code == 409
        assert 'id="md-preview"' not in response.content.decode()


class TestPreviewEndpoint:
    def test_it_refuses_text_over_the_cap_with_a_message(self, bob, provider):
        text = "x" * (MAX_MARKDOWN_BYTES + 1)
        form = preview_form(provider, "README.md", text)
        for extra in (HX, {}):
            response = bob.post(url("file-preview", provider), form, **extra)
            assert response.status_code == 400
            body = response.content.decode()
            assert "Not rendered: The text is larger than" in body
            assert "xxxxxxxxxxxxxxxxxxxx</p>" not in body

    def test_it_refuses_a_file_that_is_not_markdown(self, bob, provider):
        form = preview_form(provider, "main.py", "print(1)\n")
        for extra in (HX, {}):
            response = bob.post(url("file-preview", provider), form, **extra)
            assert response.status_code == 400
            body = response.content.decode()
            assert "Not rendered: main.py is not a Markdown file" in body

    def test_an_unknown_file_is_404(self, bob, provider):
        form = preview_form(provider, "README.md", "# x")
        form["path"] = "nope.md"
        assert bob.post(url("file-preview", provider), form).status_code == 404

    def test_readers_may_not_post_it(self, client, personas, provider):
        form = preview_form(provider, "README.md", "# x")
        for reader in (personas.carol, personas.victor):
            client.force_login(reader)
            assert client.post(url("file-preview", provider), form).status_code == 403

    def test_another_team_gets_404(self, client, personas, provider):
        client.force_login(personas.mallory)
        form = preview_form(provider, "README.md", "# x")
        assert client.post(url("file-preview", provider), form).status_code == 404

    def test_it_is_post_only(self, bob, provider):
        response = bob.get(url("file-preview", provider) + "?path=README.md")
        assert response.status_code == 405

    def test_it_needs_the_csrf_token(self, personas, provider):
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(personas.bob)
        form = preview_form(provider, "README.md", "# x")
        assert strict.post(url("file-preview", provider), form).status_code == 403
