"""The models table of a 94-model gateway and the credential forms in a real
browser at 1,280 by 800, light and dark: nothing scrolls sideways, every button
has a name, and search, filters, row menus and row edits work through htmx
without reloading the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.catalog import services
from studio.catalog.models import Provider
from studio.pluginfmt.document import dump_yaml
from studio.pluginfmt.yamlio import load_yaml
from tests.browser import SCREENSHOTS, chromium_page, log_in, screenshot
from tests.factories import llm_model_data, make_provider, make_team, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAMILIES = ["GPT", "Claude", "Qwen", "Llama"]

# Elements wider than their box (document, main and the cards in it).
OVERFLOWING = """() => [document.documentElement, document.querySelector('main'),
  ...document.querySelectorAll('main .card, main section, #models-results, .mgroup')]
  .filter((e) => e && e.scrollWidth > e.clientWidth)
  .map((e) => `${e.tagName}#${e.id} ${e.scrollWidth}>${e.clientWidth}`)"""

# Buttons (and menu summaries) whose accessible name holds no word: no
# aria-label, and a text that is empty or only a symbol such as an arrow.
UNNAMED = """() => Array.from(document.querySelectorAll('button, summary'))
  .filter((b) => {
    const label = (b.getAttribute('aria-label') || '').trim();
    const by = (b.getAttribute('aria-labelledby') || '').split(/\\s+/)
      .filter(Boolean).map((id) => document.getElementById(id)?.textContent || '')
      .join(' ').trim();
    const text = (b.textContent || '').trim();
    return !(label || by || /\\p{L}/u.test(text));
  })
  .map((b) => b.outerHTML.slice(0, 160))"""

# Buttons whose text would not show: its colour is its background's.
INVISIBLE = """() => Array.from(document.querySelectorAll('button'))
  .filter((b) => getComputedStyle(b).color === getComputedStyle(b).backgroundColor)
  .map((b) => b.outerHTML.slice(0, 160))"""


def gateway(team, count: int = 94) -> Provider:
    """An imported-gateway-like provider: four families, some with vision and
    tools, every tenth deprecated, every seventh without a price."""
    provider = make_provider(team, models=count)
    files = services.provider_files(provider)
    for i in range(count):
        name = f"model-{i:03d}"
        data = llm_model_data(name)
        data["label"] = {"en_US": f"{FAMILIES[i % 4]} {i} Instruct"}
        if i % 3 == 0:
            data["features"] = ["tool-call", "vision", "stream-tool-call"]
        if i % 10 == 0:
            data["deprecated"] = True
        if i % 7 == 0:
            del data["pricing"]
        files[f"models/llm/{name}.yaml"] = dump_yaml(data)
    services.provider_replace_files(provider=provider, files=files)
    provider.refresh_from_db()
    return provider


@pytest.fixture
def page(live_server) -> Iterator[object]:
    with chromium_page(width=1280, height=800) as page:
        yield page


def window_shot(page, name: str) -> None:
    """What the 1,280 by 800 window shows (a full page of 94 rows is too tall
    to read)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def check_layout(page) -> None:
    assert page.evaluate(OVERFLOWING) == []
    assert page.evaluate(UNNAMED) == []
    assert page.evaluate(INVISIBLE) == []


def rows(page) -> list[str]:
    return page.eval_on_selector_all(
        "#models-results tr.mrow", "rows => rows.map(r => r.dataset.model)"
    )


