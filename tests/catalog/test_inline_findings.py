"""Findings stored with every save and shown next to what they concern: the
models table, the model form, the credential builder and the general section;
the header badge refreshed after htmx saves; live checks while typing."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from studio.catalog import services
from studio.catalog.models import Provider, ProviderModel
from studio.catalog.selectors import findings as finding_selectors
from studio.pluginfmt.document import dump_yaml
from studio.pluginfmt.verify import verify
from tests.factories import llm_model_data, make_provider

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
FLAWED = "models/llm/model-001.yaml"


def replace_files(provider: Provider, changes: dict[str, bytes]) -> Provider:
    """Save the provider's files with `changes` (path -> content) applied."""
    files = services.provider_files(provider) | changes
    services.provider_replace_files(provider=provider, files=files)
    provider.refresh_from_db()
    return provider


def flawed_model_data(name: str) -> dict[str, Any]:
    data = llm_model_data(name)
    data["features"] = ["agent-thought", "bogus"]
    data["model_properties"]["context_size"] = "big"
    data["parameter_rules"][0]["use_template"] = "nope"
    data["parameter_rules"].append({"name": "top_k", "type": "weird"})
    data["pricing"]["unit"] = "abc"
    return data


@pytest.fixture
def provider(personas) -> Provider:
    """Three llm models; model-001's file has errors and warnings."""
    provider = make_provider(personas.team, models=3)
    files = services.provider_files(provider)
    files[FLAWED] = dump_yaml(flawed_model_data("model-001"))
    services.provider_replace_files(provider=provider, files=files)
    provider.refresh_from_db()
    return provider


def model(provider: Provider, model_id: str) -> ProviderModel:
    return provider.models.get(model=model_id)


def login(client, user) -> Any:
    client.force_login(user)
    return client


def rules_of(findings) -> list[str]:
    return [f.rule for f in findings]


def between(html: str, start: str, end: str) -> str:
    """The part of `html` from `start` to the next `end`."""
    at = html.index(start)
    return html[at : html.index(end, at)]


# ---------------------------------------------------------------- storing


class TestStoredFindings:
    def test_a_save_stores_the_verifiers_findings_with_the_counts(self, provider):
        expected = verify(services.provider_files(provider))
        assert provider.findings == [f.as_dict() for f in expected]
        assert provider.error_count == sum(f.severity == "error" for f in expected)
        assert provider.warning_count == sum(f.severity == "warning" for f in expected)
        assert FLAWED in {f["file"] for f in provider.findings}

    def test_the_stored_list_follows_the_next_edit(self, provider):
        fixed = replace_files(provider, {FLAWED: dump_yaml(llm_model_data("x"))})
        assert FLAWED not in {f["file"] for f in fixed.findings}
        assert fixed.error_count == 0

    def test_stored_findings_reads_them_back_as_findings(self, provider):
        found = finding_selectors.stored_findings(provider)
        assert found == verify(services.provider_files(provider))

    def test_stored_findings_skips_what_is_not_a_finding(self, provider):
        provider.findings = [
            "junk",
            {"rule": "x.y", "severity": "bad", "line": "12", "file": FLAWED},
        ]
        (found,) = finding_selectors.stored_findings(provider)
        assert (found.rule, found.severity, found.line) == ("x.y", "info", None)

    def test_the_migration_stores_the_findings_of_existing_providers(self, provider):
        from importlib import import_module

        expected = list(provider.findings)
        Provider.objects.filter(pk=provider.pk).update(findings=[], error_count=0)
        migration = import_module("studio.catalog.migrations.0004_provider_findings")
        migration.store_findings(apps, None)
        provider.refresh_from_db()
        assert provider.findings == expected
        assert provider.error_count > 0


