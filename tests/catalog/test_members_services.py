"""Services of a team's people: roles, removal, leaving, invitations."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from studio.audit.models import AuditEvent
from studio.catalog.models import Invitation, Membership, Role
from studio.catalog.selectors.members import invitation_by_token, invitation_hash
from studio.catalog.services import members as services
from studio.notifications import tasks as mail_tasks
from studio.notifications.models import Kind, Notification
from tests.catalog.conftest import Personas
from tests.factories import PASSWORD, make_team, make_user

pytestmark = pytest.mark.django_db


def membership(personas: Personas, user: User) -> Membership:
    return Membership.objects.get(team=personas.team, user=user)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def invite(
    personas: Personas, email: str = "dora@example.com", role: str = Role.REVIEWER
) -> services.IssuedInvitation:
    return services.invitation_create(
        team=personas.team, email=email, role=role, by=personas.alice, mail=False
    )


@pytest.fixture
def mail_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mail task runs at once when published (no broker, no worker)."""
    monkeypatch.setattr(
        mail_tasks.mail_send,
        "apply_async",
        lambda *, kwargs, **options: mail_tasks.mail_send.run(**kwargs),
    )


class TestChangeRole:
    def test_an_owner_changes_a_role_and_it_is_audited(self, personas) -> None:
        changed = services.membership_change_role(
            membership=membership(personas, personas.bob),
            role=Role.REVIEWER,
            by=personas.alice,
        )
        assert changed.role == Role.REVIEWER
        assert membership(personas, personas.bob).role == Role.REVIEWER
        [event] = events(AuditEvent.Action.ROLE_CHANGE)
        assert event.team == personas.team
        assert event.actor == personas.alice
        assert event.summary == "bob: author → reviewer"

    @pytest.mark.parametrize("who", ["bob", "carol", "victor", "mallory"])
    def test_only_an_owner_changes_roles(self, personas, who: str) -> None:
        with pytest.raises(services.NotOwner):
            services.membership_change_role(
                membership=membership(personas, personas.victor),
                role=Role.OWNER,
                by=getattr(personas, who),
            )
        assert membership(personas, personas.victor).role == Role.VIEWER
        assert events(AuditEvent.Action.ROLE_CHANGE) == []

    def test_the_last_owner_cannot_be_demoted(self, personas) -> None:
        with pytest.raises(services.LastOwner, match="last owner of Acme"):
            services.membership_change_role(
                membership=membership(personas, personas.alice),
                role=Role.AUTHOR,
                by=personas.alice,
            )
        assert membership(personas, personas.alice).role == Role.OWNER

    def test_one_of_two_owners_can_step_down(self, personas) -> None:
        services.membership_change_role(
            membership=membership(personas, personas.bob),
            role=Role.OWNER,
            by=personas.alice,
        )
        services.membership_change_role(
            membership=membership(personas, personas.alice),
            role=Role.AUTHOR,
            by=personas.alice,
        )
        assert membership(personas, personas.alice).role == Role.AUTHOR
        with pytest.raises(services.LastOwner):
            services.membership_change_role(
                membership=membership(personas, personas.bob),
                role=Role.VIEWER,
                by=personas.bob,
            )

    def test_an_unknown_role_is_refused(self, personas) -> None:
        with pytest.raises(services.InvitationRefused, match="Unknown role"):
            services.membership_change_role(
                membership=membership(personas, personas.bob),
                role="admin",
                by=personas.alice,
            )


