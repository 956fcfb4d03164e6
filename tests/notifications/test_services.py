from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from studio.notifications import services
from studio.notifications.models import Kind, Notification, NotificationPreference
from studio.notifications.services import notify
from tests.notifications.conftest import Personas, make_notification

pytestmark = pytest.mark.django_db


def kinds_of(user: Any) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user).values_list("kind", flat=True)
    )


class TestNotify:
    def test_it_notifies_each_recipient_once_but_never_the_actor(
        self, personas: Personas
    ) -> None:
        rows = notify(
            recipients=[personas.alice, personas.carol, personas.carol, None],
            kind=Kind.REVISION_SUBMITTED,
            title="bob submitted acme/gateway r1 for review",
            url="/providers/1/revisions/1/",
            team=personas.team,
            actor=personas.alice,
        )
        assert [row.recipient for row in rows] == [personas.carol]
        [row] = Notification.objects.all()
        assert row.recipient == personas.carol and row.team == personas.team
        assert row.actor_name == "alice" and row.read_at is None
        assert row.kind == "revision-submitted"

    def test_inactive_users_are_not_notified(self, personas: Personas) -> None:
        personas.carol.is_active = False
        personas.carol.save()
        assert make_notification(personas.bob).recipient == personas.bob
        assert (
            notify(recipients=[personas.carol], kind=Kind.COMMENT, title="t", url="/")
            == []
        )
        assert kinds_of(personas.carol) == []

    @pytest.mark.parametrize(
        "url", ["https://evil.example/", "//evil.example/x", "providers/1/"]
    )
    def test_it_links_only_to_paths_in_the_studio(
        self, personas: Personas, url: str
    ) -> None:
        with pytest.raises(ValueError, match="path in the studio"):
            notify(recipients=[personas.bob], kind=Kind.COMMENT, title="t", url=url)
        assert Notification.objects.count() == 0

    def test_an_unknown_kind_is_refused(self, personas: Personas) -> None:
        with pytest.raises(ValueError, match="unknown notification kind"):
            notify(recipients=[personas.bob], kind="gossip", title="t", url="/")

    def test_long_titles_and_bodies_are_shortened_to_one_line(
        self, personas: Personas
    ) -> None:
        row = make_notification(personas.bob, "a\nb " * 200, body="x" * 900)
        assert len(row.title) == 200 and row.title.endswith("…")
        assert "\n" not in row.title
        assert len(row.body) == 500


class TestMail:
    def test_a_kind_mailed_by_default_is_mailed_with_an_absolute_link(
        self, emails: Personas, mailbox: Any, settings: Any
    ) -> None:
        settings.STUDIO_BASE_URL = "https://studio.example.com/"
        with mailbox():
            notify(
                recipients=[emails.bob, emails.carol],
                kind=Kind.COMMENT,
                title="carol commented on acme/gateway r1 & more",
                body="Too <cheap>",
                url="/providers/1/revisions/1/#comment-3",
                team=emails.team,
                actor=emails.carol,
            )
        [message] = mail.outbox
        assert message.to == ["bob@example.test"]
        assert message.subject == "carol commented on acme/gateway r1 & more"
        link = "https://studio.example.com/providers/1/revisions/1/#comment-3"
        assert link in message.body and "Too <cheap>" in message.body
        assert "https://studio.example.com/notifications/settings" in message.body
        html = message.alternatives[0][0]
        assert f'href="{link}"' in html and "Too &lt;cheap&gt;" in html

    def test_a_kind_off_by_default_is_not_mailed(
        self, emails: Personas, mailbox: Any
    ) -> None:
        with mailbox():
            make_notification(emails.bob, kind=Kind.BUILD_FINISHED)
        assert mail.outbox == [] and kinds_of(emails.bob) == ["build-finished"]

    def test_the_users_choice_wins_over_the_default(
        self, emails: Personas, mailbox: Any
    ) -> None:
        services.notification_preferences_update(
            user=emails.bob, email={Kind.COMMENT: False, Kind.BUILD_FINISHED: True}
        )
        with mailbox():
            make_notification(emails.bob, kind=Kind.COMMENT)
            make_notification(emails.bob, "Build #3 failed", kind=Kind.BUILD_FINISHED)
        assert [m.subject for m in mail.outbox] == ["Build #3 failed"]
        assert sorted(kinds_of(emails.bob)) == ["build-finished", "comment"]

    def test_a_user_without_an_address_gets_the_notification_only(
        self, personas: Personas, mailbox: Any
    ) -> None:
        with mailbox():
            make_notification(personas.bob)
        assert mail.outbox == [] and kinds_of(personas.bob) == ["comment"]

    def test_nothing_is_kept_or_mailed_when_the_callers_transaction_fails(
        self, emails: Personas, mailbox: Any
    ) -> None:
        with mailbox(), pytest.raises(RuntimeError), transaction.atomic():
            make_notification(emails.bob)
            raise RuntimeError("the caller failed")
        assert mail.outbox == [] and Notification.objects.count() == 0