class TestFileFindings:
    def test_it_places_findings_by_key_and_lists_the_rest(self, provider):
        content = services.provider_files(provider)[FLAWED]
        findings = finding_selectors.stored_findings(provider)
        found = finding_selectors.FileFindings(findings, FLAWED, content)
        assert rules_of(found.at("parameter_rules", 0)) == [
            "model.parameter.template-unknown"
        ]
        assert rules_of(found.at("parameter_rules", 2)) == [
            "model.parameter.type-invalid"
        ]
        assert rules_of(found.at("pricing")) == ["model.pricing.invalid-decimal"]
        assert found.at("parameter_rules", 1) == []
        placed = found.at("parameter_rules") + found.at("pricing")
        assert {f.rule for f in found.rest(placed)} == {
            "model.feature.unknown",
            "model.properties.context-size",
        }

    def test_a_marker_counts_by_severity_errors_first(self, provider):
        content = services.provider_files(provider)[FLAWED]
        found = finding_selectors.FileFindings(
            finding_selectors.stored_findings(provider), FLAWED, content
        )
        m = found.marker()
        assert not m and m.level == ""
        m = finding_selectors.marker(found.findings)
        assert (m.errors, m.warnings, m.level) == (4, 1, "error")
        assert [f.severity for f in m][-1] == "warning"

    def test_an_unreadable_file_places_nothing_by_key(self, provider):
        findings = finding_selectors.stored_findings(provider)
        found = finding_selectors.FileFindings(findings, FLAWED, b"a: [")
        assert found.at("pricing") == []
        assert len(found.findings) == 5


# ---------------------------------------------------------------- findings tab


class TestFindingsTabReadsTheStoredList:
    def test_it_lists_what_the_last_save_stored(self, client, personas, provider):
        stored = dict(provider.findings[0], rule="stored.only", message="From the save")
        Provider.objects.filter(pk=provider.pk).update(findings=[stored])
        login(client, personas.alice)
        url = reverse("catalog:provider-findings", args=[provider.pk])
        html = client.get(url).content.decode()
        assert "stored.only" in html
        assert "From the save" in html
        assert "model.pricing.invalid-decimal" not in html


# ---------------------------------------------------------------- models table


