"""A provider's baseline: what it was when it entered the studio, recorded by
every way of creating or importing one, never changed afterwards."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from studio.builds.services import provider_delete
from studio.catalog import services
from studio.catalog.models import ImportJob, Provider, ProviderBaseline
from studio.catalog.services import imports
from studio.pluginfmt.checksum import files_checksum
from studio.pluginfmt.scaffold import scaffold
from studio.reviews import services as reviews
from studio.reviews.models import Revision
from tests.catalog.conftest import Personas
from tests.catalog.import_inputs import zip_of
from tests.catalog.test_provider_views import new_provider_data
from tests.factories import make_new_plugin, make_provider

pytestmark = pytest.mark.django_db


def baseline(provider: Provider) -> ProviderBaseline:
    return ProviderBaseline.objects.get(provider=provider)


def set_price(provider: Provider, price: str) -> None:
    def change(doc: Any) -> None:
        next(m for m in doc.models if m.spec.pricing).spec.pricing.input = price

    services.provider_edit(provider=provider, lock_version=None, change=change)


class TestCreated:
    def test_the_new_provider_form_records_the_generated_files(
        self, client: Client, personas: Personas
    ) -> None:
        client.force_login(personas.bob)
        client.post(reverse("catalog:provider-new"), new_provider_data())
        provider = Provider.objects.get(name="gateway")
        found = baseline(provider)
        assert (found.kind, found.created_by) == ("created", personas.bob)
        assert found.files() == services.provider_files(provider)
        assert found.sha256 == files_checksum(found.files())
        assert (found.file_count, found.plugin_version) == (
            len(found.files()),
            provider.version,
        )
        assert found.label == f"created {found.created_at:%Y-%m-%d}"

    def test_later_edits_leave_it_as_it_was(self, personas: Personas) -> None:
        provider = make_provider(personas.team, models=2)
        before = baseline(provider).files()
        set_price(provider, "0.9")
        assert baseline(provider).files() == before
        assert services.provider_files(provider) != before


class TestImported:
    def test_an_import_records_the_files_as_imported(self, personas: Personas) -> None:
        files = scaffold(make_new_plugin("upstream"))
        report = imports.import_plugin(
            team=personas.team, user=personas.alice, files=files
        )
        found = baseline(Provider.objects.get(pk=report.provider_id))
        assert (found.kind, found.created_by) == ("imported", personas.alice)
        assert found.files() == files

    def test_a_copy_is_a_new_provider_with_its_own_baseline(
        self, personas: Personas
    ) -> None:
        files = scaffold(make_new_plugin("upstream"))
        imports.import_plugin(team=personas.team, user=None, files=files)
        report = imports.import_plugin(
            team=personas.team, user=None, files=files, mode=ImportJob.Mode.COPY
        )
        copy = Provider.objects.get(pk=report.provider_id)
        assert baseline(copy).kind == "imported"
        assert baseline(copy).files() == services.provider_files(copy)
        assert ProviderBaseline.objects.count() == 2

    def test_a_new_version_keeps_the_baseline(self, personas: Personas) -> None:
        """A re-import is a change the team brought in: reviewed like an edit."""
        provider = make_provider(personas.team, models=2)
        first = baseline(provider)
        files = services.provider_files(provider)
        files["CHANGELOG.md"] = b"# 0.0.2 from upstream\n"
        imports.import_plugin(
            team=personas.team,
            user=personas.bob,
            files=files,
            mode=ImportJob.Mode.NEW_VERSION,
        )
        again = baseline(provider)
        assert (again.pk, again.sha256, again.kind) == (
            first.pk,
            first.sha256,
            "created",
        )
        assert "CHANGELOG.md" not in again.files()
        assert "CHANGELOG.md" in services.provider_files(provider)

    def test_the_command_line_import_records_it(
        self, personas: Personas, tmp_path: Path
    ) -> None:
        folder = tmp_path / "cli-plugin"
        for path, content in scaffold(make_new_plugin("fromcli")).items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(content)
        out = io.StringIO()
        call_command(
            "plugin", "import", str(folder), "--team", personas.team.slug, stdout=out
        )
        provider = Provider.objects.get(name="fromcli")
        assert baseline(provider).kind == "imported"
        assert baseline(provider).files() == services.provider_files(provider)

    def test_the_api_import_records_it(
        self, client: Client, personas: Personas
    ) -> None:
        from tests.api.conftest import make_token

        token = make_token(personas.bob, personas.team)
        data = zip_of(scaffold(make_new_plugin("viaapi")))
        response = client.post(
            "/api/v1/imports",
            {"file": SimpleUploadedFile("viaapi.zip", data)},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 201, response.content
        provider = Provider.objects.get(name="viaapi")
        assert (baseline(provider).kind, baseline(provider).created_by) == (
            "imported",
            personas.bob,
        )


class TestDeletion:
    def test_deleting_the_provider_deletes_its_baseline_and_revisions(
        self, personas: Personas
    ) -> None:
        provider = make_provider(personas.team, models=1)
        reviews.revision_submit(provider=provider, user=personas.bob, message="r1")
        provider_delete(provider=provider)
        assert not ProviderBaseline.objects.exists()
        assert not Revision.objects.exists()
        assert not Provider.objects.filter(pk=provider.pk).exists()


@pytest.mark.django_db(transaction=True)
class TestMigration:
    def test_older_providers_keep_their_files_and_get_no_baseline(self) -> None:
        """0006 creates the table only: providers that existed have no
        baseline (their first revision compares with nothing), and going
        back drops the table without touching them."""
        before = [("catalog", "0005_invitations")]
        executor = MigrationExecutor(connection)
        leaves = executor.loader.graph.leaf_nodes()
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        team = old.get_model("catalog", "Team").objects.create(name="Acme", slug="a")
        provider = old.get_model("catalog", "Provider").objects.create(
            team=team, author="acme", name="legacy"
        )
        old.get_model("catalog", "ProviderFile").objects.create(
            provider=provider, path="manifest.yaml", content=b"x", size=1, sha256="0"
        )

        MigrationExecutor(connection).migrate(leaves)

        legacy = Provider.objects.get(pk=provider.pk)
        assert not ProviderBaseline.objects.exists()
        assert legacy.files.get().path == "manifest.yaml"
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
        assert Provider.objects.filter(pk=provider.pk).exists()
