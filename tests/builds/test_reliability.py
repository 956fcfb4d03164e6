"""Killed workers and a dead broker: builds end, pages answer, nothing hangs."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from studio.builds import services
from studio.builds.models import Build
from studio.catalog import services as catalog
from tests.builds.conftest import Personas, Workers, login
from tests.factories import make_provider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STALE = 3
SLOW = {
    "BUILD_SMOKE_RUNNER": "tests.builds.runners.slow",
    "SLOW_SMOKE_SECONDS": "4",
    "BUILD_STALE_SECONDS": str(STALE),
}


def wait_for(build_id: int, test: Any, timeout: float, what: str) -> Build:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        build = Build.objects.get(pk=build_id)
        if test(build):
            return build
        time.sleep(0.1)
    raise AssertionError(
        f"build {build_id} never {what}: {build.status}, {build.error}"
    )


def in_smoke(build: Build) -> bool:
    return any(
        s.name == "smoke" and s.status == "running" for s in build.step_records()
    )


@pytest.fixture
def slow_builds(settings: Any, workers: Workers) -> Workers:
    settings.BUILD_STALE_SECONDS = STALE
    settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.slow"
    return workers


class TestWorkerKilled:
    def test_a_build_whose_worker_was_killed_is_rerun_by_another_worker(
        self, personas: Personas, slow_builds: Workers
    ) -> None:
        first = slow_builds.start("doomed", **SLOW, BUILD_MAX_ATTEMPTS="2")
        provider = make_provider(personas.team)
        build = services.build_start(provider=provider, user=None)
        wait_for(build.pk, in_smoke, 60, "reached the smoke step")

        slow_builds.kill(first)
        killed_at = time.monotonic()
        assert Build.objects.get(pk=build.pk).status == Build.Status.RUNNING
        second = slow_builds.start("rescuer", **SLOW, BUILD_MAX_ATTEMPTS="2")

        build = wait_for(build.pk, lambda b: b.is_finished, 60, "ended")
        took = time.monotonic() - killed_at
        assert build.status == Build.Status.SUCCEEDED, build.error
        assert build.attempt == 2
        assert build.worker_hostname == second.nodename
        assert "worker lost: " + first.nodename in build.event_records()[0].message
        # Stale limit, the rescuer's reaping round, and the 4 s re-run.
        assert took < 30

    def test_a_build_out_of_attempts_fails_with_worker_lost_when_its_page_is_read(
        self, personas: Personas, slow_builds: Workers, client: Client, settings: Any
    ) -> None:
        settings.BUILD_MAX_ATTEMPTS = 1
        worker = slow_builds.start("lonely", **SLOW, BUILD_MAX_ATTEMPTS="1")
        provider = make_provider(personas.team)
        build = services.build_start(provider=provider, user=None)
        wait_for(build.pk, in_smoke, 60, "reached the smoke step")
        slow_builds.kill(worker)

        login(client, personas.carol)
        url = reverse("builds:build-detail", args=[build.pk])
        deadline = time.monotonic() + STALE + 10
        while time.monotonic() < deadline:
            response = client.get(url, headers={"HX-Request": "true"})
            if response.status_code == 286:
                break
            time.sleep(0.5)
        assert response.status_code == 286
        build.refresh_from_db()
        assert build.status == Build.Status.FAILED
        assert build.error.startswith("worker lost: " + worker.nodename)
        assert "during the smoke step" in build.error
        assert b"worker lost" in response.content

    def test_a_killed_pool_process_is_rerun_by_its_own_worker_at_once(
        self, personas: Personas, slow_builds: Workers
    ) -> None:
        # Stale limit far away: only the redelivery can explain a quick re-run.
        env = {**SLOW, "BUILD_STALE_SECONDS": "600", "BUILD_MAX_ATTEMPTS": "2"}
        slow_builds.start("sturdy", **env)
        provider = make_provider(personas.team)
        build = services.build_start(provider=provider, user=None)
        running = wait_for(build.pk, in_smoke, 60, "reached the smoke step")

        os.kill(running.worker_pid, signal.SIGKILL)
        build = wait_for(build.pk, lambda b: b.is_finished, 30, "ended")
        assert build.status == Build.Status.SUCCEEDED, build.error
        assert build.attempt == 2
        assert build.worker_pid != running.worker_pid
        assert "died" in build.event_records()[0].message


class TestBrokerDown:
    @pytest.fixture
    def dead_broker(self, settings: Any, workers: Workers) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:9/0"

    def test_the_build_button_says_the_queue_is_unavailable(
        self, personas: Personas, dead_broker: None, client: Client
    ) -> None:
        provider = make_provider(personas.team)
        login(client, personas.bob)
        url = reverse("builds:build-create", args=[provider.pk])
        began = time.monotonic()
        page = client.post(url, {"smoke": "on"})
        partial = client.post(url, {}, headers={"HX-Request": "true"})
        assert time.monotonic() - began < 6
        assert page.status_code == 503 and partial.status_code == 503
        assert b"The job queue (Redis) is unreachable" in page.content
        assert b"Editing still works" in partial.content
        assert b"<html" not in partial.content
        assert Build.objects.count() == 0

    def test_editing_keeps_working(
        self, personas: Personas, dead_broker: None, client: Client
    ) -> None:
        provider = make_provider(personas.team)

        def bump(doc: Any) -> None:
            doc.manifest.spec.version = "0.0.2"

        catalog.provider_edit(
            provider=provider, lock_version=provider.lock_version, change=bump
        )
        login(client, personas.bob)
        page = client.get(reverse("catalog:provider-general-edit", args=[provider.pk]))
        assert page.status_code == 200
        assert b"0.0.2" in catalog.provider_files(provider)["manifest.yaml"]
        builds = client.get(reverse("builds:provider-builds", args=[provider.pk]))
        assert builds.status_code == 200
