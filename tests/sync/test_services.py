"""Catalogue sync against the mock upstream: propose, apply, build, diff;
egress refusals, the typed key's non-storage, staleness and the audit."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from studio.audit.models import AuditEvent
from studio.builds.mock_upstream import MockUpstream
from studio.builds.models import Build
from studio.catalog import services as catalog
from studio.catalog.models import Provider
from studio.pluginfmt.diff import Bump, Level, diff_documents
from studio.pluginfmt.document import load_document
from studio.pluginfmt.readers import read_package
from studio.pluginfmt.verify import verify
from studio.sync import services
from studio.sync.models import SyncProposal
from tests.builds.conftest import SDK_CACHE
from tests.builds.test_services import built, steps_of
from tests.catalog.conftest import Personas
from tests.sync.conftest import API_KEY

pytestmark = pytest.mark.django_db


def propose(provider: Provider, upstream: MockUpstream, **kwargs: Any) -> Any:
    return services.propose_from_upstream(
        provider=provider,
        user=None,
        base_url=upstream.url,
        api_key=kwargs.pop("api_key", API_KEY),
        template=kwargs.pop("template", "model-002"),
        **kwargs,
    )


def all_rows_text() -> str:
    """Every row of every table, as text (to grep for a secret)."""
    out = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 (a table name)
            out.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(out)


@pytest.fixture(autouse=True)
def _sdk(sdk_python: Path) -> None:
    """The build's smoke test reuses the session's cached SDK virtualenv."""


class TestTheAcceptance:
    def test_two_new_one_gone_applied_built_served_and_diffed(
        self,
        provider: Provider,
        upstream: MockUpstream,
        allow_loopback: None,
        personas: Personas,
        run_published: Any,
        storage: Path,
        settings: Any,
        django_capture_on_commit_callbacks: Any,
        caplog: Any,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        before = catalog.provider_document(provider)
        files_before = catalog.provider_files(provider)

        proposal = propose(provider, upstream)

        assert [(i["kind"], i["model"]) for i in proposal.items] == [
            ("add_model", "gpt-new-1"),
            ("add_model", "gpt-new-2"),
            ("deprecate_model", "model-001"),
        ]
        assert proposal.summary == "2 new models, 1 model gone upstream"
        assert proposal.suggested_bump == "minor"
        assert proposal.details["unchanged"] == {"llm": ["model-000", "model-002"]}
        assert proposal.lock_version == provider.lock_version
        # The key went to the upstream as a Bearer token, and nowhere else.
        assert upstream.requests[-1].authorization == f"Bearer {API_KEY}"
        # Computing a proposal does not touch the draft.
        assert catalog.provider_files(provider) == files_before

        services.proposal_apply(proposal=proposal, user=personas.bob)

        proposal.refresh_from_db()
        assert proposal.status == SyncProposal.Status.APPLIED
        assert proposal.applied_by == personas.bob
        after = catalog.provider_document(provider)
        added = {
            e.spec.model: e.spec.to_data()
            for e in after.models
            if e.spec.model in ("gpt-new-1", "gpt-new-2")
        }
        template = next(e for e in before.models if e.spec.model == "model-002")
        for model_id, data in added.items():
            expected = template.spec.to_data() | {
                "model": model_id,
                "label": {"en_US": model_id},
            }
            assert data == expected
        gone = next(e for e in after.models if e.spec.model == "model-001")
        assert gone.spec.deprecated is True

        diff = diff_documents(before, after)
        assert sorted((c.kind, c.subject[-1], c.level) for c in diff.changes) == [
            ("added", "gpt-new-1", Level.NOTABLE),
            ("added", "gpt-new-2", Level.NOTABLE),
            ("deprecated", "model-001", Level.NOTABLE),
        ]
        assert diff.suggestion == Bump.MINOR == Bump(proposal.suggested_bump)

        event = AuditEvent.objects.get(action=AuditEvent.Action.SYNC_APPLY)
        assert event.actor_name == "bob"
        assert "2 new models, 1 model gone upstream" in event.summary

        settings.BUILD_SMOKE_RUNNER = "studio.builds.services.pipeline.smoke_artifact"
        settings.SMOKE_VENV_DIR = SDK_CACHE
        build = built(provider, django_capture_on_commit_callbacks, run_published)
        assert build.status == Build.Status.SUCCEEDED, (build.error, build.smoke)
        assert steps_of(build)["smoke"] == "passed"
        files = read_package((storage / build.artifact.name).read_bytes())
        assert [f.as_dict() for f in verify(files) if f.severity == "error"] == []
        packaged = load_document(files)
        assert {"gpt-new-1", "gpt-new-2"} <= {e.spec.model for e in packaged.models}
        checks = {c["name"]: c for c in build.smoke["checks"]}
        assert checks["starts"]["status"] == "passed"
        assert checks["schemas"]["status"] == "passed", checks["schemas"]["detail"]

        # The typed key is in no row and no log line.
        assert API_KEY not in all_rows_text()
        assert API_KEY not in caplog.text

    def test_a_subset_of_items_is_applied_when_ticked(
        self, provider: Provider, upstream: MockUpstream, allow_loopback: None
    ) -> None:
        proposal = propose(provider, upstream)
        services.proposal_apply(
            proposal=proposal, user=None, keys=["add:llm:gpt-new-2"]
        )
        ids = {e.spec.model for e in catalog.provider_document(provider).models}
        assert "gpt-new-2" in ids and "gpt-new-1" not in ids
        doc = catalog.provider_document(provider)
        assert not any(e.spec.deprecated for e in doc.models)
        assert proposal.applied_keys == ["add:llm:gpt-new-2"]


class TestRefusals:
    @pytest.mark.parametrize(
        "base_url",
        ["http://127.0.0.1:9/v1", "http://10.0.0.1/v1", "http://169.254.169.254/v1"],
    )
    def test_internal_addresses_are_refused_and_nothing_is_stored(
        self, provider: Provider, base_url: str
    ) -> None:
        with pytest.raises(services.SyncError, match=r"Refused: .*SYNC_EGRESS_ALLOW"):
            services.propose_from_upstream(
                provider=provider, user=None, base_url=base_url, api_key="k"
            )
        assert SyncProposal.objects.count() == 0

    def test_loopback_is_reached_when_an_administrator_allows_it(
        self, provider: Provider, upstream: MockUpstream, allow_loopback: None
    ) -> None:
        assert propose(provider, upstream).new_count == 2

    def test_a_wrong_key_is_a_clear_error_without_the_key(
        self, provider: Provider, upstream: MockUpstream, allow_loopback: None
    ) -> None:
        with pytest.raises(services.SyncError) as caught:
            propose(provider, upstream, api_key="sk-wrong-secret")
        assert "refused the API key (HTTP 401)" in str(caught.value)
        assert "sk-wrong-secret" not in str(caught.value)

    @pytest.mark.parametrize("key", ["ключ-секрет", "sk-one\r\nX-Injected: 1"])
    def test_a_key_http_cannot_carry_is_a_clear_error_without_the_key(
        self,
        provider: Provider,
        upstream: MockUpstream,
        allow_loopback: None,
        key: str,
    ) -> None:
        with pytest.raises(services.SyncError) as caught:
            propose(provider, upstream, api_key=key)
        assert "characters HTTP does not carry" in str(caught.value)
        assert key not in str(caught.value)
        assert upstream.requests == []
        assert SyncProposal.objects.count() == 0

    def test_a_template_that_is_not_declared_is_refused(
        self, provider: Provider, upstream: MockUpstream, allow_loopback: None
    ) -> None:
        with pytest.raises(services.SyncError, match="not a declared model"):
            propose(provider, upstream, template="nope")


class TestApplying:
    def test_a_draft_changed_in_a_conflicting_way_is_refused_whole(
        self,
        provider: Provider,
        upstream: MockUpstream,
        allow_loopback: None,
        personas: Personas,
    ) -> None:
        proposal = propose(provider, upstream)
        # Someone deletes model-001 meanwhile: its deprecation no longer fits.
        model = provider.models.get(model="model-001")
        from studio.catalog.services.models import model_delete

        model_delete(provider=provider, model=model, model_lock=model.lock_version)
        files = catalog.provider_files(provider)

        with pytest.raises(services.SyncStale) as caught:
            services.proposal_apply(proposal=proposal, user=personas.bob)

        assert "model-001 is no longer declared" in str(caught.value)
        assert "run the check again" in str(caught.value)
        assert catalog.provider_files(provider) == files
        proposal.refresh_from_db()
        assert proposal.status == SyncProposal.Status.OPEN
        assert not AuditEvent.objects.filter(action="sync-apply").exists()

    def test_a_price_unit_edited_since_the_check_refuses_the_prices(
        self, provider: Provider, personas: Personas
    ) -> None:
        from studio.pluginfmt.document.edits import set_spec
        from studio.pluginfmt.sync import prices
        from tests.sync.test_views import litellm_table

        table = prices.parse_table(litellm_table())
        proposal = services.propose_from_prices(
            provider=provider, user=personas.bob, table=table, mapping={}
        )
        assert proposal.details["units"] == {"llm:model-000": "0.000001"}
        # Meanwhile an author changes model-000's price unit alone (its prices
        # now read per 1K tokens): the proposal's "2.5" was per 1M, and the
        # prices themselves still hold the values it was computed from.
        doc = catalog.provider_document(provider)
        entry = next(e for e in doc.models if e.spec.model == "model-000")
        data = entry.spec.to_data()
        data["pricing"] = {**data["pricing"], "unit": "0.001"}

        def change(d: Any) -> None:
            target = next(e for e in d.models if e.spec.model == "model-000")
            set_spec(target, data)

        catalog.provider_edit(provider=provider, lock_version=None, change=change)
        files = catalog.provider_files(provider)

        with pytest.raises(services.SyncStale) as caught:
            services.proposal_apply(proposal=proposal, user=personas.bob)

        assert "the price unit is now 0.001" in str(caught.value)
        assert catalog.provider_files(provider) == files

    def test_an_unrelated_edit_does_not_stop_the_apply(
        self, provider: Provider, upstream: MockUpstream, allow_loopback: None
    ) -> None:
        proposal = propose(provider, upstream)
        model = provider.models.get(model="model-000")
        from studio.catalog.services.models import model_delete

        model_delete(provider=provider, model=model, model_lock=model.lock_version)
        services.proposal_apply(proposal=proposal, user=None)
        assert proposal.status == SyncProposal.Status.APPLIED
        models = {m.model: m.deprecated for m in provider.models.all()}
        assert models == {
            "model-001": True,
            "model-002": False,
            "gpt-new-1": False,
            "gpt-new-2": False,
        }

    def test_an_applied_proposal_is_not_applied_twice(
        self, provider: Provider, upstream: MockUpstream, allow_loopback: None
    ) -> None:
        proposal = propose(provider, upstream)
        services.proposal_apply(proposal=proposal, user=None)
        with pytest.raises(services.SyncError, match="already applied"):
            services.proposal_apply(proposal=proposal, user=None)
        with pytest.raises(services.SyncError, match="Unknown item"):
            services.proposal_apply(
                proposal=propose(provider, upstream), user=None, keys=["add:llm:x"]
            )


class TestMapping:
    def test_lines_are_read_and_bad_ones_named(self) -> None:
        text = "# comment\nopenai/gpt-4o = gpt-4o\n\n a=b \n"
        assert services.parse_mapping(text) == {"openai/gpt-4o": "gpt-4o", "a": "b"}
        with pytest.raises(services.SyncError, match="line 2"):
            services.parse_mapping("a = b\nno equals sign")
