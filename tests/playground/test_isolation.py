"""Every Try it route: anonymous → login, another team → 404, a viewer's
write → 403 (the plugin's code runs only for owners, authors, reviewers).
No playground server runs: isolation is decided before any session."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import make_provider

pytestmark = pytest.mark.django_db

# (method, route name, takes a session id, the viewer's answer to a POST)
ROUTES = [
    ("get", "try", False, None),
    ("post", "session-start", False, 403),
    ("post", "start-form", False, 200),  # a redraw of the form: writes nothing
    ("post", "build-now", False, 403),
    ("post", "session-end", True, None),
    ("post", "chat", True, 403),
    ("post", "embed", True, 403),
    ("post", "rerank", True, 403),
    ("post", "moderate", True, 403),
    ("post", "transcribe", True, 403),
    ("post", "speak", True, 403),
]


@pytest.mark.parametrize(("method", "name", "with_session", "viewer"), ROUTES)
def test_isolation(
    client: Client,
    personas: Any,
    settings: Any,
    tmp_path: Any,
    method: str,
    name: str,
    with_session: bool,
    viewer: int | None,
) -> None:
    settings.PLAYGROUND_SOCKET = tmp_path / "none.sock"
    provider = make_provider(personas.team, models=1)
    target = reverse(
        f"playground:{name}",
        args=[provider.pk, *(["abc123"] if with_session else [])],
    )
    builds = provider.builds.count()

    anonymous = getattr(client, method)(target)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]

    client.force_login(personas.mallory)
    assert getattr(client, method)(target).status_code == 404

    if viewer is not None:
        client.force_login(personas.victor)
        assert client.post(target).status_code == viewer
    assert provider.builds.count() == builds


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "debugging:start", "provider"),
        ("post", "debugging:start", "provider"),
        ("get", "debugging:session", "session"),
        ("post", "debugging:stop", "session"),
        ("get", "debugging:team-hosts", "team"),
        ("post", "debugging:team-hosts", "team"),
    ],
)
def test_debugging_routes_send_anonymous_people_to_log_in(
    client: Client, personas: Any, method: str, name: str, args: str
) -> None:
    provider = make_provider(personas.team, models=1)
    arg = {"provider": provider.pk, "session": 1, "team": personas.team.slug}[args]
    response = getattr(client, method)(reverse(name, args=[arg]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