@pytest.mark.django_db(transaction=True)
class TestConcurrentDemotions:
    def test_two_owners_demoting_each_other_at_once_leave_one_owner(self) -> None:
        if connection.vendor == "sqlite" and connection.settings_dict["NAME"] in (
            ":memory:",
            "",
        ):
            pytest.skip("needs a database file that two connections share")
        ann, ben = make_user("ann"), make_user("ben")
        team = make_team("Duo", owner=ann)
        Membership.objects.create(team=team, user=ben, role=Role.OWNER)
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def demote(me: User, other: User) -> None:
            from django.db import connections

            try:
                target = Membership.objects.get(team=team, user=other)
                barrier.wait(timeout=10)
                services.membership_change_role(
                    membership=target, role=Role.AUTHOR, by=me
                )
                outcomes[me.username] = "demoted"
            except services.MembersError as exc:
                outcomes[me.username] = type(exc).__name__
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=demote, args=(ann, ben)),
            threading.Thread(target=demote, args=(ben, ann)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes.values()) in (
            ["NotOwner", "demoted"],
            ["LastOwner", "demoted"],
        )
        assert Membership.objects.filter(team=team, role=Role.OWNER).count() == 1


class TestRemoveAndLeave:
    def test_an_owner_removes_a_member_and_it_is_audited(self, personas) -> None:
        services.membership_remove(
            membership=membership(personas, personas.bob), by=personas.alice
        )
        assert not Membership.objects.filter(user=personas.bob).exists()
        [event] = events(AuditEvent.Action.MEMBER_REMOVE)
        assert (event.actor, event.summary) == (personas.alice, "bob (author)")

    @pytest.mark.parametrize("who", ["bob", "carol", "victor", "mallory"])
    def test_only_an_owner_removes_members(self, personas, who: str) -> None:
        with pytest.raises(services.NotOwner):
            services.membership_remove(
                membership=membership(personas, personas.carol),
                by=getattr(personas, who),
            )
        assert Membership.objects.filter(user=personas.carol).exists()

    def test_the_last_owner_cannot_be_removed_or_leave(self, personas) -> None:
        with pytest.raises(services.LastOwner):
            services.membership_remove(
                membership=membership(personas, personas.alice), by=personas.alice
            )
        with pytest.raises(services.LastOwner, match="cannot leave"):
            services.membership_leave(membership=membership(personas, personas.alice))
        assert membership(personas, personas.alice).role == Role.OWNER

    def test_anyone_else_can_leave(self, personas) -> None:
        services.membership_leave(membership=membership(personas, personas.victor))
        assert not Membership.objects.filter(user=personas.victor).exists()
        [event] = events(AuditEvent.Action.MEMBER_LEAVE)
        assert (event.actor, event.summary) == (personas.victor, "victor (viewer)")

    def test_removing_someone_already_gone_says_so(self, personas) -> None:
        gone = membership(personas, personas.bob)
        services.membership_leave(membership=gone)
        with pytest.raises(services.MemberGone):
            services.membership_remove(membership=gone, by=personas.alice)


class TestAdd:
    def test_the_command_line_adds_a_user_and_it_is_audited(self, personas) -> None:
        dora = make_user("dora")
        services.membership_add(
            team=personas.team, user=dora, role=Role.REVIEWER, by=None
        )
        assert membership(personas, dora).role == Role.REVIEWER
        [event] = events(AuditEvent.Action.MEMBER_ADD)
        assert event.actor is None
        assert event.summary == "dora as reviewer (command line)"

    def test_a_member_cannot_be_added_twice(self, personas) -> None:
        with pytest.raises(services.AlreadyMember):
            services.membership_add(
                team=personas.team, user=personas.bob, role=Role.VIEWER, by=None
            )


