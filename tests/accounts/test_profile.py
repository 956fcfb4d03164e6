"""The profile page: name and email, the email unique among users."""

from __future__ import annotations

import pytest
from django.test import Client

from studio.accounts import services
from tests.accounts.conftest import Personas

pytestmark = pytest.mark.django_db

URL = "/settings/profile/"


@pytest.fixture
def bob(personas: Personas, client: Client) -> Client:
    personas.bob.email = "bob@acme.example"
    personas.bob.save()
    personas.carol.email = "Carol@Acme.example"
    personas.carol.save()
    client.force_login(personas.bob)
    return client


class TestProfilePage:
    def test_it_shows_the_name_and_email(self, bob: Client, personas) -> None:
        personas.bob.first_name = "Bob"
        personas.bob.save()

        response = bob.get(URL)

        assert response.status_code == 200
        html = response.content.decode()
        assert "<h2>Profile</h2>" in html
        assert 'value="Bob"' in html
        assert 'value="bob@acme.example"' in html

    def test_it_saves_the_name_and_email(self, bob: Client, personas) -> None:
        response = bob.post(
            URL,
            {"first_name": " Bob ", "last_name": "Builder", "email": "B@Acme.example"},
            follow=True,
        )

        assert response.redirect_chain == [(URL, 302)]
        assert "Your profile was saved." in response.content.decode()
        personas.bob.refresh_from_db()
        assert (personas.bob.first_name, personas.bob.last_name) == ("Bob", "Builder")
        assert personas.bob.email == "B@acme.example"  # the domain lower-cased

    def test_an_email_another_user_has_is_refused_whatever_its_case(
        self, bob: Client, personas
    ) -> None:
        response = bob.post(
            URL, {"first_name": "Bob", "last_name": "", "email": "carol@ACME.example"}
        )

        assert response.status_code == 400
        assert (
            "carol@acme.example is already used by another account"
            in response.content.decode()
        )
        personas.bob.refresh_from_db()
        assert personas.bob.email == "bob@acme.example"
        assert personas.bob.first_name == ""  # nothing of the form was saved

    def test_a_user_may_keep_their_own_email_in_another_case(
        self, bob: Client, personas
    ) -> None:
        response = bob.post(URL, {"email": "BOB@acme.example"})

        assert response.status_code == 302
        personas.bob.refresh_from_db()
        assert personas.bob.email == "BOB@acme.example"

    @pytest.mark.parametrize("email", ["", "not-an-address"])
    def test_a_missing_or_malformed_email_is_refused(
        self, bob: Client, personas, email: str
    ) -> None:
        response = bob.post(URL, {"first_name": "Bob", "email": email})

        assert response.status_code == 400
        assert 'class="errorlist' in response.content.decode()
        personas.bob.refresh_from_db()
        assert (personas.bob.first_name, personas.bob.email) == ("", "bob@acme.example")

    def test_anonymous_goes_to_login(self, client: Client) -> None:
        response = client.get(URL)

        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={URL}"

    def test_wrong_method_is_405(self, bob: Client) -> None:
        assert bob.put(URL).status_code == 405
        assert bob.delete(URL).status_code == 405

    def test_the_navigation_links_the_settings_pages(self, bob: Client) -> None:
        # The Settings menu links the profile; its page's tabs lead on.
        home = bob.get("/").content.decode()
        profile = bob.get(URL).content.decode()

        assert f'<a href="{URL}">Profile</a>' in home
        assert 'href="/settings/password/"' in profile


class TestEmailInUse:
    def test_it_ignores_case_and_the_user_themself(self, personas) -> None:
        personas.carol.email = "carol@acme.example"
        personas.carol.save()

        assert services.email_in_use("CAROL@acme.example")
        assert not services.email_in_use("carol@acme.example", exclude=personas.carol)
        assert not services.email_in_use("nobody@acme.example")
