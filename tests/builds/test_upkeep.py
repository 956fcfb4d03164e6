"""Beat's upkeep of builds: dev artifacts beyond the keep count for every
provider, builds whose worker vanished, this machine's SDK virtualenvs."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from studio.builds import services, tasks
from studio.builds.models import Build, artifact_path
from studio.catalog.models import Provider
from studio.pluginfmt import sdkenv
from tests.builds.conftest import Personas, Published
from tests.concurrency import run_at_once
from tests.factories import make_provider


def finished(
    provider: Provider, *, age_minutes: int, kind: str = Build.Kind.DEV
) -> Build:
    """A succeeded build of `provider`, finished `age_minutes` ago, whose
    artifact is in storage."""
    now = timezone.now()
    build = Build.objects.create(
        provider=provider,
        team=provider.team,
        source=services.snapshot(provider),
        kind=kind,
        revision_label="r1" if kind == Build.Kind.RELEASE else "",
        status=Build.Status.SUCCEEDED,
        started_at=now - timedelta(minutes=age_minutes + 1),
        finished_at=now - timedelta(minutes=age_minutes),
    )
    build.artifact.name = default_storage.save(
        artifact_path(build, f"b{build.pk}.difypkg"), ContentFile(b"package")
    )
    build.save(update_fields=["artifact"])
    return build


def kept(builds: list[Build]) -> list[bool]:
    """Whether each build still has its artifact, in the row and in storage."""
    names = {b.pk: b.artifact.name for b in builds}
    result = []
    for build in builds:
        build.refresh_from_db()
        has = bool(build.artifact.name)
        assert has == default_storage.exists(names[build.pk]), build.pk
        assert (build.pruned_at is None) == has, build.pk
        result.append(has)
    return result


@pytest.mark.usefixtures("storage")
class TestBuildsPruneAll:
    @pytest.fixture(autouse=True)
    def keep_two(self, settings: Any) -> None:
        settings.BUILD_DEV_ARTIFACTS_KEEP = 2

    @pytest.fixture
    def prune_all(self, django_capture_on_commit_callbacks: Any) -> Any:
        """`builds_prune_all`, its files deleted as after a real commit."""

        def run() -> dict[int, list[int]]:
            with django_capture_on_commit_callbacks(execute=True):
                return services.builds_prune_all()

        return run

    def test_each_provider_keeps_its_newest_dev_artifacts_and_every_release(
        self, personas: Personas, prune_all: Any
    ) -> None:
        crowded = make_provider(personas.team, "crowded")
        release = finished(crowded, age_minutes=100, kind=Build.Kind.RELEASE)
        dev = [finished(crowded, age_minutes=m) for m in (50, 40, 30, 20)]
        theirs = make_provider(personas.other_team, "theirs")
        their_dev = [finished(theirs, age_minutes=m) for m in (60, 10)]

        pruned = prune_all()

        assert pruned == {crowded.pk: [dev[1].pk, dev[0].pk]}
        assert kept(dev) == [False, False, True, True]
        assert kept([release]) == [True]
        assert kept(their_dev) == [True, True]

    def test_a_lowered_keep_count_prunes_on_the_next_run_and_a_second_run_nothing(
        self, personas: Personas, settings: Any, prune_all: Any
    ) -> None:
        provider = make_provider(personas.team)
        dev = [finished(provider, age_minutes=m) for m in (30, 20, 10)]
        assert prune_all() == {provider.pk: [dev[0].pk]}

        settings.BUILD_DEV_ARTIFACTS_KEEP = 1
        assert prune_all() == {provider.pk: [dev[1].pk]}
        assert prune_all() == {}
        assert kept(dev) == [False, False, True]

    def test_an_artifact_already_gone_from_storage_is_no_error(
        self, personas: Personas, prune_all: Any
    ) -> None:
        provider = make_provider(personas.team)
        dev = [finished(provider, age_minutes=m) for m in (30, 20, 10)]
        default_storage.delete(dev[0].artifact.name)

        assert prune_all() == {provider.pk: [dev[0].pk]}
        dev[0].refresh_from_db()
        assert dev[0].artifact.name == "" and dev[0].pruned_at is not None

    def test_the_task_logs_its_counts(
        self,
        personas: Personas,
        caplog: pytest.LogCaptureFixture,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        provider = make_provider(personas.team)
        for m in (40, 30, 20, 10):
            finished(provider, age_minutes=m)
        with (
            caplog.at_level(logging.INFO, logger="studio.builds.tasks"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            tasks.builds_prune_all.run()
        assert "upkeep: pruned 2 dev artifact(s) of 1 provider(s)" in caplog.messages


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("storage")
def test_two_prunes_at_once_prune_each_artifact_once(
    personas: Personas, settings: Any
) -> None:
    settings.BUILD_DEV_ARTIFACTS_KEEP = 2
    providers = [
        make_provider(personas.team, "ours"),
        make_provider(personas.other_team, "theirs"),
    ]
    dev = {
        p.pk: [finished(p, age_minutes=m) for m in range(60, 0, -5)] for p in providers
    }

    results = run_at_once(services.builds_prune_all)

    for provider in providers:
        ids = [pk for result in results for pk in result.get(provider.pk, [])]
        assert sorted(ids) == sorted(b.pk for b in dev[provider.pk][:-2])
        assert kept(dev[provider.pk]) == [False] * 10 + [True, True]


# ---------------------------------------------------------------- the reaper


def running(provider: Provider, *, heartbeat_ago: float) -> Build:
    now = timezone.now()
    build = Build.objects.create(
        provider=provider,
        team=provider.team,
        source=services.snapshot(provider),
        status=Build.Status.RUNNING,
        worker_hostname="gone@host",
        worker_pid=999_999,
        started_at=now - timedelta(seconds=heartbeat_ago + 5),
        heartbeat_at=now - timedelta(seconds=heartbeat_ago),
    )
    return build


class TestBuildsReapTask:
    def test_it_requeues_builds_whose_worker_vanished_and_no_others(
        self,
        personas: Personas,
        broker: Published,
        settings: Any,
        caplog: pytest.LogCaptureFixture,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        settings.BUILD_STALE_SECONDS = 60
        lost = running(make_provider(personas.team, "lost"), heartbeat_ago=120)
        alive = running(make_provider(personas.other_team, "alive"), heartbeat_ago=5)

        with (
            caplog.at_level(logging.INFO, logger="studio.builds.tasks"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            tasks.builds_reap.run()
            tasks.builds_reap.run()

        lost.refresh_from_db()
        alive.refresh_from_db()
        assert (lost.status, lost.attempt) == (Build.Status.QUEUED, 2)
        assert (alive.status, alive.attempt) == (Build.Status.RUNNING, 1)
        assert broker == [{"build_id": lost.pk, "attempt": 2}]
        assert caplog.messages == [
            f"upkeep: reaped 1 stale build(s): [{lost.pk}]",
            "upkeep: reaped 0 stale build(s)",
        ]


@pytest.mark.django_db(transaction=True)
def test_two_reapers_at_once_requeue_a_lost_build_once(
    personas: Personas, broker: Published, settings: Any
) -> None:
    settings.BUILD_STALE_SECONDS = 60
    lost = [
        running(make_provider(personas.team, f"lost{i}"), heartbeat_ago=120)
        for i in range(8)
    ]

    results = run_at_once(services.builds_reap_stale)

    assert sorted(b.pk for result in results for b in result) == [b.pk for b in lost]
    assert sorted(m["build_id"] for m in broker) == [b.pk for b in lost]
    assert set(
        Build.objects.filter(pk__in=[b.pk for b in lost]).values_list(
            "status", "attempt"
        )
    ) == {(Build.Status.QUEUED, 2)}


# ---------------------------------------------------------------- SDK venvs


class TestSdkVenvsEvict:
    def test_it_hands_the_cache_and_its_cap_to_sdkenvs_eviction(
        self,
        settings: Any,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        settings.SMOKE_VENV_DIR = tmp_path / "venvs"
        settings.SDK_VENV_CACHE_MAX_MB = 3
        calls = []

        def evict_venvs(cache_dir: Path, *, max_bytes: int) -> list[str]:
            calls.append((cache_dir, max_bytes))
            return ["py312-old"]

        # The eviction itself (LRU, spares venvs in use) is tested in
        # tests/pluginfmt/test_sdkenv.py.
        monkeypatch.setattr(sdkenv, "evict_venvs", evict_venvs)
        with caplog.at_level(logging.INFO, logger="studio.builds.tasks"):
            tasks.sdk_venvs_evict.run()

        assert calls == [(tmp_path / "venvs", 3 * 1024 * 1024)]
        assert caplog.messages == ["upkeep: evicted 1 SDK virtualenv(s): ['py312-old']"]
