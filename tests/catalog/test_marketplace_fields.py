"""Source repository, contact email and privacy policy in the new-provider form
and the General section: validation, what is written, and imported values kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.urls import reverse

from studio.catalog import services
from studio.catalog.models import Provider
from studio.catalog.services import imports
from studio.pluginfmt.readers import read_folder
from studio.pluginfmt.verify import verify
from tests.catalog.test_general import post_data, url
from tests.catalog.test_provider_views import new_provider_data
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
REPO = "https://github.com/acme/gateway"
CONTACT = "plugins@acme.example"

BAD_VALUES = [
    ("repo", "https://example.com/acme/gateway", "github.com, gitlab.com"),
    ("repo", "https://github.com.evil.example/acme/gateway", "not on github.com.evil"),
    ("repo", "http://github.com/acme/gateway", "https://"),
    ("repo", "javascript:alert(1)//github.com/x", "https://"),
    ("repo", "https://ghp_secret:x@github.com/acme/gateway", "passwords"),
    ("repo", "https://github.com/", "repository&#x27;s address"),
    ("contact", "plugins at acme", "one email address"),
    ("contact", "a@b.example, c@d.example", "one email address"),
    ("contact", "root@localhost", "one email address"),
    ("privacy", "../PRIVACY.md", "inside the plugin"),
    ("privacy", "docs/../../../etc/passwd.md", "inside the plugin"),
    ("privacy", "/etc/passwd", "relative path"),
    ("privacy", "..\\PRIVACY.md", "relative path"),
    ("privacy", ".git/PRIVACY.md", "no leading dot"),
    ("privacy", "main.py", "Markdown (.md) or text (.txt)"),
    ("privacy", "http://acme.example/privacy", "https:// URL"),
    ("privacy", "file:///etc/passwd", "https:// URL"),
]


def manifest_of(provider: Provider) -> dict[str, Any]:
    return yaml.safe_load(services.provider_files(provider)["manifest.yaml"])


def marketplace_rules(provider: Provider) -> set[str]:
    return {
        f.rule
        for f in verify(services.provider_files(provider))
        if f.layer == "marketplace"
    }


class TestNewProviderForm:
    def test_the_form_asks_for_them_with_privacy_md_as_default(
        self, client, personas
    ) -> None:
        client.force_login(personas.bob)
        html = client.get(reverse("catalog:provider-new")).content.decode()

        assert 'id="marketplace-fields"' in html
        assert 'name="repo"' in html and 'inputmode="url"' in html
        assert 'name="contact"' in html and 'type="email"' in html
        assert 'name="privacy" value="PRIVACY.md"' in html
        assert "a private plugin needs none" in html

    def test_it_writes_repo_contact_and_privacy_into_the_manifest(
        self, client, personas
    ) -> None:
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:provider-new"),
            new_provider_data(repo=REPO, contact=CONTACT, privacy="PRIVACY.md"),
        )
        provider = Provider.objects.get(name="gateway")
        files = services.provider_files(provider)
        manifest = manifest_of(provider)

        assert response.status_code == 302
        assert (manifest["repo"], manifest["contact"], manifest["privacy"]) == (
            REPO,
            CONTACT,
            "PRIVACY.md",
        )
        assert manifest["meta"]["minimum_dify_version"] == "1.4.0"
        assert f"- Source code: <{REPO}>".encode() in files["README.md"]
        assert CONTACT.encode() in files["PRIVACY.md"]
        assert marketplace_rules(provider) == set()

    def test_a_private_plugin_needs_none_of_them(self, client, personas) -> None:
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:provider-new"), new_provider_data(privacy="")
        )
        provider = Provider.objects.get(name="gateway")
        manifest = manifest_of(provider)

        assert response.status_code == 302
        assert {"repo", "contact", "privacy"}.isdisjoint(manifest)
        # Info for what the Marketplace requires; never an error.
        assert {f.severity for f in verify(services.provider_files(provider))} <= {
            "warning",
            "info",
        }
        assert marketplace_rules(provider) == {
            "manifest.repo.missing",
            "manifest.contact.missing",
            "manifest.privacy.missing",
        }

    def test_a_privacy_url_and_a_privacy_file_of_ones_own(
        self, client, personas
    ) -> None:
        client.force_login(personas.bob)
        client.post(
            reverse("catalog:provider-new"),
            new_provider_data(privacy="https://acme.example/privacy"),
        )
        client.post(
            reverse("catalog:provider-new"),
            new_provider_data(name="other", privacy="./legal/privacy.md"),
        )
        by_url = Provider.objects.get(name="gateway")
        by_file = Provider.objects.get(name="other")

        assert manifest_of(by_url)["privacy"] == "https://acme.example/privacy"
        assert manifest_of(by_file)["privacy"] == "./legal/privacy.md"
        assert (
            b"# Privacy policy of Gateway"
            in (services.provider_files(by_file)["legal/privacy.md"])
        )
        assert "manifest.privacy.file-missing" not in marketplace_rules(by_file)

    @pytest.mark.parametrize(("field", "value", "message"), BAD_VALUES)
    def test_a_bad_value_is_a_clear_field_error_and_creates_nothing(
        self, client, personas, field: str, value: str, message: str
    ) -> None:
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:provider-new"), new_provider_data(**{field: value})
        )
        html = response.content.decode()

        assert response.status_code == 200
        assert f'id="{field}-errors"' in html
        assert message in html
        assert not Provider.objects.exists()

    def test_live_validation_shows_the_error_without_creating(
        self, client, personas
    ) -> None:
        client.force_login(personas.bob)
        response = client.post(
            reverse("catalog:provider-new"),
            new_provider_data(contact="nobody", _validate="1"),
            **HTMX,
        )

        assert response.status_code == 200
        assert 'id="contact-errors"' in response.content.decode()
        assert not Provider.objects.exists()


@pytest.fixture
def bare(personas) -> Provider:
    """A provider authored without repository and contact."""
    return make_provider(personas.team, repo="", contact="")


@pytest.fixture
def alice(client, personas):
    client.force_login(personas.alice)
    return client


def bare_data(provider: Provider, **changes: Any) -> dict[str, Any]:
    return post_data(provider, **{"repo": "", "contact": "", **changes})


class TestGeneralSection:
    def test_the_page_shows_the_values_and_the_marketplace_hints(
        self, alice, bare
    ) -> None:
        html = alice.get(url(bare)).content.decode()
        detail = alice.get(f"/providers/{bare.pk}/").content.decode()

        assert 'name="privacy" value="PRIVACY.md"' in html
        for page in (html, detail):
            # Each hint sits at its own field, not in the list of other findings.
            repo = page.split('id="findings-repo"')[1].split("</details>")[0]
            contact = page.split('id="findings-contact"')[1].split("</details>")[0]
            assert "manifest.repo.missing" in repo and "1 info" in repo
            assert "manifest.contact.missing" in contact
            other = page.split('id="general-findings"')[-1].split("</div>")[0]
            assert "manifest.repo.missing" not in other
            assert page.count("manifest.repo.missing") == 1

    def test_filling_them_in_writes_the_manifest_and_links_the_readme(
        self, alice, bare
    ) -> None:
        response = alice.post(url(bare), bare_data(bare, repo=REPO, contact=CONTACT))
        files = services.provider_files(bare)
        manifest = manifest_of(bare)

        assert response.status_code == 302
        assert (manifest["repo"], manifest["contact"]) == (REPO, CONTACT)
        assert f"- Source code: <{REPO}>".encode() in files["README.md"]
        assert marketplace_rules(bare) == set()
        page = alice.get(f"/providers/{bare.pk}/").content.decode()
        assert REPO in page and CONTACT in page
        assert 'id="findings-repo"' not in page

    def test_a_changed_repository_replaces_the_readmes_link(
        self, alice, personas
    ) -> None:
        provider = make_provider(personas.team)
        new = "https://codeberg.org/acme/gateway"
        alice.post(url(provider), post_data(provider, repo=new))
        readme = services.provider_files(provider)["README.md"].decode()

        assert f"<{new}>" in readme
        assert "github.com/acme/gateway" not in readme
        assert manifest_of(provider)["repo"] == new

    def test_a_new_privacy_path_gets_the_template_and_a_url_needs_none(
        self, alice, bare
    ) -> None:
        alice.post(url(bare), bare_data(bare, privacy="legal/PRIVACY.md"))
        bare.refresh_from_db()
        files = services.provider_files(bare)
        assert manifest_of(bare)["privacy"] == "legal/PRIVACY.md"
        assert files["legal/PRIVACY.md"].startswith(b"# Privacy policy of Gateway")

        alice.post(url(bare), bare_data(bare, privacy="https://acme.example/p"))
        assert manifest_of(bare)["privacy"] == "https://acme.example/p"
        assert "manifest.privacy.file-missing" not in marketplace_rules(bare)

    def test_clearing_them_removes_the_keys_and_leaves_the_files(
        self, alice, personas
    ) -> None:
        provider = make_provider(personas.team)
        before = services.provider_files(provider)
        alice.post(url(provider), post_data(provider, repo="", contact="", privacy=""))
        after = services.provider_files(provider)

        assert {"repo", "contact", "privacy"}.isdisjoint(manifest_of(provider))
        assert after["README.md"] == before["README.md"]
        assert after["PRIVACY.md"] == before["PRIVACY.md"]

    @pytest.mark.parametrize(("field", "value", "message"), BAD_VALUES)
    def test_a_bad_value_is_a_field_error_and_saves_nothing(
        self, alice, bare, field: str, value: str, message: str
    ) -> None:
        before = services.provider_files(bare)
        response = alice.post(url(bare), bare_data(bare, **{field: value}), **HTMX)
        html = response.content.decode()

        assert response.status_code == 200
        assert "<html" not in html
        assert f'id="{field}-errors"' in html
        assert message in html
        assert services.provider_files(bare) == before

    def test_a_stale_save_compares_them_too(self, alice, bare) -> None:
        stale = bare.lock_version
        alice.post(url(bare), bare_data(bare, contact=CONTACT))
        response = alice.post(url(bare), bare_data(bare, lock_version=stale, repo=REPO))
        html = response.content.decode()

        assert response.status_code == 409
        assert "Source repository" in html and REPO in html
        assert "Contact email" in html and CONTACT in html


MANIFEST_TAIL = """\
privacy: "./legal/Privacy Policy.MD"   # kept as written
repo: 'https://git.acme.internal/ai/gateway'
contact:   "AI Team <ai@acme.example>"
"""


class TestImportedValues:
    def imported(self, personas, corpus_copy) -> Provider:
        root = corpus_copy("deepseek")
        manifest = root / "manifest.yaml"
        text = manifest.read_text()
        text = "\n".join(
            line for line in text.splitlines() if not line.startswith("privacy:")
        )
        manifest.write_text(text + "\n" + MANIFEST_TAIL)
        report = imports.import_plugin(
            team=personas.team, user=personas.alice, files=read_folder(Path(root))
        )
        return Provider.objects.get(pk=report.provider_id)

    def test_an_import_keeps_them_byte_for_byte(self, personas, corpus_copy) -> None:
        provider = self.imported(personas, corpus_copy)

        manifest = services.provider_files(provider)["manifest.yaml"].decode()

        assert manifest.endswith(MANIFEST_TAIL)
        rules = {
            (f.rule, f.severity) for f in verify(services.provider_files(provider))
        }
        assert ("manifest.unknown-key", "warning") not in rules
        assert ("manifest.repo.host", "warning") in rules
        assert ("manifest.contact.email", "warning") in rules

    def test_an_unchanged_general_save_keeps_the_manifest_byte_for_byte(
        self, alice, personas, corpus_copy
    ) -> None:
        provider = self.imported(personas, corpus_copy)
        before = services.provider_files(provider)

        response = alice.post(url(provider), self.form_data(alice, provider))

        assert response.status_code == 302
        after = services.provider_files(provider)
        assert after["manifest.yaml"] == before["manifest.yaml"]
        assert after["README.md"] == before["README.md"]

    def test_editing_another_field_keeps_their_values(
        self, alice, personas, corpus_copy
    ) -> None:
        provider = self.imported(personas, corpus_copy)
        data = self.form_data(alice, provider)
        data["label_en_US"] = "DeepSeek (edited)"

        response = alice.post(url(provider), data)
        files = services.provider_files(provider)
        manifest = yaml.safe_load(files["manifest.yaml"])

        # The studio re-serialises an edited manifest (comments and quotes go);
        # the values the form did not check stay exactly as imported.
        assert response.status_code == 302, response.content.decode()[-3000:]
        assert manifest["label"]["en_US"] == "DeepSeek (edited)"
        assert manifest["privacy"] == "./legal/Privacy Policy.MD"
        assert manifest["repo"] == "https://git.acme.internal/ai/gateway"
        assert manifest["contact"] == "AI Team <ai@acme.example>"
        assert "legal/Privacy Policy.MD" not in files

    @staticmethod
    def form_data(client: Any, provider: Provider) -> dict[str, Any]:
        """The General form as the page fills it in."""
        form = client.get(url(provider)).context["form"]
        return {
            name: value
            for name, value in form.initial.items()
            if value not in (None, "", [])
        }
