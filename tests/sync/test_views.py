"""The Sync tab: roles, CSRF, team isolation, forms, the proposal page,
the drift watch form, and a constant number of queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.builds.mock_upstream import MockUpstream
from studio.catalog import services as catalog
from studio.catalog.models import Provider
from studio.sync import services
from studio.sync.models import SyncProposal, SyncWatch
from tests.catalog.conftest import Personas
from tests.factories import add_llm_models, make_provider
from tests.sync.conftest import API_KEY

pytestmark = pytest.mark.django_db


def page(provider: Provider) -> str:
    return reverse("sync:page", args=[provider.pk])


def url(provider: Provider, name: str, *args: Any) -> str:
    return reverse(f"sync:{name}", args=[provider.pk, *args])


def as_user(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def upstream_form(mock: MockUpstream, **extra: str) -> dict[str, Any]:
    return {
        "base_url": mock.url,
        "api_key": API_KEY,
        "model_types": ["llm"],
        "template_llm": "model-002",
        **extra,
    }


class TestThePage:
    def test_every_member_reads_it_and_only_editors_get_forms(
        self, client: Client, personas: Personas, provider: Provider
    ) -> None:
        for user, forms in [
            (personas.alice, True),
            (personas.bob, True),
            (personas.carol, False),
            (personas.victor, False),
        ]:
            body = as_user(client, user).get(page(provider)).content.decode()
            assert ">Sync</a>" in body
            assert ("Check upstream</button>" in body) is forms
            assert ("Save the watch</button>" in body) is forms

    def test_another_teams_provider_is_404(
        self, client: Client, personas: Personas, provider: Provider
    ) -> None:
        c = as_user(client, personas.mallory)
        assert c.get(page(provider)).status_code == 404
        assert c.post(url(provider, "check-upstream"), {}).status_code == 404

    def test_anonymous_people_are_sent_to_log_in(
        self, client: Client, provider: Provider
    ) -> None:
        response = client.get(page(provider))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    def test_the_number_of_queries_does_not_grow_with_models_or_proposals(
        self,
        client: Client,
        personas: Personas,
        upstream: MockUpstream,
        allow_loopback: None,
    ) -> None:
        c = as_user(client, personas.bob)
        counts = []
        for size in (2, 6):
            provider = make_provider(personas.team, f"p{size}")
            add_llm_models(provider, size)
            for _ in range(size):
                services.propose_from_upstream(
                    provider=provider,
                    user=personas.bob,
                    base_url=upstream.url,
                    api_key=API_KEY,
                )
            proposal = SyncProposal.objects.filter(provider=provider).first()
            assert proposal is not None
            c.get(page(provider))  # the session's first request loads more
            with CaptureQueriesContext(connection) as ctx:
                assert c.get(page(provider)).status_code == 200
            with CaptureQueriesContext(connection) as ctx2:
                assert c.get(url(provider, "proposal", proposal.pk)).status_code == 200
            counts.append((len(ctx.captured_queries), len(ctx2.captured_queries)))
        assert counts[0] == counts[1]


class TestCheckUpstream:
    def test_a_check_makes_a_proposal_and_shows_it(
        self,
        client: Client,
        personas: Personas,
        provider: Provider,
        upstream: MockUpstream,
        allow_loopback: None,
    ) -> None:
        files = catalog.provider_files(provider)
        c = as_user(client, personas.bob)
        response = c.post(url(provider, "check-upstream"), upstream_form(upstream))
        assert response.status_code == 302
        proposal = SyncProposal.objects.get()
        assert response["Location"] == url(provider, "proposal", proposal.pk)
        assert catalog.provider_files(provider) == files
        body = c.get(response["Location"]).content.decode()
        assert "2 new models, 1 model gone upstream" in body
        assert body.count('name="keys"') == 3
        assert body.count(" checked>") == 3
        assert '<span class="level level-notable">notable</span>' in body
        assert "Suggested version bump: <strong>minor</strong>" in body
        assert API_KEY not in body

    def test_with_htmx_the_browser_is_sent_to_the_proposal(
        self,
        client: Client,
        personas: Personas,
        provider: Provider,
        upstream: MockUpstream,
        allow_loopback: None,
    ) -> None:
        c = as_user(client, personas.bob)
        response = c.post(
            url(provider, "check-upstream"),
            upstream_form(upstream),
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200
        assert response["HX-Redirect"].startswith(f"/providers/{provider.pk}/sync/")

    @pytest.mark.parametrize(
        "base_url",
        ["http://127.0.0.1:9/v1", "http://10.0.0.1/v1", "http://169.254.169.254/v1"],
    )
    def test_internal_addresses_are_refused_with_a_400(
        self, client: Client, personas: Personas, provider: Provider, base_url: str
    ) -> None:
        c = as_user(client, personas.bob)
        response = c.post(
            url(provider, "check-upstream"),
            {"base_url": base_url, "api_key": API_KEY, "model_types": ["llm"]},
        )
        assert response.status_code == 400
        body = response.content.decode()
        assert "Refused:" in body and "SYNC_EGRESS_ALLOW" in body
        assert API_KEY not in body
        assert SyncProposal.objects.count() == 0

    def test_readers_may_not_check(
        self, client: Client, personas: Personas, provider: Provider
    ) -> None:
        for user in (personas.carol, personas.victor):
            response = as_user(client, user).post(
                url(provider, "check-upstream"), {"base_url": "http://x"}
            )
            assert response.status_code == 403

    def test_csrf_is_required(self, personas: Personas, provider: Provider) -> None:
        strict = as_user(Client(enforce_csrf_checks=True), personas.bob)
        response = strict.post(url(provider, "check-upstream"), {"base_url": "x"})
        assert response.status_code == 403


class TestTheProposalPage:
    @pytest.fixture
    def proposal(
        self, provider: Provider, upstream: MockUpstream, allow_loopback: None
    ) -> SyncProposal:
        return services.propose_from_upstream(
            provider=provider,
            user=None,
            base_url=upstream.url,
            api_key=API_KEY,
            template="model-002",
        )

    def test_applying_ticked_items_edits_the_draft_once(
        self,
        client: Client,
        personas: Personas,
        provider: Provider,
        proposal: SyncProposal,
    ) -> None:
        c = as_user(client, personas.bob)
        version = provider.lock_version
        response = c.post(
            url(provider, "proposal-apply", proposal.pk),
            {"keys": ["add:llm:gpt-new-1", "deprecate:llm:model-001"]},
        )
        assert response.status_code == 302
        provider.refresh_from_db()
        assert provider.lock_version == version + 1
        ids = {m.model: m.deprecated for m in provider.models.all()}
        assert ids["gpt-new-1"] is False and ids["model-001"] is True
        assert "gpt-new-2" not in ids
        body = c.get(response["Location"]).content.decode()
        assert "Applied 2 items by bob" in body
        assert "submit for review</a>" in body
        assert 'name="keys"' not in body

    def test_nothing_ticked_is_a_400_and_nothing_changes(
        self,
        client: Client,
        personas: Personas,
        provider: Provider,
        proposal: SyncProposal,
    ) -> None:
        files = catalog.provider_files(provider)
        response = as_user(client, personas.bob).post(
            url(provider, "proposal-apply", proposal.pk), {}
        )
        assert response.status_code == 400
        assert "Tick at least one item" in response.content.decode()
        assert catalog.provider_files(provider) == files

    def test_a_conflicting_draft_is_a_409_with_the_reason(
        self,
        client: Client,
        personas: Personas,
        provider: Provider,
        proposal: SyncProposal,
    ) -> None:
        from studio.catalog.services.models import model_delete

        model = provider.models.get(model="model-001")
        model_delete(provider=provider, model=model, model_lock=model.lock_version)
        response = as_user(client, personas.bob).post(
            url(provider, "proposal-apply", proposal.pk),
            {"keys": [i["key"] for i in proposal.items]},
        )
        assert response.status_code == 409
        assert "model-001 is no longer declared" in response.content.decode()

    def test_readers_see_it_but_may_not_apply_or_discard(
        self,
        client: Client,
        personas: Personas,
        provider: Provider,
        proposal: SyncProposal,
    ) -> None:
        for user in (personas.carol, personas.victor):
            c = as_user(client, user)
            body = c.get(url(provider, "proposal", proposal.pk)).content.decode()
            assert "gpt-new-1" in body and 'name="keys"' not in body
            assert (
                c.post(url(provider, "proposal-apply", proposal.pk)).status_code == 403
            )
            assert (
                c.post(url(provider, "proposal-discard", proposal.pk)).status_code
                == 403
            )

    def test_another_teams_proposal_is_404(
        self,
        client: Client,
        personas: Personas,
        provider: Provider,
        proposal: SyncProposal,
    ) -> None:
        other = make_provider(personas.other_team, "theirs")
        c = as_user(client, personas.mallory)
        assert c.get(url(provider, "proposal", proposal.pk)).status_code == 404
        # Their own provider's URL with our proposal's id: 404 too.
        assert c.get(url(other, "proposal", proposal.pk)).status_code == 404
        assert c.post(url(other, "proposal-apply", proposal.pk)).status_code == 404

    def test_discarding_keeps_the_draft(
        self,
        client: Client,
        personas: Personas,
        provider: Provider,
        proposal: SyncProposal,
    ) -> None:
        files = catalog.provider_files(provider)
        response = as_user(client, personas.bob).post(
            url(provider, "proposal-discard", proposal.pk)
        )
        assert response.status_code == 302
        proposal.refresh_from_db()
        assert proposal.status == "discarded"
        assert catalog.provider_files(provider) == files


class TestTheWatchForm:
    def test_a_kept_key_is_stored_encrypted_and_forgotten_on_request(
        self, client: Client, personas: Personas, provider: Provider
    ) -> None:
        c = as_user(client, personas.alice)
        form = {
            "enabled": "on",
            "interval_hours": "6",
            "source": "upstream",
            "base_url": "https://api.example.com/v1",
            "api_key": API_KEY,
            "keep_credential": "on",
        }
        assert c.post(url(provider, "watch"), form).status_code == 302
        watch = SyncWatch.objects.get(provider=provider)
        assert watch.enabled and watch.interval_hours == 6
        assert watch.credential_token and API_KEY not in watch.credential_token
        from studio.builds.keys import decrypt_private_key

        assert decrypt_private_key(watch.credential_token).decode() == API_KEY
        body = c.get(page(provider)).content.decode()
        assert "An API key is kept (encrypted)." in body
        assert API_KEY not in body
        # Saving again without a key keeps it; unticking forgets it.
        assert (
            c.post(url(provider, "watch"), {**form, "api_key": ""}).status_code == 302
        )
        watch.refresh_from_db()
        assert watch.credential_token
        del form["keep_credential"]
        assert c.post(url(provider, "watch"), form).status_code == 302
        watch.refresh_from_db()
        assert watch.credential_token == ""

    def test_bad_values_are_a_400(
        self, client: Client, personas: Personas, provider: Provider
    ) -> None:
        c = as_user(client, personas.bob)
        response = c.post(
            url(provider, "watch"),
            {"enabled": "on", "interval_hours": "6", "source": "upstream"},
        )
        assert response.status_code == 400
        assert "needs its base URL" in response.content.decode()
        response = c.post(url(provider, "watch"), {"interval_hours": "0"})
        assert response.status_code == 400
        assert not SyncWatch.objects.exists()

    def test_readers_may_not_change_it(
        self, client: Client, personas: Personas, provider: Provider
    ) -> None:
        response = as_user(client, personas.victor).post(
            url(provider, "watch"), {"interval_hours": "6", "source": "upstream"}
        )
        assert response.status_code == 403


def litellm_table() -> bytes:
    """A table in LiteLLM's format: model-000 repriced and with a larger
    context, model-001 as declared, an id of this provider that matches no
    model, and another vendor's model (not this provider's: not listed)."""
    import json

    return json.dumps(
        {
            "sample_spec": {"input_cost_per_token": 0},
            "model-000": {
                "litellm_provider": "gateway",
                "mode": "chat",
                "input_cost_per_token": 2.5e-06,
                "output_cost_per_token": 1e-05,
                "max_input_tokens": 128000,
            },
            "model-001": {
                "litellm_provider": "gateway",
                "mode": "chat",
                "input_cost_per_token": 5e-07,
                "output_cost_per_token": 1.5e-06,
                "max_input_tokens": 8192,
            },
            "gateway-unknown-9": {
                "litellm_provider": "gateway",
                "mode": "chat",
                "input_cost_per_token": 1e-06,
            },
            "claude-x": {"litellm_provider": "anthropic", "mode": "chat"},
        }
    ).encode()


class TestThePriceTableForm:
    def test_an_uploaded_table_proposes_then_applies_the_matched_prices_only(
        self, client: Client, personas: Personas, provider: Provider
    ) -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        from studio.pluginfmt.document import load_document

        before = catalog.provider_files(provider)
        c = as_user(client, personas.bob)
        response = c.post(
            url(provider, "check-prices"),
            {"table_file": SimpleUploadedFile("prices.json", litellm_table())},
        )
        assert response.status_code == 302
        proposal = SyncProposal.objects.get()
        assert (proposal.source, proposal.origin) == ("prices", "prices.json")
        keys = [item["key"] for item in proposal.items]
        assert keys == ["update:llm:model-000"]
        assert catalog.provider_files(provider) == before  # proposed, not applied
        body = c.get(response["Location"]).content.decode()
        assert "gateway-unknown-9" in body  # unmatched, listed
        assert "claude-x" not in body
        applied = c.post(url(provider, "proposal-apply", proposal.pk), {"keys": keys})
        assert applied.status_code == 302, applied.content.decode()[:400]
        doc = load_document(catalog.provider_files(provider))
        specs = {e.spec.model: e.spec.to_data() for e in doc.models}
        assert specs["model-000"]["pricing"]["input"] == "2.5"
        assert specs["model-000"]["pricing"]["output"] == "10"
        assert specs["model-000"]["model_properties"]["context_size"] == 128000
        assert specs["model-001"]["pricing"] == {
            "input": "0.5",
            "output": "1.5",
            "unit": "0.000001",
            "currency": "USD",
        }
        after = catalog.provider_files(provider)
        changed = sorted(p for p in after if after[p] != before.get(p))
        assert changed == ["models/llm/model-000.yaml"]

    def test_a_url_is_read_through_the_sync_allow_list(
        self, client: Client, personas: Personas, provider: Provider, settings: Any
    ) -> None:
        from tests.pluginfmt.sync.test_prices import serving

        c = as_user(client, personas.bob)
        with serving(litellm_table()) as server:
            refused = c.post(url(provider, "check-prices"), {"table_url": server.url})
            assert refused.status_code == 400
            assert "SYNC_EGRESS_ALLOW" in refused.content.decode()
            assert not SyncProposal.objects.exists()
            settings.SYNC_EGRESS_ALLOW = ["127.0.0.1"]
            response = c.post(url(provider, "check-prices"), {"table_url": server.url})
        assert response.status_code == 302
        proposal = SyncProposal.objects.get()
        assert [i["key"] for i in proposal.items] == ["update:llm:model-000"]

    def test_bad_input_is_a_400(
        self,
        client: Client,
        personas: Personas,
        provider: Provider,
        settings: Any,
    ) -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        c = as_user(client, personas.bob)
        neither = c.post(url(provider, "check-prices"), {})
        assert neither.status_code == 400
        assert "Give either a table file or its URL." in neither.content.decode()
        bad_map = c.post(
            url(provider, "check-prices"),
            {"table_url": "https://x.example/p.json", "mapping": "no equals"},
        )
        assert bad_map.status_code == 400
        assert "Mapping line 1" in bad_map.content.decode()
        unreadable = c.post(
            url(provider, "check-prices"),
            {"table_file": SimpleUploadedFile("p.json", b"[]")},
        )
        assert unreadable.status_code == 400
        assert "The table cannot be read:" in unreadable.content.decode()
        settings.SYNC_TABLE_MAX_BYTES = 4
        large = c.post(
            url(provider, "check-prices"),
            {"table_file": SimpleUploadedFile("p.json", b'{"a": 1}')},
        )
        assert large.status_code == 400
        assert "larger than" in large.content.decode()
        assert not SyncProposal.objects.exists()


ROUTES = [
    ("get", "page", False),
    ("post", "check-upstream", False),
    ("post", "check-prices", False),
    ("post", "watch", False),
    ("get", "proposal", True),
    ("post", "proposal-apply", True),
    ("post", "proposal-discard", True),
]


class TestEveryRoute:
    """Each Sync route: anonymous → login, another team → 404, a viewer's
    write → 403, and nothing changed by any of them."""

    @pytest.fixture
    def proposal(self, provider: Provider) -> SyncProposal:
        from studio.pluginfmt.sync import prices

        return services.propose_from_prices(
            provider=provider,
            user=None,
            table=prices.parse_table(litellm_table()),
            mapping={},
        )

    @pytest.mark.parametrize(("method", "name", "of_proposal"), ROUTES)
    def test_isolation(
        self,
        client: Client,
        personas: Personas,
        provider: Provider,
        proposal: SyncProposal,
        method: str,
        name: str,
        of_proposal: bool,
    ) -> None:
        target = url(provider, name, *([proposal.pk] if of_proposal else []))
        files = catalog.provider_files(provider)

        anonymous = getattr(client, method)(target)
        assert anonymous.status_code == 302
        assert "/accounts/login/" in anonymous["Location"]

        other = getattr(as_user(client, personas.mallory), method)(target)
        assert other.status_code == 404

        if method == "post":
            viewer = as_user(client, personas.victor).post(target)
            assert viewer.status_code == 403
        proposal.refresh_from_db()
        assert proposal.status == "open"
        assert not SyncWatch.objects.exists()
        assert SyncProposal.objects.count() == 1
        assert catalog.provider_files(provider) == files
