"""Issue 14 as an author meets it in the browser: an unsafe SVG icon is refused
with the element named, and a gateway model id with a slash is added."""

from __future__ import annotations

import pytest

from studio.catalog.models import Provider
from tests.browser import chromium_page, log_in, screenshot
from tests.factories import make_provider, make_team, make_user
from tests.svg_inputs import HOSTILE_SVGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class TestAnUnsafeIconInTheBrowser:
    def test_the_new_provider_form_names_the_refused_element(
        self, live_server, tmp_path
    ) -> None:
        make_team("Acme", owner=make_user("alice"))
        [hostile] = [s for s in HOSTILE_SVGS if s.id == "image-https"]
        icon = tmp_path / "logo.svg"
        icon.write_bytes(hostile.content)
        with chromium_page(width=1280, height=800) as page:
            log_in(page, live_server.url, "alice")
            page.goto(f"{live_server.url}/providers/new")
            page.fill("#id_name", "gateway")
            page.fill("#id_author", "acme")
            page.fill("#id_label_en_US", "Gateway")
            page.fill("#id_description_en_US", "Our own model gateway")
            page.check("input[name=model_types][value=llm]")
            page.check("input[name=configurate_methods][value=predefined-model]")
            page.set_input_files("#id_icon", str(icon))
            page.click("#provider-new button[type=submit]")
            error = page.locator("#provider-new .errorlist").first
            error.wait_for()
            text = error.inner_text()
            screenshot(page, "provider-new-unsafe-icon")

        assert "logo.svg" in text
        assert "<image>" in text
        assert not Provider.objects.exists()


class TestAGatewayModelIdInTheBrowser:
    def test_a_model_named_with_a_slash_is_added_and_listed(self, live_server) -> None:
        alice = make_user("alice")
        provider = make_provider(make_team("Acme", owner=alice), models=1)
        table_url = f"{live_server.url}/providers/{provider.pk}/models/"
        with chromium_page(width=1280, height=800) as page:
            log_in(page, live_server.url, "alice")
            page.goto(table_url)
            page.click("text=New llm model")
            page.wait_for_selector("#id_model")
            page.fill("#id_model", "Qwen/Qwen3-8B")
            page.fill("#id_label_en_US", "Qwen3 8B")
            page.fill("#id_context_size", "32768")
            page.click(".form-actions button[name=_save]")
            page.wait_for_url(table_url + "*")
            row = page.locator("table.models tr.mrow[data-model='Qwen/Qwen3-8B']")
            row.wait_for()
            screenshot(page, "models-table-gateway-id")

        model = provider.models.get(model="Qwen/Qwen3-8B")
        assert model.path == "models/llm/qwen-qwen3-8b.yaml"
