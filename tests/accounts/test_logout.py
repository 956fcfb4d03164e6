"""Logging out: POST only, and the login page says it happened."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.accounts.conftest import Personas, session_user_id

pytestmark = pytest.mark.django_db

URL = "/accounts/logout/"


class TestLogout:
    def test_it_logs_out_and_the_login_page_says_so(
        self, personas: Personas, client: Client
    ) -> None:
        client.force_login(personas.bob)

        response = client.post(URL, follow=True)

        assert response.redirect_chain == [("/accounts/login/", 302)]
        assert '<li class="info">You are logged out.</li>' in response.content.decode()
        assert session_user_id(client) is None
        assert client.get("/settings/profile/").status_code == 302

    def test_the_message_is_shown_once(
        self, personas: Personas, client: Client
    ) -> None:
        client.force_login(personas.bob)
        client.post(URL, follow=True)

        assert (
            "You are logged out." not in client.get("/accounts/login/").content.decode()
        )

    def test_a_get_is_405_and_logs_nobody_out(
        self, personas: Personas, client: Client
    ) -> None:
        client.force_login(personas.bob)

        assert client.get(URL).status_code == 405
        assert session_user_id(client) == personas.bob.pk

    def test_the_log_out_button_posts_here(
        self, personas: Personas, client: Client
    ) -> None:
        client.force_login(personas.bob)

        html = client.get("/").content.decode()

        assert f'<form class="logout" method="post" action="{URL}">' in html
