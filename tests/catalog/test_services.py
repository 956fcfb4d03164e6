from __future__ import annotations

import pytest

from studio.catalog import services
from studio.catalog.models import Provider, ProviderModel
from studio.pluginfmt.verify import verify
from tests.factories import make_provider

pytestmark = pytest.mark.django_db


class TestProviderCreate:
    def test_it_generates_a_plugin_the_verifier_finds_no_error_in(self, personas):
        provider = make_provider(personas.team, model_types=["llm", "text-embedding"])
        files = services.provider_files(provider)
        assert "manifest.yaml" in files
        assert "models/llm/llm.py" in files
        assert "models/text_embedding/text_embedding.py" in files
        errors = [f for f in verify(files) if f.severity == "error"]
        assert errors == []
        assert provider.error_count == 0
        assert (
            provider.kinds == ",llm,text-embedding,predefined-model,customizable-model,"
        )

    def test_it_refuses_a_second_plugin_with_the_same_id(self, personas):
        make_provider(personas.team)
        with pytest.raises(services.DuplicatePlugin):
            make_provider(personas.team)


class TestProviderEdit:
    def test_an_edit_rewrites_only_the_file_it_changes(self, personas):
        provider = make_provider(personas.team, models=3)
        before = services.provider_files(provider)

        def deprecate(doc):
            doc.models[1].spec.deprecated = True

        result = services.provider_edit(
            provider=provider, lock_version=provider.lock_version, change=deprecate
        )
        after = services.provider_files(provider)
        assert result.changed_paths == ["models/llm/model-001.yaml"]
        assert {p for p in after if after[p] != before[p]} == {
            "models/llm/model-001.yaml"
        }
        assert ProviderModel.objects.get(model="model-001").deprecated is True

    def test_a_stale_lock_version_is_refused_and_nothing_changes(self, personas):
        provider = make_provider(personas.team, models=1)
        stale = provider.lock_version
        services.provider_edit(
            provider=provider, lock_version=stale, change=lambda doc: None
        )
        provider.refresh_from_db()
        before = services.provider_files(provider)
        with pytest.raises(services.StaleEdit):
            services.provider_edit(
                provider=provider,
                lock_version=stale - 1,
                change=lambda doc: setattr(doc.models[0].spec, "deprecated", True),
            )
        assert services.provider_files(provider) == before

    def test_models_are_indexed_in_position_order(self, personas):
        provider = make_provider(personas.team, models=5)
        positions = list(provider.models.values_list("model", "position"))
        assert positions == [(f"model-{i:03d}", i) for i in range(5)]


class TestProviderReverify:
    def test_it_refreshes_findings_left_stale_by_an_older_verifier(self, personas):
        provider = make_provider(personas.team, models=1)
        Provider.objects.filter(pk=provider.pk).update(
            error_count=7, warning_count=0, findings=[]
        )
        findings = services.provider_reverify(provider=provider)
        assert provider.error_count == 0
        assert provider.warning_count == sum(f.severity == "warning" for f in findings)
        assert provider.findings == [f.as_dict() for f in findings]

    def test_the_command_reports_each_provider(self, personas):
        import io
        import json

        from django.core.management import call_command

        provider = make_provider(personas.team, models=1)
        out = io.StringIO()
        call_command(
            "plugin", "reverify", "--team", personas.team.slug, "--json", stdout=out
        )
        data = json.loads(out.getvalue())
        assert data["providers"] == [
            {
                "provider": provider.pk,
                "plugin": "acme/gateway",
                "errors": 0,
                "warnings": provider.warning_count,
            }
        ]


def test_the_draft_checksum_is_read_from_the_stored_digests(personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from studio.pluginfmt.checksum import files_checksum

    provider = make_provider(personas.team, models=3)
    with CaptureQueriesContext(connection) as queries:
        digest = services.draft_checksum(provider)
    assert len(queries) == 1 and "content" not in queries[0]["sql"]
    assert digest == files_checksum(services.provider_files(provider))
    services.provider_edit_files(
        provider=provider,
        lock_version=None,
        change=lambda files: {**files, "NOTES.md": b"# more\n"},
    )
    changed = services.draft_checksum(provider)
    assert changed != digest
    assert changed == files_checksum(services.provider_files(provider))
