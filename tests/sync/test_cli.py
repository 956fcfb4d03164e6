"""`plugin sync`: a check from the command line, printed, stored, applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.builds.mock_upstream import MockUpstream
from studio.catalog import services as catalog
from studio.catalog.models import Provider
from studio.sync.models import SyncProposal
from tests.core.test_plugin_command import plugin, plugin_json
from tests.sync.conftest import API_KEY
from tests.sync.test_views import litellm_table

pytestmark = pytest.mark.django_db


class TestPluginSync:
    def test_models_from_prints_the_proposal_without_applying(
        self,
        provider: Provider,
        upstream: MockUpstream,
        allow_loopback: None,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("VENDOR_KEY", API_KEY)
        files = catalog.provider_files(provider)
        status, out, _ = plugin(
            "sync",
            "acme/gateway",
            "--models-from",
            upstream.url,
            "--api-key-env",
            "VENDOR_KEY",
            "--template",
            "model-002",
        )
        assert status == 0
        assert "2 new models, 1 model gone upstream (suggested bump: minor)" in out
        assert "[notable] New model gpt-new-1 (from model-002)" in out
        assert "not applied" in out
        assert API_KEY not in out
        assert upstream.requests[-1].authorization == f"Bearer {API_KEY}"
        assert catalog.provider_files(provider) == files

    def test_apply_with_json(
        self,
        provider: Provider,
        upstream: MockUpstream,
        allow_loopback: None,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        status, data = plugin_json(
            "sync", str(provider.pk), "--models-from", upstream.url, "--apply"
        )
        assert status == 0
        assert data["ok"] is True and data["applied"] is True
        assert data["counts"] == {"new": 2, "gone": 1, "updated": 0}
        assert SyncProposal.objects.get().status == "applied"
        ids = {m.model for m in provider.models.all()}
        assert {"gpt-new-1", "gpt-new-2"} <= ids

    def test_a_refused_address_exits_1(self, provider: Provider) -> None:
        status, data = plugin_json(
            "sync", "acme/gateway", "--models-from", "http://169.254.169.254/v1"
        )
        assert status == 1
        assert data["ok"] is False
        assert "cloud metadata address" in data["error"]

    def test_prices_from_a_file_with_a_mapping_applied(
        self, provider: Provider, tmp_path: Path
    ) -> None:
        table = tmp_path / "prices.json"
        table.write_bytes(litellm_table())
        status, data = plugin_json(
            "sync",
            "acme/gateway",
            "--prices",
            str(table),
            "--map",
            "gateway-unknown-9=model-002",
            "--apply",
        )
        assert status == 0, data
        assert data["applied"] is True
        assert [i["key"] for i in data["items"]] == [
            "update:llm:model-000",
            "update:llm:model-002",
        ]
        prices = {
            m.model: (m.spec["pricing"]["input"], m.spec["pricing"]["output"])
            for m in provider.models.all()
        }
        assert prices == {
            "model-000": ("2.5", "10"),
            "model-001": ("0.5", "1.5"),
            "model-002": ("1", "1.5"),
        }

    def test_a_missing_table_file_exits_2(self, provider: Provider) -> None:
        status, data = plugin_json("sync", "acme/gateway", "--prices", "/no/such.json")
        assert status == 2
        assert "No such file" in data["error"]

    def test_an_unknown_provider_exits_1(self, provider: Provider) -> None:
        status, data = plugin_json("sync", "acme/nope", "--models-from", "http://x")
        assert (status, data["ok"]) == (1, False)
