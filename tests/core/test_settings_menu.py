"""The topbar's Settings menu, the colour theme switch and the favicon."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from studio.core.theme import THEME_COOKIE
from tests.factories import make_staff, make_team, make_user

pytestmark = pytest.mark.django_db


def logged_in(client: Client, user) -> Client:
    client.force_login(user)
    return client


class TestSettingsMenu:
    def test_it_holds_profile_team_tokens_and_keys(self, client: Client) -> None:
        alice = make_user("alice")
        team = make_team("Acme", owner=alice)
        body = logged_in(client, alice).get(reverse("home")).content.decode()
        menu = body[body.index('class="menu settings-menu"') :]
        menu = menu[: menu.index("</details>")]

        links = {
            text: href
            for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', menu)
        }
        assert links == {
            "Profile": reverse("accounts:profile"),
            "Password": reverse("accounts:password-change"),
            "Notifications": reverse("notifications:settings"),
            "API tokens": reverse("tokens:token-list"),
            "Members": reverse("catalog:team-members", args=[team.slug]),
            "Signing keys": reverse("builds:signing-keys", args=[team.slug]),
            "Review rules": reverse("reviews:team-settings", args=[team.slug]),
            "Audit log": reverse("reviews:team-audit", args=[team.slug]),
        }
        assert "Team Acme" in menu

    def test_without_a_team_it_has_only_the_persons_settings(
        self, client: Client
    ) -> None:
        body = logged_in(client, make_user("loner")).get(reverse("home")).content
        assert b">API tokens</a>" in body
        assert b">Signing keys</a>" not in body and b">Members</a>" not in body

    def test_staff_find_the_admin_there(self, client: Client) -> None:
        body = logged_in(client, make_staff("root")).get(reverse("home")).content
        assert f'<a href="{reverse("admin:index")}">Admin</a>'.encode() in body

    def test_the_apis_401_names_a_place_that_exists(self, client: Client) -> None:
        # The API says "create one under Settings → API tokens".
        response = client.get("/api/v1/providers")
        assert response.status_code == 401
        assert "Settings → API tokens" in response.json()["error"]["message"]
        body = logged_in(client, make_user("alice")).get(reverse("home")).content
        assert b"<summary>Settings</summary>" in body
        assert b">API tokens</a>" in body


class TestThemeSwitch:
    def test_the_default_follows_the_system(self, client: Client) -> None:
        body = logged_in(client, make_user("alice")).get(reverse("home")).content
        assert b'<html lang="en">' in body
        assert b'value="system" aria-pressed="true"' in body

    @pytest.mark.parametrize("theme", ["light", "dark"])
    def test_a_picked_theme_is_kept_and_rendered(self, client: Client, theme) -> None:
        logged_in(client, make_user("alice"))
        response = client.post(
            reverse("theme-set"), {"theme": theme, "next": "/providers/"}
        )
        assert response.status_code == 303
        assert response["Location"] == "/providers/"
        cookie = response.cookies[THEME_COOKIE]
        assert cookie.value == theme and cookie["httponly"] and cookie["max-age"]
        body = client.get(reverse("home")).content
        assert f'<html lang="en" data-theme="{theme}">'.encode() in body
        assert f'value="{theme}" aria-pressed="true"'.encode() in body

    def test_system_drops_the_attribute_again(self, client: Client) -> None:
        logged_in(client, make_user("alice"))
        client.post(reverse("theme-set"), {"theme": "dark"})
        client.post(reverse("theme-set"), {"theme": "system"})
        assert b'<html lang="en">' in client.get(reverse("home")).content

    def test_the_login_page_has_it_too(self, client: Client) -> None:
        body = client.get(reverse("login")).content
        assert b'action="/theme"' in body
        response = client.post(
            reverse("theme-set"), {"theme": "dark", "next": "/accounts/login/"}
        )
        assert response.status_code == 303
        assert b'data-theme="dark"' in client.get(reverse("login")).content

    def test_an_unknown_theme_is_refused(self, client: Client) -> None:
        response = client.post(reverse("theme-set"), {"theme": "neon"})
        assert response.status_code == 400
        assert b"Unknown theme" in response.content
        assert THEME_COOKIE not in response.cookies

    def test_a_forged_cookie_renders_the_system_theme(self, client: Client) -> None:
        logged_in(client, make_user("alice"))
        client.cookies[THEME_COOKIE] = '"><script>x</script>'
        body = client.get(reverse("home")).content
        assert b'<html lang="en">' in body and b"<script>x" not in body

    @pytest.mark.parametrize(
        "next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
    )
    def test_it_never_sends_anyone_off_site(self, client: Client, next_url) -> None:
        response = client.post(
            reverse("theme-set"), {"theme": "light", "next": next_url}
        )
        assert response.status_code == 303
        assert response["Location"] == "/"

    def test_it_wants_a_post_with_a_csrf_token(self) -> None:
        client = Client(enforce_csrf_checks=True)
        assert client.get(reverse("theme-set")).status_code == 405
        assert client.post(reverse("theme-set"), {"theme": "dark"}).status_code == 403


class TestFavicon:
    def test_pages_link_the_icon_and_favicon_ico_leads_to_it(
        self, client: Client
    ) -> None:
        body = client.get(reverse("login")).content.decode()
        icon = re.search(r'<link rel="icon" href="([^"]+)"', body)
        assert icon and icon.group(1).endswith("favicon.svg")
        response = client.get("/favicon.ico")
        assert response.status_code == 301
        assert response["Location"] == icon.group(1)
        found = finders.find("favicon.svg")
        assert found and Path(found).read_bytes().startswith(b"<svg")
