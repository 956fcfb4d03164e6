"""A schema-driven pass: schemathesis generates requests from the OpenAPI
description the studio serves, sends them through the WSGI app with a valid
token, and checks every answer: no 500, a documented status, content type
and headers, a body that validates against the described schema, and that
missing or invalid tokens are refused.

Half the cases use the ids of real objects, so requests reach the views
rather than stopping at a 404. Examples are bounded and derandomised, so
the pass is repeatable in CI; set API_FUZZ_RANDOM=1 (and API_FUZZ_EXAMPLES)
to explore further.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from studio.api.openapi import api_routes
from tests.api.conftest import Published, Revisions

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
OPERATIONS = [(op.method, path) for path, ops, _ in api_routes() for op in ops.values()]


@pytest.fixture
def served_schema(settings: Any) -> Iterator[Any]:
    """The description served at /api/v1/openapi.json, bound to the WSGI app."""
    settings.ALLOWED_HOSTS = ["localhost"]
    settings.SECURE_SSL_REDIRECT = False
    settings.API_RATE_LIMIT = 1_000_000
    # As Django's test client does: a request must not close the test's
    # database connection (it holds the test's transaction).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def playground_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """No playground server runs here: one that has no sessions and refuses
    every credential (tests/playground/ drive the real one)."""
    from studio.playground import client
    from studio.playground.sessions import PlaygroundError

    def refuse(**kwargs: Any) -> Any:
        raise PlaygroundError("The plugin refused the credentials: stand-in", 400)

    monkeypatch.setattr(client, "sessions", lambda owner: [])
    monkeypatch.setattr(client, "start_session", refuse)


@pytest.fixture
def real_ids(
    revisions: Revisions,
    finished_build: Any,
    import_job: Any,
    broker: Published,
    playground_stand_in: None,
) -> dict[str, int]:
    return {
        "provider_id": revisions.provider.pk,
        "build_id": finished_build.pk,
        "import_id": import_job.pk,
        "number": revisions.pending.number,
    }


def _excluded(case: Any) -> list[Any]:
    # Validity the schema cannot describe: a cursor must be one the API
    # issued, an upload must be a plugin. Both are answered 400 by design.
    if "cursor" in (case.query or {}):
        return [positive_data_acceptance]
    if case.operation.path == "/api/v1/imports":
        return [positive_data_acceptance]
    # Credentials are judged by the plugin: a refused one is a 400.
    if case.operation.path.endswith("/playground/sessions"):
        return [positive_data_acceptance]
    # A catalogue check is judged by its source: an address the egress guard
    # refuses, an answer that is not a model list or a table is a 400.
    if case.operation.path.endswith("/sync/proposals"):
        return [positive_data_acceptance]
    return []


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_answer_matches_the_description(
    method: str,
    path: str,
    served_schema: Any,
    real_ids: dict[str, int],
    tokens: dict[str, str],
) -> None:
    operation = served_schema[path][method]
    params = {
        name: real_ids[name]
        for name in (p.name for p in operation.path_parameters)
        if name in real_ids
    }
    # The token is fixed, not generated: a negative case must not "remove" a
    # header the call then puts back (schemathesis still probes the API
    # without it and with a wrong one: the ignored_auth check).
    headers = {"Authorization": f"Bearer {tokens['bob']}"}
    strategies = [
        operation.as_strategy(mode, headers=headers)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
    if params:
        strategies += [
            operation.as_strategy(mode, headers=headers, path_parameters=params)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
    answered: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not os.environ.get("API_FUZZ_RANDOM"),
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(*strategies))
    def check(case: Any) -> None:
        response = case.call_and_validate(
            headers=headers, excluded_checks=_excluded(case)
        )
        answered.append(response.status_code)

    check()
    assert answered, "no case was sent"
    assert all(status < 500 for status in answered)
