"""Providers, their models, their plugin document and their findings."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from studio.api.schemas import jsonable
from studio.catalog import services as catalog_services
from studio.catalog.models import Provider
from tests.api.conftest import Api
from tests.catalog.conftest import Personas
from tests.factories import make_provider

pytestmark = pytest.mark.django_db


class TestProviderList:
    def test_it_lists_only_the_tokens_team(
        self, api: Api, provider: Provider, personas: Personas
    ) -> None:
        make_provider(personas.other_team, "secret")
        body = api.get("/api/v1/providers").json()
        assert [p["plugin_id"] for p in body["items"]] == ["acme/gateway"]
        assert body["total"] == 1
        assert body["items"][0]["id"] == provider.pk
        assert body["items"][0]["model_types"] == ["llm"]

    def test_it_pages_by_number(self, api: Api, personas: Personas) -> None:
        for name in ("alpha", "bravo", "charlie"):
            make_provider(personas.team, name)
        first = api.get("/api/v1/providers?limit=2").json()
        assert [p["name"] for p in first["items"]] == ["alpha", "bravo"]
        assert (first["total"], first["page"]) == (3, 1)
        assert first["next"] == "/api/v1/providers?page=2&limit=2"
        second = api.get(first["next"]).json()
        assert [p["name"] for p in second["items"]] == ["charlie"]
        assert second["next"] is None

    def test_it_pages_by_cursor_even_while_rows_are_added(
        self, api: Api, personas: Personas
    ) -> None:
        for name in ("bravo", "delta", "foxtrot"):
            make_provider(personas.team, name)
        first = api.get("/api/v1/providers?limit=2").json()
        # Added before the cursor: a page count would now repeat "delta".
        make_provider(personas.team, "alpha")
        second = api.get(
            f"/api/v1/providers?limit=2&cursor={first['next_cursor']}"
        ).json()
        assert [p["name"] for p in second["items"]] == ["foxtrot"]
        assert second["page"] is None
        assert second["next_cursor"] is None

    @pytest.mark.parametrize(
        "query",
        [
            "page=0",
            "page=x",
            "limit=0",
            "limit=101",
            "page=1&cursor=abc",
            "cursor=!!!",
            "cursor=WzFd",  # [1]: one value for three keys
            "cursor=WyJhIiwiYiIsImMiXQ",  # ["a","b","c"]: id is not a number
        ],
    )
    def test_a_malformed_query_is_a_400(
        self, api: Api, provider: Provider, query: str
    ) -> None:
        response = api.get(f"/api/v1/providers?{query}")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"

    def test_validation_errors_name_the_parameter(self, api: Api) -> None:
        error = api.get("/api/v1/providers?limit=0").json()["error"]
        assert error["details"][0]["loc"] == ["query", "limit"]


class TestProviderRead:
    def test_it_reads_a_provider(self, api: Api, provider: Provider) -> None:
        body = api.get(f"/api/v1/providers/{provider.pk}").json()
        assert body["plugin_id"] == "acme/gateway"
        assert body["lock_version"] == provider.lock_version
        assert body["error_count"] == 0

    def test_a_viewer_reads_too(
        self, api: Api, provider: Provider, tokens: dict[str, str]
    ) -> None:
        response = api.get(f"/api/v1/providers/{provider.pk}", token=tokens["victor"])
        assert response.status_code == 200


class TestProviderModels:
    def test_it_lists_models_in_position_order(
        self, api: Api, provider: Provider
    ) -> None:
        body = api.get(f"/api/v1/providers/{provider.pk}/models").json()
        assert [m["model"] for m in body["items"]] == ["model-000", "model-001"]
        first = body["items"][0]
        assert first["model_type"] == "llm"
        assert first["spec"]["model_properties"]["context_size"] == 8192

    def test_it_filters_by_model_type(self, api: Api, provider: Provider) -> None:
        body = api.get(
            f"/api/v1/providers/{provider.pk}/models?model_type=rerank"
        ).json()
        assert body["items"] == [] and body["total"] == 0

    def test_it_pages_models_by_cursor(self, api: Api, provider: Provider) -> None:
        url = f"/api/v1/providers/{provider.pk}/models?limit=1"
        first = api.get(url).json()
        second = api.get(f"{url}&cursor={first['next_cursor']}").json()
        assert [m["model"] for m in first["items"] + second["items"]] == [
            "model-000",
            "model-001",
        ]


class TestProviderDocument:
    def test_it_answers_the_plugin_document(self, api: Api, provider: Provider) -> None:
        body = api.get(f"/api/v1/providers/{provider.pk}/document").json()
        assert body["manifest"]["path"] == "manifest.yaml"
        assert body["manifest"]["data"]["author"] == "acme"
        assert body["provider"]["data"]["provider"] == "gateway"
        assert [m["data"]["model"] for m in body["models"]] == [
            "model-000",
            "model-001",
        ]
        assert body["positions"] == [
            {
                "path": "models/llm/_position.yaml",
                "type_key": "llm",
                "items": ["model-000", "model-001"],
            }
        ]
        assert "main.py" in body["files"]
        assert "manifest.yaml" not in body["files"]

    def test_values_json_cannot_hold_become_text(self) -> None:
        data = {"a": float("inf"), "b": [float("nan"), 1.5], "c": date(2024, 1, 2)}
        assert jsonable(data) == {"a": "inf", "b": ["nan", 1.5], "c": "2024-01-02"}


class TestProviderVerify:
    def test_a_clean_provider_verifies_ok(self, api: Api, provider: Provider) -> None:
        body = api.get(f"/api/v1/providers/{provider.pk}/verify").json()
        assert body == {
            "provider_id": provider.pk,
            "plugin_id": "acme/gateway",
            "ok": True,
            "errors": 0,
            "warnings": 0,
            "findings": [],
        }

    def test_it_reports_the_findings_of_the_current_files(
        self, api: Api, provider: Provider
    ) -> None:
        def change(doc: Any) -> None:
            doc.manifest.spec.version = "not-a-version"

        catalog_services.provider_edit(
            provider=provider, lock_version=None, change=change
        )
        body = api.get(f"/api/v1/providers/{provider.pk}/verify").json()
        assert body["ok"] is False
        assert body["errors"] >= 1
        finding = next(f for f in body["findings"] if f["severity"] == "error")
        assert finding["file"] == "manifest.yaml"
        assert finding["rule"].startswith("manifest.")
