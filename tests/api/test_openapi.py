"""The OpenAPI description: served, complete, and in step with the routes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from studio.api import urls as api_urls
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def spec(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def concrete(pattern: URLPattern) -> str:
    """A URL of the route with 7 for every parameter."""
    kwargs = dict.fromkeys(re.findall(r"<\w+:(\w+)>", str(pattern.pattern)), 7)
    return reverse(f"api:{pattern.name}", kwargs=kwargs)


def template_of(spec: dict[str, Any], url: str) -> str | None:
    """The described path (with {params}) that `url` matches."""
    for template in spec["paths"]:
        regex = re.sub(r"\\\{\w+\\\}", "[0-9]+", re.escape(template))
        if re.fullmatch(regex, url):
            return template
    return None


API_ROUTES = [
    p for p in api_urls.urlpatterns if isinstance(p, URLPattern) and p.name != "unknown"
]


class TestTheDescription:
    def test_it_is_served_without_a_token_as_openapi_3_1(
        self, spec: dict[str, Any]
    ) -> None:
        assert spec["openapi"] == "3.1.0"
        assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"

    @pytest.mark.parametrize("pattern", API_ROUTES, ids=lambda p: p.name)
    def test_every_api_route_is_described_with_the_methods_it_serves(
        self, pattern: URLPattern, spec: dict[str, Any], api: Api
    ) -> None:
        url = concrete(pattern)
        template = template_of(spec, url)
        assert template is not None, f"{url} is not in the description"
        # The route itself says what it serves: its 405 names the methods.
        refused = api.client.generic("TRACE", url, headers=api.headers(None))
        assert refused.status_code == 405
        served = {m.strip().lower() for m in refused["Allow"].split(",")}
        assert set(spec["paths"][template]) & METHODS == served

    def test_it_describes_no_route_that_does_not_exist(
        self, spec: dict[str, Any]
    ) -> None:
        urls = [concrete(p) for p in API_ROUTES]
        for template in spec["paths"]:
            assert any(template_of({"paths": {template: {}}}, u) for u in urls), (
                template
            )

    def test_every_reference_resolves(self, spec: dict[str, Any]) -> None:
        text = repr(spec)
        for name in re.findall(r"#/components/schemas/([\w.-]+)", text):
            assert name in spec["components"]["schemas"]

    def test_operations_have_unique_ids_and_document_their_errors(
        self, spec: dict[str, Any]
    ) -> None:
        ids = []
        for path, item in spec["paths"].items():
            for method, op in item.items():
                ids.append(op["operationId"])
                if op.get("security") == []:
                    continue
                assert {"401", "429"} <= set(op["responses"]), (method, path)
                if "{" in path:
                    assert "404" in op["responses"], (method, path)
                if method == "post":
                    assert {"400", "403"} <= set(op["responses"]), (method, path)
        assert len(ids) == len(set(ids))

    def test_error_codes_are_an_enumeration(self, spec: dict[str, Any]) -> None:
        body = spec["components"]["schemas"]["ErrorBody"]["properties"]["code"]
        assert {"unauthenticated", "token_expired", "rate_limited"} <= set(body["enum"])

    def test_the_upload_is_described_as_multipart(self, spec: dict[str, Any]) -> None:
        body = spec["paths"]["/api/v1/imports"]["post"]["requestBody"]
        schema = body["content"]["multipart/form-data"]["schema"]
        assert schema["properties"]["file"]["format"] == "binary"
        assert schema["properties"]["mode"]["enum"] == ["new", "new-version", "copy"]
        assert schema["required"] == ["file"]
