"""Request ids and log lines: taken from X-Request-ID when sane, returned in
the response, put on every line (text or JSON), carried to the worker."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from studio.lib import logs, queue
from tests.test_settings import manage

HEX32 = r"[0-9a-f]{32}"


class TestSaneRequestId:
    @pytest.mark.parametrize(
        "value",
        [
            "3f2c1e9a-7d4b-4c1e-9f00-1234567890ab",
            "abc-123",
            "Root=1-5759e988-bd862e3fe1be46a994272793",
            "a" * 128,
        ],
    )
    def test_it_keeps_what_proxies_and_tracers_send(self, value: str) -> None:
        assert logs.sane_request_id(value) == value

    @pytest.mark.parametrize(
        "value",
        ["", " ", "has space", "a" * 129, "évil", "a\nb", "<script>", "-lead", None],
    )
    def test_it_refuses_anything_else(self, value: Any) -> None:
        assert logs.sane_request_id(value) is None


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What the root logger writes in the JSON format, one object per line."""
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


def records(out: io.StringIO, logger: str) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in out.getvalue().splitlines()]
    return [line for line in parsed if line["logger"] == logger]


@pytest.mark.django_db
class TestRequests:
    def test_a_sane_incoming_id_is_kept_and_returned(self, client: Client) -> None:
        response = client.get(reverse("login"), headers={"X-Request-ID": "edge-42"})
        assert response["X-Request-ID"] == "edge-42"

    @pytest.mark.parametrize("incoming", [None, "no spaces allowed", "x" * 300])
    def test_otherwise_a_new_one_is_made(self, client: Client, incoming: Any) -> None:
        headers = {"X-Request-ID": incoming} if incoming else {}
        first = client.get(reverse("login"), headers=headers)["X-Request-ID"]
        second = client.get(reverse("login"), headers=headers)["X-Request-ID"]
        assert len(first) == 32 and int(first, 16) >= 0
        assert first != second

    def test_each_request_logs_one_json_line_with_its_id(
        self, client: Client, lines: io.StringIO
    ) -> None:
        response = client.get(reverse("login"), headers={"X-Request-ID": "req-1"})
        client.get("/no/such/page", headers={"X-Request-ID": "req-2"})

        first, second = records(lines, "studio.request")
        assert response.status_code == 200
        assert first["request_id"] == "req-1"
        assert first["message"].startswith("GET /accounts/login/ 200 ")
        assert (first["method"], first["path"], first["view"], first["status"]) == (
            "GET",
            "/accounts/login/",
            "login",
            200,
        )
        assert isinstance(first["duration_ms"], float)
        assert first["level"] == "INFO" and first["time"].endswith("Z")
        assert (second["request_id"], second["view"], second["status"]) == (
            "req-2",
            "unmatched",
            404,
        )

    def test_the_line_names_the_route_not_a_secret_in_the_url(
        self, client: Client, lines: io.StringIO
    ) -> None:
        secret = "kq3J9v-secret-invitation-token"
        client.get(reverse("catalog:invitation", args=[secret]))

        [line] = records(lines, "studio.request")
        assert line["path"] == "/invitations/<str:token>"
        assert secret not in json.dumps(line)

    def test_lines_logged_while_the_request_runs_carry_its_id(
        self, client: Client, lines: io.StringIO
    ) -> None:
        client.get("/no/such/page", headers={"X-Request-ID": "req-404"})
        # Django logs its "Not Found" after the middleware returned.
        [warning] = records(lines, "django.request")
        assert warning["request_id"] == "req-404"
        assert logs.current_request_id() is None


class TestTextFormat:
    def test_a_line_ends_with_its_request_id(self) -> None:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "hi", None, None)
        record.request_id = "abc"
        assert logs.TextFormatter().format(record).endswith(" INFO x hi [request abc]")
        record.request_id = None
        assert logs.TextFormatter().format(record).endswith(" INFO x hi")

    def test_an_unknown_log_format_stops_the_studio_at_start(self) -> None:
        result = manage("check", env={"LOG_FORMAT": "xml"})
        assert result.returncode != 0
        assert "LOG_FORMAT must be text or json, not 'xml'" in result.stderr


class TestCarriedToTheWorker:
    @pytest.fixture
    def sent(self, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
        from studio.core.tasks import worker_check_run

        sent: list[dict[str, Any]] = []
        monkeypatch.setattr(
            worker_check_run, "apply_async", lambda **options: sent.append(options)
        )
        return sent

    def publish(self, capture: Any) -> None:
        from studio.core.tasks import worker_check_run

        with capture(execute=True):
            queue.queue_after_commit(
                worker_check_run,
                kwargs={"check_id": 1},
                on_failure=lambda reason: None,
                queue="default",
            )

    @pytest.mark.django_db
    def test_work_queued_in_a_request_carries_its_id_in_a_header(
        self, sent: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
    ) -> None:
        token = logs.bind_request_id("req-7")
        try:
            self.publish(django_capture_on_commit_callbacks)
        finally:
            logs.unbind_request_id(token)
        self.publish(django_capture_on_commit_callbacks)

        assert sent[0]["headers"] == {"studio_request_id": "req-7"}
        assert sent[0]["queue"] == "default"
        assert "headers" not in sent[1]

    def test_a_task_runs_with_the_id_of_its_message_and_logs_one_line(
        self, lines: io.StringIO
    ) -> None:
        task = SimpleNamespace(
            name="studio.core.tasks.worker_check_run",
            request=SimpleNamespace(studio_request_id="req-9"),
        )
        logs.task_started(task_id="t1", task=task)
        seen = logs.current_request_id()
        logs.task_finished(task_id="t1", task=task, state="SUCCESS")

        assert seen == "req-9"
        assert logs.current_request_id() is None
        [line] = records(lines, "studio.tasks")
        assert line["request_id"] == "req-9"
        assert (line["task"], line["task_id"], line["state"]) == (
            "studio.core.tasks.worker_check_run",
            "t1",
            "SUCCESS",
        )
        assert isinstance(line["duration_ms"], int)

    def test_a_task_nobody_requested_gets_an_id_of_its_own(
        self, lines: io.StringIO
    ) -> None:
        task = SimpleNamespace(name="studio.core.tasks.beat_tick", request=None)
        logs.task_started(task_id="t2", task=task)
        seen = logs.current_request_id()
        logs.task_finished(task_id="t2", task=task, state="FAILURE")

        assert seen is not None and len(seen) == 32
        [line] = records(lines, "studio.tasks")
        assert line["request_id"] == seen
        assert line["level"] == "WARNING"
