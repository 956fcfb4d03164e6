from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from studio.audit.models import AuditEvent
from studio.builds.models import Build
from studio.catalog.models import Provider
from studio.reviews import services
from studio.reviews.models import Comment, Decision, Revision
from tests.reviews.conftest import (
    HTMX,
    Personas,
    Published,
    approve,
    edit,
    set_price,
    submit,
)

pytestmark = pytest.mark.django_db

AsUser = Callable[[str], Client]
READERS = ["carol", "victor"]  # cannot submit or release
PRICE = ["model", "llm", "model-000", "pricing"]


@pytest.fixture
def revision(personas: Personas, provider: Provider) -> Revision:
    return submit(provider, personas.bob, "First cut")


@pytest.fixture
def approved(personas: Personas, revision: Revision) -> Revision:
    return approve(revision, personas.carol)


def url(name: str, *args: Any) -> str:
    return reverse(f"reviews:{name}", args=args)


def detail(revision: Revision, query: str = "") -> str:
    return url("revision-detail", revision.provider_id, revision.number) + query


def page(response: Any) -> str:
    body = response.content.decode()
    assert "<html" in body, body[:300]
    return body


def partial(response: Any) -> str:
    body = response.content.decode()
    assert "<html" not in body, body[:300]
    return body


class TestProviderReviews:
    def test_the_tab_lists_revisions_with_their_state(
        self, as_user: AsUser, provider: Provider, approved: Revision
    ) -> None:
        body = page(as_user("victor").get(url("provider-reviews", provider.pk)))
        assert 'aria-current="page">Review<' in body
        assert detail(approved) in body and "First cut" in body
        assert "1 of 1: carol" in body
        assert "Submit for review</button>" not in body  # a viewer

    def test_an_author_sees_the_draft_summary_and_the_submit_form(
        self, as_user: AsUser, provider: Provider, approved: Revision
    ) -> None:
        edit(provider, set_price("0.75"))
        body = page(as_user("bob").get(url("provider-reviews", provider.pk)))
        assert "Submit for review</button>" in body
        assert "1 change" in body and 'a <strong class="suggestion">minor' in body
        assert "still 0.0.1 but the changes are notable" in body

    def test_the_tab_appears_on_every_provider_page(
        self, as_user: AsUser, provider: Provider
    ) -> None:
        body = (
            as_user("bob")
            .get(reverse("catalog:provider-detail", args=[provider.pk]))
            .content.decode()
        )
        assert url("provider-reviews", provider.pk) in body

    def test_an_htmx_request_gets_the_revision_list(
        self, as_user: AsUser, provider: Provider, revision: Revision
    ) -> None:
        body = partial(
            as_user("carol").get(url("provider-reviews", provider.pk), headers=HTMX)
        )
        assert 'id="revisions"' in body and detail(revision) in body

    def test_another_teams_user_gets_404(
        self, as_user: AsUser, provider: Provider
    ) -> None:
        response = as_user("mallory").get(url("provider-reviews", provider.pk))
        assert response.status_code == 404

    def test_a_wrong_method_gets_405(self, as_user: AsUser, provider: Provider) -> None:
        response = as_user("bob").post(url("provider-reviews", provider.pk))
        assert response.status_code == 405


