"""Issue 4's round in a real browser: from a new provider to a plugin that verifies."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import yaml
from django.core.management import call_command

from studio.catalog import services
from studio.catalog.models import Provider
from studio.pluginfmt.render import render_tree
from tests.browser import chromium_page, log_in, screenshot
from tests.catalog.test_models_browser import row_action
from tests.factories import make_team, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server) -> Iterator[object]:
    with chromium_page(width=1440, height=1000) as page:
        yield page


def add_field(page, schema: str, variable: str, label: str, kind: str) -> None:
    page.click(f"#schema-{schema} >> text=Add a field")
    page.wait_for_selector("#field-form")
    page.fill("#id_variable", variable)
    page.fill("#id_label_en_US", label)
    page.select_option("#id_type", kind)
    page.check("#id_required")
    if schema == "model":
        page.select_option("#id_cond-0-variable", "__model_type")
        page.fill("#id_cond-0-value", "llm")
    page.click("#field-form button[type=submit]")
    page.wait_for_selector(f"#preview-{schema} [data-variable={variable}]")


def add_model(page, base: str, provider: Provider, model_id: str, price: str) -> None:
    page.goto(f"{base}/providers/{provider.pk}/models/")
    page.click("text=New llm model")
    page.wait_for_selector("#id_model")
    page.fill("#id_model", model_id)
    page.fill("#id_label_en_US", model_id.title())
    page.fill("#id_context_size", "32000")
    page.select_option("#add-template", "top_k")
    page.click("button[name=_add_rule]")
    page.wait_for_selector("#id_rules-3-name[value=top_k]")
    page.fill("#id_rules-2-default", "1024")
    page.fill("#id_pricing_input", price)
    page.fill("#id_pricing_output", price)
    page.select_option("#id_pricing_unit", "0.000001")
    page.select_option("#id_pricing_currency", "USD")
    page.click(".form-actions button[name=_save]")
    page.wait_for_selector(f"tr.mrow[data-model='{model_id}']")


class TestAuthoringRound:
    def test_alice_authors_a_provider_that_verifies_without_error(
        self, page, live_server, tmp_path
    ) -> None:
        base = live_server.url
        make_team("Acme", owner=make_user("alice"))
        log_in(page, base, "alice")

        # New provider with both configurate methods.
        page.goto(f"{base}/providers/new")
        page.fill("#id_name", "gateway")
        page.fill("#id_author", "acme")
        page.fill("#id_label_en_US", "Gateway")
        page.fill("#id_description_en_US", "Our own model gateway")
        page.check("input[name=model_types][value=llm]")
        page.check("input[name=configurate_methods][value=predefined-model]")
        page.check("input[name=configurate_methods][value=customizable-model]")
        screenshot(page, "provider-new")
        page.click("#provider-new button[type=submit]")
        page.wait_for_url(f"{base}/providers/*/")
        provider = Provider.objects.get(author="acme", name="gateway")
        screenshot(page, "provider-page")

        # A provider credential field and a model credential field for llm only.
        page.goto(f"{base}/providers/{provider.pk}/credentials/")
        add_field(page, "provider", "organization", "Organization", "text-input")
        add_field(page, "model", "vision_detail", "Vision detail", "secret-input")
        screenshot(page, "credentials")

        # Two predefined llm models with template rules and pricing, reordered.
        add_model(page, base, provider, "alpha", "0.5")
        add_model(page, base, provider, "beta", "0.25")
        row_action(page, "beta", "Move up beta")
        page.wait_for_function(
            "() => document.querySelector('table.models tbody tr.mrow')"
            ".dataset.model === 'beta'"
        )
        screenshot(page, "models-table")

        # The files tab shows the generated YAML.
        page.goto(f"{base}/providers/{provider.pk}/files/")
        page.click("text=_position.yaml")
        page.wait_for_selector("text=- beta")
        page.goto(
            f"{base}/providers/{provider.pk}/files/view?path=provider/gateway.yaml"
        )
        assert "vision_detail" in page.content()
        assert "__model_type" in page.content()
        screenshot(page, "files")

        files = services.provider_files(provider)
        declaration = yaml.safe_load(files["provider/gateway.yaml"])
        model_fields = declaration["model_credential_schema"]["credential_form_schemas"]
        assert {"variable": "__model_type", "value": "llm"} in model_fields[-1][
            "show_on"
        ]
        assert yaml.safe_load(files["models/llm/_position.yaml"]) == ["beta", "alpha"]
        alpha = yaml.safe_load(files["models/llm/alpha.yaml"])
        assert alpha["pricing"]["input"] in ("0.5", 0.5)
        assert {"name": "top_k", "use_template": "top_k"} in alpha["parameter_rules"]

        # The source tree passes `plugin verify` with no error.
        render_tree(files, tmp_path / "gateway")
        out = io.StringIO()
        try:
            call_command(
                "plugin", "verify", str(tmp_path / "gateway"), "--json", stdout=out
            )
            status = 0
        except SystemExit as exc:
            status = int(exc.code or 0)
        report = json.loads(out.getvalue())
        assert status == 0
        assert [f for f in report["findings"] if f["severity"] == "error"] == []
