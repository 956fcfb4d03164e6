"""The pages of a provider run as many queries for 250 models as for 10,
filtered or not; the 250-model table stays under 150 KiB."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_provider

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
# What a page may cost: session, user, provider, membership, the team switcher's
# memberships, the models (once), and a few more for the page's own needs.
MAX_QUERIES = 12


def count(client, method: str, url: str, data: dict | None = None, **extra) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(url, data or {}, **extra)
    assert response.status_code in (200, 302), response.status_code
    return len(ctx.captured_queries)


def page_counts(client, personas, n: int) -> dict[str, int]:
    provider = make_provider(personas.team, f"p{n}", models=n)
    assert provider.models.count() == n
    model = provider.models.get(model="model-005")
    table = reverse("catalog:provider-models", args=[provider.pk])
    row = reverse("catalog:model-row", args=[provider.pk, model.pk])
    filters = {"q": "model-00", "deprecated": "no", "feature": "agent-thought"}
    filters |= {"priced": "yes", "type": "llm"}
    shown = {"HTTP_HX_CURRENT_URL": f"http://testserver{table}?q=model"}
    client.get(table)  # warm the session
    return {
        "provider page": count(
            client, "get", reverse("catalog:provider-detail", args=[provider.pk])
        ),
        "models table": count(client, "get", table),
        "models table (htmx)": count(client, "get", table, **HX),
        "models table (filtered)": count(client, "get", table, filters),
        "filter results (htmx)": count(
            client, "get", table, filters, HTTP_HX_TARGET="models-results", **HX
        ),
        "row menu": count(
            client,
            "get",
            reverse("catalog:model-actions", args=[provider.pk, model.pk]),
            **shown,
            **HX,
        ),
        "row edit form": count(
            client,
            "get",
            reverse("catalog:model-row-edit", args=[provider.pk, model.pk]),
            **HX,
        ),
        "model form": count(
            client, "get", reverse("catalog:model-edit", args=[provider.pk, model.pk])
        ),
        "row save": count(
            client,
            "post",
            row,
            {
                "model_lock": model.lock_version,
                "label": "Renamed",
                "context_size": "8192",
                "max_tokens_default": "512",
                "max_tokens_max": "2048",
                "input_price": "0.5",
                "deprecated": "on",
            },
            **HX,
        ),
    }


class TestQueryCounts:
    def test_the_pages_of_10_and_250_models_run_the_same_queries(
        self, client, personas
    ):
        client.force_login(personas.alice)
        small = page_counts(client, personas, 10)
        large = page_counts(client, personas, 250)
        print(f"\nqueries (10 models): {small}\nqueries (250 models): {large}")
        assert small == large
        assert large["row save"] > large["models table"]  # it really wrote
        for page, n in large.items():
            limit = 30 if page == "row save" else MAX_QUERIES
            assert n <= limit, f"{page}: {n} queries"


class TestPageSize:
    def test_the_table_of_250_models_weighs_under_150_kib(self, client, personas):
        provider = make_provider(personas.team, "big", models=250)
        client.force_login(personas.alice)
        response = client.get(reverse("catalog:provider-models", args=[provider.pk]))
        html = response.content.decode()
        assert html.count('<tr id="m-') == 250
        print(f"\n250-model table: {len(response.content) / 1024:.0f} KiB")
        assert len(response.content) < 150 * 1024
