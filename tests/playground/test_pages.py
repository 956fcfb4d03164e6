"""The Try it tab without a running session server, roles, and its queries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.playground import client as playground_client
from tests.builds.conftest import login
from tests.factories import make_provider


@pytest.fixture
def no_server(settings: Any, tmp_path: Path) -> None:
    settings.PLAYGROUND_SOCKET = tmp_path / "nobody-listens.sock"


def test_a_provider_without_a_build_links_to_the_builds_tab(
    personas: Any, no_server: None
) -> None:
    provider = make_provider(personas.team)
    page = login(Client(), personas.bob).get(
        reverse("playground:try", args=[provider.pk])
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "no succeeded build of this provider to try yet" in html
    assert reverse("builds:provider-builds", args=[provider.pk]) in html
    assert "The playground server is not running" in html


def test_starting_without_a_server_says_so_and_keeps_nothing(
    built_provider: Any, personas: Any, no_server: None
) -> None:
    response = login(Client(), personas.bob).post(
        reverse("playground:session-start", args=[built_provider.pk]),
        {"build": built_provider.builds.get().pk, "cred-api_key": "good-key"},
    )
    assert response.status_code == 503
    assert "The playground server is not running" in response.content.decode()


def test_a_viewer_may_not_start_and_another_team_sees_nothing(
    built_provider: Any, personas: Any, no_server: None
) -> None:
    url = reverse("playground:session-start", args=[built_provider.pk])
    data = {"build": built_provider.builds.get().pk, "cred-api_key": "k"}
    viewer = login(Client(), personas.victor).post(url, data)
    assert viewer.status_code == 403
    assert "A viewer may not run plugins" in viewer.content.decode()
    other = login(Client(), personas.mallory)
    assert other.post(url, data).status_code == 404
    assert (
        other.get(reverse("playground:try", args=[built_provider.pk])).status_code
        == 404
    )


def test_a_choice_of_build_that_is_not_the_providers_is_refused(
    built_provider: Any, personas: Any, no_server: None
) -> None:
    response = login(Client(), personas.bob).post(
        reverse("playground:session-start", args=[built_provider.pk]),
        {"build": "999999", "cred-api_key": "k"},
    )
    assert response.status_code == 400
    assert "Choose a succeeded build to try." in response.content.decode()


def test_the_page_makes_as_many_queries_with_many_models(
    personas: Any, monkeypatch: pytest.MonkeyPatch, no_server: None
) -> None:
    monkeypatch.setattr(playground_client, "sessions", lambda owner: [])
    small = make_provider(personas.team, "small", models=1)
    large = make_provider(personas.team, "large", models=40)
    client = login(Client(), personas.bob)
    counts = []
    for provider in (small, large):
        client.get(reverse("playground:try", args=[provider.pk]))
        with CaptureQueriesContext(connection) as queries:
            assert (
                client.get(reverse("playground:try", args=[provider.pk])).status_code
                == 200
            )
        counts.append(len(queries))
    assert counts[0] == counts[1]
