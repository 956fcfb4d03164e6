"""Builds made before issue 13 get download names that tell them apart."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from studio.builds import services
from studio.builds.models import Build
from tests.builds.conftest import Personas, Published
from tests.factories import make_provider

BEFORE = [("builds", "0001_initial")]


@pytest.mark.django_db(transaction=True)
class TestArtifactNamesMigration:
    def test_old_names_gain_the_build_and_signature_and_the_files_stay(
        self, personas: Personas, broker: Published, run_published: Any
    ) -> None:
        provider = make_provider(personas.team)
        for _ in range(2):
            services.build_start(provider=provider, user=None, smoke=False)
            run_published()
        builds = list(Build.objects.order_by("id"))
        Build.objects.filter(pk=builds[1].pk).update(
            signed=True, artifact_name=f"gateway-0.0.1-b{builds[1].pk}-signed.difypkg"
        )
        Build.objects.create(
            provider=provider, team=personas.team, source=builds[0].source
        )  # never stored anything: keeps its empty name
        stored = {b.pk: b.artifact.name for b in builds}

        executor = MigrationExecutor(connection)
        leaves = executor.loader.graph.leaf_nodes()
        executor.migrate(BEFORE)
        names = dict(Build.objects.values_list("pk", "artifact_name"))
        assert set(names.values()) == {"gateway-0.0.1.difypkg", ""}

        MigrationExecutor(connection).migrate(leaves)
        after = {b.pk: b for b in Build.objects.all()}
        first, second = builds
        assert after[first.pk].artifact_name == (
            f"gateway-0.0.1-b{first.pk}-unsigned.difypkg"
        )
        assert after[second.pk].artifact_name == (
            f"gateway-0.0.1-b{second.pk}-signed.difypkg"
        )
        assert {pk: after[pk].artifact.name for pk in stored} == stored
        assert [b.artifact_name for b in after.values() if not b.artifact] == [""]
