"""The models section in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.catalog import services
from studio.pluginfmt.verify import verify
from studio.pluginfmt.yamlio import load_yaml
from tests.browser import chromium_page, log_in
from tests.factories import make_provider, make_team, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = ROOT / "var" / "screenshots"


@pytest.fixture
def page(live_server) -> Iterator[object]:
    with chromium_page(width=1440, height=1000) as page:
        yield page


def add_llm_model(
    page,
    table_url: str,
    *,
    model_id: str,
    label: str,
    template: str,
    max_tokens: str,
    prices: tuple[str, str],
    screenshot: Path | None = None,
) -> None:
    page.goto(table_url)
    page.click("text=New llm model")
    page.wait_for_selector("#id_model")
    # The form starts with temperature, top_p and max_tokens rules.
    assert page.input_value("#id_rules-2-name") == "max_tokens"
    page.fill("#id_model", model_id)
    page.fill("#id_label_en_US", label)
    page.fill("#id_context_size", "128000")
    page.check("input[name=features][value=tool-call]")
    page.select_option("#add-template", template)
    page.click("button[name=_add_rule]")
    page.wait_for_selector(f"#id_rules-3-name[value={template}]")
    # The added rule shows its template's values as placeholders.
    assert page.get_attribute("#id_rules-3-default", "placeholder") != ""
    page.fill("#id_rules-2-default", max_tokens)
    page.fill("#id_rules-2-max", "16384")
    page.fill("#id_pricing_input", prices[0])
    page.fill("#id_pricing_output", prices[1])
    page.select_option("#id_pricing_unit", "0.000001")
    page.select_option("#id_pricing_currency", "USD")
    page.click("button[name=_preview]")
    # The preview follows the form (on change, and on the button).
    page.wait_for_function(
        "(texts) => { const pre = document.querySelector('#yaml-preview pre');"
        " return pre && texts.every((t) => pre.textContent.includes(t)); }",
        arg=[f"use_template: {template}", f"default: {max_tokens}", "max: 16384"],
    )
    preview = page.inner_text("#yaml-preview pre")
    assert f"model: {model_id}" in preview
    assert f"default: {max_tokens}" in preview
    if screenshot:
        page.screenshot(path=str(screenshot), full_page=True)
    page.click(".form-actions button[name=_save]")
    page.wait_for_url(f"{table_url}#m-*")
    assert page.locator(".messages").inner_text().startswith(f"Added {model_id}")


def row_action(page, model_id: str, name: str) -> None:
    """Open the row's menu (its items load then) and click one of them."""
    menu = page.locator(f"tr.mrow[data-model='{model_id}'] details.menu")
    menu.locator("summary").click()
    menu.locator("ul.menu-list").wait_for()
    item = menu.get_by_role("button", name=name).or_(
        menu.get_by_role("link", name=name)
    )
    item.click()


def table_order(page) -> list[str]:
    return page.eval_on_selector_all(
        "table.models[data-type=llm] tbody tr.mrow",
        "rows => rows.map(r => r.dataset.model)",
    )


class TestModelsInTheBrowser:
    def test_alice_adds_two_models_reorders_them_and_sees_the_order(
        self, page, live_server
    ) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        alice = make_user("alice")
        team = make_team("Acme", owner=alice)
        provider = make_provider(team, "gateway")
        table_url = f"{live_server.url}/providers/{provider.pk}/models/"
        log_in(page, live_server.url, "alice")

        add_llm_model(
            page,
            table_url,
            model_id="alpha-1",
            label="Alpha one",
            template="top_k",
            max_tokens="1024",
            prices=("0.5", "1.5"),
        )
        add_llm_model(
            page,
            table_url,
            model_id="beta-2",
            label="Beta two",
            template="presence_penalty",
            max_tokens="2048",
            prices=("0.25", "1"),
            screenshot=SCREENSHOTS / "model-form.png",
        )
        assert table_order(page) == ["alpha-1", "beta-2"]

        row_action(page, "beta-2", "Move up beta-2")
        page.wait_for_function(
            "() => document.querySelector('table.models tbody tr.mrow')"
            ".dataset.model === 'beta-2'"
        )
        assert table_order(page) == ["beta-2", "alpha-1"]
        page.reload()
        assert table_order(page) == ["beta-2", "alpha-1"]

        # Drag and drop (the JavaScript enhancement) posts the new order at once.
        alpha_pk = provider.models.get(model="alpha-1").pk
        beta_pk = provider.models.get(model="beta-2").pk
        # Wait for the POST itself: the page reached "networkidle" long ago, so
        # waiting for that load state would not wait for this request.
        with page.expect_response(
            lambda r: r.request.method == "POST" and r.url.endswith("/models/order")
        ) as posted:
            # The handle is the row's first cell, beside its checkbox.
            page.locator(f"#m-{alpha_pk} td").first.drag_to(
                page.locator(f"#m-{beta_pk} td").nth(1),
                source_position={"x": 4, "y": 8},
            )
        assert posted.value.status == 200
        page.wait_for_function(
            "() => document.querySelector('table.models tbody tr.mrow')"
            ".dataset.model === 'alpha-1' && !document.querySelector('tr.dragging')"
        )
        page.wait_for_load_state("networkidle")
        page.reload()
        assert table_order(page) == ["alpha-1", "beta-2"]
        row_action(page, "alpha-1", "Move down alpha-1")
        page.wait_for_function(
            "() => document.querySelector('table.models tbody tr.mrow')"
            ".dataset.model === 'beta-2'"
        )

        # An inline edit swaps just the row: its form comes from its menu.
        row_action(page, "alpha-1", "Edit in the table")
        page.fill("input[aria-label='Label of alpha-1']", "Alpha (renamed)")
        page.click(f"#m-{alpha_pk} button:has-text('Save')")
        page.wait_for_selector(f"#m-{alpha_pk} .row-notice")
        page.screenshot(path=str(SCREENSHOTS / "models-table.png"), full_page=True)

        files = services.provider_files(provider)
        assert load_yaml(files["models/llm/_position.yaml"]).data == [
            "beta-2",
            "alpha-1",
        ]
        alpha = load_yaml(files["models/llm/alpha-1.yaml"]).data
        assert alpha["label"] == {"en_US": "Alpha (renamed)"}
        assert alpha["parameter_rules"] == [
            {"name": "temperature", "use_template": "temperature"},
            {"name": "top_p", "use_template": "top_p"},
            {
                "name": "max_tokens",
                "use_template": "max_tokens",
                "default": 1024,
                "max": 16384,
            },
            {"name": "top_k", "use_template": "top_k"},
        ]
        assert alpha["pricing"] == {
            "input": "0.5",
            "output": "1.5",
            "unit": "0.000001",
            "currency": "USD",
        }
        assert alpha["features"] == ["tool-call"]
        assert [f.as_dict() for f in verify(files) if f.severity == "error"] == []
