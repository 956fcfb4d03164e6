from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from studio.builds import services, tasks
from studio.builds.models import Build, BuildSource
from studio.builds.services import pipeline
from studio.catalog import services as catalog
from studio.pluginfmt import signing
from studio.pluginfmt.checksum import checksum, unique_identifier
from studio.pluginfmt.readers import read_package
from studio.pluginfmt.verify import verify
from tests.builds import runners
from tests.builds.conftest import Personas, Published
from tests.factories import make_provider

pytestmark = pytest.mark.django_db


def start(provider: Any, capture: Any, **kwargs: Any) -> Build:
    with capture(execute=True):
        return services.build_start(provider=provider, user=None, **kwargs)


def built(provider: Any, capture: Any, run_published: Any, **kwargs: Any) -> Build:
    build = start(provider, capture, **kwargs)
    with capture(execute=True):
        run_published()
    build.refresh_from_db()
    return build


def break_version(provider: Any) -> None:
    files = catalog.provider_files(provider)
    files["manifest.yaml"] = files["manifest.yaml"].replace(
        b"version: 0.0.1", b"version: banana", 1
    )
    catalog.provider_replace_files(provider=provider, files=files)


def steps_of(build: Build) -> dict[str, str]:
    return {s.name.value: s.status.value for s in build.step_records()}