class TestModelsTableCounts:
    def url(self, provider: Provider) -> str:
        return reverse("catalog:provider-models", args=[provider.pk])

    def test_a_row_shows_the_counts_of_its_file_linking_to_the_form(
        self, client, personas, provider
    ):
        login(client, personas.alice)
        html = client.get(self.url(provider)).content.decode()
        flawed = model(provider, "model-001")
        row = between(html, f'<tr id="m-{flawed.pk}"', "</tr>")
        edit = reverse("catalog:model-edit", args=[provider.pk, flawed.pk])
        assert f'id="findings-m-{flawed.pk}" href="{edit}#model-findings"' in row
        assert '<span class="badge error">4 errors</span>' in row
        assert '<span class="badge warning">1 warning</span>' in row
        assert "model.parameter.template-unknown: Parameter" in row  # the tooltip
        clean = model(provider, "model-000")
        row = between(html, f'<tr id="m-{clean.pk}"', "</tr>")
        assert "finding-count" not in row

    def test_the_htmx_table_shows_them_too(self, client, personas, provider):
        login(client, personas.alice)
        html = client.get(self.url(provider), **HX).content.decode()
        assert "<html" not in html
        assert f'id="findings-m-{model(provider, "model-001").pk}"' in html

    def test_a_viewer_sees_the_counts(self, client, personas, provider):
        login(client, personas.victor)
        html = client.get(self.url(provider)).content.decode()
        assert f'id="findings-m-{model(provider, "model-001").pk}"' in html

    def test_another_teams_user_gets_404(self, client, personas, provider):
        login(client, personas.mallory)
        assert client.get(self.url(provider)).status_code == 404

    def test_a_saved_row_shows_its_counts_and_refreshes_the_badge(
        self, client, personas, provider
    ):
        login(client, personas.bob)
        m = model(provider, "model-001")
        url = reverse("catalog:model-row", args=[provider.pk, m.pk])
        response = client.post(
            url, {"model_lock": m.lock_version, "label": "Flawed"}, **HX
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert f'id="findings-m-{m.pk}"' in html
        assert 'id="findings-count"' in html and 'hx-swap-oob="true"' in html

    def test_findings_no_row_shows_are_listed_above_the_table(
        self, client, personas, provider
    ):
        replace_files(
            provider, {"models/llm/_position.yaml": b"- model-000\n- ghost\n"}
        )
        login(client, personas.alice)
        html = client.get(self.url(provider)).content.decode()
        part = between(html, 'id="models-findings"', "</div>")
        assert "position.unknown-model" in part
        assert "&#x27;ghost&#x27; is no llm model of this provider." in part

    def test_queries_do_not_grow_with_flawed_models(self, client, personas):
        def count(n: int) -> int:
            provider = make_provider(personas.team, f"q{n}", models=n)
            files = services.provider_files(provider)
            for i in range(n):
                path = f"models/llm/model-{i:03d}.yaml"
                files[path] = dump_yaml(flawed_model_data(f"model-{i:03d}"))
            services.provider_replace_files(provider=provider, files=files)
            url = self.url(provider)
            client.get(url)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            return len(ctx.captured_queries)

        login(client, personas.alice)
        assert count(3) == count(30)


# ---------------------------------------------------------------- model form


class TestModelFormFindings:
    def url(self, provider: Provider, model_id: str = "model-001") -> str:
        m = model(provider, model_id)
        return reverse("catalog:model-edit", args=[provider.pk, m.pk])

    def test_the_files_findings_are_listed_at_the_top_with_rule_and_fix(
        self, client, personas, provider
    ):
        login(client, personas.alice)
        response = client.get(self.url(provider))
        html = response.content.decode()
        assert response.status_code == 200
        top = between(html, 'id="model-findings"', "</div>")
        assert html.index('id="model-findings"') < html.index('name="model"')
        for f in finding_selectors.stored_findings(provider):
            if f.file == FLAWED:
                assert f'<code class="rule">{f.rule}</code>' in top
                assert escape(f.message) in top
                assert escape(f"Fix: {f.fix}") in top
        assert '<span class="badge error">4 errors</span>' in top

    def test_findings_sit_next_to_the_rule_the_property_and_the_pricing(
        self, client, personas, provider
    ):
        login(client, personas.alice)
        html = client.get(self.url(provider)).content.decode()
        rule0 = between(html, 'id="findings-rule-0"', "</details>")
        assert "model.parameter.template-unknown" in rule0
        assert "model.parameter.type-invalid" not in rule0
        assert 'id="findings-rule-1"' not in html  # a clean rule has none
        assert "model.parameter.type-invalid" in between(
            html, 'id="findings-rule-2"', "</details>"
        )
        assert "model.properties.context-size" in between(
            html, 'id="findings-context_size"', "</details>"
        )
        assert "model.pricing.invalid-decimal" in between(
            html, 'id="findings-pricing"', "</details>"
        )
        assert "model.feature.unknown" in between(
            html, 'id="findings-features"', "</details>"
        )
        # The rule's marker is in the rule's card, before the next rule.
        assert (
            html.index('name="rules-0-name"')
            < html.index('id="findings-rule-2"')
            < html.index('name="rules-2-name"')
        )

    def test_the_htmx_editor_carries_the_findings(self, client, personas, provider):
        login(client, personas.alice)
        html = client.get(self.url(provider), **HX).content.decode()
        assert html.lstrip().startswith('<div id="model-editor"')
        assert 'id="model-findings"' in html and 'id="findings-rule-0"' in html

    def test_a_clean_model_and_a_new_model_show_none(self, client, personas, provider):
        login(client, personas.alice)
        clean = client.get(self.url(provider, "model-000")).content.decode()
        new = client.get(
            reverse("catalog:model-new", args=[provider.pk]) + "?type=llm"
        ).content.decode()
        for html in (clean, new):
            assert 'id="model-findings"' not in html
            assert "finding-marker" not in html

    def test_hostile_text_in_a_finding_is_escaped(self, client, personas, provider):
        data = flawed_model_data("model-001")
        data["features"] = ["<script>alert(1)</script>"]
        replace_files(provider, {FLAWED: dump_yaml(data)})
        login(client, personas.alice)
        html = client.get(self.url(provider)).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in between(
            html, 'id="findings-features"', "</details>"
        )
        assert "<script>alert(1)" not in html
        table = reverse("catalog:provider-models", args=[provider.pk])
        assert "<script>alert(1)" not in client.get(table).content.decode()

    def test_a_reviewer_reads_the_findings(self, client, personas, provider):
        login(client, personas.carol)
        html = client.get(self.url(provider)).content.decode()
        assert 'id="findings-rule-0"' in html

    def test_another_teams_user_gets_404(self, client, personas, provider):
        login(client, personas.mallory)
        assert client.get(self.url(provider)).status_code == 404

    def test_a_put_gets_405(self, client, personas, provider):
        login(client, personas.alice)
        assert client.put(self.url(provider)).status_code == 405

    def test_a_stale_save_shows_the_findings_of_the_current_version(
        self, client, personas, provider
    ):
        login(client, personas.alice)
        stale = provider.lock_version
        fixed = copy.deepcopy(flawed_model_data("model-001"))
        fixed["pricing"]["unit"] = "0.000001"
        replace_files(provider, {FLAWED: dump_yaml(fixed)})
        data = {
            "lock_version": stale,
            "model": "model-001",
            "mode": "chat",
            "context_size": "4096",
            "pricing_unit": "0.000001",
            "pricing_currency": "USD",
            "rules-TOTAL_FORMS": "0",
            "rules-INITIAL_FORMS": "0",
            "_save": "1",
        }
        response = client.post(self.url(provider), data)
        html = response.content.decode()
        assert response.status_code == 409
        assert "model.pricing.invalid-decimal" not in html
        assert "model.feature.unknown" in html


class TestModelIdLiveCheck:
    def url(self, provider: Provider) -> str:
        return reverse("catalog:model-new", args=[provider.pk]) + "?type=llm"

    def post(self, client, provider: Provider, model_id: str, **extra) -> Any:
        data = {"lock_version": provider.lock_version, "model": model_id}
        return client.post(self.url(provider), {**data, "_validate": "1"}, **extra)

    def test_a_taken_id_gets_only_its_error_back(self, client, personas, provider):
        login(client, personas.bob)
        before = services.provider_files(provider)
        response = self.post(client, provider, "model-000", **HX)
        html = response.content.decode()
        assert response.status_code == 200
        assert html.startswith('<div id="model-id-feedback"')
        assert "already used in this provider" in html
        assert 'name="model"' not in html
        assert services.provider_files(provider) == before

    def test_a_bad_id_is_refused_and_a_good_one_clears_the_error(
        self, client, personas, provider
    ):
        login(client, personas.bob)
        bad = self.post(client, provider, "../<b>no way</b>", **HX).content.decode()
        assert 'class="errorlist"' in bad
        assert "<b>" not in bad
        good = self.post(client, provider, "fresh-model", **HX).content.decode()
        assert good == '<div id="model-id-feedback" aria-live="polite"></div>'

    def test_the_form_asks_for_it_while_typing(self, client, personas, provider):
        login(client, personas.bob)
        html = client.get(self.url(provider)).content.decode()
        field = between(html, 'class="field field-model', "</div>")
        assert 'hx-trigger="input delay:400ms from:#id_model"' in field
        assert 'hx-target="#model-id-feedback"' in field
        assert (
            "&quot;_validate&quot;: &quot;1&quot;" in field
            or '"_validate": "1"' in field
        )

    def test_without_htmx_a_validation_post_saves_nothing(
        self, client, personas, provider
    ):
        login(client, personas.bob)
        data = {
            "lock_version": provider.lock_version,
            "model": "fresh-model",
            "mode": "chat",
            "context_size": "4096",
            "pricing_unit": "0.000001",
            "pricing_currency": "USD",
            "rules-TOTAL_FORMS": "0",
            "rules-INITIAL_FORMS": "0",
            "_validate": "1",
        }
        response = client.post(self.url(provider), data)
        assert response.status_code == 200
        assert not provider.models.filter(model="fresh-model").exists()

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_a_reviewer_or_viewer_gets_403(self, client, personas, provider, who):
        login(client, getattr(personas, who))
        assert self.post(client, provider, "x", **HX).status_code == 403

    def test_another_teams_user_gets_404(self, client, personas, provider):
        login(client, personas.mallory)
        assert self.post(client, provider, "x", **HX).status_code == 404


# ---------------------------------------------------------------- credentials


def flawed_credentials(personas) -> Provider:
    """endpoint_url is a select without options; the model-name label has no
    en_US text."""
    provider = make_provider(personas.team)
    path = provider.provider_path
    text = services.provider_files(provider)[path].decode()
    text = text.replace(
        "      type: text-input\n      required: true\n      placeholder:\n"
        "        en_US: https://api.example.com/v1",
        "      type: select\n      required: true\n      placeholder:\n"
        "        en_US: https://api.example.com/v1",
        1,
    )
    text = text.replace(
        "    label:\n      en_US: Model Name", "    label:\n      zh_Hans: M"
    )
    return replace_files(provider, {path: text.encode()})


class TestCredentialFindings:
    def url(self, provider: Provider) -> str:
        return reverse("catalog:provider-credentials", args=[provider.pk])

    def test_a_field_row_shows_the_findings_of_its_lines(self, client, personas):
        provider = flawed_credentials(personas)
        login(client, personas.alice)
        response = client.get(self.url(provider))
        html = response.content.decode()
        assert response.status_code == 200
        row = between(html, 'id="field-provider-1"', "</tr>")
        assert 'id="findings-provider-1"' in row
        assert "provider.credential.options-missing" in row
        assert "Credential `endpoint_url` is a select without options." in row
        assert "Fix: " in row
        assert "finding-marker" not in between(html, 'id="field-provider-0"', "</tr>")
        assert 'id="findings-model-1"' not in html  # the model form's copy is fine

    def test_the_model_name_field_shows_its_own(self, client, personas):
        provider = flawed_credentials(personas)
        login(client, personas.alice)
        html = client.get(self.url(provider)).content.decode()
        assert "i18n.en-us-missing" in between(
            html, 'id="findings-model-name"', "</details>"
        )
        name_url = reverse("catalog:provider-credential-model-name", args=[provider.pk])
        form = client.get(name_url).content.decode()
        assert "i18n.en-us-missing" in between(form, 'id="field-findings"', "</div>")

    def test_the_htmx_section_shows_them_too(self, client, personas):
        provider = flawed_credentials(personas)
        login(client, personas.victor)
        html = client.get(self.url(provider), **HX).content.decode()
        assert "<html" not in html
        assert 'id="findings-provider-1"' in html

    def test_the_field_form_lists_the_fields_findings(self, client, personas):
        provider = flawed_credentials(personas)
        login(client, personas.bob)
        url = reverse(
            "catalog:provider-credential-edit", args=[provider.pk, "provider", 1]
        )
        html = client.get(url).content.decode()
        assert "provider.credential.options-missing" in between(
            html, 'id="field-findings"', "</div>"
        )
        other = reverse(
            "catalog:provider-credential-edit", args=[provider.pk, "provider", 0]
        )
        assert 'id="field-findings"' not in client.get(other).content.decode()

    def test_a_clean_provider_reads_no_file_for_them(self, client, personas):
        provider = make_provider(personas.team, models=1)
        assert provider.findings == []
        login(client, personas.alice)
        client.get(self.url(provider))
        with CaptureQueriesContext(connection) as ctx:
            client.get(self.url(provider))
        assert not any("catalog_providerfile" in q["sql"] for q in ctx)

    def test_another_teams_user_gets_404(self, client, personas):
        provider = flawed_credentials(personas)
        login(client, personas.mallory)
        assert client.get(self.url(provider)).status_code == 404

    def test_an_htmx_save_refreshes_the_header_badge(self, client, personas):
        provider = flawed_credentials(personas)
        login(client, personas.bob)
        url = reverse(
            "catalog:provider-credential-delete", args=[provider.pk, "provider", 1]
        )
        response = client.post(url, {"lock_version": provider.lock_version}, **HX)
        assert response.status_code == 200
        assert "findings-changed" in response["HX-Trigger"]
        assert "provider.credential.options-missing" not in response.content.decode()


def field_post(lock_version: int, variable: str, **extra: str) -> dict[str, str]:
    return {
        "lock_version": str(lock_version),
        "variable": variable,
        "type": "text-input",
        "label_en_US": "A label",
        "opt-TOTAL_FORMS": "0",
        "opt-INITIAL_FORMS": "0",
        "cond-TOTAL_FORMS": "0",
        "cond-INITIAL_FORMS": "0",
        **extra,
    }


class TestVariableLiveCheck:
    def url(self, provider: Provider, schema: str = "provider") -> str:
        return reverse("catalog:provider-credential-add", args=[provider.pk, schema])

    def check(self, client, provider: Provider, variable: str, **extra) -> Any:
        data = field_post(provider.lock_version, variable, _validate="1")
        return client.post(self.url(provider), data, **extra)

    def test_a_bad_variable_gets_only_its_error_back(self, client, personas):
        provider = make_provider(personas.team)
        login(client, personas.bob)
        before = services.provider_files(provider)
        response = self.check(client, provider, "9lives", **HX)
        html = response.content.decode()
        assert response.status_code == 200
        assert html.startswith('<div id="variable-feedback"')
        assert 'id="variable-errors"' in html
        assert "Use letters, digits and" in html
        assert 'name="variable"' not in html
        assert services.provider_files(provider) == before

    def test_a_duplicate_is_named_even_before_the_label_is_typed(
        self, client, personas
    ):
        provider = make_provider(personas.team)
        login(client, personas.bob)
        data = field_post(provider.lock_version, "api_key", _validate="1")
        data["label_en_US"] = ""
        html = client.post(self.url(provider), data, **HX).content.decode()
        assert "Field 1 already uses the variable &#x27;api_key&#x27;" in html

    def test_a_good_variable_clears_the_error(self, client, personas):
        provider = make_provider(personas.team)
        login(client, personas.bob)
        html = self.check(client, provider, "region", **HX).content.decode()
        assert html == '<div id="variable-feedback" aria-live="polite"></div>'

    def test_without_htmx_a_validation_post_saves_nothing(self, client, personas):
        provider = make_provider(personas.team)
        login(client, personas.bob)
        before = services.provider_files(provider)
        response = self.check(client, provider, "region")
        assert response.status_code == 200
        assert services.provider_files(provider) == before

    def test_the_form_asks_for_it_while_typing(self, client, personas):
        provider = make_provider(personas.team)
        login(client, personas.bob)
        html = client.get(self.url(provider)).content.decode()
        assert 'hx-trigger="input delay:400ms from:#id_variable"' in html
        assert 'hx-target="#variable-feedback"' in html

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_a_reviewer_or_viewer_gets_403(self, client, personas, who):
        provider = make_provider(personas.team)
        login(client, getattr(personas, who))
        assert self.check(client, provider, "x", **HX).status_code == 403

    def test_another_teams_user_gets_404(self, client, personas):
        provider = make_provider(personas.team)
        login(client, personas.mallory)
        assert self.check(client, provider, "x", **HX).status_code == 404


# ---------------------------------------------------------------- general


def flawed_general(personas) -> Provider:
    """A bad version, a bad background colour and an icon that is missing."""
    provider = make_provider(personas.team)
    manifest = services.provider_files(provider)["manifest.yaml"].decode()
    manifest = manifest.replace("version: 0.0.1\ntype", "version: abc\ntype", 1)
    manifest = manifest.replace("icon: icon.svg", "icon: missing.svg", 1)
    path = provider.provider_path
    declaration = services.provider_files(provider)[path].decode()
    declaration = declaration.replace("background: '#E5E7EB'", "background: red")
    return replace_files(
        provider, {"manifest.yaml": manifest.encode(), path: declaration.encode()}
    )


class TestGeneralFindings:
    def edit_url(self, provider: Provider) -> str:
        return reverse("catalog:provider-general-edit", args=[provider.pk])

    def test_the_edit_form_shows_findings_next_to_their_fields(self, client, personas):
        provider = flawed_general(personas)
        login(client, personas.alice)
        response = client.get(self.edit_url(provider))
        html = response.content.decode()
        assert response.status_code == 200
        version = between(html, 'id="findings-version"', "</details>")
        assert "manifest.version.format" in version
        assert "Fix: Use a version like 0.0.1." in version
        assert "provider.background.invalid" in between(
            html, 'id="findings-background"', "</details>"
        )
        assert "manifest.icon.missing-file" in between(
            html, 'id="findings-icon"', "</details>"
        )
        assert html.index('name="version"') < html.index('id="findings-version"')
        assert 'id="findings-label"' not in html

    def test_findings_of_other_sections_are_not_repeated(self, client, personas):
        provider = flawed_credentials(personas)
        login(client, personas.alice)
        html = client.get(self.edit_url(provider)).content.decode()
        assert "provider.credential.options-missing" not in html
        assert "i18n.en-us-missing" not in html

    def test_unplaced_findings_of_the_two_files_are_listed_above(
        self, client, personas
    ):
        provider = make_provider(personas.team)
        manifest = services.provider_files(provider)["manifest.yaml"].decode()
        manifest = manifest.replace("type: plugin", "type: plugin\nsurprise: 1", 1)
        replace_files(provider, {"manifest.yaml": manifest.encode()})
        unplaced = [
            f
            for f in finding_selectors.stored_findings(provider)
            if f.file == "manifest.yaml"
        ]
        assert unplaced
        login(client, personas.alice)
        html = client.get(self.edit_url(provider)).content.decode()
        part = between(html, 'id="general-findings"', "</div>")
        for f in unplaced:
            assert f.rule in part

    def test_the_general_page_shows_them_to_readers(self, client, personas):
        provider = flawed_general(personas)
        login(client, personas.victor)
        url = reverse("catalog:provider-detail", args=[provider.pk])
        html = client.get(url).content.decode()
        assert "manifest.version.format" in between(
            html, 'id="findings-version"', "</details>"
        )
        assert "provider.background.invalid" in html
        htmx = client.get(url, **HX).content.decode()
        assert "<html" not in htmx and 'id="findings-version"' in htmx

    def test_the_htmx_edit_form_shows_them_too(self, client, personas):
        provider = flawed_general(personas)
        login(client, personas.bob)
        html = client.get(self.edit_url(provider), **HX).content.decode()
        assert "<html" not in html and 'id="findings-version"' in html

    def test_another_teams_user_gets_404(self, client, personas):
        provider = flawed_general(personas)
        login(client, personas.mallory)
        assert client.get(self.edit_url(provider)).status_code == 404

    @pytest.mark.parametrize("who", ["carol", "victor"])
    def test_a_reviewer_or_viewer_cannot_open_the_edit_form(
        self, client, personas, who
    ):
        provider = flawed_general(personas)
        login(client, getattr(personas, who))
        assert client.get(self.edit_url(provider)).status_code == 403


# ---------------------------------------------------------------- the badge


class TestBadgeRefresh:
    def test_htmx_table_changes_trigger_findings_changed(
        self, client, personas, provider
    ):
        login(client, personas.bob)
        m = model(provider, "model-001")
        base = reverse("catalog:provider-models", args=[provider.pk])
        moved = client.post(
            f"{base}{m.pk}/move",
            {"model_lock": m.lock_version, "direction": "up"},
            **HX,
        )
        assert moved.status_code == 200
        assert "findings-changed" in moved["HX-Trigger"]
        m.refresh_from_db()
        deleted = client.post(
            f"{base}{m.pk}/delete", {"model_lock": m.lock_version, "confirm": "1"}, **HX
        )
        assert deleted.status_code == 200
        assert "findings-changed" in deleted["HX-Trigger"]
        provider.refresh_from_db()
        assert provider.error_count == 0
        bulk = client.post(
            reverse("catalog:models-bulk", args=[provider.pk]),
            {
                "lock_version": provider.lock_version,
                "selected": [model(provider, "model-000").pk],
                "action": "deprecate",
            },
            **HX,
        )
        assert bulk.status_code == 200
        assert "findings-changed" in bulk["HX-Trigger"]

    def test_a_plain_post_redirects_without_the_header(
        self, client, personas, provider
    ):
        login(client, personas.bob)
        m = model(provider, "model-001")
        base = reverse("catalog:provider-models", args=[provider.pk])
        response = client.post(
            f"{base}{m.pk}/move", {"model_lock": m.lock_version, "direction": "up"}
        )
        assert response.status_code == 302
        assert "HX-Trigger" not in response
