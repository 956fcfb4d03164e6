"""Editing files in the files tab: saving text (stale protection, syntax and
YAML checks, the verifier), adding, uploading, renaming and deleting files,
with roles, teams, CSRF and the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.audit.models import AuditEvent
from studio.catalog import services
from studio.catalog.models import Provider
from studio.catalog.services import files as file_services
from studio.catalog.services.files import sha256_of
from studio.reviews.services.revisions import revision_submit
from tests.factories import add_llm_models, make_provider
from tests.svg_inputs import HOSTILE_SVGS

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
LLM = "models/llm/llm.py"
UVLOCK_DATA = Path(__file__).parent.parent / "pluginfmt" / "data" / "uvlock"
SAFE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8">'
    b'<rect width="8" height="8" fill="#123456"/></svg>'
)


def url(name: str, provider: Provider) -> str:
    return reverse(f"catalog:provider-{name}", kwargs={"provider_id": provider.pk})


def file_page(provider: Provider, path: str) -> str:
    return f"{url('file', provider)}?path={path}"


def content(provider: Provider, path: str) -> bytes | None:
    return services.provider_files(provider).get(path)


def save(
    client: Client,
    provider: Provider,
    path: str,
    text: str,
    *,
    base: bytes | None = None,
    **extra: Any,
) -> Any:
    current = content(provider, path) if base is None else base
    assert current is not None
    return client.post(
        url("file-save", provider),
        {
            "path": path,
            "content": text,
            "sha256": sha256_of(current),
            "lock_version": provider.lock_version,
        },
        **extra,
    )


def events(provider: Provider, action: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(provider=provider, action=action).values_list(
            "summary", flat=True
        )
    )


@pytest.fixture
def provider(personas) -> Provider:
    return make_provider(personas.team, runtime="custom")


@pytest.fixture
def bob(client: Client, personas) -> Client:
    client.force_login(personas.bob)
    return client


# ---------------------------------------------------------------- the page


class TestEditorPage:
    def test_an_author_gets_a_textarea_form_that_saves_without_javascript(
        self, bob, provider
    ):
        body = bob.get(file_page(provider, LLM)).content.decode()
        assert f'action="{url("file-save", provider)}"' in body
        assert 'name="content" data-editor data-language="python"' in body
        assert (
            "raise NotImplementedError(&quot;AUTHOR: implement _invoke&quot;)" in body
        )
        assert f'name="sha256" value="{sha256_of(content(provider, LLM))}"' in body
        assert "js/editor.bundle.js" in body
        assert "Find and replace" in body and "Wrap lines" in body

    def test_a_reviewer_or_viewer_reads_the_file_with_no_edit_ui(
        self, client, personas, provider
    ):
        for reader in (personas.carol, personas.victor):
            client.force_login(reader)
            body = client.get(file_page(provider, LLM)).content.decode()
            assert 'class="source lang-python"' in body
            for absent in ("<textarea", "editor.bundle.js", "Add or upload", "Rename"):
                assert absent not in body

    def test_the_bundle_loads_only_on_the_files_pages(self, bob, provider):
        assert "editor.bundle.js" in bob.get(url("files", provider)).content.decode()
        for page in ("detail", "models", "credentials"):
            assert (
                "editor.bundle.js" not in bob.get(url(page, provider)).content.decode()
            )

    def test_the_manifest_offers_no_rename_or_delete(self, bob, provider):
        body = bob.get(file_page(provider, "manifest.yaml")).content.decode()
        assert "it cannot be renamed or deleted" in body
        assert url("file-delete", provider) not in body

    def test_the_page_keeps_its_query_count_as_models_grow(self, bob, personas):
        few = make_provider(personas.team, "few", models=2)
        many = make_provider(personas.team, "many", models=2)
        add_llm_models(many, 30)
        bob.get(url("files", few))  # the first request of a session does more
        counts = []
        for p in (few, many):
            with CaptureQueriesContext(connection) as queries:
                assert bob.get(file_page(p, "manifest.yaml")).status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]


# ---------------------------------------------------------------- saving


class TestSave:
    def test_a_save_writes_the_file_and_logs_it(self, bob, provider):
        text = content(provider, LLM).decode() + "\n# checked\n"
        response = save(bob, provider, LLM, text.replace("\n", "\r\n"))
        assert response.status_code == 302
        assert response["Location"] == file_page(provider, LLM)
        # The browser's CRLF line breaks are stored as the file's LF.
        assert content(provider, LLM) == text.encode()
        assert events(provider, "file-edit") == [f"edited {LLM}"]

    def test_an_htmx_save_answers_the_status_block_and_the_tree(self, bob, provider):
        text = content(provider, "README.md").decode() + "More.\n"
        response = save(bob, provider, "README.md", text, **HX)
        body = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in body
        assert "Saved README.md." in body
        assert 'id="files-tree" hx-swap-oob="true"' in body
        assert response["HX-Trigger"] == "findings-changed"
        new = sha256_of(text.encode())
        assert f'name="sha256" value="{new}"' in body

    def test_a_stale_save_answers_409_with_both_versions_and_changes_nothing(
        self, bob, client, personas, provider
    ):
        loaded = content(provider, "README.md")
        assert loaded is not None
        other = Client()
        other.force_login(personas.alice)
        theirs = loaded.decode() + "Alice's line.\n"
        assert save(other, provider, "README.md", theirs).status_code == 302
        response = save(
            bob, provider, "README.md", loaded.decode() + "Bob's line.\n", base=loaded
        )
        body = response.content.decode()
        assert response.status_code == 409
        assert content(provider, "README.md") == theirs.encode()
        assert "Not saved: someone else changed this file" in body
        assert "Bob&#x27;s line." in body and "Alice&#x27;s line." in body
        assert 'class="src yours">Bob&#x27;s line.' in body
        assert 'class="src theirs">Alice&#x27;s line.' in body
        assert events(provider, "file-edit") == ["edited README.md"]
        # Saving again (with the version now shown) replaces theirs.
        assert f'name="sha256" value="{sha256_of(theirs.encode())}"' in body

    def test_a_python_syntax_error_is_refused_with_its_line_and_column(
        self, bob, provider
    ):
        before = content(provider, LLM)
        assert before is not None
        broken = before.decode().replace("def _invoke(self,", "def _invoke(self,,", 1)
        line = broken.splitlines().index(
            next(x for x in broken.splitlines() if "_invoke(self,," in x)
        )
        response = save(bob, provider, LLM, broken, **HX)
        body = response.content.decode()
        assert response.status_code == 400
        assert content(provider, LLM) == before
        assert f"Not saved: {LLM}, line {line + 1}, column " in body
        assert "Python syntax error" in body
        # The editor marks the line from this JSON.
        assert f'"line": {line + 1}, "column": ' in body
        assert events(provider, "file-edit") == []

    def test_invalid_yaml_is_refused_with_its_line(self, bob, provider):
        before = content(provider, "manifest.yaml")
        assert before is not None
        response = save(bob, provider, "manifest.yaml", "version: 1\n  bad: [\n")
        body = response.content.decode()
        assert response.status_code == 400
        assert "not valid YAML" in body and "manifest.yaml, line " in body
        assert content(provider, "manifest.yaml") == before
        # Without htmx the page comes back with the text kept.
        assert "bad: [" in body and "data-dirty" in body

    def test_yaml_that_no_longer_makes_a_plugin_is_refused(self, bob, provider):
        path = provider.provider_path
        before = content(provider, path)
        response = save(bob, provider, path, "provider: [1, 2]\n")
        assert response.status_code == 400
        assert "the plugin would not load" in response.content.decode()
        assert content(provider, path) == before

    def test_the_verifier_runs_on_save(self, bob, provider):
        assert provider.error_count == 0
        response = save(bob, provider, "requirements.txt", "requests==2.32.3\n", **HX)
        provider.refresh_from_db()
        assert response.status_code == 200
        assert provider.error_count >= 1
        rules = [f["rule"] for f in provider.findings]
        assert "package.requirements.no-sdk" in rules
        assert "requirements.txt does not require dify_plugin" in (
            response.content.decode()
        )

    def test_a_byte_order_mark_and_crlf_are_kept(self, bob, provider):
        services.provider_replace_files(
            provider=provider,
            files={
                **services.provider_files(provider),
                "notes.txt": b"\xef\xbb\xbfa\r\nb\r\n",
            },
        )
        provider.refresh_from_db()
        assert save(bob, provider, "notes.txt", "a\r\nb\r\nc\r\n").status_code == 302
        assert content(provider, "notes.txt") == b"\xef\xbb\xbfa\r\nb\r\nc\r\n"

    def test_a_binary_file_is_not_saved_as_text(self, bob, provider):
        services.provider_replace_files(
            provider=provider,
            files={**services.provider_files(provider), "blob.bin": b"\x00\x01"},
        )
        provider.refresh_from_db()
        response = save(bob, provider, "blob.bin", "text")
        assert response.status_code == 400
        assert content(provider, "blob.bin") == b"\x00\x01"


class TestYamlAsText:
    def test_a_credential_field_added_as_text_shows_in_the_forms_and_round_trips(
        self, bob, provider
    ):
        path = provider.provider_path
        data = yaml.safe_load(content(provider, path))
        assert data["model_credential_schema"]["credential_form_schemas"] == []
        text = (
            content(provider, path)
            .decode()
            .replace(
                "  credential_form_schemas: []\n",
                "  credential_form_schemas:\n"
                "  # the endpoint the plugin calls\n"
                "  - variable: endpoint_url\n"
                "    label:\n"
                "      en_US: Endpoint\n"
                "    type: text-input\n"
                "    required: true\n",
            )
        )
        assert "endpoint_url" in text
        assert save(bob, provider, path, text).status_code == 302
        credentials = bob.get(url("credentials", provider)).content.decode()
        assert "<code>endpoint_url</code>" in credentials
        # The form's edit lands in the same file, the text's shape kept.
        edit = f"/providers/{provider.pk}/credentials/model/0/edit"
        form = bob.get(edit).content.decode()
        assert 'value="endpoint_url"' in form
        provider.refresh_from_db()
        response = bob.post(
            edit,
            {
                "lock_version": provider.lock_version,
                "variable": "endpoint_url",
                "type": "text-input",
                "required": "on",
                "label_en_US": "API endpoint",
                "opt-TOTAL_FORMS": "0",
                "opt-INITIAL_FORMS": "0",
                "cond-TOTAL_FORMS": "0",
                "cond-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        saved = content(provider, path).decode()
        fields = yaml.safe_load(saved)["model_credential_schema"][
            "credential_form_schemas"
        ]
        assert fields[0]["label"] == {"en_US": "API endpoint"}
        assert fields[0]["variable"] == "endpoint_url"
        # The editor shows the form's change.
        page = bob.get(file_page(provider, path)).content.decode()
        assert "en_US: API endpoint" in page

    def test_the_manifest_edited_as_text_round_trips_through_the_general_form(
        self, bob, provider
    ):
        text = content(provider, "manifest.yaml").decode()
        new = text.replace("version: 0.0.1", "version: 0.0.2", 1)
        assert save(bob, provider, "manifest.yaml", new).status_code == 302
        provider.refresh_from_db()
        assert provider.version == "0.0.2"
        form = bob.get(f"/providers/{provider.pk}/general/edit").content.decode()
        assert 'value="0.0.2"' in form
        # A form edit of the same file keeps what the text edit wrote.
        services.provider_edit(
            provider=provider,
            lock_version=provider.lock_version,
            change=lambda doc: setattr(doc.manifest.spec, "version", "0.0.3"),
        )
        saved = content(provider, "manifest.yaml").decode()
        assert "version: 0.0.3" in saved
        assert yaml.safe_load(saved)["version"] == "0.0.3"
        page = bob.get(file_page(provider, "manifest.yaml")).content.decode()
        assert "version: 0.0.3" in page

    def test_a_model_edited_as_text_shows_in_the_models_table(self, bob, personas):
        provider = make_provider(personas.team, models=1)
        model = provider.models.get()
        text = content(provider, model.path).decode()
        assert "en_US: " in text
        new = text.replace(f"en_US: {model.label}", "en_US: Renamed as text", 1)
        assert save(bob, provider, model.path, new).status_code == 302
        model.refresh_from_db()
        assert model.label == "Renamed as text"
        table = bob.get(url("models", provider)).content.decode()
        assert "Renamed as text" in table


# ---------------------------------------------------------------- operations


class TestAdd:
    def test_adding_a_file_creates_it_empty_and_logs_it(self, bob, provider):
        response = bob.post(url("file-add", provider), {"path": "models/llm/client.py"})
        assert response.status_code == 302
        assert response["Location"] == file_page(provider, "models/llm/client.py")
        assert content(provider, "models/llm/client.py") == b""
        assert events(provider, "file-add") == ["added models/llm/client.py"]

    def test_an_htmx_add_answers_the_section_and_the_url(self, bob, provider):
        response = bob.post(url("file-add", provider), {"path": "docs/notes.md"}, **HX)
        assert response.status_code == 200
        assert response["HX-Push-Url"] == file_page(provider, "docs/notes.md")
        assert "Added docs/notes.md." in response.content.decode()

    @pytest.mark.parametrize(
        ("path", "reason"),
        [
            ("../outside.py", "path escapes the plugin root"),
            ("models/../../x.py", "path escapes the plugin root"),
            ("/etc/passwd", "absolute path"),
            ("C:/x.py", "drive name"),
            ("a\x00b.py", "NUL"),
            ("back\\slash.py", "backslash"),
            (".secret", "may not start with a dot"),
            ("models/.hidden/x.py", "may not start with a dot"),
            ("with space.py", "use only letters"),
            ("models//x.py", "not a plain relative path"),
            ("", "give the file a path"),
            ("manifest.yaml", "exists already"),
            ("manifest.yaml/inner.txt", "both a file and a folder"),
        ],
    )
    def test_bad_paths_are_refused_with_a_message(self, bob, provider, path, reason):
        before = services.provider_files(provider)
        response = bob.post(url("file-add", provider), {"path": path})
        assert response.status_code == 400
        assert reason in response.content.decode()
        assert services.provider_files(provider) == before
        assert events(provider, "file-add") == []

    def test_known_dot_files_may_be_added(self, bob, provider):
        files = services.provider_files(provider)
        del files[".env.example"], files[".difyignore"]
        services.provider_replace_files(provider=provider, files=files)
        for path in (".env.example", ".difyignore", ".gitignore"):
            assert (
                bob.post(url("file-add", provider), {"path": path}).status_code == 302
            )
            assert content(provider, path) == b""

    def test_the_difyignore_effect_stays_visible(self, bob, provider):
        assert bob.post(url("file-add", provider), {"path": "tests/test_x.py"})
        text = content(provider, ".difyignore").decode() + "tests/\n"
        assert save(bob, provider, ".difyignore", text).status_code == 302
        page = bob.get(url("files", provider)).content.decode()
        assert "<code>tests/test_x.py</code>" in page
        assert 'title="left out by .difyignore">not packaged' in page


class TestUpload:
    def upload(self, client, provider, *files, folder="_assets", replace=False, **kw):
        data: dict[str, Any] = {"folder": folder, "files": list(files)}
        if replace:
            data["replace"] = "1"
        return client.post(url("file-upload", provider), data, **kw)

    def test_uploading_an_icon_and_an_image_stores_them(self, bob, provider):
        png = b"\x89PNG\r\n\x1a\n" + bytes(64)
        response = self.upload(
            bob,
            provider,
            SimpleUploadedFile("logo.svg", SAFE_SVG),
            SimpleUploadedFile("shot.png", png),
        )
        assert response.status_code == 302
        assert content(provider, "_assets/logo.svg") == SAFE_SVG
        assert content(provider, "_assets/shot.png") == png
        assert events(provider, "file-upload") == [
            "uploaded _assets/logo.svg, _assets/shot.png"
        ]

    def test_hostile_svgs_are_refused(self, bob, provider):
        for hostile in HOSTILE_SVGS:
            upload = SimpleUploadedFile("evil.svg", hostile.content)
            response = self.upload(bob, provider, upload)
            assert response.status_code == 400, hostile.id
            assert "not a safe SVG" in response.content.decode()
            assert content(provider, "_assets/evil.svg") is None

    def test_an_oversized_file_is_refused(self, bob, provider, monkeypatch):
        monkeypatch.setattr(file_services, "MAX_FILE_BYTES", 1000)
        response = self.upload(
            bob, provider, SimpleUploadedFile("big.bin", b"x" * 5000)
        )
        assert response.status_code == 400
        assert "larger than 1000 bytes" in response.content.decode()
        assert content(provider, "_assets/big.bin") is None

    def test_an_oversized_text_save_is_refused(self, bob, provider, monkeypatch):
        monkeypatch.setattr(file_services, "MAX_FILE_BYTES", 1000)
        before = content(provider, "README.md")
        response = save(bob, provider, "README.md", "x" * 2000)
        assert response.status_code == 400
        assert "at most 1000 bytes" in response.content.decode()
        assert content(provider, "README.md") == before

    def test_the_plugin_total_is_capped(self, bob, provider, monkeypatch):
        monkeypatch.setattr(file_services, "MAX_TOTAL_BYTES", 5000)
        response = self.upload(
            bob, provider, SimpleUploadedFile("big.bin", b"x" * 4000)
        )
        assert response.status_code == 400
        assert "a plugin has at most 5000 bytes" in response.content.decode()

    def test_an_existing_file_is_replaced_only_when_asked(self, bob, provider):
        first = self.upload(
            bob, provider, SimpleUploadedFile("README.md", b"# New\n"), folder=""
        )
        assert first.status_code == 400
        assert "exists already" in first.content.decode()
        again = self.upload(
            bob,
            provider,
            SimpleUploadedFile("README.md", b"# New\n"),
            folder="",
            replace=True,
        )
        assert again.status_code == 302
        assert content(provider, "README.md") == b"# New\n"

    def test_the_manifest_is_not_replaced_by_an_upload(self, bob, provider):
        before = content(provider, "manifest.yaml")
        response = self.upload(
            bob,
            provider,
            SimpleUploadedFile("manifest.yaml", before or b""),
            folder="",
            replace=True,
        )
        assert response.status_code == 400
        assert "not replaced by an upload" in response.content.decode()

    def test_a_bad_folder_is_refused(self, bob, provider):
        response = self.upload(
            bob, provider, SimpleUploadedFile("x.txt", b"x"), folder="../up"
        )
        assert response.status_code == 400
        assert "path escapes the plugin root" in response.content.decode()


class TestRenameAndDelete:
    def test_renaming_moves_the_file_and_logs_it(self, bob, provider):
        before = content(provider, "README.md")
        response = bob.post(
            url("file-rename", provider),
            {"path": "README.md", "new_path": "docs/README.md"},
        )
        assert response.status_code == 302
        assert content(provider, "README.md") is None
        assert content(provider, "docs/README.md") == before
        assert events(provider, "file-rename") == [
            "renamed README.md to docs/README.md"
        ]

    @pytest.mark.parametrize("op", ["rename", "delete"])
    def test_the_manifest_and_provider_yaml_stay(self, bob, provider, op):
        for path in ("manifest.yaml", provider.provider_path):
            data = {"path": path, "new_path": "elsewhere.yaml"}
            response = bob.post(url(f"file-{op}", provider), data)
            assert response.status_code == 400
            verb = "renamed" if op == "rename" else "deleted"
            assert f"it cannot be {verb}" in response.content.decode()
            assert content(provider, path) is not None

    def test_renaming_onto_an_existing_file_or_out_of_the_plugin_is_refused(
        self, bob, provider
    ):
        for new_path, reason in (
            ("main.py", "exists already"),
            ("../README.md", "path escapes the plugin root"),
            ("/README.md", "absolute path"),
        ):
            response = bob.post(
                url("file-rename", provider),
                {"path": "README.md", "new_path": new_path},
            )
            assert response.status_code == 400
            assert reason in response.content.decode()
        assert content(provider, "README.md") is not None

    def test_deleting_a_file_removes_it_and_logs_it(self, bob, provider):
        response = bob.post(url("file-delete", provider), {"path": "PRIVACY.md"}, **HX)
        assert response.status_code == 200
        assert "Deleted PRIVACY.md." in response.content.decode()
        assert content(provider, "PRIVACY.md") is None
        assert events(provider, "file-delete") == ["deleted PRIVACY.md"]

    def test_an_unknown_file_is_404(self, bob, provider):
        for op in ("rename", "delete"):
            data = {"path": "nope.txt", "new_path": "x.txt"}
            assert bob.post(url(f"file-{op}", provider), data).status_code == 404
        assert save(bob, provider, "README.md", "x", base=b"").status_code == 409
        response = bob.post(
            url("file-save", provider), {"path": "nope.txt", "content": "x"}
        )
        assert response.status_code == 404


class TestRevisions:
    def test_a_revision_freezes_the_edited_files(self, bob, personas, provider):
        text = content(provider, LLM).decode() + "# v2\n"
        assert save(bob, provider, LLM, text).status_code == 302
        bob.post(url("file-add", provider), {"path": "docs/extra.md"})
        revision = revision_submit(provider=provider, user=personas.bob, message="v2")
        frozen = revision.files()
        assert frozen[LLM] == text.encode()
        assert "docs/extra.md" in frozen


# ---------------------------------------------------------------- access


WRITES = [
    ("file-save", {"path": "README.md", "content": "x", "sha256": "0"}),
    ("file-add", {"path": "x.txt"}),
    ("file-upload", {"folder": ""}),
    ("file-rename", {"path": "README.md", "new_path": "R.md"}),
    ("file-delete", {"path": "README.md"}),
]


class TestAccess:
    @pytest.mark.parametrize(("name", "data"), WRITES)
    def test_reviewers_and_viewers_get_403(
        self, client, personas, provider, name, data
    ):
        before = services.provider_files(provider)
        for reader in (personas.carol, personas.victor):
            client.force_login(reader)
            assert client.post(url(name, provider), data).status_code == 403
        assert services.provider_files(provider) == before

    @pytest.mark.parametrize(("name", "data"), WRITES)
    def test_another_team_gets_404(self, client, personas, provider, name, data):
        client.force_login(personas.mallory)
        assert client.post(url(name, provider), data).status_code == 404

    @pytest.mark.parametrize(("name", "data"), WRITES)
    def test_a_get_is_405(self, bob, provider, name, data):
        assert bob.get(url(name, provider)).status_code == 405

    @pytest.mark.parametrize(("name", "data"), WRITES)
    def test_every_write_needs_the_csrf_token(self, personas, provider, name, data):
        client = Client(enforce_csrf_checks=True)
        client.force_login(personas.bob)
        before = services.provider_files(provider)
        assert client.post(url(name, provider), data).status_code == 403
        assert services.provider_files(provider) == before


class TestDependencies:
    def test_pyproject_is_edited_like_any_file_and_stays_checked(self, bob, provider):
        data = UVLOCK_DATA / "transitive"
        files = services.provider_files(provider)
        del files["requirements.txt"]
        files["pyproject.toml"] = (data / "pyproject.toml").read_bytes()
        files["uv.lock"] = (data / "uv.lock").read_bytes()
        services.provider_replace_files(provider=provider, files=files)
        text = "# the plugin's dependencies\n" + files["pyproject.toml"].decode()
        response = save(bob, provider, "pyproject.toml", text, **HX)
        assert response.status_code == 200
        assert content(provider, "pyproject.toml") == text.encode()
        # The verifier still checks the SDK pin, in the editor's findings too.
        body = response.content.decode()
        assert "pyproject.toml does not depend on dify_plugin" in body
        # The requirements a build generates from uv.lock stay in view.
        page = bob.get(file_page(provider, "pyproject.toml")).content.decode()
        assert "is generated from <code>uv.lock</code>" in page
        assert (data / "expected.txt").read_text().splitlines()[0] in page