class TestSubmit:
    def test_an_author_submits_and_lands_on_the_revision(
        self, as_user: AsUser, provider: Provider, personas: Personas
    ) -> None:
        response = as_user("bob").post(
            url("revision-submit", provider.pk), {"message": "Ready"}
        )
        revision = Revision.objects.get()
        assert response.status_code == 302 and response["Location"] == detail(revision)
        assert revision.submitted_by == personas.bob and revision.message == "Ready"

    def test_an_htmx_submit_redirects_the_browser(
        self, as_user: AsUser, provider: Provider
    ) -> None:
        response = as_user("alice").post(
            url("revision-submit", provider.pk), {"message": "Ready"}, headers=HTMX
        )
        assert response.status_code == 200
        assert response["HX-Redirect"] == detail(Revision.objects.get())

    def test_a_missing_message_is_a_field_error(
        self, as_user: AsUser, provider: Provider
    ) -> None:
        response = as_user("bob").post(
            url("revision-submit", provider.pk), {"message": " "}, headers=HTMX
        )
        assert response.status_code == 400
        assert "This field is required" in partial(response)
        assert Revision.objects.count() == 0

    def test_submitting_unchanged_files_again_is_a_conflict(
        self, as_user: AsUser, provider: Provider, revision: Revision
    ) -> None:
        response = as_user("bob").post(
            url("revision-submit", provider.pk), {"message": "Again"}
        )
        assert response.status_code == 409
        assert "Nothing changed since r1" in page(response)
        assert Revision.objects.count() == 1

    @pytest.mark.parametrize("who", READERS)
    def test_readers_cannot_submit(
        self, as_user: AsUser, provider: Provider, who: str
    ) -> None:
        response = as_user(who).post(
            url("revision-submit", provider.pk), {"message": "x"}
        )
        assert response.status_code == 403 and Revision.objects.count() == 0

    def test_another_teams_user_gets_404(
        self, as_user: AsUser, provider: Provider
    ) -> None:
        response = as_user("mallory").post(
            url("revision-submit", provider.pk), {"message": "x"}
        )
        assert response.status_code == 404 and Revision.objects.count() == 0

    def test_a_wrong_method_gets_405(self, as_user: AsUser, provider: Provider) -> None:
        assert (
            as_user("bob").get(url("revision-submit", provider.pk)).status_code == 405
        )