class TestInvitationCreate:
    def test_it_stores_only_the_hash_and_expires_in_seven_days(
        self, personas, settings
    ) -> None:
        settings.STUDIO_BASE_URL = "https://studio.example/"
        issued = invite(personas)
        row = Invitation.objects.get()
        assert issued.token not in (row.prefix, row.secret_hash)
        assert row.secret_hash == invitation_hash(issued.token)
        assert row.prefix == issued.token[:12]
        assert len(issued.token) == 43
        assert row.expires_at - row.created_at == timedelta(days=7)
        assert (row.email, row.role, row.invited_by) == (
            "dora@example.com",
            Role.REVIEWER,
            personas.alice,
        )
        assert row.state == Invitation.State.PENDING
        assert issued.url == f"https://studio.example/invitations/{issued.token}"

    def test_the_expiry_is_a_setting(self, personas, settings) -> None:
        settings.INVITATION_EXPIRY_DAYS = 2
        row = invite(personas).invitation
        assert row.expires_at - row.created_at == timedelta(days=2)

    def test_it_is_audited(self, personas) -> None:
        invite(personas)
        [event] = events(AuditEvent.Action.INVITE)
        assert (event.team, event.actor) == (personas.team, personas.alice)
        assert event.summary == "dora@example.com as reviewer"

    def test_the_link_is_mailed_after_commit_with_text_and_html(
        self, personas, mail_now, django_capture_on_commit_callbacks
    ) -> None:
        personas.team.name = "R&D"
        personas.team.save()
        with django_capture_on_commit_callbacks(execute=True):
            issued = services.invitation_create(
                team=personas.team,
                email="dora@example.com",
                role=Role.REVIEWER,
                by=personas.alice,
            )
        [message] = mail.outbox
        assert message.to == ["dora@example.com"]
        assert message.subject == "alice invited you to R&D on Dify plugin studio"
        assert issued.url in message.body
        assert "as reviewer" in message.body and "R&D" in message.body
        html, kind = message.alternatives[0]
        assert kind == "text/html"
        assert f'href="{issued.url}"' in html and "R&amp;D" in html
        assert issued.mail is not None and issued.mail.sent

    def test_a_broker_outage_keeps_the_invitation_and_says_so(
        self, personas, monkeypatch, django_capture_on_commit_callbacks
    ) -> None:
        def refuse(**_: Any) -> None:
            raise OSError("connection refused")

        monkeypatch.setattr(mail_tasks.mail_send, "apply_async", refuse)
        with django_capture_on_commit_callbacks(execute=True):
            issued = services.invitation_create(
                team=personas.team,
                email="dora@example.com",
                role=Role.REVIEWER,
                by=personas.alice,
            )
        assert issued.mail is not None and issued.mail.failed
        assert Invitation.objects.get().is_pending
        assert mail.outbox == []

    @pytest.mark.parametrize("who", ["bob", "carol", "victor", "mallory"])
    def test_only_an_owner_invites(self, personas, who: str) -> None:
        with pytest.raises(services.NotOwner):
            services.invitation_create(
                team=personas.team,
                email="dora@example.com",
                role=Role.VIEWER,
                by=getattr(personas, who),
                mail=False,
            )
        assert Invitation.objects.count() == 0
        assert events(AuditEvent.Action.INVITE) == []

    def test_a_member_is_not_invited_again(self, personas) -> None:
        personas.bob.email = "Bob@Example.com"
        personas.bob.save()
        with pytest.raises(services.AlreadyMember, match="bob, author"):
            invite(personas, email="bob@example.com")

    @pytest.mark.parametrize("email", ["not-an-email", "a@", ""])
    def test_a_bad_email_is_refused(self, personas, email: str) -> None:
        with pytest.raises(services.InvitationRefused):
            invite(personas, email=email)
        assert Invitation.objects.count() == 0

    def test_an_unknown_role_is_refused(self, personas) -> None:
        with pytest.raises(services.InvitationRefused):
            invite(personas, role="superuser")

    def test_inviting_again_revokes_the_earlier_link(self, personas) -> None:
        first = invite(personas)
        second = invite(personas, email="DORA@example.com")
        first.invitation.refresh_from_db()
        assert first.invitation.state == Invitation.State.REVOKED
        assert second.invitation.is_pending
        assert "replaces the earlier" in events(AuditEvent.Action.INVITE)[1].summary
        with pytest.raises(services.InvitationUnusable) as caught:
            services.invitation_accept(token=first.token, user=make_user("dora"))
        assert caught.value.state == Invitation.State.REVOKED


