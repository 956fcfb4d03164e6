from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from studio.catalog import services
from studio.catalog.models import Provider
from studio.pluginfmt.verify import RULES, verify
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def flawed_provider(team) -> Provider:
    """A provider with an error (bad version), a warning and a hostile glob."""
    provider = make_provider(team, methods=["predefined-model"])
    files = services.provider_files(provider)
    files["manifest.yaml"] = files["manifest.yaml"].replace(
        b"version: 0.0.1\ntype", b"version: abc\ntype", 1
    )
    path = provider.provider_path
    files[path] = files[path].replace(
        b"models/llm/*.yaml", b"models/llm/<script>x</script>*.yaml"
    )
    services.provider_replace_files(provider=provider, files=files)
    provider.refresh_from_db()
    return provider


def url(name: str, provider: Provider, query: str = "") -> str:
    return reverse(name, kwargs={"provider_id": provider.pk}) + query


class TestFindingsTab:
    def test_it_lists_every_finding_grouped_by_severity(
        self, client: Client, personas
    ) -> None:
        provider = flawed_provider(personas.team)
        findings = verify(services.provider_files(provider))
        assert {f.severity for f in findings} == {"error", "warning", "info"}
        client.force_login(personas.alice)
        response = client.get(url("catalog:provider-findings", provider))
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" in body
        assert 'aria-current="page">Findings</a>' in body
        for f in findings:
            summary = escape(RULES[f.rule].summary)
            assert f'<code title="{summary}">{f.rule}</code>' in body
        errors = body.index('id="findings-error"')
        warnings = body.index('id="findings-warning"')
        infos = body.index('id="findings-info"')
        assert errors < body.index("manifest.version.format") < warnings
        assert warnings < body.index("provider.predefined.no-models") < infos
        assert f"All ({len(findings)})" in body

    def test_a_finding_links_to_its_line_in_the_files_tab(
        self, client: Client, personas
    ) -> None:
        provider = flawed_provider(personas.team)
        client.force_login(personas.alice)
        body = client.get(url("catalog:provider-findings", provider)).content.decode()
        link = url("catalog:provider-file", provider, "?path=manifest.yaml")
        assert f'<a href="{link}&amp;line=1#L1">manifest.yaml:1</a>' in body
        assert "Fix: Use a version like 0.0.1." in body
        assert "Value: <code>abc</code>" in body

    def test_the_link_lands_on_the_marked_line(self, client: Client, personas) -> None:
        provider = flawed_provider(personas.team)
        client.force_login(personas.victor)
        page = url("catalog:provider-file", provider, "?path=manifest.yaml&line=1")
        body = client.get(page).content.decode()
        assert '<tr id="L1" class="hl">' in body
        # An editor's editor opens at that line.
        client.force_login(personas.alice)
        body = client.get(page).content.decode()
        assert 'data-line="1"' in body

    def test_a_finding_about_a_missing_file_is_not_linked(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        files = services.provider_files(provider)
        del files["_assets/icon.svg"]
        services.provider_replace_files(provider=provider, files=files)
        missing = [f for f in verify(files) if f.file not in files and f.file]
        assert missing
        client.force_login(personas.alice)
        body = client.get(url("catalog:provider-findings", provider)).content.decode()
        for f in missing:
            assert f"?path={f.file}" not in body
            assert f'<td class="where">{f.file}' in body

    def test_messages_and_values_are_escaped(self, client: Client, personas) -> None:
        provider = flawed_provider(personas.team)
        client.force_login(personas.alice)
        body = client.get(url("catalog:provider-findings", provider)).content.decode()
        assert "<script>x" not in body
        assert "&lt;script&gt;x&lt;/script&gt;" in body

    def test_it_filters_by_severity(self, client: Client, personas) -> None:
        provider = flawed_provider(personas.team)
        client.force_login(personas.alice)
        body = client.get(
            url("catalog:provider-findings", provider, "?severity=warning")
        ).content.decode()
        assert 'id="findings-warning"' in body
        assert 'id="findings-error"' not in body
        assert "manifest.version.format" not in body
        assert 'aria-current="page">Warnings (' in body

    def test_an_unknown_severity_shows_everything(
        self, client: Client, personas
    ) -> None:
        provider = flawed_provider(personas.team)
        client.force_login(personas.alice)
        body = client.get(
            url("catalog:provider-findings", provider, "?severity=<b>")
        ).content.decode()
        assert 'id="findings-error"' in body
        assert 'id="findings-info"' in body
        assert "<b>" not in body

    def test_an_htmx_request_gets_only_the_findings(
        self, client: Client, personas
    ) -> None:
        provider = flawed_provider(personas.team)
        client.force_login(personas.alice)
        response = client.get(
            url("catalog:provider-findings", provider, "?severity=error"), headers=HX
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert body.lstrip().startswith('<section id="findings"')
        assert "manifest.version.format" in body
        assert 'id="findings-warning"' not in body
        assert "<html" not in body

    def test_a_clean_provider_says_none(self, client: Client, personas) -> None:
        provider = make_provider(personas.team, models=1)
        assert verify(services.provider_files(provider)) == []
        client.force_login(personas.alice)
        body = client.get(url("catalog:provider-findings", provider)).content.decode()
        assert body.count('<p class="muted">None.</p>') == 3

    @pytest.mark.parametrize("persona", ["carol", "victor"])
    def test_a_reviewer_or_viewer_can_read_it(
        self, client: Client, personas, persona: str
    ) -> None:
        provider = flawed_provider(personas.team)
        client.force_login(getattr(personas, persona))
        response = client.get(url("catalog:provider-findings", provider))
        assert response.status_code == 200
        assert b"manifest.version.format" in response.content

    def test_another_teams_user_gets_404(self, client: Client, personas) -> None:
        provider = flawed_provider(personas.team)
        client.force_login(personas.mallory)
        response = client.get(url("catalog:provider-findings", provider))
        assert response.status_code == 404

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        response = client.get(url("catalog:provider-findings", provider))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_refuses_a_post(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        response = client.post(url("catalog:provider-findings", provider))
        assert response.status_code == 405


class TestFindingsSummary:
    def test_an_htmx_request_gets_the_badge_with_the_saved_counts(
        self, client: Client, personas
    ) -> None:
        provider = flawed_provider(personas.team)
        assert provider.error_count == 1
        client.force_login(personas.alice)
        response = client.get(
            url("catalog:provider-findings-summary", provider), headers=HX
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert body.lstrip().startswith('<a id="findings-count"')
        assert 'hx-trigger="findings-changed from:body"' in body
        assert f'href="{url("catalog:provider-findings", provider)}"' in body
        assert '<span class="badge error">1 error</span>' in body
        assert "<html" not in body

    def test_the_badge_follows_an_edit(self, client: Client, personas) -> None:
        provider = flawed_provider(personas.team)

        def fix_version(doc):
            doc.manifest.spec.version = "0.0.2"

        services.provider_edit(
            provider=provider, lock_version=provider.lock_version, change=fix_version
        )
        client.force_login(personas.alice)
        body = client.get(
            url("catalog:provider-findings-summary", provider), headers=HX
        ).content.decode()
        assert "badge error" not in body
        assert "warning" in body

    def test_a_clean_provider_has_no_findings(self, client: Client, personas) -> None:
        provider = make_provider(personas.team, models=1)
        client.force_login(personas.alice)
        body = client.get(
            url("catalog:provider-findings-summary", provider), headers=HX
        ).content.decode()
        assert '<span class="badge ok">no findings</span>' in body

    def test_without_htmx_it_sends_to_the_findings_tab(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        response = client.get(url("catalog:provider-findings-summary", provider))
        assert response.status_code == 302
        assert response["Location"] == url("catalog:provider-findings", provider)

    @pytest.mark.parametrize("persona", ["carol", "victor"])
    def test_a_reviewer_or_viewer_can_read_it(
        self, client: Client, personas, persona: str
    ) -> None:
        provider = make_provider(personas.team)
        client.force_login(getattr(personas, persona))
        response = client.get(
            url("catalog:provider-findings-summary", provider), headers=HX
        )
        assert response.status_code == 200

    def test_another_teams_user_gets_404(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.mallory)
        response = client.get(
            url("catalog:provider-findings-summary", provider), headers=HX
        )
        assert response.status_code == 404

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        provider = make_provider(personas.team)
        response = client.get(
            url("catalog:provider-findings-summary", provider), headers=HX
        )
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_refuses_a_post(self, client: Client, personas) -> None:
        provider = make_provider(personas.team)
        client.force_login(personas.alice)
        response = client.post(
            url("catalog:provider-findings-summary", provider), headers=HX
        )
        assert response.status_code == 405


class TestFindingsBadgeInclude:
    def test_it_can_be_swapped_out_of_band_and_keeps_listening(self, personas) -> None:
        provider = flawed_provider(personas.team)
        html = render_to_string(
            "catalog/files/findings_badge.html", {"provider": provider, "oob": True}
        )
        assert 'hx-swap-oob="true"' in html
        assert 'hx-trigger="findings-changed from:body"' in html
        assert "1 error" in html
        plain = render_to_string(
            "catalog/files/findings_badge.html", {"provider": provider}
        )
        assert "hx-swap-oob" not in plain
