"""The API of a team's people: members, invitations; a removed member's token."""

from __future__ import annotations

import pytest
from django.test import Client

from studio.api.models import ApiToken
from studio.catalog.models import Invitation, Membership, Role
from studio.catalog.selectors.members import invitation_hash
from studio.catalog.services import members as member_services
from tests.api.conftest import Api, make_token, token_row
from tests.catalog.conftest import Personas

pytestmark = pytest.mark.django_db

MEMBERS = "/api/v1/members"
INVITATIONS = "/api/v1/invitations"


def revoke_path(invitation: Invitation) -> str:
    return f"/api/v1/invitations/{invitation.pk}/revoke"


def pending(personas: Personas, *, team=None, email: str = "dora@example.com"):
    team = team or personas.team
    by = personas.mallory if team == personas.other_team else personas.alice
    return member_services.invitation_create(
        team=team, email=email, role=Role.REVIEWER, by=by, mail=False
    ).invitation


class TestMembers:
    def test_any_token_lists_its_teams_members(self, api: Api, personas) -> None:
        personas.carol.first_name, personas.carol.last_name = "Carol", "Reed"
        personas.carol.email = "carol@example.com"
        personas.carol.save()
        response = api.get(MEMBERS)
        data = response.json()
        assert response.status_code == 200
        assert data["total"] == 4
        assert [m["username"] for m in data["items"]] == [
            "alice",
            "bob",
            "carol",
            "victor",
        ]
        carol = data["items"][2]
        assert carol["role"] == "reviewer"
        assert carol["name"] == "Carol Reed"
        assert carol["email"] == "carol@example.com"
        assert {"joined_at", "last_active_at"} <= set(carol)

    def test_a_team_token_reads_them_too(self, client: Client, personas) -> None:
        secret = make_token(
            personas.alice, personas.team, kind=ApiToken.Kind.TEAM, role=Role.VIEWER
        )
        response = Api(client, secret).get(MEMBERS)
        assert response.status_code == 200
        assert response.json()["total"] == 4

    def test_it_pages(self, api: Api) -> None:
        first = api.get(MEMBERS, data={"limit": 3}).json()
        assert len(first["items"]) == 3 and first["next"]
        rest = api.get(first["next"]).json()
        assert [m["username"] for m in rest["items"]] == ["victor"]

    def test_another_teams_members_are_not_listed(self, api: Api, tokens) -> None:
        data = api.get(MEMBERS, token=tokens["mallory"]).json()
        assert [m["username"] for m in data["items"]] == ["mallory"]

    def test_it_refuses_a_post(self, api: Api) -> None:
        response = api.post(MEMBERS, "{}")
        assert response.status_code == 405
        assert response.json()["error"]["code"] == "method_not_allowed"


