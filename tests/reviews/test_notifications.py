"""Who hears of what in a review: in the app, and by mail per preference."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from studio.catalog.models import Membership, Provider
from studio.notifications.models import Notification
from studio.notifications.services import notification_preferences_update
from studio.reviews import services
from studio.reviews.models import Comment, Revision
from tests.notifications.conftest import emails, mailbox
from tests.reviews.conftest import Personas, approve, submit

__all__ = ["emails", "mailbox"]

pytestmark = pytest.mark.django_db

PRICE = ("model", "llm", "model-000", "pricing")


def told(kind: str | None = None) -> dict[str, list[str]]:
    """Each recipient's notification titles (of `kind`), oldest first."""
    out: dict[str, list[str]] = {}
    rows = Notification.objects.select_related("recipient").order_by("id")
    for row in rows.filter(kind=kind) if kind else rows:
        out.setdefault(row.recipient.username, []).append(row.title)
    return out


def mailed() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for message in mail.outbox:
        for to in message.to:
            out.setdefault(to.split("@")[0], []).append(message.subject)
    return out


@pytest.fixture
def revision(personas: Personas, provider: Provider) -> Revision:
    revision = submit(provider, personas.bob, "First cut\nwith details")
    Notification.objects.all().delete()
    return revision


@pytest.fixture
def comment(personas: Personas, revision: Revision) -> Comment:
    comment = services.comment_create(
        revision=revision, user=personas.carol, body="Too cheap?", anchor=PRICE
    )
    Notification.objects.all().delete()
    return comment


class TestRevisionSubmitted:
    def test_the_teams_reviewers_hear_of_it_but_not_the_submitter(
        self, emails: Personas, provider: Provider, mailbox: Any
    ) -> None:
        with mailbox():
            revision = submit(provider, emails.bob, "First cut\nwith details")
        title = "bob submitted acme/gateway r1 for review"
        # Owners, authors and reviewers review; viewers and outsiders do not.
        assert told() == {"alice": [title], "carol": [title]}
        row = Notification.objects.get(recipient=emails.carol)
        assert row.kind == "revision-submitted" and row.body == "First cut"
        assert row.url == f"/providers/{provider.pk}/revisions/1/"
        assert row.team == emails.team and row.actor_name == "bob"
        assert revision.number == 1
        assert mailed() == {"alice": [title], "carol": [title]}

    def test_a_reviewer_who_turned_the_mail_off_is_only_told_in_the_app(
        self, emails: Personas, provider: Provider, mailbox: Any
    ) -> None:
        notification_preferences_update(
            user=emails.carol, email={"revision-submitted": False}
        )
        with mailbox():
            submit(provider, emails.bob)
        assert set(told()) == {"alice", "carol"} and set(mailed()) == {"alice"}

    def test_an_owner_submitting_tells_the_author_and_the_reviewer(
        self, personas: Personas, provider: Provider
    ) -> None:
        submit(provider, personas.alice)
        assert set(told("revision-submitted")) == {"bob", "carol"}


class TestComment:
    def test_the_revisions_author_hears_of_a_comment(
        self, emails: Personas, revision: Revision, mailbox: Any
    ) -> None:
        with mailbox():
            comment = services.comment_create(
                revision=revision, user=emails.carol, body="Too cheap?", anchor=PRICE
            )
        title = "carol commented on acme/gateway r1 (llm model model-000 · pricing)"
        assert told() == {"bob": [title]}
        row = Notification.objects.get()
        assert row.kind == "comment" and row.body == "Too cheap?"
        assert row.url.endswith(f"/revisions/1/#comment-{comment.pk}")
        assert mailed() == {"bob": [title]}

    def test_commenting_on_your_own_revision_tells_nobody(
        self, personas: Personas, revision: Revision
    ) -> None:
        services.comment_create(revision=revision, user=personas.bob, body="Note")
        assert told() == {}

    def test_an_author_who_left_the_team_is_not_told(
        self, personas: Personas, revision: Revision
    ) -> None:
        Membership.objects.filter(user=personas.bob).delete()
        services.comment_create(revision=revision, user=personas.carol, body="Hm")
        assert told() == {}


class TestReply:
    def test_the_commenter_hears_of_a_reply_and_the_author_of_a_comment(
        self, emails: Personas, comment: Comment, mailbox: Any
    ) -> None:
        with mailbox():
            answer = services.comment_reply(
                comment=comment, user=emails.alice, body="Fine by me"
            )
        place = "acme/gateway r1 (llm model model-000 · pricing)"
        assert told("reply") == {"carol": [f"alice replied to your comment on {place}"]}
        assert told("comment") == {"bob": [f"alice replied in a thread on {place}"]}
        assert {row.url for row in Notification.objects.all()} == {
            answer.get_absolute_url()
        }
        assert set(mailed()) == {"bob", "carol"}

    def test_the_author_replying_tells_the_commenter_only(
        self, personas: Personas, comment: Comment
    ) -> None:
        services.comment_reply(comment=comment, user=personas.bob, body="Fixed")
        assert set(told()) == {"carol"} and set(told("reply")) == {"carol"}

    def test_a_reply_to_a_reply_tells_both_commenters_once_each(
        self, personas: Personas, comment: Comment
    ) -> None:
        first = services.comment_reply(comment=comment, user=personas.alice, body="1")
        Notification.objects.all().delete()
        services.comment_reply(comment=first, user=personas.bob, body="2")
        assert {name: len(titles) for name, titles in told("reply").items()} == {
            "alice": 1,
            "carol": 1,
        }
        assert told("comment") == {}  # bob wrote it: he is the revision's author

    def test_a_commenter_who_turned_reply_mail_off_gets_none(
        self, emails: Personas, comment: Comment, mailbox: Any
    ) -> None:
        notification_preferences_update(user=emails.carol, email={"reply": False})
        with mailbox():
            services.comment_reply(comment=comment, user=emails.bob, body="Fixed")
        assert set(told()) == {"carol"} and mailed() == {}


class TestDecision:
    def test_the_author_hears_of_an_approval(
        self, emails: Personas, revision: Revision, mailbox: Any
    ) -> None:
        with mailbox():
            approve(revision, emails.carol)
        assert told() == {"bob": ["carol approved acme/gateway r1"]}
        row = Notification.objects.get()
        assert row.kind == "decision" and row.body == "r1 is now approved."
        assert row.url == revision.get_absolute_url()
        assert mailed() == {"bob": ["carol approved acme/gateway r1"]}

    def test_the_author_hears_of_a_change_request_with_its_note(
        self, personas: Personas, revision: Revision
    ) -> None:
        services.revision_decide(
            revision=revision,
            user=personas.alice,
            verdict="request-changes",
            note="Raise the price\nand bump the version",
        )
        assert told() == {"bob": ["alice requested changes on acme/gateway r1"]}
        assert Notification.objects.get().body == (
            "r1 is now changes requested. Raise the price"
        )

    def test_the_author_withdrawing_their_own_revision_tells_nobody(
        self, personas: Personas, revision: Revision
    ) -> None:
        services.revision_decide(
            revision=revision, user=personas.bob, verdict="request-changes", note="x"
        )
        assert told() == {}
