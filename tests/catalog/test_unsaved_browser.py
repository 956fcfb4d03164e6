"""Never lose work, in a real browser: leaving a changed model form asks first
(the `beforeunload` dialog), saving it does not; findings sit beside fields."""

from __future__ import annotations

import pytest

from studio.catalog import services
from studio.pluginfmt.document import dump_yaml
from tests.browser import chromium_page, log_in, screenshot
from tests.factories import llm_model_data, make_provider, make_team, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def flawed_provider(team):
    """Two llm models; model-001 has an unknown template and a bad price unit."""
    provider = make_provider(team, models=2)
    data = llm_model_data("model-001")
    data["parameter_rules"][0]["use_template"] = "nope"
    data["pricing"]["unit"] = "abc"
    files = services.provider_files(provider)
    files["models/llm/model-001.yaml"] = dump_yaml(data)
    services.provider_replace_files(provider=provider, files=files)
    return provider


class TestLeavingAChangedModelForm:
    def test_leaving_asks_first_and_saving_does_not(self, live_server) -> None:
        alice = make_user("alice")
        provider = flawed_provider(make_team("Acme", owner=alice))
        clean = provider.models.get(model="model-000")
        flawed = provider.models.get(model="model-001")
        base = f"{live_server.url}/providers/{provider.pk}/models/"
        form_url = f"{base}{clean.pk}/edit"
        with chromium_page() as page:
            dialogs: list[str] = []

            def on_dialog(dialog) -> None:
                dialogs.append(dialog.type)
                dialog.dismiss()  # "stay on this page"

            page.on("dialog", on_dialog)
            log_in(page, live_server.url, "alice")

            # The table counts the flawed model's findings; its form places them.
            page.goto(base)
            badge = page.locator(f"#findings-m-{flawed.pk}")
            assert "2 errors" in badge.inner_text()
            screenshot(page, "models-table-findings")
            badge.click()
            page.wait_for_url(f"{base}{flawed.pk}/edit#model-findings")
            assert page.locator("#model-findings").is_visible()
            page.locator("#findings-rule-0 summary").click()
            assert (
                "model.parameter.template-unknown"
                in page.locator("#findings-rule-0").inner_text()
            )
            screenshot(page, "model-form-findings")

            # Unchanged: leaving asks nothing.
            page.goto(form_url)
            page.get_by_role("link", name="Files").click()
            page.wait_for_url(f"{live_server.url}/providers/{provider.pk}/files/")
            assert dialogs == []

            # Changed: leaving asks, and staying keeps the typed value.
            page.goto(form_url)
            label = page.locator("#id_label_en_US")
            label.click()
            label.press("End")
            label.press_sequentially(" renamed")
            page.get_by_role("link", name="Files").click(no_wait_after=True)
            page.wait_for_timeout(500)
            assert dialogs == ["beforeunload"]
            assert page.url == form_url
            assert label.input_value() == "MODEL-000 renamed"

            # Saving the same changes leaves without asking.
            page.get_by_role("button", name="Save model").click()
            page.wait_for_url(f"{base}#m-{clean.pk}")
            assert dialogs == ["beforeunload"]
        clean.refresh_from_db()
        assert clean.label == "MODEL-000 renamed"


class TestLiveChecksWhileTyping:
    def test_a_taken_model_id_and_a_bad_variable_are_named_as_typed(
        self, live_server
    ) -> None:
        alice = make_user("alice")
        provider = make_provider(make_team("Acme", owner=alice), models=1)
        root = f"{live_server.url}/providers/{provider.pk}"
        with chromium_page() as page:
            log_in(page, live_server.url, "alice")
            page.goto(f"{root}/models/new?type=llm")
            page.locator("#id_model").press_sequentially("model-000")
            feedback = page.locator("#model-id-feedback .errorlist")
            feedback.wait_for()
            assert "already used in this provider" in feedback.inner_text()
            page.locator("#id_model").press_sequentially("-2")
            feedback.wait_for(state="detached")

            page.goto(f"{root}/credentials/provider/add")
            page.locator("#id_variable").press_sequentially("api_key")
            errors = page.locator("#variable-errors")
            errors.wait_for()
            assert "already uses the variable 'api_key'" in errors.inner_text()
            assert page.locator("#id_variable").input_value() == "api_key"
        assert provider.models.count() == 1
