"""The Sync tab in Chromium: check upstream, read the proposal, untick one
item, apply with htmx; both pages fit 1280 by 800 in both themes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from studio.builds.mock_upstream import MockUpstream
from studio.catalog.models import Provider
from studio.sync.models import SyncProposal
from tests.browser import (
    check_themes,
    chromium_page,
    log_in,
)
from tests.sync.conftest import API_KEY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium_page(width=1280, height=800) as page:
        yield page


def test_checking_upstream_and_applying_some_items(
    page: Any,
    live_server: Any,
    provider: Provider,
    upstream: MockUpstream,
    allow_loopback: None,
) -> None:
    base = live_server.url
    log_in(page, base, "bob")
    page.goto(f"{base}/providers/{provider.pk}/")
    page.get_by_role("link", name="Sync", exact=True).click()
    page.wait_for_url(re.compile(r"/sync/$"))

    page.fill("#id_base_url", upstream.url)
    page.fill("#id_api_key", API_KEY)
    page.select_option("#id_template_llm", "model-002")
    check_themes(page, "sync-page")
    page.get_by_role("button", name="Check upstream").click()
    page.wait_for_url(re.compile(r"/sync/\d+/$"))
    heading = page.get_by_role("heading", name=re.compile("Proposal"))
    assert "2 new models, 1 model gone upstream" in heading.inner_text()
    assert page.locator("input[name=keys]:checked").count() == 3
    check_themes(page, "sync-proposal")

    page.locator("input[value='add:llm:gpt-new-2']").uncheck()
    page.get_by_role("button", name="Apply the ticked items").click()
    page.get_by_text("Applied 2 items by bob").wait_for()
    assert page.get_by_role("link", name="submit for review").count() == 1
    proposal = SyncProposal.objects.get()
    assert proposal.applied_keys == ["add:llm:gpt-new-1", "deprecate:llm:model-001"]
    assert "gpt-new-2" not in {m.model for m in provider.models.all()}
    assert API_KEY not in page.content()


def test_a_price_table_shows_model_by_model_before_applying(
    page: Any, live_server: Any, provider: Provider, tmp_path: Any
) -> None:
    from tests.sync.test_views import litellm_table

    table = tmp_path / "model_prices_and_context_window.json"
    table.write_bytes(litellm_table())
    base = live_server.url
    log_in(page, base, "bob")
    page.goto(f"{base}/providers/{provider.pk}/sync/")
    page.set_input_files("input[name=table_file]", str(table))
    page.fill("textarea[name=mapping]", "gateway-unknown-9 = model-002")
    page.get_by_role("button", name="Read the table").click()
    page.wait_for_url(re.compile(r"/sync/\d+/$"))
    body = page.inner_text("main")
    assert "model-000" in body and "model-002" in body
    assert "2.5" in body and "128000" in body.replace(",", "")
    matched = page.inner_text(".sync-details")
    assert "llm:model-002 ← gateway-unknown-9" in matched  # the mapping, shown
    check_themes(page, "sync-prices-proposal")
    page.get_by_role("button", name="Apply the ticked items").click()
    page.get_by_text("Applied 2 items by bob").wait_for()
    spec = provider.models.get(model="model-000").spec
    assert spec["pricing"]["input"] == "2.5"