class TestRevisionDetail:
    def test_the_page_shows_the_classified_changes_against_the_last_approved(
        self,
        as_user: AsUser,
        personas: Personas,
        provider: Provider,
        approved: Revision,
    ) -> None:
        edit(provider, set_price("0.75"))
        second = submit(provider, personas.bob, "Dearer")
        body = page(as_user("carol").get(detail(second)))
        assert "Compared with r1 (approved, version 0.0.1), the last approved" in body
        assert 'class="level level-notable">notable' in body
        # Under its model's heading, the change says what changed, unit in words.
        assert "llm model model-000</h4>" in body
        assert (
            '<span class="change-message">input price &quot;0.5&quot; → '
            "&quot;0.75&quot; (USD per 1M tokens)</span>" in body
        )
        assert "still 0.0.1 but the changes are notable" in body
        assert "Approve</button>" in body

    def test_any_two_revisions_compare_and_the_text_diff_is_escaped(
        self,
        as_user: AsUser,
        personas: Personas,
        provider: Provider,
        revision: Revision,
    ) -> None:
        def relabel(doc: Any) -> None:
            doc.models[0].spec.label.en_US = "<script>alert(1)</script>"

        edit(provider, relabel)
        second = submit(provider, personas.bob)
        body = page(as_user("carol").get(detail(second, "?base=1&view=text")))
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert 'class="td-add"' in body and "models/llm/model-000.yaml" in body
        first = page(as_user("carol").get(detail(revision, "?base=none")))
        assert "Compared with nothing: everything in r1 is listed as new" in first
        assert "Everything is new:" in first
        assert "Added (2)" in first and "<code>model-001</code>" in first

    def test_the_text_view_lists_pinned_comments_below_the_files(
        self,
        as_user: AsUser,
        personas: Personas,
        provider: Provider,
        revision: Revision,
    ) -> None:
        services.comment_create(
            revision=revision, user=personas.carol, body="Price?", anchor=PRICE
        )
        edit(provider, set_price("0.75"))
        second = submit(provider, personas.bob)
        body = partial(as_user("carol").get(detail(second, "?view=text"), headers=HTMX))
        assert '<span class="td-add">+  input: &#x27;0.75&#x27;</span>' in body
        assert "Price?" in body and ">outdated<" in body

    def test_an_htmx_request_gets_the_review_part(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        body = partial(as_user("carol").get(detail(revision), headers=HTMX))
        assert body.lstrip().startswith('<section id="review"')

    def test_a_viewer_reads_but_gets_no_forms(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        body = page(as_user("victor").get(detail(revision)))
        assert "reads comments but does not write them" in body
        assert "Approve</button>" not in body

    def test_the_author_is_not_offered_to_approve(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        body = page(as_user("bob").get(detail(revision)))
        assert "someone else approves it" in body and "Approve</button>" not in body

    def test_another_teams_user_gets_404(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        assert as_user("mallory").get(detail(revision)).status_code == 404

    def test_an_unknown_revision_is_404(
        self, as_user: AsUser, provider: Provider
    ) -> None:
        assert (
            as_user("bob").get(url("revision-detail", provider.pk, 9)).status_code
            == 404
        )

    def test_a_wrong_method_gets_405(self, as_user: AsUser, revision: Revision) -> None:
        assert as_user("bob").post(detail(revision)).status_code == 405


class TestCommentCreate:
    def comment_url(self, revision: Revision) -> str:
        return url("comment-create", revision.provider_id, revision.number)

    def test_a_reviewer_comments_on_a_price(
        self, as_user: AsUser, personas: Personas, revision: Revision
    ) -> None:
        response = as_user("carol").post(
            self.comment_url(revision),
            {"body": "Too <b>cheap</b>", "anchor": json.dumps(PRICE), "base": "none"},
        )
        comment = Comment.objects.get()
        assert response.status_code == 302
        assert (
            response["Location"] == f"{detail(revision)}?base=none#comment-{comment.pk}"
        )
        assert comment.anchor == PRICE and comment.author == personas.carol
        body = page(as_user("carol").get(detail(revision)))
        assert "Too &lt;b&gt;cheap&lt;/b&gt;" in body
        assert "on llm model model-000 · pricing" in body

    def test_an_htmx_comment_returns_the_review_part_with_it(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        response = as_user("alice").post(
            self.comment_url(revision), {"body": "Overall fine"}, headers=HTMX
        )
        body = partial(response)
        assert response.status_code == 200
        assert "Overall fine" in body and 'id="review"' in body

    def test_an_empty_comment_or_a_bad_place_is_a_field_error(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        client = as_user("carol")
        empty = client.post(self.comment_url(revision), {"body": ""}, headers=HTMX)
        bad = client.post(
            self.comment_url(revision),
            {"body": "x", "anchor": '["elsewhere"]'},
            headers=HTMX,
        )
        assert empty.status_code == 400 and "This field is required" in partial(empty)
        assert bad.status_code == 400 and "Not a place in this plugin" in partial(bad)
        assert Comment.objects.count() == 0

    def test_a_viewer_cannot_comment(self, as_user: AsUser, revision: Revision) -> None:
        response = as_user("victor").post(self.comment_url(revision), {"body": "hi"})
        assert response.status_code == 403 and Comment.objects.count() == 0

    def test_another_teams_user_gets_404(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        response = as_user("mallory").post(self.comment_url(revision), {"body": "hi"})
        assert response.status_code == 404 and Comment.objects.count() == 0

    def test_a_wrong_method_gets_405(self, as_user: AsUser, revision: Revision) -> None:
        assert as_user("carol").get(self.comment_url(revision)).status_code == 405


class TestCommentResolve:
    @pytest.fixture
    def comment(self, personas: Personas, revision: Revision) -> Comment:
        return services.comment_create(
            revision=revision, user=personas.carol, body="Check", anchor=PRICE
        )

    def resolve_url(self, comment: Comment) -> str:
        return url("comment-resolve", comment.provider_id, comment.pk)

    def test_the_author_resolves_and_goes_back_to_the_revision(
        self, as_user: AsUser, comment: Comment, revision: Revision
    ) -> None:
        response = as_user("bob").post(self.resolve_url(comment), {"revision": "1"})
        assert response.status_code == 302
        assert response["Location"] == f"{detail(revision)}#comment-{comment.pk}"
        comment.refresh_from_db()
        assert comment.is_resolved

    def test_resolving_from_a_later_revision_goes_back_to_it(
        self,
        as_user: AsUser,
        personas: Personas,
        provider: Provider,
        comment: Comment,
    ) -> None:
        edit(provider, set_price("0.75"))
        second = submit(provider, personas.bob)
        response = as_user("carol").post(
            self.resolve_url(comment), {"revision": "2", "view": "text"}
        )
        assert response["Location"] == (
            f"{detail(second)}?view=text#comment-{comment.pk}"
        )

    def test_an_htmx_resolve_returns_the_review_part(
        self, as_user: AsUser, comment: Comment
    ) -> None:
        client = as_user("carol")
        body = partial(
            client.post(self.resolve_url(comment), {"revision": "1"}, headers=HTMX)
        )
        assert "resolved by carol" in body and "Reopen</button>" in body
        client.post(self.resolve_url(comment), {"resolved": "0"}, headers=HTMX)
        comment.refresh_from_db()
        assert not comment.is_resolved

    def test_a_viewer_cannot_resolve(self, as_user: AsUser, comment: Comment) -> None:
        assert as_user("victor").post(self.resolve_url(comment)).status_code == 403
        comment.refresh_from_db()
        assert not comment.is_resolved

    def test_another_teams_user_gets_404(
        self, as_user: AsUser, comment: Comment
    ) -> None:
        assert as_user("mallory").post(self.resolve_url(comment)).status_code == 404

    def test_a_wrong_method_gets_405(self, as_user: AsUser, comment: Comment) -> None:
        assert as_user("bob").get(self.resolve_url(comment)).status_code == 405


class TestDecide:
    def decide_url(self, revision: Revision) -> str:
        return url("revision-decide", revision.provider_id, revision.number)

    def test_a_reviewer_approves(self, as_user: AsUser, revision: Revision) -> None:
        response = as_user("carol").post(
            self.decide_url(revision), {"verdict": "approve"}
        )
        assert response.status_code == 302 and response["Location"] == detail(revision)
        revision.refresh_from_db()
        assert revision.status == Revision.Status.APPROVED

    def test_an_htmx_change_request_returns_the_decision_part(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        response = as_user("alice").post(
            self.decide_url(revision),
            {"verdict": "request-changes", "note": "Price is off"},
            headers=HTMX,
        )
        body = partial(response)
        assert response.status_code == 200 and 'id="decision"' in body
        assert (
            "changes requested</span> by <strong>alice</strong>: Price is off" in body
        )

    def test_a_change_request_needs_a_note(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        response = as_user("carol").post(
            self.decide_url(revision), {"verdict": "request-changes"}
        )
        assert response.status_code == 400 and "Say what should change" in page(
            response
        )
        assert Decision.objects.count() == 0

    def test_the_author_cannot_approve_their_own_revision(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        response = as_user("bob").post(
            self.decide_url(revision), {"verdict": "approve"}, headers=HTMX
        )
        assert response.status_code == 403
        assert "cannot approve their own revision" in partial(response)
        revision.refresh_from_db()
        assert revision.status == Revision.Status.PENDING
        assert Decision.objects.count() == 0

    def test_a_decided_revision_is_a_conflict(
        self, as_user: AsUser, approved: Revision
    ) -> None:
        response = as_user("alice").post(
            self.decide_url(approved), {"verdict": "request-changes", "note": "x"}
        )
        assert response.status_code == 409 and "takes no more decisions" in page(
            response
        )

    def test_a_viewer_cannot_decide(self, as_user: AsUser, revision: Revision) -> None:
        response = as_user("victor").post(
            self.decide_url(revision), {"verdict": "approve"}
        )
        assert response.status_code == 403 and Decision.objects.count() == 0

    def test_another_teams_user_gets_404(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        response = as_user("mallory").post(
            self.decide_url(revision), {"verdict": "approve"}
        )
        assert response.status_code == 404 and Decision.objects.count() == 0

    def test_a_wrong_method_gets_405(self, as_user: AsUser, revision: Revision) -> None:
        assert as_user("carol").get(self.decide_url(revision)).status_code == 405


class TestRelease:
    def release_url(self, revision: Revision) -> str:
        return url("revision-release", revision.provider_id, revision.number)

    def test_an_owner_releases_an_approved_revision(
        self, as_user: AsUser, approved: Revision, broker: Published
    ) -> None:
        response = as_user("alice").post(self.release_url(approved), {"smoke": "on"})
        build = Build.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("builds:build-detail", args=[build.pk])
        assert build.kind == "release" and build.revision_label == "r1"
        assert build.run_smoke

    def test_the_builds_tab_tells_releases_from_draft_builds(
        self,
        as_user: AsUser,
        personas: Personas,
        provider: Provider,
        approved: Revision,
        broker: Published,
        run_published: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        from studio.builds import services as build_services

        with django_capture_on_commit_callbacks(execute=True):
            services.release_start(revision=approved, user=personas.alice)
        with django_capture_on_commit_callbacks(execute=True):
            run_published()
        with django_capture_on_commit_callbacks(execute=True):
            build_services.build_start(provider=provider, user=None)
        body = page(
            as_user("bob").get(reverse("builds:provider-builds", args=[provider.pk]))
        )
        assert "<td>release (r1)</td>" in body
        assert 'title="built from the working draft, for testing">draft</span>' in body

    def test_an_htmx_release_redirects_the_browser(
        self, as_user: AsUser, approved: Revision, broker: Published
    ) -> None:
        response = as_user("bob").post(self.release_url(approved), headers=HTMX)
        build = Build.objects.get()
        assert response["HX-Redirect"] == reverse(
            "builds:build-detail", args=[build.pk]
        )

    def test_an_unapproved_revision_is_a_conflict(
        self, as_user: AsUser, revision: Revision, broker: Published
    ) -> None:
        response = as_user("alice").post(self.release_url(revision), headers=HTMX)
        assert response.status_code == 409
        assert "only an approved revision can be released" in partial(response)
        assert Build.objects.count() == 0 and broker == []

    @pytest.mark.parametrize("who", READERS)
    def test_readers_cannot_release(
        self, as_user: AsUser, approved: Revision, broker: Published, who: str
    ) -> None:
        assert as_user(who).post(self.release_url(approved)).status_code == 403
        assert Build.objects.count() == 0

    def test_another_teams_user_gets_404(
        self, as_user: AsUser, approved: Revision, broker: Published
    ) -> None:
        assert as_user("mallory").post(self.release_url(approved)).status_code == 404
        assert Build.objects.count() == 0

    def test_a_wrong_method_gets_405(self, as_user: AsUser, approved: Revision) -> None:
        assert as_user("alice").get(self.release_url(approved)).status_code == 405


class TestInbox:
    def test_the_inbox_and_the_navigation_count_pending_reviews(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        body = page(as_user("carol").get(url("inbox")))
        assert detail(revision) in body
        assert 'title="revisions waiting for your review">1</span>' in body

    def test_the_author_sees_their_revision_sent_back(
        self, as_user: AsUser, personas: Personas, revision: Revision
    ) -> None:
        services.revision_decide(
            revision=revision, user=personas.carol, verdict="request-changes"
        )
        body = page(as_user("bob").get(url("inbox")))
        assert "1 back to you" in body and detail(revision) in body

    def test_an_htmx_request_gets_the_inbox_part(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        body = partial(as_user("carol").get(url("inbox"), headers=HTMX))
        assert body.lstrip().startswith('<div id="inbox">')

    def test_another_teams_user_sees_nothing_of_it(
        self, as_user: AsUser, revision: Revision
    ) -> None:
        body = page(as_user("mallory").get(url("inbox")))
        assert detail(revision) not in body and "Nothing to review" in body

    def test_a_wrong_method_gets_405(self, as_user: AsUser) -> None:
        assert as_user("carol").post(url("inbox")).status_code == 405


class TestAudit:
    def test_the_provider_log_shows_who_did_what(
        self,
        as_user: AsUser,
        personas: Personas,
        provider: Provider,
        approved: Revision,
    ) -> None:
        body = page(as_user("victor").get(url("provider-audit", provider.pk)))
        assert "submitted a revision" in body and "approved" in body
        assert "<td>bob</td>" in body and "<td>carol</td>" in body

    def test_the_provider_log_filters_by_action_with_htmx(
        self, as_user: AsUser, provider: Provider, approved: Revision
    ) -> None:
        body = partial(
            as_user("bob").get(
                url("provider-audit", provider.pk) + "?action=approve", headers=HTMX
            )
        )
        assert "audit-approve" in body and "audit-submit" not in body

    def test_the_team_log_spans_providers(
        self, as_user: AsUser, personas: Personas, approved: Revision
    ) -> None:
        body = page(as_user("carol").get(url("team-audit", personas.team.slug)))
        assert "acme/gateway" in body and "submitted a revision" in body
        part = partial(
            as_user("carol").get(url("team-audit", personas.team.slug), headers=HTMX)
        )
        assert 'id="audit-events"' in part

    def test_downloads_are_logged(
        self,
        as_user: AsUser,
        approved: Revision,
        run_published: Any,
        storage: Path,
        django_capture_on_commit_callbacks,
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            build = services.release_start(
                revision=approved, user=approved.submitted_by
            )
        with django_capture_on_commit_callbacks(execute=True):
            run_published()
        response = as_user("victor").get(
            reverse("builds:build-download", args=[build.pk])
        )
        assert response.status_code == 200
        event = AuditEvent.objects.filter(action="download").get()
        assert event.actor_name == "victor" and event.build_id == build.pk
        build.refresh_from_db()
        assert event.summary.startswith(
            f"gateway-0.0.1-b{build.pk}-{'signed' if build.signed else 'unsigned'}"
            ".difypkg (release r1"
        )

    def test_another_teams_user_gets_404(
        self, as_user: AsUser, personas: Personas, provider: Provider
    ) -> None:
        client = as_user("mallory")
        assert client.get(url("provider-audit", provider.pk)).status_code == 404
        assert client.get(url("team-audit", personas.team.slug)).status_code == 404

    def test_a_wrong_method_gets_405(
        self, as_user: AsUser, personas: Personas, provider: Provider
    ) -> None:
        client = as_user("bob")
        assert client.post(url("provider-audit", provider.pk)).status_code == 405
        assert client.post(url("team-audit", personas.team.slug)).status_code == 405


class TestTeamSettings:
    def test_an_owner_requires_two_approvals(
        self, as_user: AsUser, personas: Personas, provider: Provider
    ) -> None:
        settings_url = url("team-settings", personas.team.slug)
        client = as_user("alice")
        assert "Save</button>" in page(client.get(settings_url))
        response = client.post(settings_url, {"required_approvals": "2"})
        assert response.status_code == 302
        assert submit(provider, personas.bob).required_approvals == 2

    def test_an_htmx_save_returns_the_settings_part(
        self, as_user: AsUser, personas: Personas
    ) -> None:
        response = as_user("alice").post(
            url("team-settings", personas.team.slug),
            {"required_approvals": "3"},
            headers=HTMX,
        )
        assert "need 3 approvals" in partial(response)

    def test_an_out_of_range_value_is_a_field_error(
        self, as_user: AsUser, personas: Personas
    ) -> None:
        response = as_user("alice").post(
            url("team-settings", personas.team.slug), {"required_approvals": "0"}
        )
        assert response.status_code == 400
        assert "greater than or equal to 1" in page(response)

    @pytest.mark.parametrize("who", ["bob", "carol", "victor"])
    def test_only_owners_change_it(
        self, as_user: AsUser, personas: Personas, who: str
    ) -> None:
        client = as_user(who)
        settings_url = url("team-settings", personas.team.slug)
        assert "Only an owner changes this" in page(client.get(settings_url))
        assert client.post(settings_url, {"required_approvals": "2"}).status_code == 403

    def test_another_teams_user_gets_404(
        self, as_user: AsUser, personas: Personas
    ) -> None:
        response = as_user("mallory").get(url("team-settings", personas.team.slug))
        assert response.status_code == 404

    def test_a_wrong_method_gets_405(self, as_user: AsUser, personas: Personas) -> None:
        response = as_user("alice").put(url("team-settings", personas.team.slug))
        assert response.status_code == 405
