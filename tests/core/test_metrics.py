"""GET /metrics: refused without its token or an allowed address, off when
neither is configured, and the studio's metrics in Prometheus' text format."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis
from django.test import Client
from django.urls import reverse

from studio.builds.models import Build
from studio.lib import metrics
from tests.catalog.conftest import Personas, personas
from tests.conftest import ROOT
from tests.factories import make_provider

pytestmark = pytest.mark.django_db
__all__ = ["personas"]

TOKEN = "s3cret-metrics-token"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NAMES = (
    "studio_http_request_duration_seconds",
    "studio_builds",
    "studio_queue_depth",
    "studio_build_duration_seconds",
    "studio_smoke_duration_seconds",
    "studio_beat_last_tick_timestamp_seconds",
)


def scrape(client: Client, **headers: str) -> Any:
    return client.get(reverse("metrics"), headers=headers)


def samples(body: bytes) -> dict[str, float]:
    """`name{labels}` → value, for each sample line."""
    found = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


@pytest.fixture
def token(settings: Any) -> str:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOW = []
    return TOKEN


class TestAccess:
    def test_with_neither_token_nor_allow_list_metrics_are_off(
        self, client: Client, settings: Any
    ) -> None:
        settings.METRICS_TOKEN, settings.METRICS_ALLOW = "", []
        assert scrape(client).status_code == 404
        assert scrape(client, Authorization="Bearer x").status_code == 404

    def test_it_refuses_a_scrape_without_the_token(
        self, client: Client, token: str
    ) -> None:
        response = scrape(client)
        assert response.status_code == 403
        assert response.content.decode() == (
            "Metrics need `Authorization: Bearer <METRICS_TOKEN>` or a request "
            "from an address in METRICS_ALLOW."
        )
        assert b"studio_" not in response.content

    @pytest.mark.parametrize(
        "authorization",
        ["Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN, "Bearer "],
    )
    def test_it_refuses_a_wrong_token(
        self, client: Client, token: str, authorization: str
    ) -> None:
        assert scrape(client, Authorization=authorization).status_code == 403

    def test_it_serves_the_metrics_with_the_token(
        self, client: Client, token: str, redis_url: str
    ) -> None:
        response = scrape(client, Authorization=f"Bearer {token}")
        assert response.status_code == 200
        assert response["Content-Type"] == CONTENT_TYPE
        assert "no-cache" in response["Cache-Control"]
        for name in NAMES:
            assert f"# TYPE {name} ".encode() in response.content, name

    def test_an_allowed_address_needs_no_token(
        self, client: Client, settings: Any
    ) -> None:
        settings.METRICS_TOKEN = TOKEN
        settings.METRICS_ALLOW = ["10.0.0.0/8", "127.0.0.1"]
        assert scrape(client).status_code == 200
        assert client.get(reverse("metrics"), REMOTE_ADDR="10.1.2.3").status_code == 200
        assert (
            client.get(reverse("metrics"), REMOTE_ADDR="192.168.1.9").status_code == 403
        )

    def test_behind_a_proxy_the_forwarded_address_counts(
        self, client: Client, settings: Any
    ) -> None:
        settings.METRICS_TOKEN, settings.METRICS_ALLOW = "", ["10.0.0.0/8"]
        settings.LOGIN_PROXY_COUNT = 1
        forwarded = {"REMOTE_ADDR": "10.9.9.9"}
        assert (
            client.get(
                reverse("metrics"), HTTP_X_FORWARDED_FOR="203.0.113.7", **forwarded
            ).status_code
            == 403
        )
        assert (
            client.get(
                reverse("metrics"), HTTP_X_FORWARDED_FOR="10.0.0.4", **forwarded
            ).status_code
            == 200
        )

    def test_it_refuses_a_post(self, client: Client, token: str) -> None:
        response = client.post(reverse("metrics"), headers={"Authorization": TOKEN})
        assert response.status_code == 405

    def test_a_malformed_allow_list_stops_the_studio_at_start(self) -> None:
        from tests.test_settings import manage

        result = manage("check", env={"METRICS_ALLOW": "10.0.0.0/8,intranet"})
        assert result.returncode != 0
        assert "METRICS_ALLOW: 'intranet' is not an address or network" in (
            result.stderr
        )


class TestContent:
    @pytest.fixture
    def fresh_redis(self, redis_url: str, settings: Any) -> redis.Redis:
        # Queues of their own: a real worker of another test must never
        # find these messages.
        settings.CELERY_WORKER_QUEUES = ["depth-a", "depth-b"]
        keys = [h.key for h in metrics.REDIS_HISTOGRAMS] + ["depth-a", "depth-b"]
        client = redis.Redis.from_url(redis_url)
        client.delete(*keys)
        yield client
        client.delete(*keys)

    def test_builds_are_counted_by_status_and_kind(
        self, client: Client, token: str, personas: Personas, fresh_redis: Any
    ) -> None:
        from studio.builds.services import snapshot

        provider = make_provider(personas.team)
        source = snapshot(provider)
        for status in ("succeeded", "succeeded", "failed"):
            Build.objects.create(
                provider=provider, team=personas.team, source=source, status=status
            )

        found = samples(scrape(client, Authorization=f"Bearer {token}").content)

        assert found['studio_builds{kind="dev",status="succeeded"}'] == 2
        assert found['studio_builds{kind="dev",status="failed"}'] == 1
        assert found['studio_builds{kind="release",status="running"}'] == 0

    def test_request_latency_is_kept_by_view(self, client: Client, token: str) -> None:
        client.get(reverse("healthz"))
        client.get("/no/such/page")

        found = samples(scrape(client, Authorization=f"Bearer {token}").content)

        count = "studio_http_request_duration_seconds_count"
        assert found[f'{count}{{method="GET",status="404",view="unmatched"}}'] >= 1
        assert any(
            key.startswith(f'{count}{{method="GET",status="')
            and 'view="healthz"' in key
            for key in found
        )

    def test_queue_depth_and_worker_durations_come_from_redis(
        self, client: Client, token: str, fresh_redis: redis.Redis
    ) -> None:
        fresh_redis.rpush("depth-b", "x", "y")
        metrics.BUILD_DURATION.observe(3.0, kind="dev", status="succeeded")
        metrics.BUILD_DURATION.observe(45.0, kind="dev", status="succeeded")
        metrics.SMOKE_DURATION.observe(1.5, status="passed")

        found = samples(scrape(client, Authorization=f"Bearer {token}").content)

        assert found['studio_queue_depth{queue="depth-b"}'] == 2
        assert found['studio_queue_depth{queue="depth-a"}'] == 0
        build = "studio_build_duration_seconds"

        def bucket(le: str) -> float:
            return found[f'{build}_bucket{{kind="dev",le="{le}",status="succeeded"}}']

        bounds = ("1.0", "2.0", "5.0", "60.0", "+Inf")
        assert [bucket(le) for le in bounds] == [0, 0, 1, 2, 2]
        assert found[f'{build}_count{{kind="dev",status="succeeded"}}'] == 2
        assert found[f'{build}_sum{{kind="dev",status="succeeded"}}'] == 48
        smoke = "studio_smoke_duration_seconds"
        assert found[f'{smoke}_bucket{{le="2.0",status="passed"}}'] == 1

    def test_without_redis_the_database_metrics_are_still_served(
        self, client: Client, token: str, settings: Any
    ) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        response = scrape(client, Authorization=f"Bearer {token}")
        assert response.status_code == 200
        assert b"# TYPE studio_builds gauge" in response.content
        assert b"studio_queue_depth" not in response.content


def test_several_processes_share_request_latency_through_the_multiprocess_dir(
    tmp_path: Path,
) -> None:
    """gunicorn's workers each observe requests; any one of them serves the sum."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "STUDIO_VAR_DIR": str(tmp_path / "var"),
    }
    observe = (
        "import django; django.setup(); "
        "from studio.lib.metrics import REQUEST_LATENCY as h; "
        "h.labels(view='home', method='GET', status='200').observe(0.05)"
    )
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-c", observe], env=env, cwd=ROOT, check=True, timeout=60
        )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from prometheus_client import generate_latest; "
            "from studio.core.metrics import _registry; "
            "print(generate_latest(_registry()).decode())",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    found = samples(result.stdout.encode())
    assert (
        found[
            'studio_http_request_duration_seconds_count{method="GET",status="200",view="home"}'
        ]
        == 2
    )