class TestTheModelsTableAtScale:
    def test_alice_searches_filters_and_edits_a_row_without_a_reload(
        self, page, live_server
    ) -> None:
        alice = make_user("alice")
        provider = gateway(make_team("Acme", owner=alice))
        table = f"{live_server.url}/providers/{provider.pk}/models/"
        log_in(page, live_server.url, "alice")
        page.goto(table)
        assert len(rows(page)) == 94
        assert page.inner_text(".model-count") == "94 models"
        check_layout(page)
        window_shot(page, "models-table-light")
        screenshot(page, "models-table-full")

        # The header stays in view while the rows scroll under it.
        page.mouse.wheel(0, 2500)
        page.wait_for_function("() => window.scrollY > 2000")
        top = page.evaluate(
            "() => document.querySelector('table.models th')"
            ".getBoundingClientRect().top"
        )
        assert 0 <= top < 5
        window_shot(page, "models-table-sticky-header")

        # Search and a filter swap the results only: the page is not reloaded.
        page.evaluate("() => { window.notReloaded = true; window.scrollTo(0, 0); }")
        page.fill("#id_q", "claude")
        page.wait_for_function(
            "() => document.querySelector('.model-count').textContent"
            ".includes('of 94 models')"
        )
        claude = [f"model-{i:03d}" for i in range(94) if i % 4 == 1]
        assert rows(page) == claude
        assert page.url == f"{table}?q=claude"
        assert page.locator("#id_q").evaluate("e => e === document.activeElement")
        page.select_option("#id_feature", "vision")
        page.wait_for_function(
            "() => document.querySelector('.model-count').textContent"
            f".startsWith('{len([i for i in range(94) if i % 12 == 9])} of 94')"
        )
        assert rows(page) == [f"model-{i:03d}" for i in range(94) if i % 12 == 9]
        assert page.url == f"{table}?q=claude&feature=vision"
        # Filtered, the order cannot be dragged, and the page says why.
        assert page.locator("table.models[data-reorder]").count() == 0
        assert "Reordering is off" in page.inner_text("#models-results")
        check_layout(page)
        screenshot(page, "models-table-filtered")
        page.fill("#id_q", "nothing like this")
        page.locator(".empty-state").wait_for()
        page.click(".empty-state >> text=Clear filters")
        page.wait_for_function(
            "() => document.querySelectorAll('#models-results tr.mrow').length === 94"
        )
        assert page.input_value("#id_q") == ""
        assert page.url == table
        assert page.evaluate("() => window.notReloaded") is True

        # A row's menu loads its actions when opened; each has a name.
        model = provider.models.get(model="model-005")
        menu = page.locator(f"#m-{model.pk} details.menu")
        menu.locator("summary").click()
        menu.get_by_role("link", name="Edit in the table").wait_for()
        for name in ("Duplicate model-005", "Move up model-005", "Delete model-005"):
            assert menu.get_by_role("button", name=name).is_visible()
        check_layout(page)
        window_shot(page, "models-table-menu")
        page.keyboard.press("Escape")
        assert not menu.evaluate("m => m.open")

        # The edit form of that one row comes on demand and saves in place.
        menu.locator("summary").click()
        menu.get_by_role("link", name="Edit in the table").click()
        label = page.locator(f"#m-{model.pk} input[name=label]")
        # The form's first input has the focus, for the keyboard.
        assert label.evaluate("e => e === document.activeElement")
        check_layout(page)
        window_shot(page, "models-table-row-edit")
        label.fill("Qwen 5 Instruct (fast)")
        page.click(f"#m-{model.pk} button:has-text('Save')")
        page.wait_for_selector(f"#m-{model.pk} .row-notice")
        assert page.locator(f"#m-{model.pk} input").count() == 1  # the checkbox
        assert "Qwen 5 Instruct (fast)" in page.inner_text(f"#m-{model.pk}")
        assert page.evaluate("() => window.notReloaded") is True
        saved = load_yaml(services.provider_files(provider)[model.path]).data
        assert saved["label"] == {"en_US": "Qwen 5 Instruct (fast)"}

        # Duplicate through the menu, then delete the copy (after confirming).
        menu.locator("summary").click()
        menu.get_by_role("button", name="Duplicate model-005").click()
        page.wait_for_function(
            "() => document.querySelector('.model-count').textContent === '95 models'"
        )
        assert rows(page)[5:7] == ["model-005", "model-005-copy"]
        page.on("dialog", lambda dialog: dialog.accept())
        copy = page.locator("tr.mrow[data-model='model-005-copy'] details.menu")
        copy.locator("summary").click()
        copy.get_by_role("button", name="Delete model-005-copy").click()
        page.wait_for_function(
            "() => document.querySelector('.model-count').textContent === '94 models'"
        )
        assert "Deleted model-005-copy" in page.inner_text(".notice")
        assert page.evaluate("() => window.notReloaded") is True
        assert not provider.models.filter(model="model-005-copy").exists()

        # Dark: the same page, nothing wider, every button readable.
        page.emulate_media(color_scheme="dark")
        page.goto(table)
        background = page.evaluate("() => getComputedStyle(document.body).background")
        assert "rgb(15, 20, 26)" in background
        check_layout(page)
        window_shot(page, "models-table-dark")


class TestTheCredentialForms:
    def test_icon_buttons_show_and_are_named_in_both_themes(
        self, page, live_server
    ) -> None:
        alice = make_user("alice")
        provider = make_provider(
            make_team("Acme", owner=alice), model_types=["llm", "text-embedding"]
        )
        log_in(page, live_server.url, "alice")
        url = f"{live_server.url}/providers/{provider.pk}/credentials/"
        for theme in ("light", "dark"):
            page.emulate_media(color_scheme=theme)
            page.goto(url)
            delete = page.locator("#field-provider-0").get_by_role(
                "button", name="Delete api_key"
            )
            style = delete.evaluate(
                "b => { const s = getComputedStyle(b); "
                "return [s.color, s.backgroundColor, s.borderColor]; }"
            )
            surface = page.evaluate(
                "() => getComputedStyle(document.querySelector('.card'))"
                ".backgroundColor"
            )
            # A red symbol on the card's colour, not a red square.
            assert style[1] == surface
            assert style[0] != surface
            assert (
                page.locator("#field-provider-0")
                .get_by_role("button", name="Move api_key down")
                .is_visible()
            )
            check_layout(page)
            screenshot(page, f"credentials-{theme}")


class TestDangerButtonsEverywhere:
    def test_every_page_with_a_danger_or_icon_button_shows_and_names_it(
        self, page, live_server
    ) -> None:
        alice = make_user("alice")
        provider = make_provider(make_team("Acme", owner=alice), models=2)
        m = provider.models.get(model="model-001")
        root = f"{live_server.url}/providers/{provider.pk}"
        pages = {
            "model delete": f"{root}/models/{m.pk}/delete",
            "model actions": f"{root}/models/{m.pk}/actions",
            "provider delete": f"{root}/delete",
            "provider general": f"{root}/",
            "model form": f"{root}/models/{m.pk}/edit",
        }
        log_in(page, live_server.url, "alice")
        for theme in ("light", "dark"):
            page.emulate_media(color_scheme=theme)
            for name, url in pages.items():
                page.goto(url)
                danger = page.locator("button.danger")
                for i in range(danger.count()):
                    colours = danger.nth(i).evaluate(
                        "b => [getComputedStyle(b).color,"
                        " getComputedStyle(b).backgroundColor]"
                    )
                    assert colours[0] != colours[1], (name, theme)
                assert page.evaluate(OVERFLOWING) == [], (name, theme)
                assert page.evaluate(UNNAMED) == [], (name, theme)
                assert page.evaluate(INVISIBLE) == [], (name, theme)
            window_shot(page, f"model-form-{theme}")
