"""A real worker process, a real Redis, the real database."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from django.urls import reverse

from studio.core import services
from studio.core.models import WorkerCheck
from tests.factories import make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def wait_for_done(check_id: int, timeout: float = 30) -> WorkerCheck:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check = WorkerCheck.objects.get(pk=check_id)
        if check.status == WorkerCheck.Status.DONE:
            return check
        time.sleep(0.1)
    raise AssertionError(f"check {check_id} was not done within {timeout} s")


class TestWorkerEndToEnd:
    def test_a_check_posted_in_the_browser_is_done_by_the_worker(
        self, celery_worker_process, client: Client
    ) -> None:
        client.force_login(make_staff("alice"))
        response = client.post(reverse("worker-check-create"))
        assert response.status_code == 302
        check = wait_for_done(WorkerCheck.objects.get().pk)
        assert check.worker.startswith("test-worker-")
        assert check.completed_at is not None

    def test_the_worker_consumes_the_builds_queue(self, celery_worker_process) -> None:
        check = services.worker_check_start(user=None, queue="builds")
        assert wait_for_done(check.pk).queue == "builds"

    def test_healthz_reports_everything_ok_with_a_worker_running(
        self, celery_worker_process, client: Client
    ) -> None:
        response = client.get(reverse("healthz"))
        body = json.loads(response.content)
        assert response.status_code == 200, body
        assert body["ok"] is True
        assert body["worker"]["ok"] is True
