"""Replies to comments: threads one level deep, shown under their comment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from studio.audit.models import AuditEvent
from studio.catalog.models import Provider
from studio.reviews import selectors, services
from studio.reviews.diff import revision_view
from studio.reviews.models import Comment, Revision
from tests.factories import make_provider
from tests.reviews.conftest import HTMX, Personas, edit, set_price, submit

pytestmark = pytest.mark.django_db

AsUser = Callable[[str], Client]
PRICE = ["model", "llm", "model-000", "pricing"]


@pytest.fixture
def revision(personas: Personas, provider: Provider) -> Revision:
    return submit(provider, personas.bob, "First cut")


@pytest.fixture
def comment(personas: Personas, revision: Revision) -> Comment:
    return services.comment_create(
        revision=revision, user=personas.carol, body="Too cheap?", anchor=PRICE
    )


def reply(comment: Comment, user: Any, body: str = "Agreed") -> Comment:
    return services.comment_reply(comment=comment, user=user, body=body)


def reply_url(revision: Revision, comment: Comment) -> str:
    return reverse(
        "reviews:comment-reply",
        args=[revision.provider_id, revision.number, comment.pk],
    )


def detail(revision: Revision) -> str:
    return reverse(
        "reviews:revision-detail", args=[revision.provider_id, revision.number]
    )


def later_revision(provider: Provider, personas: Personas) -> Revision:
    edit(provider, set_price("0.75"))
    return submit(provider, personas.bob, "Second cut")


class TestReplyService:
    def test_a_reply_joins_the_comment_on_its_revision(
        self, personas: Personas, revision: Revision, comment: Comment
    ) -> None:
        answer = reply(comment, personas.bob, "  It is the list price.  ")
        assert answer.parent == comment and answer.revision == revision
        assert answer.body == "It is the list price." and answer.anchor == []
        assert answer.author == personas.bob and answer.is_reply
        event = AuditEvent.objects.filter(action="comment").latest("id")
        assert event.summary == (
            f"r1, reply to comment {comment.pk} on llm model model-000 · pricing: "
            "It is the list price."
        )

    def test_a_reply_to_a_reply_joins_the_threads_first_comment(
        self, personas: Personas, comment: Comment
    ) -> None:
        first = reply(comment, personas.bob)
        second = reply(first, personas.alice)
        assert second.parent == comment

    def test_a_reply_from_a_later_revision_stays_on_the_threads_revision(
        self,
        personas: Personas,
        provider: Provider,
        revision: Revision,
        comment: Comment,
    ) -> None:
        later_revision(provider, personas)
        assert reply(comment, personas.bob).revision == revision

    def test_a_viewer_or_an_outsider_cannot_reply(
        self, personas: Personas, comment: Comment
    ) -> None:
        for user in (personas.victor, personas.mallory):
            with pytest.raises(services.NotAllowed):
                reply(comment, user)
        assert not Comment.objects.filter(parent__isnull=False).exists()

    def test_resolving_a_reply_resolves_its_thread(
        self, personas: Personas, comment: Comment
    ) -> None:
        answer = reply(comment, personas.bob)
        services.comment_resolve(comment=answer, user=personas.carol)
        comment.refresh_from_db()
        answer.refresh_from_db()
        assert comment.is_resolved and comment.resolved_by == personas.carol
        assert not answer.is_resolved

    def test_replies_are_listed_under_their_comment_not_beside_it(
        self,
        personas: Personas,
        provider: Provider,
        revision: Revision,
        comment: Comment,
    ) -> None:
        whole = services.comment_create(
            revision=revision, user=personas.alice, body="Overall fine"
        )
        first = reply(comment, personas.bob, "one")
        second = reply(comment, personas.alice, "two")
        later = later_revision(provider, personas)
        third = reply(comment, personas.carol, "three")  # from the later page

        shown = selectors.comments_for_revision(revision, revision_view(revision))
        assert [(v.comment, v.replies) for v in shown] == [
            (comment, (first, second, third)),
            (whole, ()),
        ]
        carried = selectors.comments_for_revision(later, revision_view(later))
        assert [(v.comment, v.replies, v.carried) for v in carried] == [
            (comment, (first, second, third), True)
        ]


class TestReplyView:
    def test_a_member_replies_and_lands_on_the_reply(
        self, as_user: AsUser, personas: Personas, revision: Revision, comment: Comment
    ) -> None:
        response = as_user("bob").post(
            reply_url(revision, comment), {"body": "It is <b>fine</b>", "base": "none"}
        )
        answer = Comment.objects.get(parent=comment)
        assert response.status_code == 302
        assert (
            response["Location"] == f"{detail(revision)}?base=none#comment-{answer.pk}"
        )
        assert answer.author == personas.bob
        body = as_user("bob").get(detail(revision)).content.decode()
        thread = body[body.index(f'id="comment-{comment.pk}"') :]
        assert thread.index("Too cheap?") < thread.index(
            "It is &lt;b&gt;fine&lt;/b&gt;"
        )
        assert f'id="comment-{answer.pk}"' in thread
        assert body.count(f'action="{reply_url(revision, comment)}"') == 1

    def test_an_htmx_reply_returns_the_review_part_with_it(
        self, as_user: AsUser, revision: Revision, comment: Comment
    ) -> None:
        response = as_user("alice").post(
            reply_url(revision, comment), {"body": "Seen"}, headers=HTMX
        )
        body = response.content.decode()
        assert response.status_code == 200 and "<html" not in body
        assert 'id="review"' in body and "Seen" in body
        assert Comment.objects.filter(parent=comment).count() == 1

    def test_an_empty_reply_is_a_field_error_in_its_thread(
        self, as_user: AsUser, revision: Revision, comment: Comment
    ) -> None:
        response = as_user("carol").post(
            reply_url(revision, comment), {"body": "  "}, headers=HTMX
        )
        body = response.content.decode()
        assert response.status_code == 400 and "This field is required" in body
        assert '<details class="reply-here" open>' in body
        assert not Comment.objects.filter(parent=comment).exists()

    def test_a_pinned_comment_carried_to_a_later_revision_takes_replies_there(
        self,
        as_user: AsUser,
        personas: Personas,
        provider: Provider,
        revision: Revision,
        comment: Comment,
    ) -> None:
        later = later_revision(provider, personas)
        response = as_user("bob").post(reply_url(later, comment), {"body": "Fixed"})
        answer = Comment.objects.get(parent=comment)
        assert response["Location"] == f"{detail(later)}#comment-{answer.pk}"
        assert answer.revision == revision

    def test_replying_across_revisions_is_404(
        self,
        as_user: AsUser,
        personas: Personas,
        provider: Provider,
        revision: Revision,
        comment: Comment,
    ) -> None:
        later = later_revision(provider, personas)
        whole_r1 = services.comment_create(
            revision=revision, user=personas.carol, body="About r1 as a whole"
        )
        on_r2 = services.comment_create(
            revision=later, user=personas.carol, body="About r2"
        )
        client = as_user("bob")
        # r1 does not show r2's comments; r2 does not show r1's whole-revision ones.
        assert client.post(reply_url(revision, on_r2), {"body": "x"}).status_code == 404
        assert client.post(reply_url(later, whole_r1), {"body": "x"}).status_code == 404
        assert not Comment.objects.filter(parent__isnull=False).exists()

    def test_a_comment_of_another_provider_is_404(
        self, as_user: AsUser, personas: Personas, comment: Comment
    ) -> None:
        other = submit(make_provider(personas.team, "other"), personas.bob)
        response = as_user("bob").post(reply_url(other, comment), {"body": "x"})
        assert response.status_code == 404
        assert not Comment.objects.filter(parent__isnull=False).exists()

    def test_a_viewer_cannot_reply(
        self, as_user: AsUser, revision: Revision, comment: Comment
    ) -> None:
        response = as_user("victor").post(reply_url(revision, comment), {"body": "x"})
        assert response.status_code == 403
        assert not Comment.objects.filter(parent__isnull=False).exists()
        body = as_user("victor").get(detail(revision)).content.decode()
        assert "reply-form" not in body

    def test_another_teams_user_gets_404(
        self, as_user: AsUser, revision: Revision, comment: Comment
    ) -> None:
        response = as_user("mallory").post(reply_url(revision, comment), {"body": "x"})
        assert response.status_code == 404
        assert not Comment.objects.filter(parent__isnull=False).exists()

    def test_anonymous_goes_to_login(
        self, client: Client, revision: Revision, comment: Comment
    ) -> None:
        response = client.post(reply_url(revision, comment), {"body": "x"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_a_wrong_method_gets_405(
        self, as_user: AsUser, revision: Revision, comment: Comment
    ) -> None:
        assert as_user("carol").get(reply_url(revision, comment)).status_code == 405

    def test_resolving_from_a_reply_resolves_the_thread(
        self, as_user: AsUser, personas: Personas, revision: Revision, comment: Comment
    ) -> None:
        answer = reply(comment, personas.bob)
        url = reverse("reviews:comment-resolve", args=[revision.provider_id, answer.pk])
        response = as_user("carol").post(url, {"revision": revision.number})
        assert response.status_code == 302
        comment.refresh_from_db()
        assert comment.is_resolved
