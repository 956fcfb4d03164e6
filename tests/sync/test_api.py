"""Catalogue sync over the API: propose, read, apply (all or keys)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from studio.builds.mock_upstream import MockUpstream
from studio.catalog import services as catalog
from studio.catalog.models import Provider
from studio.sync.models import SyncProposal
from tests.api.conftest import make_token
from tests.catalog.conftest import Personas
from tests.sync.conftest import API_KEY

pytestmark = pytest.mark.django_db


class Caller:
    def __init__(self, token: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, url: str, body: dict[str, Any]) -> Any:
        return self.client.post(
            url, json.dumps(body), content_type="application/json", headers=self.headers
        )

    def get(self, url: str) -> Any:
        return self.client.get(url, headers=self.headers)


def base(provider: Provider) -> str:
    return f"/api/v1/providers/{provider.pk}/sync/proposals"


class TestTheApi:
    def test_propose_read_and_apply_some_items(
        self,
        personas: Personas,
        provider: Provider,
        upstream: MockUpstream,
        allow_loopback: None,
    ) -> None:
        api = Caller(make_token(personas.bob, personas.team))
        files = catalog.provider_files(provider)
        created = api.post(
            base(provider),
            {
                "source": "upstream",
                "base_url": upstream.url,
                "api_key": API_KEY,
                "template": "model-000",
            },
        )
        assert created.status_code == 201, created.content
        data = created.json()
        assert data["summary"] == "2 new models, 1 model gone upstream"
        assert data["suggested_bump"] == "minor"
        assert [i["key"] for i in data["items"]] == [
            "add:llm:gpt-new-1",
            "add:llm:gpt-new-2",
            "deprecate:llm:model-001",
        ]
        assert API_KEY not in created.content.decode()
        assert catalog.provider_files(provider) == files
        url = created["Location"]
        assert url == f"{base(provider)}/{data['id']}"
        assert api.get(url).json()["status"] == "open"

        unknown = api.post(f"{url}/apply", {"keys": ["add:llm:nope"]})
        assert unknown.status_code == 400
        assert unknown.json()["error"]["code"] == "invalid_request"

        applied = api.post(f"{url}/apply", {"keys": ["add:llm:gpt-new-1"]})
        assert applied.status_code == 200, applied.content
        assert applied.json()["status"] == "applied"
        assert applied.json()["applied_keys"] == ["add:llm:gpt-new-1"]
        assert "gpt-new-1" in {m.model for m in provider.models.all()}
        again = api.post(f"{url}/apply", {})
        assert again.status_code == 400

    def test_a_refused_address_is_a_400_naming_the_reason(
        self, personas: Personas, provider: Provider
    ) -> None:
        api = Caller(make_token(personas.bob, personas.team))
        response = api.post(
            base(provider), {"source": "upstream", "base_url": "http://127.0.0.1/v1"}
        )
        assert response.status_code == 400
        assert "loopback" in response.json()["error"]["message"]
        assert not SyncProposal.objects.exists()

    def test_a_conflicting_draft_is_a_409(
        self,
        personas: Personas,
        provider: Provider,
        upstream: MockUpstream,
        allow_loopback: None,
    ) -> None:
        api = Caller(make_token(personas.bob, personas.team))
        created = api.post(
            base(provider),
            {"source": "upstream", "base_url": upstream.url, "api_key": API_KEY},
        ).json()
        from studio.catalog.services.models import model_delete

        model = provider.models.get(model="model-001")
        model_delete(provider=provider, model=model, model_lock=model.lock_version)
        response = api.post(f"{base(provider)}/{created['id']}/apply", {})
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"

    def test_readers_read_but_may_not_propose_or_apply(
        self,
        personas: Personas,
        provider: Provider,
        upstream: MockUpstream,
        allow_loopback: None,
    ) -> None:
        proposal = SyncProposal.objects.create(
            provider=provider, source="upstream", lock_version=provider.lock_version
        )
        api = Caller(make_token(personas.victor, personas.team))
        assert api.get(f"{base(provider)}/{proposal.pk}").status_code == 200
        response = api.post(
            base(provider), {"source": "upstream", "base_url": upstream.url}
        )
        assert response.status_code == 403
        assert api.post(f"{base(provider)}/{proposal.pk}/apply", {}).status_code == 403

    def test_a_prices_check_needs_a_table_or_its_url(
        self, personas: Personas, provider: Provider
    ) -> None:
        api = Caller(make_token(personas.bob, personas.team))
        response = api.post(base(provider), {"source": "prices"})
        assert response.status_code == 400
        assert "table" in response.json()["error"]["message"]

    def test_an_inline_table_proposes_exact_prices_and_applies_them(
        self, personas: Personas, provider: Provider
    ) -> None:
        from tests.sync.test_views import litellm_table

        api = Caller(make_token(personas.bob, personas.team))
        created = api.post(
            base(provider),
            {
                "source": "prices",
                "table": json.loads(litellm_table()),
                "mapping": {"gateway-unknown-9": "model-002"},
            },
        )
        assert created.status_code == 201, created.content
        data = created.json()
        assert [i["key"] for i in data["items"]] == [
            "update:llm:model-000",
            "update:llm:model-002",
        ]
        changes = {
            c["field"]: (c["old"], c["new"]) for c in data["items"][0]["changes"]
        }
        assert changes["pricing.input"] == ("0.5", "2.5")
        assert changes["pricing.output"] == ("1.5", "10")
        applied = api.post(f"{created['Location']}/apply", {})
        assert applied.status_code == 200, applied.content
        spec = provider.models.get(model="model-000").spec
        assert (spec["pricing"]["input"], spec["pricing"]["output"]) == ("2.5", "10")
        assert spec["model_properties"]["context_size"] == 128000
