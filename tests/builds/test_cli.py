from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from studio.builds import services, tasks
from studio.builds.models import Build
from studio.catalog.services import team_create
from tests.builds.conftest import Personas, Workers
from tests.factories import make_provider, make_user


def plugin(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("plugin", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def inline_worker(broker: Any, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Publishing runs the build at once, as an idle worker would."""
    ran: list[dict[str, Any]] = []

    def run_now(kwargs: dict[str, Any] | None = None, **options: Any) -> None:
        ran.append(kwargs or {})
        services.build_run(**(kwargs or {}), worker="inline@cli")

    monkeypatch.setattr(tasks.build_run, "apply_async", run_now)
    return ran


@pytest.mark.django_db(transaction=True)
class TestPluginBuild:
    def test_wait_prints_the_outcome_and_the_artifact(
        self, personas: Personas, inline_worker: Any, storage: Path
    ) -> None:
        make_provider(personas.team, models=1)
        status, out = plugin("build", "acme/gateway", "--wait")
        build = Build.objects.get()
        assert status == 0, out
        assert f"build {build.pk} of acme/gateway succeeded" in out
        assert f"identifier: {build.identifier}" in out
        assert f"file name: gateway-0.0.1-b{build.pk}-unsigned.difypkg\n" in out
        assert "signed: no" in out
        path = Path(out.split("artifact: ")[1].splitlines()[0])
        assert path == storage / build.artifact.name and path.is_file()

    def test_json_output_carries_the_digests(
        self, personas: Personas, inline_worker: Any
    ) -> None:
        provider = make_provider(personas.team)
        status, out = plugin("build", str(provider.pk), "--wait", "--json")
        data = json.loads(out)
        build = Build.objects.get()
        assert status == 0
        assert data["ok"] is True and data["build"] == build.pk
        assert data["sha256"] == build.sha256 and data["checksum"] == build.checksum
        assert data["filename"] == f"gateway-0.0.1-b{build.pk}-unsigned.difypkg"
        assert data["signed"] is False and data["key_fingerprint"] == ""
        assert data["steps"]["smoke"] == "passed"

    def test_no_smoke_skips_the_smoke_step(
        self, personas: Personas, inline_worker: Any, settings: Any
    ) -> None:
        settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.crashing"
        make_provider(personas.team)
        status, out = plugin("build", "acme/gateway", "--wait", "--no-smoke", "--json")
        assert status == 0
        assert json.loads(out)["steps"]["smoke"] == "skipped"

    def test_a_failed_build_exits_1_with_its_error(
        self, personas: Personas, inline_worker: Any, settings: Any
    ) -> None:
        settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.failing"
        make_provider(personas.team)
        status, out = plugin("build", "acme/gateway", "--wait")
        assert status == 1
        assert "failed: smoke test failed: invoke_llm" in out

    def test_without_wait_it_only_queues(self, personas: Personas, broker: Any) -> None:
        make_provider(personas.team)
        status, out = plugin("build", "acme/gateway")
        build = Build.objects.get()
        assert status == 0
        assert out.strip() == f"queued build {build.pk} of acme/gateway"
        assert build.status == Build.Status.QUEUED
        assert broker == [{"build_id": build.pk, "attempt": 1}]

    def test_an_unknown_provider_exits_1(self, personas: Personas, broker: Any) -> None:
        status, out = plugin("build", "acme/nothing")
        assert status == 1 and "no provider acme/nothing" in out

    def test_an_ambiguous_name_needs_a_team(
        self, personas: Personas, inline_worker: Any
    ) -> None:
        make_provider(personas.team)
        make_provider(personas.other_team)
        status, out = plugin("build", "acme/gateway")
        assert status == 1 and "--team" in out
        status, out = plugin("build", "acme/gateway", "--team", "umbrella", "--wait")
        assert status == 0
        assert Build.objects.get().team == personas.other_team

    def test_a_dead_queue_exits_1_and_leaves_no_row(
        self, personas: Personas, storage: Path, settings: Any
    ) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:9/0"
        make_provider(personas.team)
        status, out = plugin("build", "acme/gateway", "--wait")
        assert status == 1 and "job queue (Redis) is unreachable" in out
        assert Build.objects.count() == 0

    def test_a_running_build_refuses_another(
        self, personas: Personas, broker: Any
    ) -> None:
        make_provider(personas.team)
        assert plugin("build", "acme/gateway")[0] == 0
        status, out = plugin("build", "acme/gateway")
        assert status == 1 and "already in progress" in out


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
class TestPluginBuildWithAWorker:
    def test_wait_follows_a_real_worker_to_the_end(
        self, workers: Workers, settings: Any
    ) -> None:
        workers.start("cli")
        team = team_create(name="Solo", owner=make_user("solo"))
        make_provider(team)
        status, out = plugin("build", "acme/gateway", "--wait", "--no-smoke")
        assert status == 0, out
        build = Build.objects.get()
        assert build.worker_hostname.startswith("cli-")
        assert Path(out.split("artifact: ")[1].splitlines()[0]).is_file()
