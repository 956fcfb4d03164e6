"""The members page (Settings → Team): roles, removal, leaving, invitations."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse

from studio.audit.models import AuditEvent
from studio.catalog.models import Invitation, Membership, Role
from studio.catalog.services import members as services
from studio.notifications import tasks as mail_tasks
from tests.catalog.conftest import Personas
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def page_url(personas: Personas, team: Any = None) -> str:
    team = team or personas.team
    return reverse("catalog:team-members", kwargs={"team_slug": team.slug})


def member_of(personas: Personas, user: User) -> Membership:
    return Membership.objects.get(team=personas.team, user=user)


def role_url(personas: Personas, user: User) -> str:
    return reverse(
        "catalog:member-role",
        kwargs={
            "team_slug": personas.team.slug,
            "membership_id": member_of(personas, user).pk,
        },
    )


def remove_url(personas: Personas, user: User) -> str:
    return reverse(
        "catalog:member-remove",
        kwargs={
            "team_slug": personas.team.slug,
            "membership_id": member_of(personas, user).pk,
        },
    )


def leave_url(personas: Personas) -> str:
    return reverse("catalog:member-leave", kwargs={"team_slug": personas.team.slug})


def invite_url(personas: Personas) -> str:
    return reverse(
        "catalog:invitation-create", kwargs={"team_slug": personas.team.slug}
    )


def revoke_url(personas: Personas, invitation: Invitation) -> str:
    return reverse(
        "catalog:invitation-revoke",
        kwargs={"team_slug": personas.team.slug, "invitation_id": invitation.pk},
    )


def as_user(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def pending(personas: Personas, email: str = "dora@example.com") -> Invitation:
    return services.invitation_create(
        team=personas.team,
        email=email,
        role=Role.REVIEWER,
        by=personas.alice,
        mail=False,
    ).invitation


@pytest.fixture
def mail_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        mail_tasks.mail_send,
        "apply_async",
        lambda *, kwargs, **options: mail_tasks.mail_send.run(**kwargs),
    )


class TestMembersPage:
    def test_an_owner_sees_members_roles_and_the_invite_form(
        self, client: Client, personas
    ) -> None:
        pending(personas)
        body = as_user(client, personas.alice).get(page_url(personas)).content.decode()
        for name in ("alice", "bob", "carol", "victor"):
            assert name in body
        assert "mallory" not in body
        assert 'id="team-members"' in body and 'id="team-invitations"' in body
        assert role_url(personas, personas.bob) in body
        assert remove_url(personas, personas.bob) in body
        assert "dora@example.com" in body  # pending
        assert 'name="email"' in body
        assert "You are the only owner" in body

    def test_a_member_sees_the_list_without_owner_controls(
        self, client: Client, personas
    ) -> None:
        pending(personas)
        response = as_user(client, personas.bob).get(page_url(personas))
        body = response.content.decode()
        assert response.status_code == 200
        assert "carol" in body and "reviewer" in body
        assert role_url(personas, personas.carol) not in body
        assert remove_url(personas, personas.carol) not in body
        assert 'id="team-invitations"' not in body and "dora@example.com" not in body
        assert leave_url(personas) in body

    def test_the_settings_menu_links_to_the_current_teams_page(
        self, client: Client, personas
    ) -> None:
        body = as_user(client, personas.bob).get(reverse("home")).content.decode()
        assert f'href="{page_url(personas)}">Members</a>' in body

    def test_an_htmx_request_gets_only_the_members_partial(
        self, client: Client, personas
    ) -> None:
        response = as_user(client, personas.alice).get(page_url(personas), **HX)
        body = response.content.decode()
        assert response.status_code == 200
        assert body.lstrip().startswith('<section id="team-members"')
        assert "<html" not in body

    def test_another_teams_user_gets_404(self, client: Client, personas) -> None:
        assert (
            as_user(client, personas.mallory).get(page_url(personas)).status_code == 404
        )

    def test_it_refuses_a_post(self, client: Client, personas) -> None:
        assert (
            as_user(client, personas.alice).post(page_url(personas)).status_code == 405
        )

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        response = client.get(page_url(personas))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_last_active_is_recorded_at_most_every_few_minutes(
        self, client: Client, personas
    ) -> None:
        assert member_of(personas, personas.bob).last_active_at is None
        as_user(client, personas.bob).get(reverse("home"))
        first = member_of(personas, personas.bob).last_active_at
        assert first is not None
        client.get(reverse("home"))
        assert member_of(personas, personas.bob).last_active_at == first
        client.force_login(personas.alice)
        body = client.get(page_url(personas)).content.decode()
        assert first.strftime("%Y-%m-%d %H:%M") in body


class TestChangeRole:
    def test_an_owner_changes_a_role(self, client: Client, personas) -> None:
        response = as_user(client, personas.alice).post(
            role_url(personas, personas.bob), {"role": "reviewer"}
        )
        assert response.status_code == 302
        assert response["Location"] == page_url(personas)
        assert member_of(personas, personas.bob).role == Role.REVIEWER
        assert AuditEvent.objects.filter(action="role-change").count() == 1

    def test_htmx_gets_the_members_partial_with_a_notice(
        self, client: Client, personas
    ) -> None:
        response = as_user(client, personas.alice).post(
            role_url(personas, personas.victor), {"role": "author"}, **HX
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "victor is now author." in body and "<html" not in body

    @pytest.mark.parametrize("who", ["bob", "carol", "victor"])
    def test_a_non_owner_gets_403(self, client: Client, personas, who: str) -> None:
        response = as_user(client, getattr(personas, who)).post(
            role_url(personas, personas.victor), {"role": "owner"}
        )
        assert response.status_code == 403
        assert member_of(personas, personas.victor).role == Role.VIEWER

    def test_another_teams_user_gets_404(self, client: Client, personas) -> None:
        response = as_user(client, personas.mallory).post(
            role_url(personas, personas.bob), {"role": "owner"}
        )
        assert response.status_code == 404
        assert member_of(personas, personas.bob).role == Role.AUTHOR

    def test_a_member_of_another_team_is_not_found_through_mine(
        self, client: Client, personas
    ) -> None:
        theirs = Membership.objects.get(user=personas.mallory)
        url = reverse(
            "catalog:member-role",
            kwargs={"team_slug": personas.team.slug, "membership_id": theirs.pk},
        )
        response = as_user(client, personas.alice).post(url, {"role": "viewer"})
        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.role == Role.OWNER

    def test_the_last_owner_is_not_demoted(self, client: Client, personas) -> None:
        response = as_user(client, personas.alice).post(
            role_url(personas, personas.alice), {"role": "author"}, **HX
        )
        assert response.status_code == 409
        assert "alice is the last owner of Acme" in response.content.decode()
        assert member_of(personas, personas.alice).role == Role.OWNER

    def test_an_unknown_role_is_a_400(self, client: Client, personas) -> None:
        response = as_user(client, personas.alice).post(
            role_url(personas, personas.bob), {"role": "god"}
        )
        assert response.status_code == 400
        assert member_of(personas, personas.bob).role == Role.AUTHOR

    def test_it_refuses_a_get(self, client: Client, personas) -> None:
        assert (
            as_user(client, personas.alice)
            .get(role_url(personas, personas.bob))
            .status_code
            == 405
        )

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        response = client.post(role_url(personas, personas.bob), {"role": "owner"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert member_of(personas, personas.bob).role == Role.AUTHOR


class TestRemove:
    def test_a_member_of_another_team_is_not_found_through_mine(
        self, client: Client, personas
    ) -> None:
        theirs = Membership.objects.get(user=personas.mallory)
        url = reverse(
            "catalog:member-remove",
            kwargs={"team_slug": personas.team.slug, "membership_id": theirs.pk},
        )
        response = as_user(client, personas.alice).post(url)
        assert response.status_code == 404
        assert Membership.objects.filter(pk=theirs.pk).exists()

    def test_a_removed_member_loses_access_on_their_next_request(
        self, personas
    ) -> None:
        provider = make_provider(personas.team)
        bob, alice = Client(), Client()
        bob.force_login(personas.bob)
        alice.force_login(personas.alice)
        detail = reverse("catalog:provider-detail", args=[provider.pk])
        assert bob.get(detail).status_code == 200
        response = alice.post(remove_url(personas, personas.bob))
        assert response.status_code == 302
        assert not Membership.objects.filter(user=personas.bob).exists()
        assert bob.get(detail).status_code == 404
        assert bob.get(page_url(personas)).status_code == 404
        [event] = AuditEvent.objects.filter(action="member-remove")
        assert event.summary == "bob (author)"

    def test_htmx_gets_the_members_partial(self, client: Client, personas) -> None:
        response = as_user(client, personas.alice).post(
            remove_url(personas, personas.carol), **HX
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "carol was removed from Acme." in body and "<html" not in body

    def test_a_non_owner_gets_403(self, client: Client, personas) -> None:
        response = as_user(client, personas.bob).post(
            remove_url(personas, personas.carol)
        )
        assert response.status_code == 403
        assert Membership.objects.filter(user=personas.carol).exists()

    def test_another_teams_user_gets_404(self, client: Client, personas) -> None:
        response = as_user(client, personas.mallory).post(
            remove_url(personas, personas.carol)
        )
        assert response.status_code == 404
        assert Membership.objects.filter(user=personas.carol).exists()

    def test_the_last_owner_is_not_removed(self, client: Client, personas) -> None:
        response = as_user(client, personas.alice).post(
            remove_url(personas, personas.alice)
        )
        assert response.status_code == 409
        assert "last owner" in response.content.decode()

    def test_it_refuses_a_get(self, client: Client, personas) -> None:
        response = as_user(client, personas.alice).get(
            remove_url(personas, personas.bob)
        )
        assert response.status_code == 405

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        response = client.post(remove_url(personas, personas.bob))
        assert response["Location"].startswith(reverse("login"))
        assert Membership.objects.filter(user=personas.bob).exists()


class TestLeave:
    def test_a_member_leaves_and_goes_home(self, client: Client, personas) -> None:
        response = as_user(client, personas.victor).post(leave_url(personas))
        assert response.status_code == 302
        assert response["Location"] == reverse("home")
        assert not Membership.objects.filter(user=personas.victor).exists()
        body = client.get(reverse("home")).content.decode()
        assert "You left Acme." in body
        assert "You are not in a team yet" in body

    def test_htmx_is_redirected_by_the_client(self, client: Client, personas) -> None:
        response = as_user(client, personas.carol).post(leave_url(personas), **HX)
        assert response.status_code == 200
        assert response["HX-Redirect"] == reverse("home")

    def test_the_last_owner_cannot_leave(self, client: Client, personas) -> None:
        response = as_user(client, personas.alice).post(leave_url(personas))
        assert response.status_code == 409
        assert "cannot leave" in response.content.decode()
        assert Membership.objects.filter(user=personas.alice).exists()

    def test_another_teams_user_gets_404(self, client: Client, personas) -> None:
        assert (
            as_user(client, personas.mallory).post(leave_url(personas)).status_code
            == 404
        )

    def test_it_refuses_a_get(self, client: Client, personas) -> None:
        assert as_user(client, personas.bob).get(leave_url(personas)).status_code == 405

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        assert client.post(leave_url(personas))["Location"].startswith(reverse("login"))


class TestInvite:
    def test_the_link_is_shown_once_uncached_and_mailed(
        self, client: Client, personas, mail_now, django_capture_on_commit_callbacks
    ) -> None:
        as_user(client, personas.alice)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                invite_url(personas), {"email": "dora@example.com", "role": "reviewer"}
            )
        body = response.content.decode()
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        invitation = Invitation.objects.get()
        assert (invitation.email, invitation.role) == ("dora@example.com", "reviewer")
        link = body.split('<pre class="code" id="invitation-link">')[1].split("</pre>")[
            0
        ]
        assert link.startswith("http://testserver/invitations/")
        token = link.rsplit("/", 1)[1]
        assert invitation.secret_hash not in body
        assert "shown only this once" in body and "mailed to dora@example.com" in body
        [message] = mail.outbox
        assert message.to == ["dora@example.com"]
        assert f"/invitations/{token}" in message.body
        # The page afterwards lists it as pending, without the link.
        again = client.get(page_url(personas)).content.decode()
        assert "dora@example.com" in again and token not in again

    def test_htmx_gets_the_invitations_partial(self, client: Client, personas) -> None:
        response = as_user(client, personas.alice).post(
            invite_url(personas), {"email": "dora@example.com", "role": "viewer"}, **HX
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert body.lstrip().startswith('<section id="team-invitations"')
        assert 'id="invitation-link"' in body and "<html" not in body

    @pytest.mark.django_db(transaction=True)
    def test_a_mail_that_cannot_be_queued_still_shows_the_link(
        self, client: Client, personas, monkeypatch
    ) -> None:
        # No test transaction around the request: the service's commit
        # publishes at once, as in production.
        def refuse(**_: Any) -> None:
            raise OSError("connection refused")

        monkeypatch.setattr(mail_tasks.mail_send, "apply_async", refuse)
        response = as_user(client, personas.alice).post(
            invite_url(personas), {"email": "dora@example.com", "role": "viewer"}
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert 'id="invitation-link"' in body
        assert "The mail could not be queued" in body
        assert Invitation.objects.get().is_pending
        assert mail.outbox == []

    def test_a_bad_email_is_a_400(self, client: Client, personas) -> None:
        response = as_user(client, personas.alice).post(
            invite_url(personas), {"email": "nope", "role": "viewer"}, **HX
        )
        assert response.status_code == 400
        assert "Enter a valid email address." in response.content.decode()
        assert Invitation.objects.count() == 0

    def test_a_member_already_is_a_409(self, client: Client, personas) -> None:
        personas.bob.email = "bob@example.com"
        personas.bob.save()
        response = as_user(client, personas.alice).post(
            invite_url(personas), {"email": "bob@example.com", "role": "viewer"}
        )
        assert response.status_code == 409
        assert "already a member of Acme" in response.content.decode()

    @pytest.mark.parametrize("who", ["bob", "carol", "victor"])
    def test_a_non_owner_gets_403(self, client: Client, personas, who: str) -> None:
        response = as_user(client, getattr(personas, who)).post(
            invite_url(personas), {"email": "dora@example.com", "role": "owner"}
        )
        assert response.status_code == 403
        assert Invitation.objects.count() == 0

    def test_another_teams_user_gets_404(self, client: Client, personas) -> None:
        response = as_user(client, personas.mallory).post(
            invite_url(personas), {"email": "dora@example.com", "role": "owner"}
        )
        assert response.status_code == 404
        assert Invitation.objects.count() == 0

    def test_it_refuses_a_get(self, client: Client, personas) -> None:
        assert (
            as_user(client, personas.alice).get(invite_url(personas)).status_code == 405
        )

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        response = client.post(
            invite_url(personas), {"email": "d@x.org", "role": "owner"}
        )
        assert response["Location"].startswith(reverse("login"))
        assert Invitation.objects.count() == 0


class TestRevoke:
    def test_an_owner_revokes_a_pending_invitation(
        self, client: Client, personas
    ) -> None:
        invitation = pending(personas)
        response = as_user(client, personas.alice).post(
            revoke_url(personas, invitation)
        )
        assert response.status_code == 302
        invitation.refresh_from_db()
        assert invitation.state == Invitation.State.REVOKED
        assert AuditEvent.objects.filter(action="invite-revoke").count() == 1

    def test_htmx_gets_the_invitations_partial(self, client: Client, personas) -> None:
        invitation = pending(personas)
        response = as_user(client, personas.alice).post(
            revoke_url(personas, invitation), **HX
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "The invitation to dora@example.com was revoked." in body
        assert "No pending invitations." in body and "<html" not in body

    def test_revoking_twice_is_a_409(self, client: Client, personas) -> None:
        invitation = pending(personas)
        as_user(client, personas.alice).post(revoke_url(personas, invitation))
        response = client.post(revoke_url(personas, invitation))
        assert response.status_code == 409
        assert "revoked already" in response.content.decode()

    def test_a_non_owner_gets_403(self, client: Client, personas) -> None:
        invitation = pending(personas)
        response = as_user(client, personas.bob).post(revoke_url(personas, invitation))
        assert response.status_code == 403
        invitation.refresh_from_db()
        assert invitation.is_pending

    def test_another_teams_user_gets_404(self, client: Client, personas) -> None:
        invitation = pending(personas)
        response = as_user(client, personas.mallory).post(
            revoke_url(personas, invitation)
        )
        assert response.status_code == 404

    def test_another_teams_invitation_is_not_found_through_mine(
        self, client: Client, personas
    ) -> None:
        theirs = services.invitation_create(
            team=personas.other_team,
            email="eve@example.com",
            role=Role.VIEWER,
            by=personas.mallory,
            mail=False,
        ).invitation
        response = as_user(client, personas.alice).post(revoke_url(personas, theirs))
        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.is_pending

    def test_it_refuses_a_get(self, client: Client, personas) -> None:
        invitation = pending(personas)
        response = as_user(client, personas.alice).get(revoke_url(personas, invitation))
        assert response.status_code == 405

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, personas
    ) -> None:
        invitation = pending(personas)
        assert client.post(revoke_url(personas, invitation))["Location"].startswith(
            reverse("login")
        )
        invitation.refresh_from_db()
        assert invitation.is_pending
