"""Login throttling: a username and address locked out after repeated failures."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, RequestFactory

from studio.accounts.text import duration_text
from studio.accounts.throttle import client_ip
from tests.accounts.conftest import Personas, log_in, session_user_id
from tests.api.conftest import make_token
from tests.factories import PASSWORD
from tests.test_settings import manage

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed logins for this account; try again in 15 minutes."


def fail(client: Client, username: str, times: int, **extra: object) -> list[int]:
    return [
        log_in(client, username, "wrong password", **extra).status_code
        for _ in range(times)
    ]


class TestLockout:
    def test_the_limit_locks_even_the_right_password_out(
        self, personas: Personas, client: Client, settings
    ) -> None:
        assert settings.AXES_FAILURE_LIMIT == 5

        # The failure that reaches the limit already answers with the lockout.
        assert fail(client, "bob", 5) == [200, 200, 200, 200, 429]
        response = log_in(client, "bob", PASSWORD)

        assert response.status_code == 429
        assert response["Retry-After"] == "900"
        html = response.content.decode()
        assert LOCKED in html
        assert "<title>Too many failed logins" in html  # the studio's page
        assert session_user_id(client) is None

    def test_a_success_before_the_limit_resets_the_count(
        self, personas: Personas, client: Client
    ) -> None:
        assert fail(client, "bob", 4) == [200] * 4
        assert log_in(client, "bob")["Location"] == "/"
        client.post("/accounts/logout/")

        assert fail(client, "bob", 4) == [200] * 4
        assert log_in(client, "bob")["Location"] == "/"
        assert session_user_id(client) == personas.bob.pk

    def test_the_lock_holds_one_username_from_one_address(
        self, personas: Personas, client: Client
    ) -> None:
        fail(client, "bob", 5)

        assert log_in(client, "bob").status_code == 429
        assert log_in(Client(), "carol")["Location"] == "/"  # same address
        other = Client(REMOTE_ADDR="198.51.100.7")
        assert log_in(other, "bob")["Location"] == "/"  # same user elsewhere

    def test_the_lock_ends_after_the_cooloff(
        self, personas: Personas, client: Client
    ) -> None:
        fail(client, "bob", 5)
        attempt = AccessAttempt.objects.get(username="bob")
        attempt.attempt_time -= timedelta(minutes=15, seconds=1)
        attempt.save()

        assert log_in(client, "bob")["Location"] == "/"

    def test_the_limit_and_cooloff_are_settings(
        self, personas: Personas, client: Client, settings
    ) -> None:
        settings.AXES_FAILURE_LIMIT = 2
        settings.AXES_COOLOFF_TIME = timedelta(hours=1, minutes=30)

        assert fail(client, "bob", 2) == [200, 429]
        response = log_in(client, "bob")

        assert response.status_code == 429
        assert "try again in 1 hour 30 minutes." in response.content.decode()
        assert response["Retry-After"] == "5400"

    def test_an_unknown_username_is_counted_too(self, db: None, client: Client) -> None:
        assert fail(client, "nobody", 5)[-1] == 429

    def test_api_tokens_still_work_for_a_locked_out_user(
        self, personas: Personas, client: Client
    ) -> None:
        token = make_token(personas.bob, personas.team)
        fail(client, "bob", 5)
        assert log_in(client, "bob").status_code == 429

        response = client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {token}"}
        )

        assert response.status_code == 200
        assert response.json()["user"] == "bob"

    def test_a_password_reset_lifts_the_lock(
        self,
        personas: Personas,
        client: Client,
        mail_now,
        django_capture_on_commit_callbacks,
    ) -> None:
        personas.bob.email = "bob@acme.example"
        personas.bob.save()
        fail(client, "bob", 5)
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/accounts/password-reset/", {"email": "bob@acme.example"})
        [message] = mail_now
        path = message.body.split("http://127.0.0.1:8000", 1)[1].split()[0]
        set_url = client.get(path)["Location"]
        new = "a new and long enough passphrase"
        client.post(set_url, {"new_password1": new, "new_password2": new})

        assert log_in(client, "bob", new)["Location"] == "/"

    def test_an_administrator_can_unlock_a_username(
        self, personas: Personas, client: Client
    ) -> None:
        fail(client, "bob", 5)

        call_command("axes_reset_username", "bob", stdout=StringIO())

        assert log_in(client, "bob")["Location"] == "/"

    def test_the_test_clients_login_still_works(self, personas: Personas) -> None:
        # Client.login() calls authenticate() without a request: not throttled,
        # not refused (tests log in that way).
        client = Client()
        assert client.login(username="bob", password=PASSWORD)
        assert session_user_id(client) == personas.bob.pk


class TestClientIp:
    def test_it_is_the_remote_address_by_default(self, settings) -> None:
        request = RequestFactory().get(
            "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"
        )

        assert client_ip(request) == "10.0.0.1"  # a client could forge the header

    def test_behind_proxies_it_is_the_address_the_nearest_one_saw(
        self, settings
    ) -> None:
        settings.LOGIN_PROXY_COUNT = 1
        request = RequestFactory().get(
            "/",
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9",  # the first one forged
        )

        assert client_ip(request) == "203.0.113.9"

    def test_a_missing_header_falls_back_to_the_remote_address(self, settings) -> None:
        settings.LOGIN_PROXY_COUNT = 2
        request = RequestFactory().get(
            "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"
        )

        assert client_ip(request) == "10.0.0.1"


class TestDurationText:
    @pytest.mark.parametrize(
        ("duration", "text"),
        [
            (timedelta(minutes=15), "15 minutes"),
            (timedelta(minutes=1), "1 minute"),
            (timedelta(seconds=5), "1 minute"),
            (timedelta(hours=1), "1 hour"),
            (timedelta(hours=2, minutes=1), "2 hours 1 minute"),
            (timedelta(days=3), "3 days"),
        ],
    )
    def test_it_says_a_duration_in_words(self, duration: timedelta, text: str) -> None:
        assert duration_text(duration) == text


def test_the_settings_come_from_the_environment() -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME, s.LOGIN_PROXY_COUNT)"
    )
    result = manage(
        "shell",
        "--verbosity=0",
        "-c",
        code,
        env={
            "AXES_FAILURE_LIMIT": "3",
            "AXES_COOLOFF_MINUTES": "90",
            "LOGIN_PROXY_COUNT": "1",
        },
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "1:30:00", "1"]


def test_locked_users_are_listed_for_administrators(
    personas: Personas, client: Client, admin_user: User
) -> None:
    fail(client, "bob", 5)
    admin = Client()
    admin.force_login(admin_user)

    response = admin.get("/admin/axes/accessattempt/")

    assert response.status_code == 200
    assert "bob" in response.content.decode()
