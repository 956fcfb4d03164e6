"""The token pages in the browser: list, create (shown once), revoke."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from studio.api.models import ApiToken
from tests.api.conftest import make_token, token_row
from tests.catalog.conftest import Personas

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
LIST = reverse("tokens:token-list")
CREATE = reverse("tokens:token-create")


def revoke_url(token: ApiToken) -> str:
    return reverse("tokens:token-revoke", args=[token.pk])


@pytest.fixture
def as_user(personas: Personas, client: Client) -> Any:
    def log_in(name: str) -> Client:
        client.force_login(getattr(personas, name))
        return client

    return log_in


def form(team: Any, **fields: str) -> dict[str, Any]:
    return {
        "name": "release pipeline",
        "team": team.pk,
        "kind": "personal",
        "role": "viewer",
        "expires": "90",
        **fields,
    }


class TestTokenList:
    def test_it_shows_the_page_with_the_form(self, as_user: Any) -> None:
        response = as_user("bob").get(LIST)
        assert response.status_code == 200
        body = response.content.decode()
        assert "<h1>API tokens</h1>" in body
        assert f'action="{CREATE}"' in body
        assert "Acme (author)" in body

    def test_the_navigation_links_to_it(self, as_user: Any) -> None:
        assert f'href="{LIST}"' in as_user("bob").get(reverse("home")).content.decode()

    def test_htmx_gets_the_partial(self, as_user: Any) -> None:
        response = as_user("bob").get(LIST, headers=HTMX)
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="api-tokens">')
        assert "<html" not in body

    def test_it_lists_a_users_tokens_without_their_secret(
        self, as_user: Any, personas: Personas
    ) -> None:
        secret = make_token(personas.bob, personas.team, name="deploys")
        body = as_user("bob").get(LIST).content.decode()
        assert "deploys" in body and secret[:12] in body
        assert secret not in body

    def test_another_users_tokens_are_not_listed(
        self, as_user: Any, personas: Personas
    ) -> None:
        secret = make_token(personas.alice, personas.team, name="alices-own")
        body = as_user("bob").get(LIST).content.decode()
        assert "alices-own" not in body and secret[:12] not in body

    def test_an_owner_sees_the_members_tokens(
        self, as_user: Any, personas: Personas
    ) -> None:
        make_token(personas.bob, personas.team, name="bobs-ci")
        assert "bobs-ci" in as_user("alice").get(LIST).content.decode()

    def test_it_needs_a_login(self, client: Client) -> None:
        response = client.get(LIST)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_wrong_method_is_405(self, as_user: Any) -> None:
        assert as_user("bob").post(LIST).status_code == 405


class TestTokenCreate:
    def test_the_token_is_shown_once_and_stored_hashed(
        self, as_user: Any, personas: Personas
    ) -> None:
        client = as_user("bob")
        response = client.post(CREATE, form(personas.team))
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        row = ApiToken.objects.get()
        secret = response.context["issued"].secret
        assert secret in response.content.decode()
        assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert (row.kind, row.user, row.team) == (
            "personal",
            personas.bob,
            personas.team,
        )
        assert row.expires_at is not None
        assert secret not in client.get(LIST).content.decode()

    def test_htmx_gets_the_partial_with_the_token(
        self, as_user: Any, personas: Personas
    ) -> None:
        response = as_user("bob").post(CREATE, form(personas.team), headers=HTMX)
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="api-tokens">')
        assert response.context["issued"].secret in body

    def test_the_new_token_works_on_the_api(
        self, as_user: Any, personas: Personas, client: Client
    ) -> None:
        response = as_user("bob").post(CREATE, form(personas.team, expires="never"))
        secret = response.context["issued"].secret
        client.logout()
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.json()["user"] == "bob"
        assert me.json()["token"]["expires_at"] is None

    def test_an_owner_creates_a_team_token(
        self, as_user: Any, personas: Personas
    ) -> None:
        as_user("alice").post(CREATE, form(personas.team, kind="team", role="author"))
        row = ApiToken.objects.get()
        assert (row.kind, row.role, row.user, row.created_by) == (
            "team",
            "author",
            None,
            personas.alice,
        )

    def test_a_member_cannot_create_a_team_token(
        self, as_user: Any, personas: Personas
    ) -> None:
        response = as_user("bob").post(
            CREATE, form(personas.team, kind="team", role="author")
        )
        assert response.status_code == 400
        assert "Only an owner" in response.content.decode()
        assert not ApiToken.objects.exists()

    def test_nobody_creates_a_token_for_another_team(
        self, as_user: Any, personas: Personas
    ) -> None:
        response = as_user("mallory").post(CREATE, form(personas.team))
        assert response.status_code == 400
        assert not ApiToken.objects.exists()

    @pytest.mark.parametrize(
        "fields",
        [{"name": ""}, {"name": "x" * 101}, {"expires": "forever"}, {"kind": "root"}],
    )
    def test_an_invalid_form_shows_its_errors(
        self, as_user: Any, personas: Personas, fields: dict[str, str]
    ) -> None:
        response = as_user("bob").post(CREATE, form(personas.team, **fields))
        assert response.status_code == 400
        assert 'class="errorlist' in response.content.decode()
        assert not ApiToken.objects.exists()

    def test_hostile_names_are_escaped(self, as_user: Any, personas: Personas) -> None:
        response = as_user("bob").post(
            CREATE, form(personas.team, name="<script>alert(1)</script>")
        )
        assert "<script>alert(1)" not in response.content.decode()

    def test_wrong_method_is_405(self, as_user: Any) -> None:
        assert as_user("bob").get(CREATE).status_code == 405


class TestTokenRevoke:
    def test_the_holder_revokes_their_token(
        self, as_user: Any, personas: Personas
    ) -> None:
        row = token_row(make_token(personas.bob, personas.team))
        response = as_user("bob").post(revoke_url(row))
        assert response.status_code == 302
        row.refresh_from_db()
        assert row.is_revoked

    def test_htmx_gets_the_partial(self, as_user: Any, personas: Personas) -> None:
        row = token_row(make_token(personas.bob, personas.team, name="old"))
        response = as_user("bob").post(revoke_url(row), headers=HTMX)
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="api-tokens">')
        assert "revoked" in body

    def test_an_owner_revokes_a_members_token(
        self, as_user: Any, personas: Personas
    ) -> None:
        row = token_row(make_token(personas.bob, personas.team))
        as_user("alice").post(revoke_url(row))
        row.refresh_from_db()
        assert row.revoked_by == personas.alice

    @pytest.mark.parametrize("who", ["carol", "mallory"])
    def test_another_users_token_is_a_404(
        self, as_user: Any, personas: Personas, who: str
    ) -> None:
        row = token_row(make_token(personas.bob, personas.team))
        response = as_user(who).post(revoke_url(row))
        assert response.status_code == 404
        row.refresh_from_db()
        assert not row.is_revoked

    def test_a_missing_token_is_a_404(self, as_user: Any) -> None:
        assert as_user("bob").post("/settings/tokens/999999/revoke").status_code == 404
        huge = f"/settings/tokens/{2**70}/revoke"
        assert as_user("bob").post(huge).status_code == 404

    def test_wrong_method_is_405(self, as_user: Any, personas: Personas) -> None:
        row = token_row(make_token(personas.bob, personas.team))
        assert as_user("bob").get(revoke_url(row)).status_code == 405