class TestBuildStart:
    def test_it_snapshots_the_files_and_queues_one_task(
        self, personas: Personas, broker: Published, django_capture_on_commit_callbacks
    ) -> None:
        provider = make_provider(personas.team, models=2)
        build = start(provider, django_capture_on_commit_callbacks)
        assert build.status == Build.Status.QUEUED
        assert build.kind == Build.Kind.DEV and build.revision_label == ""
        assert build.source.files() == catalog.provider_files(provider)
        assert build.plugin_version == "0.0.1"
        assert broker == [{"build_id": build.pk, "attempt": 1}]

    def test_it_queues_nothing_before_the_transaction_commits(
        self, personas: Personas, broker: Published, django_capture_on_commit_callbacks
    ) -> None:
        provider = make_provider(personas.team)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.build_start(provider=provider, user=None)
        assert broker == []
        assert len(callbacks) == 1

    def test_it_reuses_the_snapshot_of_unchanged_files(
        self, personas: Personas, broker: Published, django_capture_on_commit_callbacks
    ) -> None:
        provider = make_provider(personas.team)
        first = start(provider, django_capture_on_commit_callbacks)
        services.build_cancel(build=first)
        second = start(provider, django_capture_on_commit_callbacks)
        assert second.source_id == first.source_id
        assert BuildSource.objects.count() == 1

    def test_it_refuses_a_second_build_while_one_is_queued(
        self, personas: Personas, broker: Published, django_capture_on_commit_callbacks
    ) -> None:
        provider = make_provider(personas.team)
        first = start(provider, django_capture_on_commit_callbacks)
        with pytest.raises(services.BuildInProgress) as refused:
            start(provider, django_capture_on_commit_callbacks)
        assert refused.value.build == first
        assert Build.objects.count() == 1
        assert len(broker) == 1

    def test_the_database_refuses_two_active_builds_of_one_provider(
        self, personas: Personas, broker: Published, django_capture_on_commit_callbacks
    ) -> None:
        provider = make_provider(personas.team)
        first = start(provider, django_capture_on_commit_callbacks)
        with pytest.raises(IntegrityError), transaction.atomic():
            Build.objects.create(
                provider=provider,
                team=provider.team,
                source=first.source,
                status=Build.Status.RUNNING,
            )

    def test_a_dead_broker_refuses_quickly_and_leaves_no_row(
        self, personas: Personas, settings: Any, storage: Path
    ) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:9/0"
        provider = make_provider(personas.team)
        began = time.monotonic()
        with pytest.raises(services.QueueUnavailable) as refused:
            services.build_start(provider=provider, user=None)
        assert time.monotonic() - began < 5
        assert "The job queue (Redis) is unreachable; nothing was saved" in str(
            refused.value
        )
        assert Build.objects.count() == 0

    @pytest.mark.django_db(transaction=True)
    def test_a_failed_publish_marks_the_build_failed(
        self,
        personas: Personas,
        broker: Published,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        def refuse(**kwargs: Any) -> None:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379")

        monkeypatch.setattr(tasks.build_run, "apply_async", refuse)
        provider = make_provider(personas.team)
        with pytest.raises(services.QueueUnavailable) as refused:
            services.build_start(provider=provider, user=None)
        build = Build.objects.get()
        assert refused.value.build == build
        assert f"build {build.pk} was marked failed" in str(refused.value)
        assert build.status == Build.Status.FAILED
        assert build.error == "could not queue: Error 111 connecting to 127.0.0.1:6379"
        assert build.finished_at is not None

    def test_a_release_build_names_its_revision(
        self, personas: Personas, broker: Published, django_capture_on_commit_callbacks
    ) -> None:
        provider = make_provider(personas.team)
        build = start(
            provider,
            django_capture_on_commit_callbacks,
            kind=Build.Kind.RELEASE,
            revision_label="r3",
        )
        assert build.source_label == "r3"
        with pytest.raises(IntegrityError), transaction.atomic():
            Build.objects.filter(pk=build.pk).update(revision_label="")


class TestBuildRun:
    def test_it_runs_every_step_and_stores_an_artifact_that_verifies(
        self,
        personas: Personas,
        run_published: Any,
        storage: Path,
        django_capture_on_commit_callbacks,
    ) -> None:
        provider = make_provider(personas.team, models=2)
        build = built(provider, django_capture_on_commit_callbacks, run_published)
        assert build.status == Build.Status.SUCCEEDED, build.error
        assert steps_of(build) == {
            "render": "passed",
            "verify": "passed",
            "package": "passed",
            "sign": "skipped",
            "smoke": "passed",
            "store": "passed",
        }
        assert all(s.duration_ms is not None for s in build.step_records())
        data = (storage / build.artifact.name).read_bytes()
        files = read_package(data)
        assert not [f for f in verify(files) if f.severity == "error"]
        assert "models/llm/model-001.yaml" in files
        assert build.artifact_name == f"gateway-0.0.1-b{build.pk}-unsigned.difypkg"
        assert build.artifact.name.endswith(f"/{build.pk}/{build.artifact_name}")
        assert build.size == len(data)
        assert build.checksum == checksum(data)
        assert build.identifier == unique_identifier(
            "acme", "gateway", "0.0.1", checksum(data)
        )
        assert build.signed is False
        assert build.worker_hostname == "test-worker@here"
        assert build.started_at and build.finished_at and build.heartbeat_at
        assert "rendered the source tree" in build.log_tail()
        assert runners.CALLS[-1]["runtime"] == "openai-compatible"

    def test_it_signs_with_the_team_key_verifiable_with_its_public_key(
        self,
        personas: Personas,
        run_published: Any,
        storage: Path,
        keypair: tuple[bytes, bytes],
        django_capture_on_commit_callbacks,
    ) -> None:
        key = services.signing_key_upload(
            team=personas.team, user=personas.alice, private_pem=keypair[0]
        )
        provider = make_provider(personas.team, models=1)
        build = built(provider, django_capture_on_commit_callbacks, run_published)
        assert build.status == Build.Status.SUCCEEDED, build.error
        data = (storage / build.artifact.name).read_bytes()
        result = signing.verify_signature(data, [key.public_pem.encode()])
        assert result.valid
        assert result.category == "community"
        assert build.signed and build.key_fingerprint == key.fingerprint
        assert build.checksum == checksum(data)
        other = signing.verify_signature(data, [signing.OFFICIAL_PUBLIC_KEY])
        assert not other.valid

    def test_a_verifier_error_stops_the_build_with_its_findings(
        self,
        personas: Personas,
        run_published: Any,
        storage: Path,
        django_capture_on_commit_callbacks,
    ) -> None:
        provider = make_provider(personas.team)
        break_version(provider)
        build = built(provider, django_capture_on_commit_callbacks, run_published)
        assert build.status == Build.Status.FAILED
        assert "verifier found 1 error:" in build.error
        assert steps_of(build)["verify"] == "failed"
        assert steps_of(build)["package"] == "pending"
        rules = {f["rule"] for f in build.findings if f["severity"] == "error"}
        assert "manifest.version.format" in rules
        assert not build.artifact
        assert not list(storage.rglob("*.difypkg"))

    def test_a_failed_smoke_test_stops_the_build_without_an_artifact(
        self,
        personas: Personas,
        run_published: Any,
        storage: Path,
        settings: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.failing"
        provider = make_provider(personas.team)
        build = built(provider, django_capture_on_commit_callbacks, run_published)
        assert build.status == Build.Status.FAILED
        assert build.error == "smoke test failed: invoke_llm"
        assert steps_of(build)["smoke"] == "failed"
        assert steps_of(build)["store"] == "pending"
        assert build.smoke["checks"][0]["name"] == "invoke_llm"
        assert not list(storage.rglob("*.difypkg"))

    def test_a_crash_in_a_step_fails_the_build_with_the_error(
        self,
        personas: Personas,
        run_published: Any,
        settings: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.crashing"
        provider = make_provider(personas.team)
        build = built(provider, django_capture_on_commit_callbacks, run_published)
        assert build.status == Build.Status.FAILED
        assert "RuntimeError: the sandbox is on fire" in build.error
        assert steps_of(build)["smoke"] == "failed"

    def test_without_smoke_the_smoke_step_is_skipped(
        self,
        personas: Personas,
        run_published: Any,
        settings: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.crashing"
        provider = make_provider(personas.team)
        build = built(
            provider, django_capture_on_commit_callbacks, run_published, smoke=False
        )
        assert build.status == Build.Status.SUCCEEDED
        assert steps_of(build)["smoke"] == "skipped"

    def test_edits_made_after_the_start_do_not_leak_into_the_build(
        self,
        personas: Personas,
        run_published: Any,
        storage: Path,
        django_capture_on_commit_callbacks,
    ) -> None:
        provider = make_provider(personas.team)
        start(provider, django_capture_on_commit_callbacks)
        break_version(provider)
        run_published()
        build = Build.objects.get()
        assert build.status == Build.Status.SUCCEEDED
        files = read_package((storage / build.artifact.name).read_bytes())
        assert b"version: 0.0.1" in files["manifest.yaml"]

    def test_a_message_for_a_finished_build_does_nothing(
        self,
        personas: Personas,
        broker: Published,
        run_published: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        provider = make_provider(personas.team)
        build = built(provider, django_capture_on_commit_callbacks, run_published)
        finished = build.finished_at
        assert services.build_run(build_id=build.pk, attempt=1, worker="w2") is None
        build.refresh_from_db()
        assert build.finished_at == finished and build.worker_hostname != "w2"


class TestCancel:
    def test_a_queued_build_is_cancelled_at_once_and_never_runs(
        self,
        personas: Personas,
        run_published: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        provider = make_provider(personas.team)
        build = start(provider, django_capture_on_commit_callbacks)
        services.build_cancel(build=build)
        run_published()
        build.refresh_from_db()
        assert build.status == Build.Status.CANCELLED
        assert build.started_at is None
        assert build.finished_at is not None

    def test_a_running_build_stops_at_the_next_step(
        self,
        personas: Personas,
        run_published: Any,
        monkeypatch: pytest.MonkeyPatch,
        storage: Path,
        django_capture_on_commit_callbacks,
    ) -> None:
        real_sign = pipeline._Run.step_sign

        def sign_then_cancel(self: Any, step: Any) -> Any:
            services.build_cancel(build=Build.objects.get(pk=self.build.pk))
            return real_sign(self, step)

        monkeypatch.setattr(pipeline._Run, "step_sign", sign_then_cancel)
        provider = make_provider(personas.team)
        build = built(provider, django_capture_on_commit_callbacks, run_published)
        assert build.status == Build.Status.CANCELLED
        assert steps_of(build)["sign"] == "skipped"
        assert steps_of(build)["smoke"] == "cancelled"
        assert steps_of(build)["store"] == "cancelled"
        assert not list(storage.rglob("*.difypkg"))

    def test_an_ended_build_cannot_be_cancelled(
        self,
        personas: Personas,
        run_published: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        provider = make_provider(personas.team)
        build = built(provider, django_capture_on_commit_callbacks, run_published)
        with pytest.raises(services.NotCancellable):
            services.build_cancel(build=build)


@pytest.mark.django_db(transaction=True)
class TestCancelDuringSmoke:
    def test_the_smoke_step_is_abandoned_when_cancelled(
        self,
        personas: Personas,
        run_published: Any,
        settings: Any,
        monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks,
    ) -> None:
        settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.slow"
        settings.BUILD_STALE_SECONDS = 2  # heartbeat (and cancel check) every 0.5 s
        monkeypatch.setenv("SLOW_SMOKE_SECONDS", "30")
        real_package = pipeline._Run.step_package

        def package_then_cancel(self: Any, step: Any) -> Any:
            status = real_package(self, step)
            # A cancel that arrives once the smoke step has begun.
            Build.objects.filter(pk=self.build.pk).update(
                cancel_requested_at=timezone.now() + timedelta(milliseconds=1)
            )
            return status

        monkeypatch.setattr(pipeline._Run, "step_package", package_then_cancel)
        monkeypatch.setattr(pipeline._Run, "beat", _beat_after_smoke_began)
        provider = make_provider(personas.team)
        began = time.monotonic()
        build = built(provider, django_capture_on_commit_callbacks, run_published)
        assert time.monotonic() - began < 10
        assert build.status == Build.Status.CANCELLED
        assert steps_of(build)["smoke"] == "cancelled"


_real_beat = pipeline._Run.beat


def _beat_after_smoke_began(self: Any) -> None:
    # Ignore the cancel request until the smoke step runs, so it is seen
    # by the watch loop rather than between steps.
    _real_beat(self)
    smoke = next(s for s in self.steps if s.name == "smoke")
    if smoke.status != "running":
        self.cancel.clear()


class TestRetry:
    def test_a_failed_build_is_retried_from_the_same_files(
        self,
        personas: Personas,
        broker: Published,
        run_published: Any,
        settings: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.failing"
        provider = make_provider(personas.team)
        failed = built(provider, django_capture_on_commit_callbacks, run_published)
        break_version(provider)  # later edits are not what a retry builds
        settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.passing"
        with django_capture_on_commit_callbacks(execute=True):
            retry = services.build_retry(build=failed, user=personas.bob)
        assert retry.source_id == failed.source_id
        assert retry.retry_of == failed and retry.created_by == personas.bob
        run_published()
        retry.refresh_from_db()
        assert retry.status == Build.Status.SUCCEEDED

    def test_a_succeeded_build_is_not_retried(
        self,
        personas: Personas,
        run_published: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        provider = make_provider(personas.team)
        build = built(provider, django_capture_on_commit_callbacks, run_published)
        with pytest.raises(services.NotRetryable):
            services.build_retry(build=build, user=None)


class TestPruning:
    def test_only_the_newest_dev_artifacts_are_kept_and_releases_never_pruned(
        self,
        personas: Personas,
        run_published: Any,
        storage: Path,
        settings: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        settings.BUILD_DEV_ARTIFACTS_KEEP = 2
        provider = make_provider(personas.team)
        release = built(
            provider,
            django_capture_on_commit_callbacks,
            run_published,
            kind=Build.Kind.RELEASE,
            revision_label="r1",
        )
        dev = [
            built(provider, django_capture_on_commit_callbacks, run_published)
            for _ in range(4)
        ]
        for build in [release, *dev]:
            build.refresh_from_db()
        assert [bool(b.artifact) for b in dev] == [False, False, True, True]
        assert all(b.pruned_at for b in dev[:2])
        assert release.artifact and release.pruned_at is None
        remaining = sorted(p.name for p in storage.rglob("*.difypkg"))
        assert len(remaining) == 3
        assert (storage / release.artifact.name).exists()


class TestReaper:
    def running_build(
        self, personas: Personas, capture: Any, *, beat_ago: float, attempt: int = 1
    ) -> Build:
        provider = make_provider(personas.team)
        build = start(provider, capture)
        now = timezone.now()
        build.mark_running(worker="gone@host", pid=999_999, now=now)
        build.attempt = attempt
        build.heartbeat_at = now - timedelta(seconds=beat_ago)
        build.save()
        return build

    def test_a_stale_build_is_requeued_as_its_next_attempt(
        self,
        personas: Personas,
        broker: Published,
        settings: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        settings.BUILD_STALE_SECONDS = 60
        settings.BUILD_MAX_ATTEMPTS = 2
        build = self.running_build(
            personas, django_capture_on_commit_callbacks, beat_ago=61
        )
        broker.clear()
        with django_capture_on_commit_callbacks(execute=True):
            reaped = services.builds_reap_stale()
        assert [b.pk for b in reaped] == [build.pk]
        build.refresh_from_db()
        assert build.status == Build.Status.QUEUED
        assert build.attempt == 2
        assert broker == [{"build_id": build.pk, "attempt": 2}]
        assert "worker lost: gone@host" in build.event_records()[0].message

    def test_a_stale_build_out_of_attempts_fails_with_worker_lost(
        self,
        personas: Personas,
        broker: Published,
        settings: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        settings.BUILD_MAX_ATTEMPTS = 2
        build = self.running_build(
            personas, django_capture_on_commit_callbacks, beat_ago=600, attempt=2
        )
        broker.clear()
        services.builds_reap_stale()
        build.refresh_from_db()
        assert build.status == Build.Status.FAILED
        assert build.error.startswith("worker lost")
        assert "gave up after 2 attempts" in build.error
        assert broker == []

    def test_a_fresh_build_is_left_alone(
        self,
        personas: Personas,
        broker: Published,
        django_capture_on_commit_callbacks,
    ) -> None:
        build = self.running_build(
            personas, django_capture_on_commit_callbacks, beat_ago=1
        )
        assert services.builds_reap_stale() == []
        build.refresh_from_db()
        assert build.status == Build.Status.RUNNING

    def test_a_restarted_worker_reaps_its_own_builds_at_once(
        self,
        personas: Personas,
        broker: Published,
        django_capture_on_commit_callbacks,
    ) -> None:
        build = self.running_build(
            personas, django_capture_on_commit_callbacks, beat_ago=1
        )
        services.builds_reap_stale(dead_worker="gone@host")
        build.refresh_from_db()
        assert build.status == Build.Status.QUEUED and build.attempt == 2

    def test_a_stale_build_asked_to_cancel_ends_cancelled(
        self,
        personas: Personas,
        broker: Published,
        django_capture_on_commit_callbacks,
    ) -> None:
        build = self.running_build(
            personas, django_capture_on_commit_callbacks, beat_ago=600
        )
        services.build_cancel(build=build)
        services.builds_reap_stale()
        build.refresh_from_db()
        assert build.status == Build.Status.CANCELLED
        assert "worker lost" in build.error

    def test_a_redelivery_after_the_pool_process_died_reruns_the_build(
        self,
        personas: Personas,
        broker: Published,
        storage: Path,
        django_capture_on_commit_callbacks,
    ) -> None:
        build = self.running_build(
            personas, django_capture_on_commit_callbacks, beat_ago=0
        )
        result = services.build_run(build_id=build.pk, attempt=1, worker="gone@host")
        assert result is not None
        assert result.status == Build.Status.SUCCEEDED
        assert result.attempt == 2
        assert "died" in result.event_records()[0].message

    def test_a_redelivery_while_the_first_worker_lives_is_ignored(
        self,
        personas: Personas,
        broker: Published,
        django_capture_on_commit_callbacks,
    ) -> None:
        build = self.running_build(
            personas, django_capture_on_commit_callbacks, beat_ago=0
        )
        Build.objects.filter(pk=build.pk).update(worker_pid=os.getppid())
        assert (
            services.build_run(build_id=build.pk, attempt=1, worker="gone@host") is None
        )
        assert services.build_run(build_id=build.pk, attempt=1, worker="else@x") is None
        build.refresh_from_db()
        assert build.status == Build.Status.RUNNING and build.attempt == 1

    def test_a_worker_given_up_on_stops_without_writing(
        self,
        personas: Personas,
        run_published: Any,
        monkeypatch: pytest.MonkeyPatch,
        storage: Path,
        django_capture_on_commit_callbacks,
    ) -> None:
        real_store = pipeline._Run.step_store

        def store_then_lose(self: Any, step: Any) -> Any:
            status = real_store(self, step)
            # Meanwhile the reaper re-queued the build as attempt 2.
            Build.objects.filter(pk=self.build.pk).update(
                status=Build.Status.QUEUED, attempt=2
            )
            return status

        monkeypatch.setattr(pipeline._Run, "step_store", store_then_lose)
        provider = make_provider(personas.team)
        build = built(provider, django_capture_on_commit_callbacks, run_published)
        assert build.status == Build.Status.QUEUED and build.attempt == 2
        assert not list(storage.rglob("*.difypkg"))


class TestDeletion:
    def test_deleting_a_provider_deletes_its_builds_and_sources(
        self,
        personas: Personas,
        run_published: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        provider = make_provider(personas.team)
        built(provider, django_capture_on_commit_callbacks, run_published)
        provider.delete()
        assert Build.objects.count() == 0 and BuildSource.objects.count() == 0

    def test_an_unreadable_manifest_fails_at_verify(
        self,
        personas: Personas,
        run_published: Any,
        monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks,
    ) -> None:
        provider = make_provider(personas.team)
        build = start(provider, django_capture_on_commit_callbacks)
        source = build.source
        files = source.files()
        files["manifest.yaml"] = b"version: [unclosed\n"
        from studio.pluginfmt.package import write_zip

        source.archive = write_zip(sorted(files.items()))
        source.save()
        with django_capture_on_commit_callbacks(execute=True):
            run_published()
        build.refresh_from_db()
        assert build.status == Build.Status.FAILED
        assert steps_of(build)["render"] == "passed"
        assert steps_of(build)["verify"] == "failed"
