"""Beat: its schedule in settings, `make run` starting it, its tick in /healthz
with the queues' depth."""

from __future__ import annotations

import importlib
import json
import time
from typing import Any

import pytest
import redis
from django.conf import settings
from django.test import Client
from django.urls import reverse

from studio.celery import app
from studio.core import tasks
from studio.core.health import BEAT_TICK_KEY, WORKER_SEEN_KEY
from studio.core.management.commands.runstudio import worker_command
from tests.test_settings import manage

UPKEEP = {
    "studio.builds.tasks.builds_reap",
    "studio.builds.tasks.builds_prune_all",
    "studio.builds.tasks.sdk_venvs_evict",
    "studio.catalog.tasks.import_jobs_expire",
    "studio.catalog.tasks.invitations_purge",
    "studio.api.tasks.tokens_purge",
    "studio.core.tasks.beat_tick",
    "studio.sync.tasks.sync_watches_run",
}


class TestSchedule:
    def test_every_upkeep_task_is_scheduled_and_exists(self) -> None:
        schedule = settings.CELERY_BEAT_SCHEDULE
        for module in ("api", "builds", "catalog", "core", "sync"):
            importlib.import_module(f"studio.{module}.tasks")
        names = {entry["task"] for entry in schedule.values()}
        assert names == UPKEEP
        assert names <= set(app.tasks)
        assert app.conf.beat_schedule == schedule

    def test_the_intervals_come_from_settings_and_stale_ticks_expire(self) -> None:
        schedule = settings.CELERY_BEAT_SCHEDULE
        hourly = settings.UPKEEP_EVERY_MINUTES * 60
        assert schedule["imports-expire"]["schedule"] == hourly
        assert schedule["api-tokens-purge"]["schedule"] == hourly
        assert schedule["beat-tick"]["schedule"] == settings.BEAT_TICK_SECONDS
        assert schedule["builds-reap-stale"]["schedule"] == settings.BUILD_STALE_SECONDS
        for entry in schedule.values():
            assert entry["options"]["expires"] == entry["schedule"]

    def test_the_environment_sets_the_intervals(self) -> None:
        result = manage(
            "shell",
            "-c",
            "from django.conf import settings; import json; "
            "print(json.dumps({k: v['schedule'] for k, v in "
            "settings.CELERY_BEAT_SCHEDULE.items()}))",
            env={"UPKEEP_EVERY_MINUTES": "5", "BEAT_TICK_SECONDS": "7"},
        )
        assert result.returncode == 0, result.stderr
        intervals = json.loads(result.stdout.strip().splitlines()[-1])
        assert intervals["invitations-purge"] == 300
        assert intervals["beat-tick"] == 7

    def test_make_runs_worker_runs_beat_with_its_schedule_under_var(self) -> None:
        command = worker_command()
        assert command[command.index("-Q") + 1] == "default,builds"
        assert "--beat" in command
        assert command[command.index("--schedule") + 1] == str(
            settings.VAR_DIR / "celerybeat-schedule"
        )


@pytest.mark.django_db
class TestHealthzBeatAndQueues:
    @pytest.fixture
    def fresh_redis(self, redis_url: str, settings: Any) -> redis.Redis:
        # Queues of their own: a real worker of another test must never
        # find these messages.
        settings.CELERY_WORKER_QUEUES = ["depth-a", "depth-b"]
        keys = [BEAT_TICK_KEY, "depth-a", "depth-b", "depth-a\x06\x163"]
        client = redis.Redis.from_url(redis_url)
        client.delete(*keys)
        # A worker "answered" recently: this test is about beat, not workers.
        client.set(WORKER_SEEN_KEY, str(time.time()), ex=30)
        yield client
        client.delete(*keys, WORKER_SEEN_KEY)

    def healthz(self, client: Client) -> tuple[int, dict[str, Any]]:
        response = client.get(reverse("healthz"))
        return response.status_code, json.loads(response.content)

    def test_the_beat_task_records_its_tick_and_healthz_reports_it(
        self, client: Client, fresh_redis: redis.Redis
    ) -> None:
        tasks.beat_tick.run()

        status, body = self.healthz(client)

        assert status == 200
        assert body["beat"]["ok"] is True
        assert body["beat"]["detail"].startswith("the last beat tick ran ")
        assert time.time() - float(fresh_redis.get(BEAT_TICK_KEY)) < 5

    def test_no_tick_is_reported_but_not_counted_unless_beat_is_required(
        self, client: Client, fresh_redis: redis.Redis, settings: Any
    ) -> None:
        status, body = self.healthz(client)
        assert status == 200 and body["ok"] is True
        assert body["beat"] == {
            "ok": False,
            "detail": "no beat tick recorded (is `celery -A studio beat` running, "
            "and a worker on the default queue?)",
            "required": False,
        }

        settings.HEALTHZ_REQUIRE_BEAT = True
        status, body = self.healthz(client)
        assert status == 503 and body["ok"] is False
        assert body["beat"]["required"] is True

    def test_a_stale_tick_is_not_ok(
        self, client: Client, fresh_redis: redis.Redis, settings: Any
    ) -> None:
        settings.BEAT_STALE_SECONDS = 300
        settings.HEALTHZ_REQUIRE_BEAT = True
        fresh_redis.set(BEAT_TICK_KEY, str(time.time() - 400))

        status, body = self.healthz(client)

        assert status == 503
        assert body["beat"]["ok"] is False
        assert "ran 400 s ago (stale after 300 s)" in body["beat"]["detail"]

    def test_it_reports_the_depth_of_each_queue(
        self, client: Client, fresh_redis: redis.Redis
    ) -> None:
        fresh_redis.rpush("depth-b", "a", "b", "c")
        fresh_redis.rpush("depth-a\x06\x163", "high priority")

        _, body = self.healthz(client)

        assert body["queues"] == {
            "ok": True,
            "detail": "depth-a: 1 waiting, depth-b: 3 waiting",
            "depth": {"depth-a": 1, "depth-b": 3},
        }

    def test_a_stopped_broker_reports_neither(self, client: Client, settings) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        status, body = self.healthz(client)
        assert status == 503
        assert body["beat"]["ok"] is False
        assert body["queues"] == {
            "ok": False,
            "detail": "no broker, so no queue to measure",
            "depth": {},
        }