class TestInvitationRevoke:
    def test_an_owner_revokes_a_pending_invitation(self, personas) -> None:
        issued = invite(personas)
        revoked = services.invitation_revoke(
            invitation=issued.invitation, by=personas.alice
        )
        assert revoked.state == Invitation.State.REVOKED
        assert revoked.revoked_by == personas.alice
        [event] = events(AuditEvent.Action.INVITE_REVOKE)
        assert event.summary == "dora@example.com (reviewer)"

    def test_only_an_owner_revokes(self, personas) -> None:
        issued = invite(personas)
        with pytest.raises(services.NotOwner):
            services.invitation_revoke(invitation=issued.invitation, by=personas.bob)
        issued.invitation.refresh_from_db()
        assert issued.invitation.is_pending

    def test_a_used_invitation_cannot_be_revoked(self, personas) -> None:
        issued = invite(personas)
        services.invitation_sign_up(
            token=issued.token, username="dora", password=PASSWORD
        )
        with pytest.raises(services.NotPending, match="accepted already"):
            services.invitation_revoke(invitation=issued.invitation, by=personas.alice)


class TestInvitationAcceptedNotification:
    def test_the_inviter_is_told_with_a_link_to_the_members_page(
        self, personas, mail_now, django_capture_on_commit_callbacks
    ) -> None:
        personas.alice.email = "alice@example.com"
        personas.alice.save()
        issued = invite(personas)
        dora = make_user("dora")
        dora.email = "dora@example.com"
        dora.save()

        with django_capture_on_commit_callbacks(execute=True):
            services.invitation_accept(token=issued.token, user=dora)

        [note] = Notification.objects.all()
        assert note.recipient == personas.alice
        assert note.kind == Kind.INVITATION_ACCEPTED
        assert note.url == f"/teams/{personas.team.slug}/members/"
        assert "dora accepted your invitation" in note.title
        [message] = mail.outbox
        assert message.to == ["alice@example.com"]

    def test_an_inviter_who_left_the_team_is_not_told(self, personas) -> None:
        issued = invite(personas)
        Membership.objects.filter(user=personas.alice).delete()
        dora = make_user("dora")
        dora.email = "dora@example.com"
        dora.save()

        services.invitation_accept(token=issued.token, user=dora)

        assert not Notification.objects.exists()