class TestMarkRead:
    def test_it_marks_only_the_users_own_notifications(
        self, personas: Personas
    ) -> None:
        mine = make_notification(personas.bob)
        other = make_notification(personas.carol)
        assert (
            services.notification_mark_read(user=personas.bob, ids=[mine.pk, other.pk])
            == 1
        )
        mine.refresh_from_db()
        other.refresh_from_db()
        assert mine.read_at is not None and other.read_at is None

    def test_all_marks_every_unread_one_and_keeps_the_first_read_time(
        self, personas: Personas
    ) -> None:
        first = make_notification(personas.bob)
        services.notification_mark_read(user=personas.bob, ids=[first.pk])
        first.refresh_from_db()
        read_at = first.read_at
        make_notification(personas.bob)
        make_notification(personas.bob)
        make_notification(personas.carol)
        assert services.notification_mark_read(user=personas.bob, ids="all") == 2
        first.refresh_from_db()
        assert first.read_at == read_at
        assert not Notification.objects.filter(
            recipient=personas.bob, read_at=None
        ).exists()
        assert (
            Notification.objects.filter(recipient=personas.carol, read_at=None).count()
            == 1
        )


class TestPreferences:
    def test_the_defaults_mail_reviews_releases_and_invitations_not_builds(
        self, personas: Personas
    ) -> None:
        assert services.email_preferences(personas.bob) == {
            "revision-submitted": True,
            "comment": True,
            "reply": True,
            "decision": True,
            "build-finished": False,
            "release-finished": True,
            "invitation-accepted": True,
            "catalogue-drift": True,
        }

    def test_saving_keeps_one_row_per_kind(self, personas: Personas) -> None:
        services.notification_preferences_update(
            user=personas.bob, email={Kind.REPLY: False}
        )
        prefs = services.notification_preferences_update(
            user=personas.bob, email={Kind.REPLY: True, Kind.DECISION: False}
        )
        assert prefs["reply"] is True and prefs["decision"] is False
        assert NotificationPreference.objects.filter(user=personas.bob).count() == 2
        assert services.email_preferences(personas.carol)["decision"] is True

    def test_an_unknown_kind_is_refused(self, personas: Personas) -> None:
        with pytest.raises(ValueError, match="unknown notification kinds: gossip"):
            services.notification_preferences_update(
                user=personas.bob, email={"gossip": True}
            )
        assert NotificationPreference.objects.count() == 0


class TestInvitationAccepted:
    def test_the_inviter_hears_that_the_member_joined(
        self, emails: Personas, mailbox: Any
    ) -> None:
        with mailbox():
            [row] = services.notify_invitation_accepted(
                inviter=emails.alice, member=emails.carol, team=emails.team
            )
        assert row.recipient == emails.alice
        assert row.kind == "invitation-accepted"
        assert row.title == "carol accepted your invitation and joined Acme"
        assert row.url == f"/teams/{emails.team.slug}/audit/"
        assert row.actor_name == "carol" and row.team == emails.team
        assert kinds_of(emails.carol) == []
        [message] = mail.outbox
        assert message.to == ["alice@example.test"]

    def test_it_links_where_the_caller_says_and_skips_a_deleted_inviter(
        self, personas: Personas
    ) -> None:
        [row] = services.notify_invitation_accepted(
            inviter=personas.alice,
            member=personas.carol,
            team=personas.team,
            url="/teams/acme/members/",
        )
        assert row.url == "/teams/acme/members/"
        assert (
            services.notify_invitation_accepted(
                inviter=None, member=personas.carol, team=personas.team
            )
            == []
        )
