"""The pages of a provider run as many queries for 250 models as for 10."""

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
    client.get(table)  # warm the session
    return {
        "provider page": count(
            client, "get", reverse("catalog:provider-detail", args=[provider.pk])
        ),
        "models table": count(client, "get", table),
        "models table (htmx)": count(client, "get", table, **HX),
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
