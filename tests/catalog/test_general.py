"""Editing the general section: texts in both YAML files, version, help link,
colour, minimum Dify version, tags and icons."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from studio.catalog import services
from studio.catalog.forms.providers import PNG_MAGIC
from studio.catalog.models import Provider
from studio.pluginfmt.verify import verify
from tests.factories import make_provider
from tests.svg_inputs import BENIGN_SVGS, HOSTILE_SVGS, HostileSvg

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8">'
    b'<rect width="8" height="8"/></svg>'
)
PNG = PNG_MAGIC + b"\x00" * 64


@pytest.fixture
def provider(personas) -> Provider:
    return make_provider(personas.team)


@pytest.fixture
def alice(client, personas):
    client.force_login(personas.alice)
    return client


def url(provider: Provider) -> str:
    return f"/providers/{provider.pk}/general/edit"


def data_of(provider: Provider) -> tuple[dict[str, Any], dict[str, Any]]:
    files = services.provider_files(provider)
    return (
        yaml.safe_load(files["manifest.yaml"]),
        yaml.safe_load(files[provider.provider_path]),
    )


def verifier_errors(provider: Provider) -> list[str]:
    findings = verify(services.provider_files(provider))
    return [f"{f.rule}: {f.message}" for f in findings if f.severity == "error"]


def post_data(provider: Provider, **changes: Any) -> dict[str, Any]:
    """The form as loaded for `provider`, with `changes` applied."""
    data: dict[str, Any] = {
        "lock_version": provider.lock_version,
        "version": "0.0.1",
        "label_en_US": "Gateway",
        "description_en_US": "The gateway models",
        "background": "#E5E7EB",
        "minimum_dify_version": "1.4.0",
        "repo": "https://github.com/acme/gateway",
        "contact": "dev@acme.example",
        "privacy": "PRIVACY.md",
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


class TestGeneralEditPage:
    def test_the_form_shows_the_saved_values(self, alice, provider):
        response = alice.get(url(provider))
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" in html
        assert 'value="Gateway"' in html
        assert 'value="0.0.1"' in html
        assert 'value="#E5E7EB"' in html
        assert f'name="lock_version" value="{provider.lock_version}"' in html
        assert 'class="swatch" style="background: #E5E7EB"' in html
        assert 'value="rag"' in html  # the tag choices

    def test_an_htmx_request_gets_only_the_section(self, alice, provider):
        response = alice.get(url(provider), **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        assert html.lstrip().startswith('<section id="section"')

    def test_another_teams_user_gets_404(self, client, personas, provider):
        client.force_login(personas.mallory)
        before = services.provider_files(provider)
        assert client.get(url(provider)).status_code == 404
        response = client.post(url(provider), post_data(provider, label_en_US="X"))
        assert response.status_code == 404
        assert services.provider_files(provider) == before

    def test_a_wrong_method_gets_405(self, alice, provider):
        assert alice.put(url(provider)).status_code == 405

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_readers_cannot_edit_and_nothing_changes(
        self, client, personas, provider, who
    ):
        client.force_login(getattr(personas, who))
        before = services.provider_files(provider)
        assert client.get(url(provider)).status_code == 403
        response = client.post(url(provider), post_data(provider, label_en_US="X"))
        assert response.status_code == 403
        assert services.provider_files(provider) == before


class TestGeneralSave:
    def test_it_writes_every_value_to_manifest_and_provider_yaml(self, alice, provider):
        before = services.provider_files(provider)
        response = alice.post(
            url(provider),
            post_data(
                provider,
                label_en_US="Gateway Pro",
                label_ja_JP="ゲートウェイ",
                description_en_US="Every model behind one key",
                description_zh_Hans="一个密钥",
                version="1.2.0-beta1",
                help_title_en_US="Get an API key",
                help_url_en_US="https://example.com/keys",
                help_url_zh_Hans="https://example.cn/keys",
                help_title_zh_Hans="获取密钥",
                background="#112233",
                minimum_dify_version="1.6.0",
                tags=["rag", "utilities"],
            ),
        )
        assert response.status_code == 302
        assert response["Location"] == f"/providers/{provider.pk}/"
        manifest, declaration = data_of(provider)
        label = {"en_US": "Gateway Pro", "ja_JP": "ゲートウェイ"}
        description = {"en_US": "Every model behind one key", "zh_Hans": "一个密钥"}
        assert manifest["label"] == declaration["label"] == label
        assert manifest["description"] == declaration["description"] == description
        assert manifest["version"] == "1.2.0-beta1"
        assert manifest["meta"]["minimum_dify_version"] == "1.6.0"
        assert manifest["tags"] == ["rag", "utilities"]
        assert declaration["help"] == {
            "title": {"en_US": "Get an API key", "zh_Hans": "获取密钥"},
            "url": {
                "en_US": "https://example.com/keys",
                "zh_Hans": "https://example.cn/keys",
            },
        }
        assert declaration["background"] == "#112233"
        after = services.provider_files(provider)
        assert {p for p in after if after[p] != before.get(p)} == {
            "manifest.yaml",
            provider.provider_path,
        }
        provider.refresh_from_db()
        assert provider.version == "1.2.0-beta1"
        assert provider.label == "Gateway Pro"
        assert verifier_errors(provider) == []

    def test_an_unchanged_form_changes_no_file(self, alice, provider):
        before = services.provider_files(provider)
        lock = provider.lock_version
        alice.post(url(provider), post_data(provider))
        provider.refresh_from_db()
        assert services.provider_files(provider) == before
        assert provider.lock_version == lock

    def test_clearing_optional_values_removes_their_keys(self, alice, provider):
        alice.post(
            url(provider),
            post_data(
                provider,
                help_title_en_US="Help",
                help_url_en_US="https://example.com",
                minimum_dify_version="1.6.0",
                tags=["rag"],
            ),
        )
        provider.refresh_from_db()
        alice.post(
            url(provider),
            post_data(provider, background="", minimum_dify_version=""),
        )
        manifest, declaration = data_of(provider)
        assert "help" not in declaration
        assert "background" not in declaration
        assert "tags" not in manifest
        assert "minimum_dify_version" not in manifest["meta"]
        assert verifier_errors(provider) == []

    def test_an_htmx_save_redirects_the_client(self, alice, provider):
        response = alice.post(
            url(provider), post_data(provider, label_en_US="Renamed"), **HTMX
        )
        assert response.status_code == 200
        assert response["HX-Redirect"] == f"/providers/{provider.pk}/"

    def test_an_invalid_htmx_post_returns_the_section_with_errors(
        self, alice, provider
    ):
        response = alice.post(url(provider), post_data(provider, version="1"), **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        assert 'id="version-errors"' in html

    def test_a_new_icon_replaces_the_plugin_and_provider_icons(self, alice, provider):
        data = post_data(provider)
        data["icon"] = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
        response = alice.post(url(provider), data)
        assert response.status_code == 302
        files = services.provider_files(provider)
        manifest, declaration = data_of(provider)
        assert manifest["icon"] == "icon.png"
        assert declaration["icon_small"] == {"en_US": "icon.png"}
        assert declaration["icon_large"] == {"en_US": "icon.png"}
        assert files["_assets/icon.png"] == PNG
        assert "_assets/icon.svg" not in files  # nothing refers to it any more
        assert verifier_errors(provider) == []

    def test_replaced_provider_icons_nothing_refers_to_are_removed(
        self, alice, provider
    ):
        def imported(doc):
            doc.files["_assets/icon_s_en.svg"] = SVG
            doc.files["_assets/banner.svg"] = SVG  # not an icon: stays
            doc.provider.spec.icon_small.en_US = "icon_s_en.svg"

        services.provider_edit(
            provider=provider, lock_version=provider.lock_version, change=imported
        )
        provider.refresh_from_db()
        data = post_data(provider)
        data["icon"] = SimpleUploadedFile("new.svg", SVG)
        alice.post(url(provider), data)
        files = services.provider_files(provider)
        _, declaration = data_of(provider)
        assert declaration["icon_small"] == {"en_US": "icon.svg"}
        assert "_assets/icon_s_en.svg" not in files
        assert files["_assets/banner.svg"] == SVG
        assert files["_assets/icon.svg"] == SVG

    def test_a_dark_icon_is_added(self, alice, provider):
        data = post_data(provider)
        data["icon_dark"] = SimpleUploadedFile("dark.svg", SVG)
        alice.post(url(provider), data)
        files = services.provider_files(provider)
        manifest, _ = data_of(provider)
        assert manifest["icon_dark"] == "icon-dark.svg"
        assert files["_assets/icon-dark.svg"] == SVG
        assert manifest["icon"] == "icon.svg"
        assert verifier_errors(provider) == []


class TestGeneralHostileInput:
    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"label_en_US": "x" * 10_000}, "label_en_US", "at most 200"),
            ({"label_en_US": ""}, "label_en_US", "required"),
            ({"description_en_US": ""}, "description_en_US", "required"),
            ({"version": "1.0"}, "version", "X.Y.Z"),
            ({"version": "1.0.0-beta.1"}, "version", "X.Y.Z"),
            ({"version": "v1.0.0"}, "version", "X.Y.Z"),
            ({"version": "12345.0.0"}, "version", "X.Y.Z"),
            ({"version": "1.0.0-zzz"}, "version", "PEP 440"),
            ({"background": "red"}, "background", "#RRGGBB"),
            ({"background": "#12345G"}, "background", "#RRGGBB"),
            ({"background": "#fff"}, "background", "#RRGGBB"),
            ({"background": "#fff;x:url(y)"}, "background", "at most 7"),
            ({"minimum_dify_version": "latest"}, "minimum_dify_version", "PEP 440"),
            ({"tags": ["model"]}, "tags", "valid choice"),
            (
                {"help_title_en_US": "Help"},
                "help_url_en_US",
                "both a title and a URL",
            ),
            (
                {"help_url_en_US": "https://example.com"},
                "help_title_en_US",
                "both a title and a URL",
            ),
            (
                {"help_title_en_US": "Help", "help_url_en_US": "javascript:alert(1)"},
                "help_url_en_US",
                "http(s)://",
            ),
            ({"lock_version": None}, "form", "lost its version"),
        ],
    )
    def test_bad_input_gives_a_field_error_and_saves_nothing(
        self, alice, provider, changes, field, message
    ):
        before = services.provider_files(provider)
        response = alice.post(url(provider), post_data(provider, **changes))
        html = response.content.decode()
        assert response.status_code == 200
        assert f'id="{field}-errors"' in html
        assert message in html
        assert services.provider_files(provider) == before

    def test_a_script_label_is_saved_as_text_and_escaped(self, alice, provider):
        label = "<script>alert(1)</script>"
        response = alice.post(url(provider), post_data(provider, label_en_US=label))
        assert response.status_code == 302
        manifest, declaration = data_of(provider)
        assert manifest["label"]["en_US"] == declaration["label"]["en_US"] == label
        for page in (url(provider), f"/providers/{provider.pk}/"):
            html = alice.get(page).content.decode()
            assert "<script>alert(1)" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"GIF89a....", "Upload an SVG or PNG"),
            (
                b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>',
                "icon.svg: &lt;script&gt; is not allowed in an icon (line 1)",
            ),
            (b'<svg onload="x()"></svg>', "onload=... is an event handler"),
            (b"<svg><unclosed></svg>", "not well-formed"),
        ],
    )
    def test_a_bad_icon_is_refused(self, alice, provider, content, message):
        before = services.provider_files(provider)
        data = post_data(provider)
        data["icon"] = SimpleUploadedFile("icon.svg", content)
        response = alice.post(url(provider), data)
        html = response.content.decode()
        assert response.status_code == 200
        assert 'id="icon-errors"' in html
        assert message in html
        assert services.provider_files(provider) == before

    @pytest.mark.parametrize("case", HOSTILE_SVGS, ids=lambda c: c.id)
    @pytest.mark.parametrize("field", ["icon", "icon_dark"])
    def test_a_hostile_svg_icon_is_refused_and_nothing_is_saved(
        self, alice, provider, case: HostileSvg, field: str
    ):
        before = services.provider_files(provider)
        data = post_data(provider)
        data[field] = SimpleUploadedFile("logo.svg", case.content)
        response = alice.post(url(provider), data)
        assert response.status_code == 200
        errors = response.context["form"].errors[field]
        assert errors[0].startswith("logo.svg: ")
        assert case.expect in errors[0]
        assert services.provider_files(provider) == before

    @pytest.mark.parametrize("name", sorted(BENIGN_SVGS))
    def test_an_svg_icon_real_editors_export_replaces_the_icon(
        self, alice, provider, name: str
    ):
        data = post_data(provider)
        data["icon"] = SimpleUploadedFile("logo.svg", BENIGN_SVGS[name])
        response = alice.post(url(provider), data)
        assert response.status_code == 302
        assert (
            services.provider_files(provider)["_assets/icon.svg"] == (BENIGN_SVGS[name])
        )


class TestGeneralStale:
    def test_a_stale_save_is_409_with_both_versions_and_saves_nothing(
        self, alice, provider
    ):
        stale = provider.lock_version

        def theirs(doc):
            doc.manifest.spec.version = "0.0.2"
            doc.provider.spec.background = "#000000"

        services.provider_edit(provider=provider, lock_version=stale, change=theirs)
        provider.refresh_from_db()
        before = services.provider_files(provider)
        data = post_data(provider, version="0.1.0", label_en_US="Mine")
        data["lock_version"] = stale
        response = alice.post(url(provider), data)
        html = response.content.decode()
        assert response.status_code == 409
        assert services.provider_files(provider) == before
        assert 'id="conflict"' in html
        version_row = html.split('<th scope="row">Version</th>')[1].split("</tr>")[0]
        assert '<td class="yours">0.1.0</td>' in version_row
        assert '<td class="saved">0.0.2</td>' in version_row
        background = html.split('<th scope="row">Background</th>')[1].split("</tr>")[0]
        assert "#E5E7EB" in background and "#000000" in background
        assert 'value="Mine"' in html  # the form keeps what was typed
        assert f'name="lock_version" value="{provider.lock_version}"' in html

    def test_a_stale_htmx_save_answers_409_with_the_section(self, alice, provider):
        stale = provider.lock_version
        services.provider_edit(
            provider=provider,
            lock_version=stale,
            change=lambda doc: setattr(doc.manifest.spec, "version", "0.0.2"),
        )
        data = post_data(provider, version="0.1.0")
        data["lock_version"] = stale
        response = alice.post(url(provider), data, **HTMX)
        assert response.status_code == 409
        assert "<html" not in response.content.decode()
