"""Password change and password reset by email (Django's views, our templates)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from tests.accounts.conftest import Personas, log_in, session_user_id
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

CHANGE = "/settings/password/"
RESET = "/accounts/password-reset/"
NEW = "a new and long enough passphrase"


class TestPasswordChange:
    def test_it_changes_the_password_and_keeps_the_session(
        self, personas: Personas, client: Client
    ) -> None:
        client.force_login(personas.bob)

        response = client.post(
            CHANGE,
            {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
            follow=True,
        )

        assert response.redirect_chain == [(CHANGE, 302)]
        assert "Your password was changed." in response.content.decode()
        assert session_user_id(client) == personas.bob.pk
        assert client.get("/settings/profile/").status_code == 200
        personas.bob.refresh_from_db()
        assert personas.bob.check_password(NEW)

    def test_a_wrong_old_password_is_refused(
        self, personas: Personas, client: Client
    ) -> None:
        client.force_login(personas.bob)

        response = client.post(
            CHANGE,
            {"old_password": "not it", "new_password1": NEW, "new_password2": NEW},
        )

        assert response.status_code == 400
        assert "Your old password was entered incorrectly" in response.content.decode()
        personas.bob.refresh_from_db()
        assert personas.bob.check_password(PASSWORD)

    def test_a_weak_new_password_is_refused_by_the_validators(
        self, personas: Personas, client: Client
    ) -> None:
        client.force_login(personas.bob)

        response = client.post(
            CHANGE,
            {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
        )

        assert response.status_code == 400
        assert "This password is too short" in response.content.decode()
        personas.bob.refresh_from_db()
        assert personas.bob.check_password(PASSWORD)

    def test_the_page_has_the_form(self, personas: Personas, client: Client) -> None:
        client.force_login(personas.bob)

        response = client.get(CHANGE)

        assert response.status_code == 200
        html = response.content.decode()
        assert "Change your password" in html
        assert 'name="old_password"' in html

    def test_anonymous_goes_to_login(self, client: Client) -> None:
        response = client.get(CHANGE)

        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={CHANGE}"

    def test_wrong_method_is_405(self, personas: Personas, client: Client) -> None:
        client.force_login(personas.bob)

        # FormView would take a PUT as a POST.
        response = client.put(
            CHANGE,
            f"old_password={PASSWORD}&new_password1={NEW}&new_password2={NEW}",
            content_type="application/x-www-form-urlencoded",
        )

        assert response.status_code == 405
        assert client.delete(CHANGE).status_code == 405
        personas.bob.refresh_from_db()
        assert personas.bob.check_password(PASSWORD)


@pytest.fixture
def bob(personas: Personas) -> User:
    personas.bob.email = "bob@acme.example"
    personas.bob.save()
    return personas.bob


def reset_link(message: mail.EmailMessage, base_url: str) -> str:
    """The path of the reset link in `message`, checked to be absolute."""
    found = re.search(rf"{re.escape(base_url)}(/reset/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


class TestPasswordReset:
    def test_a_reset_from_request_to_login(
        self,
        bob: User,
        client: Client,
        mail_now,
        settings,
        django_capture_on_commit_callbacks,
    ) -> None:
        settings.STUDIO_BASE_URL = "https://studio.example.com/"

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(RESET, {"email": "BOB@acme.example"}, follow=True)

        assert response.redirect_chain == [("/accounts/password-reset/sent/", 302)]
        assert "Check your email" in response.content.decode()
        [message] = mail_now
        assert message.to == ["bob@acme.example"]
        assert message.subject == "Reset your Dify plugin studio password"
        assert '"bob"' in message.body
        assert "for 3 days" in message.body
        [(html, mimetype)] = message.alternatives
        assert mimetype == "text/html"
        path = reset_link(message, "https://studio.example.com")
        assert f'href="https://studio.example.com{path}"' in html

        form = client.get(path, follow=True)  # Django swaps the token for the session
        assert form.status_code == 200
        assert "Set a new password" in form.content.decode()
        set_url = form.redirect_chain[-1][0]
        done = client.post(
            set_url, {"new_password1": NEW, "new_password2": NEW}, follow=True
        )

        assert done.redirect_chain == [("/reset/done/", 302)]
        assert "Your new password is set." in done.content.decode()
        assert log_in(client, "bob", PASSWORD).status_code == 200  # the old one: no
        assert session_user_id(client) is None
        assert log_in(client, "bob", NEW)["Location"] == "/"
        assert session_user_id(client) == bob.pk

    def test_the_mail_is_plain_7bit_text_a_console_shows_as_is(
        self, bob: User, client: Client, mail_now, django_capture_on_commit_callbacks
    ) -> None:
        # `make run` prints mail on the worker's console: a line over 78
        # characters would make the text quoted-printable, the link broken
        # across lines with "=" that a developer cannot copy.
        with django_capture_on_commit_callbacks(execute=True):
            client.post(RESET, {"email": "bob@acme.example"})

        raw = mail_now[0].message().as_string()
        text_part = raw.split('Content-Type: text/plain; charset="utf-8"', 1)[1]
        assert text_part.lstrip().startswith("Content-Transfer-Encoding: 7bit")
        path = reset_link(mail_now[0], "http://127.0.0.1:8000")
        assert f"http://127.0.0.1:8000{path}\n" in text_part

    def test_the_link_works_once(
        self, bob: User, client: Client, mail_now, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(RESET, {"email": "bob@acme.example"})
        path = reset_link(mail_now[0], "http://127.0.0.1:8000")
        set_url = client.get(path)["Location"]
        client.post(set_url, {"new_password1": NEW, "new_password2": NEW})

        again = Client().get(path, follow=True)

        assert again.status_code == 400
        assert "This link does not work" in again.content.decode()

    def test_a_forged_link_is_refused(self, bob: User, client: Client) -> None:
        response = client.get("/reset/Mg/abc-123/")

        assert response.status_code == 400
        assert "The password reset link is invalid" in response.content.decode()

    def test_mismatched_new_passwords_are_refused(
        self, bob: User, client: Client, mail_now, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(RESET, {"email": "bob@acme.example"})
        set_url = client.get(reset_link(mail_now[0], "http://127.0.0.1:8000"))[
            "Location"
        ]

        response = client.post(set_url, {"new_password1": NEW, "new_password2": "x"})

        assert response.status_code == 400
        assert "The two password fields" in response.content.decode()
        bob.refresh_from_db()
        assert bob.check_password(PASSWORD)

    def test_an_unknown_email_gets_the_same_page_and_no_mail(
        self, bob: User, client: Client, mail_now, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(RESET, {"email": "nobody@acme.example"}, follow=True)

        assert response.redirect_chain == [("/accounts/password-reset/sent/", 302)]
        assert "Check your email" in response.content.decode()
        assert callbacks == []
        assert mail_now == []

    def test_a_malformed_email_is_refused(self, client: Client, mail_now) -> None:
        response = client.post(RESET, {"email": "not-an-address"})

        assert response.status_code == 400
        assert "Enter a valid email address" in response.content.decode()

    def test_the_login_page_links_the_reset(self, client: Client) -> None:
        assert f'href="{RESET}"' in client.get("/accounts/login/").content.decode()

    def test_wrong_method_is_405(self, client: Client) -> None:
        assert client.put(RESET).status_code == 405
        assert client.delete("/accounts/password-reset/sent/").status_code == 405
        assert client.post("/reset/done/").status_code == 405

    def test_the_set_password_form_refuses_a_put(
        self, personas: Personas, client: Client
    ) -> None:
        # Django's FormView would take a PUT as a POST and set the password.
        from django.contrib.auth.tokens import default_token_generator
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        bob = personas.bob
        uid = urlsafe_base64_encode(force_bytes(bob.pk))
        link = f"/reset/{uid}/{default_token_generator.make_token(bob)}/"
        form = client.get(link, follow=True)
        assert form.status_code == 200
        response = client.put(
            form.redirect_chain[-1][0],
            f"new_password1={NEW}&new_password2={NEW}",
            content_type="application/x-www-form-urlencoded",
        )

        assert response.status_code == 405
        bob.refresh_from_db()
        assert bob.check_password(PASSWORD)
