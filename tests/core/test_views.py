from __future__ import annotations

import json

import pytest
import redis
from django.test import Client
from django.urls import reverse

from studio.core.health import WORKER_SEEN_KEY
from studio.core.models import WorkerCheck
from tests.factories import make_staff, make_team, make_user

pytestmark = pytest.mark.django_db


class TestLogin:
    def test_it_shows_the_login_form(self, client: Client) -> None:
        response = client.get(reverse("login"))
        assert response.status_code == 200
        assert b'name="username"' in response.content
        assert b'name="password"' in response.content

    def test_it_logs_a_user_in_and_sends_them_home(self, client: Client) -> None:
        make_user("alice")
        response = client.post(
            reverse("login"),
            {"username": "alice", "password": "correct horse battery staple"},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("home")

    def test_it_refuses_a_wrong_password_with_a_message(self, client: Client) -> None:
        make_user("alice")
        response = client.post(
            reverse("login"), {"username": "alice", "password": "nope"}
        )
        assert response.status_code == 200
        assert b"correct username and password" in response.content

    def test_logout_needs_a_post(self, client: Client) -> None:
        client.force_login(make_user("alice"))
        assert client.get(reverse("logout")).status_code == 405
        response = client.post(reverse("logout"))
        assert response.status_code == 302
        assert client.get(reverse("home")).status_code == 302


class TestHome:
    def test_it_requires_login(self, client: Client) -> None:
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_greets_the_user_with_the_navigation(self, client: Client) -> None:
        client.force_login(make_user("alice"))
        response = client.get(reverse("home"))
        assert response.status_code == 200
        assert b"Welcome, alice" in response.content
        assert b"Log out" in response.content
        assert b"htmx" in response.content  # {% htmx_script %} is loaded

    def test_an_htmx_request_gets_only_the_worker_checks_partial(
        self, client: Client
    ) -> None:
        client.force_login(make_staff("alice"))
        response = client.get(reverse("home"), headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert b'id="worker-checks"' in response.content
        assert b"<html" not in response.content

    def test_it_refuses_a_post(self, client: Client) -> None:
        client.force_login(make_user("alice"))
        assert client.post(reverse("home")).status_code == 405

    def test_a_user_in_no_team_is_told_how_to_join_or_create_one(
        self, client: Client
    ) -> None:
        client.force_login(make_user("alice"))
        body = client.get(reverse("home")).content.decode()
        assert "You are not in a team yet" in body
        assert "Ask an owner of a team to invite you." in body
        assert f'<a href="{reverse("catalog:team-new")}">create a team</a>' in body

    def test_a_member_of_a_team_is_not_told_to_join_one(self, client: Client) -> None:
        alice = make_user("alice")
        make_team("Acme", owner=alice)
        client.force_login(alice)
        body = client.get(reverse("home")).content.decode()
        assert "You are not in a team yet" not in body

    def test_the_worker_check_is_hidden_from_non_administrators(
        self, client: Client
    ) -> None:
        WorkerCheck.objects.create(worker="secret-worker-name")
        client.force_login(make_user("alice"))
        body = client.get(reverse("home")).content.decode()
        assert "Run a worker check" not in body
        assert 'id="worker-checks"' not in body
        assert "secret-worker-name" not in body
        partial = client.get(reverse("home"), headers={"HX-Request": "true"})
        assert partial.status_code == 403

    def test_an_administrator_sees_the_worker_check_history(
        self, client: Client
    ) -> None:
        WorkerCheck.objects.create(worker="worker-7", status=WorkerCheck.Status.DONE)
        client.force_login(make_staff("admin"))
        body = client.get(reverse("home")).content.decode()
        assert "Run a worker check" in body and "worker-7" in body


class TestWorkerCheckCreate:
    def test_it_records_a_check_and_queues_it_after_commit(
        self,
        client: Client,
        django_capture_on_commit_callbacks,
        monkeypatch,
        broker_up: None,
    ) -> None:
        sent = []
        monkeypatch.setattr(
            "studio.core.tasks.worker_check_run.apply_async",
            lambda **kwargs: sent.append(kwargs),
        )
        user = make_staff("alice")
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("worker-check-create"))
        assert response.status_code == 302
        check = WorkerCheck.objects.get()
        assert check.requested_by == user
        assert check.status == WorkerCheck.Status.QUEUED
        assert sent == [
            {
                "kwargs": {"check_id": check.pk},
                "retry": False,
                "queue": "default",
                # The request's id, for the worker's log lines (studio/lib/logs.py).
                "headers": {"studio_request_id": response["X-Request-ID"]},
            }
        ]

    def test_it_refuses_a_get(self, client: Client) -> None:
        client.force_login(make_staff("alice"))
        assert client.get(reverse("worker-check-create")).status_code == 405

    def test_a_non_administrator_gets_403_and_nothing_is_queued(
        self, client: Client
    ) -> None:
        client.force_login(make_user("alice"))
        response = client.post(reverse("worker-check-create"))
        assert response.status_code == 403
        assert WorkerCheck.objects.count() == 0

    def test_it_requires_login(self, client: Client) -> None:
        response = client.post(reverse("worker-check-create"))
        assert response.status_code == 302
        assert WorkerCheck.objects.count() == 0

    def test_it_needs_the_csrf_token(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(make_staff("alice"))
        assert client.post(reverse("worker-check-create")).status_code == 403
        assert WorkerCheck.objects.count() == 0


class TestHealthz:
    def test_it_reports_a_stopped_broker_with_503_and_a_reason(
        self, client: Client, settings
    ) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        response = client.get(reverse("healthz"))
        assert response.status_code == 503
        body = json.loads(response.content)
        assert body["ok"] is False
        assert body["database"]["ok"] is True
        assert body["broker"]["ok"] is False
        assert "unreachable" in body["broker"]["detail"]
        assert body["worker"]["ok"] is False

    def test_it_reports_no_worker_when_none_answers(
        self, client: Client, redis_url: str
    ) -> None:
        redis.Redis.from_url(redis_url).delete(WORKER_SEEN_KEY)
        response = client.get(reverse("healthz"))
        body = json.loads(response.content)
        assert response.status_code == 503
        assert body["broker"]["ok"] is True
        assert body["worker"] == {
            "ok": False,
            "detail": "no worker answered a ping "
            "(is `celery -A studio worker` running?)",
        }

    def test_it_needs_no_login(self, client: Client, settings) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        assert client.get(reverse("healthz")).status_code == 503

    def test_it_refuses_a_post(self, client: Client) -> None:
        assert client.post(reverse("healthz")).status_code == 405
