from __future__ import annotations

import html
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from studio.catalog import services
from studio.catalog.highlight import highlight, language_for
from studio.catalog.models import Provider
from studio.catalog.selectors.files import file_listing, source_zip_name
from studio.catalog.selectors.findings import FileFindings, findings_for_file
from studio.pluginfmt.document.yamltext import dump_yaml
from studio.pluginfmt.verify import Finding
from studio.pluginfmt.yamlio import load_yaml
from tests.factories import make_provider
from tests.svg_inputs import HOSTILE_SVGS

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256))
BINARY = b"\x00\x01\x02\xff\xfe binary"
UVLOCK_DATA = Path(__file__).parent.parent / "pluginfmt" / "data" / "uvlock"
RAW_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def provider_with(
    team,
    extra: dict[str, bytes] | None = None,
    *,
    remove: tuple[str, ...] = (),
    name: str = "gateway",
) -> Provider:
    """A generated provider whose files get `extra` added and `remove` removed."""
    provider = make_provider(team, name, models=2)
    files = services.provider_files(provider)
    for path in remove:
        del files[path]
    files.update(extra or {})
    services.provider_replace_files(provider=provider, files=files)
    provider.refresh_from_db()
    return provider


def url(name: str, provider: Provider, path: str | None = None) -> str:
    base = reverse(name, kwargs={"provider_id": provider.pk})
    return base if path is None else f"{base}?path={path}"


def strip_spans(line: str) -> str:
    return re.sub(r'<span class="tok-[a-z]+">|</span>', "", line)