class TestInvitationAccept:
    def test_the_invited_user_joins_with_the_role_once(self, personas) -> None:
        issued = invite(personas)
        dora = make_user("dora")
        dora.email = "Dora@Example.com"
        dora.save()
        accepted = services.invitation_accept(token=issued.token, user=dora)
        assert membership(personas, dora).role == Role.REVIEWER
        assert accepted.invited_by == personas.alice  # whom to notify
        assert accepted.accepted_by == dora
        assert Invitation.objects.get().state == Invitation.State.ACCEPTED
        [event] = events(AuditEvent.Action.INVITE_ACCEPT)
        assert (event.actor, event.team) == (dora, personas.team)
        assert event.summary == "dora (dora@example.com) joined as reviewer"
        Membership.objects.filter(user=dora).delete()
        with pytest.raises(services.InvitationUnusable) as caught:
            services.invitation_accept(token=issued.token, user=dora)
        assert caught.value.state == Invitation.State.ACCEPTED
        assert not Membership.objects.filter(user=dora).exists()

    def test_someone_with_another_email_is_refused(self, personas) -> None:
        issued = invite(personas)
        with pytest.raises(services.WrongAccount, match=r"sent to dora@example\.com"):
            services.invitation_accept(token=issued.token, user=personas.mallory)
        assert not Membership.objects.filter(
            team=personas.team, user=personas.mallory
        ).exists()
        assert Invitation.objects.get().is_pending

    def test_a_member_already_is_told_and_the_link_stays_usable(self, personas) -> None:
        personas.bob.email = "bob@example.com"
        personas.bob.save()
        issued = services.invitation_create(
            team=personas.other_team,
            email="bob@example.com",
            role=Role.VIEWER,
            by=personas.mallory,
            mail=False,
        )
        Membership.objects.create(
            team=personas.other_team, user=personas.bob, role=Role.AUTHOR
        )
        with pytest.raises(services.AlreadyMember):
            services.invitation_accept(token=issued.token, user=personas.bob)
        assert Invitation.objects.get().is_pending

    def test_an_invitation_to_team_a_never_grants_team_b(self, personas) -> None:
        issued = services.invitation_create(
            team=personas.other_team,
            email="dora@example.com",
            role=Role.OWNER,
            by=personas.mallory,
            mail=False,
        )
        dora, _ = services.invitation_sign_up(
            token=issued.token, username="dora", password=PASSWORD
        )
        assert list(
            Membership.objects.filter(user=dora).values_list("team", "role")
        ) == [(personas.other_team.pk, Role.OWNER)]

    def test_an_expired_link_is_refused(self, personas) -> None:
        issued = invite(personas)
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        with pytest.raises(services.InvitationUnusable) as caught:
            services.invitation_sign_up(
                token=issued.token, username="dora", password=PASSWORD
            )
        assert caught.value.state == Invitation.State.EXPIRED
        assert not User.objects.filter(username="dora").exists()

    def test_a_revoked_link_is_refused(self, personas) -> None:
        issued = invite(personas)
        services.invitation_revoke(invitation=issued.invitation, by=personas.alice)
        with pytest.raises(services.InvitationUnusable) as caught:
            services.invitation_sign_up(
                token=issued.token, username="dora", password=PASSWORD
            )
        assert caught.value.state == Invitation.State.REVOKED

    @pytest.mark.parametrize("change", ["last", "short", "junk"])
    def test_a_wrong_token_is_unknown(self, personas, change: str) -> None:
        token = invite(personas).token
        bad = {
            "last": token[:-1] + ("A" if token[-1] != "A" else "B"),
            "short": token[:-1],
            "junk": "../" + token[3:],
        }[change]
        assert invitation_by_token(bad) is None
        with pytest.raises(services.InvitationUnusable) as caught:
            services.invitation_sign_up(token=bad, username="dora", password=PASSWORD)
        assert caught.value.state == "unknown"


class TestSignUp:
    def test_it_creates_the_account_with_the_invited_email(self, personas) -> None:
        issued = invite(personas)
        user, invitation = services.invitation_sign_up(
            token=issued.token, username="dora", password=PASSWORD
        )
        assert user.email == "dora@example.com"
        assert user.check_password(PASSWORD)
        assert membership(personas, user).role == Role.REVIEWER
        assert invitation.accepted_by == user

    @pytest.mark.parametrize("password", ["short", "password123", "12345678901"])
    def test_djangos_password_validators_apply(self, personas, password) -> None:
        issued = invite(personas)
        with pytest.raises(ValidationError):
            services.invitation_sign_up(
                token=issued.token, username="dora", password=password
            )
        assert not User.objects.filter(username="dora").exists()
        assert Invitation.objects.get().is_pending

    def test_a_taken_username_is_refused(self, personas) -> None:
        issued = invite(personas)
        with pytest.raises(services.AccountExists, match="taken"):
            services.invitation_sign_up(
                token=issued.token, username="Bob", password=PASSWORD
            )
        assert Invitation.objects.get().is_pending

    def test_an_existing_account_with_the_email_must_log_in(self, personas) -> None:
        issued = invite(personas)
        other = make_user("dora2")
        other.email = "dora@example.com"
        other.save()
        with pytest.raises(services.AccountExists, match="log in"):
            services.invitation_sign_up(
                token=issued.token, username="dora", password=PASSWORD
            )
