"""Acceptance: one build's log lines share one request id, from the web request
that pressed Build to the real worker that ran it (JSON logs on both sides)."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from studio.builds.models import Build
from studio.lib import logs
from tests.builds.conftest import Personas, Workers, login
from tests.builds.test_e2e import wait_for_end
from tests.factories import make_provider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STEPS = ["render", "verify", "package", "sign", "smoke", "store"]


@pytest.fixture
def web_log() -> Iterator[io.StringIO]:
    """This process's log (the web side), as LOG_FORMAT=json writes it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonLineFormatter())
    handler.addFilter(logs.RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield out
    finally:
        root.removeHandler(handler)


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects of a log; a worker also prints its banner as text."""
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def test_one_builds_lines_share_one_request_id_across_web_and_worker(
    personas: Personas, workers: Workers, client: Client, web_log: io.StringIO
) -> None:
    worker = workers.start("reqid", LOG_FORMAT="json")
    provider = make_provider(personas.team)
    login(client, personas.bob)

    response = client.post(reverse("builds:build-create", args=[provider.pk]), {})

    request_id = response["X-Request-ID"]
    build = wait_for_end(Build.objects.get(provider=provider).pk, timeout=120)
    assert build.status == Build.Status.SUCCEEDED, build.error
    # The worker logs the task's line after the build's last write: wait for it.
    worker_lines: list[dict[str, Any]] = []
    for _ in range(50):
        worker_lines = json_lines(worker.log.read_text())
        if any(
            line.get("task") == "studio.builds.tasks.build_run" for line in worker_lines
        ):
            break
        time.sleep(0.1)

    web = [line for line in json_lines(web_log.getvalue()) if line["request_id"]]
    [request_line] = [line for line in web if line["logger"] == "studio.request"]
    assert request_line["request_id"] == request_id
    assert (request_line["view"], request_line["status"]) == (
        "builds:build-create",
        302,
    )

    mine = [line for line in worker_lines if line.get("request_id") == request_id]
    steps = [line for line in mine if line.get("step")]
    assert [(s["step"], s["build_id"]) for s in steps] == [
        (step, build.pk) for step in STEPS
    ]
    assert all(isinstance(s["duration_ms"], int) for s in steps)
    assert any(
        line["message"].startswith(f"build {build.pk} succeeded in ") for line in mine
    )
    [task] = [
        line for line in mine if line.get("task") == "studio.builds.tasks.build_run"
    ]
    assert task["state"] == "SUCCESS"
    # Every line the worker wrote about this build names the same request.
    about_build = [line for line in worker_lines if line.get("build_id") == build.pk]
    assert about_build and {line["request_id"] for line in about_build} == {request_id}