class TestFilesTab:
    def test_it_lists_every_file_of_the_provider_with_its_size(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team, models=2)
        client.force_login(personas.alice)
        response = client.get(url("catalog:provider-files", provider))
        assert response.status_code == 200
        body = response.content.decode()
        rows = list(provider.files.values_list("path", "size"))
        assert len(rows) > 10
        for path, size in rows:
            assert f"?path={path}" in body
            assert f'title="{size} bytes"' in body
        assert 'aria-current="page">Files</a>' in body
        assert "<html" in body

    def test_directories_come_before_files_and_nest(self, personas) -> None:
        provider = make_provider(personas.team, models=1)
        rows = file_listing(provider).rows
        names = [(r.depth, r.name, r.is_dir) for r in rows]
        assert names[:5] == [
            (0, "_assets", True),
            (1, "icon.svg", False),
            (0, "models", True),
            (1, "llm", True),
            (2, "_position.yaml", False),
        ]
        models_dir = next(r for r in rows if r.path == "models")
        assert models_dir.size == sum(
            provider.files.filter(path__startswith="models/").values_list(
                "size", flat=True
            )
        )

    def test_an_htmx_request_gets_only_the_section(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        response = client.get(url("catalog:provider-files", provider), headers=HX)
        assert response.status_code == 200
        assert b'id="section"' in response.content
        assert b"manifest.yaml" in response.content
        assert b"<html" not in response.content
        assert b'class="tabs"' not in response.content

    def test_it_shows_what_difyignore_leaves_out_of_a_build(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        files = services.provider_files(provider)
        files.update(
            {
                ".difyignore": files[".difyignore"] + b"notes/\n",
                ".env": b"KEY=1\n",
                "notes/todo.md": b"# todo\n",
            }
        )
        services.provider_replace_files(provider=provider, files=files)
        listing = file_listing(provider)
        assert listing.ignore_file == ".difyignore"
        assert listing.excluded == [".env", "notes/todo.md"]
        assert listing.packaged_count == len(files) - 2
        notes = next(r for r in listing.rows if r.path == "notes")
        assert notes.is_dir and notes.excluded
        client.force_login(personas.bob)
        body = client.get(url("catalog:provider-files", provider)).content.decode()
        assert "<code>.difyignore</code> leaves out 2 files:" in body
        assert "<li><code>notes/todo.md</code></li>" in body
        assert body.count("not packaged</span>") == 3  # notes/ and its file, .env

    def test_without_a_difyignore_the_gitignore_decides(self, personas) -> None:
        provider = provider_with(
            personas.team,
            {".gitignore": b"*.log\n", "debug.log": b"x"},
            remove=(".difyignore",),
        )
        listing = file_listing(provider)
        assert listing.ignore_file == ".gitignore"
        assert listing.excluded == ["debug.log"]

    def test_it_shows_the_requirements_txt_a_build_generates_from_uv_lock(
        self, client: Client, personas
    ) -> None:
        data = UVLOCK_DATA / "transitive"
        provider = provider_with(
            personas.team,
            {
                "pyproject.toml": (data / "pyproject.toml").read_bytes(),
                "uv.lock": (data / "uv.lock").read_bytes(),
            },
            remove=("requirements.txt",),
        )
        expected = (data / "expected.txt").read_text()
        listing = file_listing(provider)
        assert listing.requirements == expected
        assert listing.packaged_count == provider.files.count() + 1
        client.force_login(personas.alice)
        body = client.get(url("catalog:provider-files", provider)).content.decode()
        assert "is generated from <code>uv.lock</code>" in body
        assert html.escape(expected.splitlines()[-1]) in body
        assert "generated at build" in body

    def test_a_uv_lock_that_cannot_be_exported_is_reported(
        self, client: Client, personas
    ) -> None:
        provider = provider_with(
            personas.team,
            {"pyproject.toml": b'[project]\nname = "x"\n', "uv.lock": b"[[[ nope"},
            remove=("requirements.txt",),
        )
        listing = file_listing(provider)
        assert listing.requirements is None
        assert "cannot generate requirements.txt" in listing.requirements_error
        client.force_login(personas.alice)
        body = client.get(url("catalog:provider-files", provider)).content.decode()
        assert "A build would fail: cannot generate requirements.txt" in body

    def test_a_plugin_with_its_own_requirements_txt_generates_none(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        assert file_listing(provider).requirements is None
        client.force_login(personas.alice)
        body = client.get(url("catalog:provider-files", provider)).content.decode()
        # Its own file is in the tree: no note saying none is generated beside it.
        assert "own <code>requirements.txt</code> is packaged as it is" in body
        assert "No <code>requirements.txt</code> is generated" not in body

    def test_a_plugin_without_any_is_told_how_one_is_generated(
        self, client: Client, personas
    ) -> None:
        provider = provider_with(personas.team, {}, remove=("requirements.txt",))
        assert file_listing(provider).has_requirements is False
        client.force_login(personas.alice)
        body = client.get(url("catalog:provider-files", provider)).content.decode()
        assert "No <code>requirements.txt</code> is generated" in body
        assert "is packaged as it is" not in body

    def test_it_warns_when_a_build_would_be_too_large(
        self, client: Client, personas, monkeypatch
    ) -> None:
        provider = make_provider(personas.team)
        monkeypatch.setattr("studio.catalog.selectors.files.DEFAULT_MAX_SIZE", 1000)
        client.force_login(personas.alice)
        body = client.get(url("catalog:provider-files", provider)).content.decode()
        assert "more than the 1000 bytes the packager and the daemon allow" in body

    @pytest.mark.parametrize("persona", ["carol", "victor"])
    def test_a_reviewer_or_viewer_can_read_it(
        self, client: Client, personas, persona: str
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(getattr(personas, persona))
        assert client.get(url("catalog:provider-files", provider)).status_code == 200

    def test_another_teams_user_gets_404(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.mallory)
        assert client.get(url("catalog:provider-files", provider)).status_code == 404

    def test_a_missing_provider_is_404(self, client: Client, personas) -> None:
        client.force_login(personas.alice)
        response = client.get(
            reverse("catalog:provider-files", kwargs={"provider_id": 999_999})
        )
        assert response.status_code == 404

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        response = client.get(url("catalog:provider-files", provider))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_refuses_a_post(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        assert client.post(url("catalog:provider-files", provider)).status_code == 405


class TestFileView:
    def test_it_shows_the_file_highlighted_inside_the_files_page(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.victor)
        response = client.get(url("catalog:provider-file", provider, "manifest.yaml"))
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" in body
        assert 'aria-current="true">manifest.yaml</a>' in body
        assert '<span class="tok-key">version</span>' in body
        manifest = provider.files.get(path="manifest.yaml").content
        line_count = bytes(manifest).decode().count("\n")
        assert f'id="L{line_count}"' in body
        assert f'id="L{line_count + 1}"' not in body

    def test_the_line_parameter_marks_that_line(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.victor)
        response = client.get(
            url("catalog:provider-file", provider, "manifest.yaml") + "&line=3"
        )
        body = response.content.decode()
        assert '<tr id="L3" class="hl">' in body
        assert body.count('class="hl"') == 1

    @pytest.mark.parametrize("line", ["\u00b2", "-1", "abc", "9" * 20])
    def test_a_line_parameter_that_is_no_line_number_is_ignored(
        self, client: Client, personas, line: str
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        response = client.get(
            url("catalog:provider-file", provider),
            query_params={"path": "manifest.yaml", "line": line},
        )
        assert response.status_code == 200
        assert b'class="hl"' not in response.content

    def test_an_htmx_request_gets_the_section_with_the_file_selected(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        response = client.get(
            url("catalog:provider-file", provider, "README.md"), headers=HX
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert body.lstrip().startswith('<section id="section"')
        assert "<code>README.md</code>" in body
        assert 'aria-current="true">README.md</a>' in body
        assert "<html" not in body
        assert 'class="tabs"' not in body

    def test_a_script_inside_a_yaml_value_is_escaped(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)

        def hostile(doc):
            doc.provider.spec.label = {"en_US": "<script>alert(1)</script>"}

        services.provider_edit(
            provider=provider, lock_version=provider.lock_version, change=hostile
        )
        client.force_login(personas.alice)
        response = client.get(
            url("catalog:provider-file", provider, provider.provider_path)
        )
        body = response.content.decode()
        assert "<script>alert(1)" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body

    def test_a_png_is_previewed_through_the_raw_url(
        self, client: Client, personas
    ) -> None:
        provider = provider_with(personas.team, {"_assets/icon-dark.png": PNG})
        client.force_login(personas.alice)
        body = client.get(
            url("catalog:provider-file", provider, "_assets/icon-dark.png")
        ).content.decode()
        raw = url("catalog:provider-file-raw", provider, "_assets/icon-dark.png")
        assert f'<img src="{raw}"' in body
        assert f"image/png, {len(PNG)} bytes" in body
        assert 'class="source' not in body

    def test_an_svg_is_previewed_and_its_source_shown(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        body = client.get(
            url("catalog:provider-file", provider, "_assets/icon.svg")
        ).content.decode()
        raw = url("catalog:provider-file-raw", provider, "_assets/icon.svg")
        assert f'<img src="{raw}"' in body
        assert "&lt;svg" in body

    def test_a_text_file_too_large_to_show_is_not_rendered(
        self, client: Client, personas
    ) -> None:
        big = b"key: value\n" * 100_000
        provider = provider_with(personas.team, {"big.yaml": big})
        client.force_login(personas.alice)
        body = client.get(
            url("catalog:provider-file", provider, "big.yaml")
        ).content.decode()
        assert f"Text, {len(big)} bytes: too large to show here." in body
        assert 'id="L1"' not in body

    def test_a_binary_file_shows_its_size_only(self, client: Client, personas) -> None:
        provider = provider_with(personas.team, {"data/blob.bin": BINARY})
        client.force_login(personas.victor)
        body = client.get(
            url("catalog:provider-file", provider, "data/blob.bin")
        ).content.decode()
        assert f"Binary, {len(BINARY)} bytes." in body
        assert "<img" not in body

    @pytest.mark.parametrize(
        "path",
        [
            "nope.yaml",
            "",
            "../manifest.yaml",
            "/manifest.yaml",
            "./manifest.yaml",
            "manifest.yaml%00",
            "MANIFEST.YAML",
            "x" * 2000,
        ],
    )
    def test_a_path_that_is_not_a_file_of_the_provider_is_404(
        self, client: Client, personas, path: str
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        assert (
            client.get(url("catalog:provider-file", provider, path)).status_code == 404
        )

    def test_a_file_of_another_provider_is_404(self, client: Client, personas) -> None:
        mine = make_provider(personas.team)
        provider_with(personas.other_team, {"only/theirs.txt": b"x"})
        client.force_login(personas.alice)
        response = client.get(url("catalog:provider-file", mine, "only/theirs.txt"))
        assert response.status_code == 404

    @pytest.mark.parametrize("persona", ["carol", "victor"])
    def test_a_reviewer_or_viewer_can_read_it(
        self, client: Client, personas, persona: str
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(getattr(personas, persona))
        response = client.get(url("catalog:provider-file", provider, "manifest.yaml"))
        assert response.status_code == 200

    def test_another_teams_user_gets_404(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.mallory)
        response = client.get(url("catalog:provider-file", provider, "manifest.yaml"))
        assert response.status_code == 404

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        response = client.get(url("catalog:provider-file", provider, "manifest.yaml"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_refuses_a_post(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        response = client.post(url("catalog:provider-file", provider, "manifest.yaml"))
        assert response.status_code == 405


class TestRawFile:
    def test_an_svg_is_served_as_an_image_that_can_run_nothing(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        response = client.get(
            url("catalog:provider-file-raw", provider, "_assets/icon.svg")
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml"
        assert response["Content-Security-Policy"] == RAW_CSP
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"] == 'inline; filename="icon.svg"'
        assert response.content == bytes(
            provider.files.get(path="_assets/icon.svg").content
        )

    def test_a_png_is_served_byte_for_byte(self, client: Client, personas) -> None:
        provider = provider_with(personas.team, {"_assets/icon-dark.png": PNG})
        client.force_login(personas.alice)
        response = client.get(
            url("catalog:provider-file-raw", provider, "_assets/icon-dark.png")
        )
        assert response["Content-Type"] == "image/png"
        assert response["Content-Security-Policy"] == RAW_CSP
        assert response.content == PNG

    def test_a_file_named_svg_that_is_html_is_not_served_as_an_image(
        self, client: Client, personas
    ) -> None:
        page = b"<html><script>alert(1)</script></html>"
        provider = provider_with(personas.team, {"_assets/fake.svg": page})
        client.force_login(personas.alice)
        response = client.get(
            url("catalog:provider-file-raw", provider, "_assets/fake.svg")
        )
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response["Content-Security-Policy"] == RAW_CSP
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_a_binary_file_is_served_as_a_download(
        self, client: Client, personas
    ) -> None:
        provider = provider_with(personas.team, {"data/blob.bin": BINARY})
        client.force_login(personas.alice)
        response = client.get(
            url("catalog:provider-file-raw", provider, "data/blob.bin")
        )
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"] == 'attachment; filename="blob.bin"'
        assert response.content == BINARY

    @pytest.mark.parametrize(
        ("path", "content", "media_type"),
        [
            ("_assets/icon.svg", HOSTILE_SVGS[0].content, "image/svg+xml"),
            ("_assets/icon.png", HOSTILE_SVGS[0].content, "text/plain; charset=utf-8"),
            ("_assets/icon-dark.png", PNG, "image/png"),
            ("README.md", b"# hi\n", "text/plain; charset=utf-8"),
            ("data/blob.bin", BINARY, "application/octet-stream"),
        ],
    )
    def test_every_file_is_served_under_a_policy_that_runs_and_loads_nothing(
        self, client: Client, personas, path: str, content: bytes, media_type: str
    ) -> None:
        # Stored before icons were checked by allowlist, or not an icon at all.
        provider = provider_with(personas.team, {path: content})
        client.force_login(personas.alice)
        response = client.get(url("catalog:provider-file-raw", provider, path))
        assert response["Content-Type"] == media_type
        assert response["Content-Security-Policy"] == (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response.content == content

    def test_a_path_that_is_not_a_file_of_the_provider_is_404(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        response = client.get(url("catalog:provider-file-raw", provider, "etc/passwd"))
        assert response.status_code == 404

    @pytest.mark.parametrize("persona", ["carol", "victor"])
    def test_a_reviewer_or_viewer_can_read_it(
        self, client: Client, personas, persona: str
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(getattr(personas, persona))
        response = client.get(
            url("catalog:provider-file-raw", provider, "_assets/icon.svg")
        )
        assert response.status_code == 200

    def test_another_teams_user_gets_404(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.mallory)
        response = client.get(
            url("catalog:provider-file-raw", provider, "_assets/icon.svg")
        )
        assert response.status_code == 404

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        response = client.get(
            url("catalog:provider-file-raw", provider, "_assets/icon.svg")
        )
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_refuses_a_post(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        response = client.post(
            url("catalog:provider-file-raw", provider, "_assets/icon.svg")
        )
        assert response.status_code == 405


class TestSourceDownload:
    def test_the_zip_holds_exactly_the_providers_files_byte_for_byte(
        self, client: Client, personas
    ) -> None:
        provider = provider_with(
            personas.team, {"_assets/icon-dark.png": PNG, "data/blob.bin": BINARY}
        )
        client.force_login(personas.alice)
        response = client.get(url("catalog:provider-files-download", provider))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert (
            response["Content-Disposition"]
            == 'attachment; filename="gateway-0.0.1-source.zip"'
        )
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            assert archive.testzip() is None
            unzipped = {name: archive.read(name) for name in archive.namelist()}
        assert unzipped == services.provider_files(provider)
        assert len(unzipped) == provider.files.count()

    def test_a_hostile_version_cannot_break_the_file_name(self, personas) -> None:
        provider = make_provider(personas.team)
        provider.version = '1.0/../x"\r\nSet-Cookie: a=b'
        assert source_zip_name(provider) == "gateway-1.0_.._x_Set-Cookie_a_b-source.zip"

    @pytest.mark.parametrize("persona", ["carol", "victor"])
    def test_a_reviewer_or_viewer_can_download_it(
        self, client: Client, personas, persona: str
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(getattr(personas, persona))
        response = client.get(url("catalog:provider-files-download", provider))
        assert response.status_code == 200

    def test_another_teams_user_gets_404(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.mallory)
        response = client.get(url("catalog:provider-files-download", provider))
        assert response.status_code == 404

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        response = client.get(url("catalog:provider-files-download", provider))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_refuses_a_post(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        response = client.post(url("catalog:provider-files-download", provider))
        assert response.status_code == 405


HOSTILE_LINES = [
    'label: "<script>alert(1)</script>" # <b>',
    "<script>: '&amp;' & <img src=x onerror=alert(1)>",
    '  - "</span><span class=x>": [1, "<i>", true, ~]',
    'x = """<svg onload=alert(1)>',
    "</script>'''\"\"\" # & ' \"",
    "[<b>]\nkey = '<x>' # <y>",
    '{"<k>": "<v>", "n": -1.5e3}',
    "# <h1>\n`<code>` [<a>](javascript:alert(1)) **<b>**",
    "```\n<script>\n```",
    "help: |\n  <script>\n  </script>\nnext: <u>",
    "\x00\t\u2028<\u00e9>",
]


class TestHighlight:
    @pytest.mark.parametrize(
        "language", ["yaml", "python", "toml", "json", "markdown", "conf", None]
    )
    def test_highlighted_output_escapes_everything(self, language: str | None) -> None:
        for text in HOSTILE_LINES:
            lines = highlight(text, language)
            assert len(lines) == len(text.split("\n"))
            for source, out in zip(text.split("\n"), lines, strict=True):
                # The spans are the only markup: without them, the escaped text.
                assert strip_spans(out) == html.escape(source, quote=True)
                assert "<" not in strip_spans(out)

    def test_yaml_keys_strings_comments_and_numbers_get_their_classes(self) -> None:
        lines = highlight("a: 'x'  # c\nb: 12\nc: true\n- d: e\n", "yaml")
        assert lines[0] == (
            '<span class="tok-key">a</span><span class="tok-punct">:</span> '
            '<span class="tok-string">&#x27;x&#x27;</span>  '
            '<span class="tok-comment"># c</span>'
        )
        assert '<span class="tok-number">12</span>' in lines[1]
        assert '<span class="tok-literal">true</span>' in lines[2]
        assert '<span class="tok-key">d</span>' in lines[3]

    def test_an_apostrophe_inside_a_plain_yaml_value_is_no_string(self) -> None:
        (line,) = highlight("description: it's fine", "yaml")
        assert "tok-string" not in line

    def test_a_yaml_block_scalar_is_one_string(self) -> None:
        lines = highlight("help: |\n  one: 1\n  # two\nnext: 2\n", "yaml")
        assert lines[1] == '<span class="tok-string">  one: 1</span>'
        assert lines[2] == '<span class="tok-string">  # two</span>'
        assert lines[3].startswith('<span class="tok-key">next</span>')

    def test_a_python_docstring_spans_lines(self) -> None:
        lines = highlight('def f():\n    """a\n    b"""\n    return 1\n', "python")
        assert '<span class="tok-name">f</span>' in lines[0]
        assert lines[2] == '<span class="tok-string">    b&quot;&quot;&quot;</span>'
        assert '<span class="tok-keyword">return</span>' in lines[3]

    def test_a_windows_line_end_is_not_shown(self) -> None:
        assert highlight("a: 1\r\nb: 2\r\n", None) == ["a: 1", "b: 2"]

    @pytest.mark.parametrize(
        ("path", "language"),
        [
            ("manifest.yaml", "yaml"),
            ("models/llm/x.YML", "yaml"),
            ("main.py", "python"),
            ("README.md", "markdown"),
            ("pyproject.toml", "toml"),
            ("uv.lock", "toml"),
            ("x.json", "json"),
            (".difyignore", "conf"),
            ("requirements.txt", "conf"),
            ("_assets/icon.svg", None),
            ("LICENSE", None),
        ],
    )
    def test_the_language_follows_the_file_name(
        self, path: str, language: str | None
    ) -> None:
        assert language_for(path) == language


def finding(file: str, line: int | None, rule: str = "r") -> Finding:
    return Finding(
        rule=rule, severity="error", layer="install", file=file, line=line, message="m"
    )


class TestFindingsHelpers:
    def test_findings_for_a_file_keep_the_verifier_order(self) -> None:
        a, b, c = finding("a.yaml", 3), finding("b.yaml", 1), finding("a.yaml", None)
        assert findings_for_file([a, b, c], "a.yaml") == [a, c]

    def test_findings_for_a_key_are_those_inside_its_value(self) -> None:
        content = dump_yaml(
            {
                "model": "m",
                "parameter_rules": [
                    {"name": "temperature", "use_template": "temperature"},
                    {"name": "top_p", "min": 0, "max": 1},
                ],
                "pricing": {"input": "1"},
            }
        )
        lines = load_yaml(content).lines
        second = lines[("parameter_rules", 1, "max")]
        pricing = lines[("pricing", "input")]
        inside, outside, elsewhere = (
            finding("m.yaml", second),
            finding("m.yaml", pricing),
            finding("other.yaml", second),
        )
        found = FileFindings([inside, outside, elsewhere], "m.yaml", content)
        assert found.at("parameter_rules", 1) == [inside]
        assert found.at("parameter_rules") == [inside]
        assert found.at("pricing") == [outside]
        assert found.at("nope") == []

    def test_a_file_that_is_no_yaml_matches_no_key(self) -> None:
        assert FileFindings([finding("m.yaml", 1)], "m.yaml", b"a: [").at("a") == []