class TestInvitationCreate:
    def test_an_owner_token_invites_and_gets_the_link_once(
        self, api: Api, tokens, personas, settings
    ) -> None:
        settings.STUDIO_BASE_URL = "https://studio.example"
        response = api.post(
            INVITATIONS,
            '{"email": "dora@example.com", "role": "reviewer", "mail": false}',
            token=tokens["alice"],
        )
        data = response.json()
        assert response.status_code == 201
        assert response["Cache-Control"] == "no-store"
        invitation = Invitation.objects.get()
        assert data["id"] == invitation.pk
        assert data["state"] == "pending" and data["invited_by"] == "alice"
        assert data["url"].startswith("https://studio.example/invitations/")
        token = data["url"].rsplit("/", 1)[1]
        assert invitation.secret_hash == invitation_hash(token)
        listed = api.get(INVITATIONS, token=tokens["alice"]).json()
        assert "url" not in listed["items"][0]

    @pytest.mark.parametrize("who", ["bob", "carol", "victor"])
    def test_a_token_of_a_non_owner_gets_403(self, api: Api, tokens, who) -> None:
        response = api.post(
            INVITATIONS,
            '{"email": "dora@example.com", "role": "owner"}',
            token=tokens[who],
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        assert Invitation.objects.count() == 0

    def test_a_team_token_gets_403(self, client: Client, personas) -> None:
        secret = make_token(
            personas.alice, personas.team, kind=ApiToken.Kind.TEAM, role=Role.AUTHOR
        )
        response = Api(client, secret).post(
            INVITATIONS, '{"email": "dora@example.com", "role": "viewer"}'
        )
        assert response.status_code == 403
        assert "personal token of an owner" in response.json()["error"]["message"]

    def test_it_invites_into_the_tokens_team_only(
        self, api: Api, tokens, personas
    ) -> None:
        api.post(
            INVITATIONS,
            '{"email": "eve@example.com", "role": "owner", "mail": false}',
            token=tokens["mallory"],
        )
        assert Invitation.objects.get().team == personas.other_team
        assert api.get(INVITATIONS, token=tokens["alice"]).json()["total"] == 0

    def test_bad_input_is_a_400_and_a_member_a_409(
        self, api: Api, tokens, personas
    ) -> None:
        bad_role = api.post(
            INVITATIONS, '{"email": "d@x.org", "role": "god"}', token=tokens["alice"]
        )
        assert bad_role.status_code == 400
        assert bad_role.json()["error"]["details"][0]["loc"] == ["body", "role"]
        bad_email = api.post(
            INVITATIONS, '{"email": "nope", "role": "viewer"}', token=tokens["alice"]
        )
        assert bad_email.status_code == 400
        assert "not an email address" in bad_email.json()["error"]["message"]
        personas.bob.email = "bob@example.com"
        personas.bob.save()
        member = api.post(
            INVITATIONS,
            '{"email": "bob@example.com", "role": "viewer"}',
            token=tokens["alice"],
        )
        assert member.status_code == 409
        assert member.json()["error"]["code"] == "conflict"
        assert Invitation.objects.count() == 0


class TestInvitationList:
    def test_an_owner_lists_them_with_a_state_filter(
        self, api: Api, tokens, personas
    ) -> None:
        first = pending(personas)
        member_services.invitation_revoke(invitation=first, by=personas.alice)
        second = pending(personas, email="eve@example.com")
        pending(personas, team=personas.other_team)
        data = api.get(INVITATIONS, token=tokens["alice"]).json()
        assert [i["id"] for i in data["items"]] == [second.pk, first.pk]
        assert [i["state"] for i in data["items"]] == ["pending", "revoked"]
        only = api.get(INVITATIONS, data={"state": "pending"}, token=tokens["alice"])
        assert [i["email"] for i in only.json()["items"]] == ["eve@example.com"]

    @pytest.mark.parametrize("who", ["bob", "carol", "victor"])
    def test_a_token_of_a_non_owner_gets_403(
        self, api: Api, tokens, personas, who
    ) -> None:
        pending(personas)
        response = api.get(INVITATIONS, token=tokens[who])
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"

    def test_an_unknown_state_is_a_400(self, api: Api, tokens) -> None:
        response = api.get(INVITATIONS, data={"state": "lost"}, token=tokens["alice"])
        assert response.status_code == 400


class TestInvitationRevoke:
    def test_an_owner_token_revokes(self, api: Api, tokens, personas) -> None:
        invitation = pending(personas)
        response = api.post(revoke_path(invitation), token=tokens["alice"])
        assert response.status_code == 200
        assert response.json()["state"] == "revoked"
        invitation.refresh_from_db()
        assert invitation.revoked_by == personas.alice
        again = api.post(revoke_path(invitation), token=tokens["alice"])
        assert again.status_code == 409

    def test_a_read_token_gets_403(self, api: Api, tokens, personas) -> None:
        invitation = pending(personas)
        response = api.post(revoke_path(invitation), token=tokens["victor"])
        assert response.status_code == 403
        invitation.refresh_from_db()
        assert invitation.is_pending

    @pytest.mark.parametrize("who", ["bob", "carol"])
    def test_a_token_of_a_non_owner_gets_403(
        self, api: Api, tokens, personas, who
    ) -> None:
        invitation = pending(personas)
        response = api.post(revoke_path(invitation), token=tokens[who])
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        invitation.refresh_from_db()
        assert invitation.is_pending

    def test_a_team_token_gets_403(self, client: Client, personas) -> None:
        # A team token (read-write at most) acts for no owner.
        invitation = pending(personas)
        secret = make_token(
            personas.alice, personas.team, kind=ApiToken.Kind.TEAM, role=Role.AUTHOR
        )
        response = Api(client, secret).post(revoke_path(invitation))
        assert response.status_code == 403
        invitation.refresh_from_db()
        assert invitation.is_pending

    def test_another_teams_invitation_is_a_404(
        self, api: Api, tokens, personas
    ) -> None:
        theirs = pending(personas, team=personas.other_team)
        response = api.post(revoke_path(theirs), token=tokens["alice"])
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        theirs.refresh_from_db()
        assert theirs.is_pending

    def test_a_revoked_token_gets_401(self, api: Api, tokens, personas) -> None:
        invitation = pending(personas)
        row = token_row(tokens["alice"])
        row.revoke(by=personas.alice)
        row.save()
        response = api.post(revoke_path(invitation), token=tokens["alice"])
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_revoked"
        invitation.refresh_from_db()
        assert invitation.is_pending

    def test_a_get_is_a_405(self, api: Api, tokens, personas) -> None:
        invitation = pending(personas)
        assert (
            api.get(revoke_path(invitation), token=tokens["alice"]).status_code == 405
        )


class TestRemovedMember:
    def test_their_personal_token_stops_working_at_once(
        self, api: Api, tokens, personas
    ) -> None:
        assert api.get(MEMBERS, token=tokens["bob"]).status_code == 200
        member_services.membership_remove(
            membership=Membership.objects.get(user=personas.bob, team=personas.team),
            by=personas.alice,
        )
        response = api.get("/api/v1/me", token=tokens["bob"])
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["code"] == "token_revoked"
        assert "no longer in its team" in error["message"]

    def test_a_demoted_owners_token_loses_the_owners_rights(
        self, api: Api, tokens, personas
    ) -> None:
        member_services.membership_change_role(
            membership=Membership.objects.get(user=personas.bob, team=personas.team),
            role=Role.OWNER,
            by=personas.alice,
        )
        assert api.get(INVITATIONS, token=tokens["alice"]).status_code == 200
        member_services.membership_change_role(
            membership=Membership.objects.get(user=personas.alice, team=personas.team),
            role=Role.VIEWER,
            by=personas.bob,
        )
        assert api.get(INVITATIONS, token=tokens["alice"]).status_code == 403
