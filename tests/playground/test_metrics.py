"""/metrics counts the playground server's sessions, and says nothing when the
server does not answer."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.core.test_metrics import samples

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token"


def scrape(client: Client, settings: Any) -> dict[str, float]:
    settings.METRICS_TOKEN, settings.METRICS_ALLOW = TOKEN, []
    response = client.get(
        reverse("metrics"), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200
    return samples(response.content)


def test_the_running_sessions_are_a_gauge(
    client: Client, settings: Any, playground: Any, echo_package: bytes
) -> None:
    assert scrape(client, settings)["studio_playground_sessions"] == 0
    session = playground.manager.start(
        owner="1",
        build_id=1,
        provider_id=1,
        package=echo_package,
        credentials={"api_key": "good"},
    )
    assert scrape(client, settings)["studio_playground_sessions"] == 1
    playground.manager.end(session.id)
    assert scrape(client, settings)["studio_playground_sessions"] == 0


def test_without_a_playground_server_the_gauge_has_no_sample(
    client: Client, settings: Any, tmp_path: Any
) -> None:
    settings.PLAYGROUND_SOCKET = tmp_path / "nobody.sock"
    found = scrape(client, settings)
    assert "studio_playground_sessions" not in found
    assert 'studio_builds{kind="dev",status="queued"}' in found
