"""The credential form builder in a real browser: fields added through the
forms, the preview's model-type picker showing and hiding a field (htmx)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from studio.catalog import services
from tests.browser import chromium_page, log_in
from tests.factories import make_provider, make_team, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def page(live_server) -> Iterator[object]:
    with chromium_page(width=1280, height=900) as page:
        yield page


class TestCredentialBuilderInTheBrowser:
    def test_a_model_field_shown_on_llm_follows_the_model_type_picker(
        self, page, live_server
    ) -> None:
        alice = make_user("alice")
        provider = make_provider(
            make_team("Acme", owner=alice), model_types=["llm", "text-embedding"]
        )
        log_in(page, live_server.url, "alice")
        page.goto(f"{live_server.url}/providers/{provider.pk}/credentials/")

        # A provider credential field.
        page.click("#schema-provider >> text=Add a field")
        page.wait_for_selector("#field-form")
        page.fill("#id_variable", "region")
        page.fill("#id_label_en_US", "Region")
        page.select_option("#id_type", "text-input")
        page.check("#id_required")
        page.click("#field-form button[type=submit]")
        page.wait_for_selector("#preview-provider [data-variable=region]")
        assert page.url.endswith(f"/providers/{provider.pk}/credentials/")

        # A model credential field shown only for llm models.
        page.click("#schema-model >> text=Add a field")
        page.wait_for_selector("#field-form")
        page.fill("#id_variable", "vision_detail")
        page.fill("#id_label_en_US", "Vision detail")
        page.select_option("#id_type", "secret-input")
        page.select_option("#id_cond-0-variable", "__model_type")
        page.fill("#id_cond-0-value", "llm")
        page.click("#field-form button[type=submit]")
        field = page.locator("#preview-model [data-variable=vision_detail]")
        field.wait_for()
        assert field.locator("input[type=password]").count() == 1

        # Flip the picker: the field goes with text-embedding, comes back with llm.
        page.check("#preview-model input[name=__model_type][value=text-embedding]")
        field.wait_for(state="detached")
        assert page.locator(
            "#preview-model input[name=__model_type][value=text-embedding]"
        ).is_checked()
        page.check("#preview-model input[name=__model_type][value=llm]")
        field.wait_for()
        assert field.is_visible()

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "credentials.png"), full_page=True)

        declaration = yaml.safe_load(
            services.provider_files(provider)[provider.provider_path]
        )
        provider_fields = declaration["provider_credential_schema"][
            "credential_form_schemas"
        ]
        assert provider_fields[-1] == {
            "variable": "region",
            "label": {"en_US": "Region"},
            "type": "text-input",
            "required": True,
        }
        model_fields = declaration["model_credential_schema"]["credential_form_schemas"]
        assert model_fields[-1]["variable"] == "vision_detail"
        assert model_fields[-1]["show_on"] == [
            {"variable": "__model_type", "value": "llm"}
        ]

    def test_a_conflicting_save_shows_both_versions_in_place(
        self, page, live_server
    ) -> None:
        alice = make_user("alice")
        provider = make_provider(make_team("Acme", owner=alice))
        log_in(page, live_server.url, "alice")
        page.goto(f"{live_server.url}/providers/{provider.pk}/credentials/")
        page.click("#field-provider-0 >> text=Edit")
        page.wait_for_selector("#field-form")
        page.fill("#id_label_en_US", "Key (mine)")

        def theirs(doc):
            fields = doc.provider.spec.provider_credential_schema
            fields.credential_form_schemas[0].label.en_US = "Key (theirs)"

        services.provider_edit(
            provider=provider, lock_version=provider.lock_version, change=theirs
        )
        page.click("#field-form button[type=submit]")
        page.wait_for_selector("#conflict")
        assert "Key (mine)" in page.inner_text("#conflict-yours")
        assert "Key (theirs)" in page.inner_text("#conflict-saved")
        assert page.input_value("#id_label_en_US") == "Key (mine)"

        # Saving again, knowingly, goes through.
        page.click("#field-form button[type=submit]")
        page.wait_for_selector("#preview-provider")
        assert page.inner_text("#field-provider-0").count("Key (mine)") == 1
