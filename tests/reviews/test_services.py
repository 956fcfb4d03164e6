from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import RestrictedError

from studio.audit.models import AuditEvent
from studio.builds import services as build_services
from studio.builds.models import Build, BuildSource
from studio.catalog import services as catalog
from studio.catalog.models import Provider
from studio.pluginfmt.readers import read_package
from studio.reviews import selectors, services
from studio.reviews.diff import revision_diff, revision_view
from studio.reviews.models import Comment, Decision, Revision
from tests.factories import make_provider
from tests.reviews.conftest import (
    Personas,
    Published,
    approve,
    bump,
    edit,
    price_of,
    set_price,
    submit,
)

pytestmark = pytest.mark.django_db

PRICE = ("model", "llm", "model-000", "pricing")


def actions(provider: Provider) -> list[str]:
    return [e.action for e in selectors.audit_for_provider(provider)][::-1]


class TestSubmit:
    def test_it_freezes_the_files_with_a_number_and_a_message(
        self, personas: Personas, provider: Provider
    ) -> None:
        files = catalog.provider_files(provider)
        revision = submit(provider, personas.bob, "First cut\n\nTwo models.")
        assert revision.number == 1 and revision.label == "r1"
        assert revision.message == "First cut\n\nTwo models."
        assert revision.version == "0.0.1"
        assert revision.status == Revision.Status.PENDING
        assert revision.submitted_by == personas.bob
        assert revision.files() == files

    def test_editing_continues_on_the_draft_and_never_changes_the_revision(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = submit(provider, personas.bob)
        edit(provider, set_price("9.99"))
        assert price_of(catalog.provider_files(provider)) == "9.99"
        revision.refresh_from_db()
        assert price_of(revision.files()) == "0.5"

    def test_numbers_count_per_provider(self, personas: Personas) -> None:
        one = make_provider(personas.team, "one", models=1)
        two = make_provider(personas.team, "two", models=1)
        assert submit(one, personas.bob).number == 1
        assert submit(two, personas.bob).number == 1
        edit(one, bump("0.0.2"))
        assert submit(one, personas.bob).number == 2

    def test_a_newer_revision_supersedes_the_open_ones(
        self, personas: Personas, provider: Provider
    ) -> None:
        first = submit(provider, personas.bob)
        edit(provider, bump("0.0.2"))
        second = submit(provider, personas.bob)
        first.refresh_from_db()
        assert first.status == Revision.Status.SUPERSEDED
        assert second.status == Revision.Status.PENDING

    def test_an_approved_revision_stays_approved_when_a_newer_one_comes(
        self, personas: Personas, provider: Provider
    ) -> None:
        first = approve(submit(provider, personas.bob), personas.carol)
        edit(provider, bump("0.0.2"))
        submit(provider, personas.bob)
        first.refresh_from_db()
        assert first.status == Revision.Status.APPROVED

    def test_unchanged_files_are_refused(
        self, personas: Personas, provider: Provider
    ) -> None:
        submit(provider, personas.bob)
        with pytest.raises(services.NothingToSubmit, match="Nothing changed since r1"):
            submit(provider, personas.alice)
        assert Revision.objects.count() == 1

    @pytest.mark.parametrize("who", ["carol", "victor", "mallory"])
    def test_reviewers_viewers_and_outsiders_cannot_submit(
        self, personas: Personas, provider: Provider, who: str
    ) -> None:
        with pytest.raises(services.NotAllowed):
            submit(provider, getattr(personas, who))
        assert Revision.objects.count() == 0

    def test_a_revision_is_immutable_in_the_database(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = submit(provider, personas.bob)
        with pytest.raises(IntegrityError), transaction.atomic():
            Revision.objects.create(
                provider=provider,
                number=1,
                message="duplicate",
                source=revision.source,
            )
        # The frozen files cannot be deleted while a revision points to them.
        with pytest.raises(RestrictedError), transaction.atomic():
            revision.source.delete()

    def test_deleting_the_provider_deletes_its_revisions_and_their_files(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = submit(provider, personas.bob)
        services.comment_create(revision=revision, user=personas.carol, body="x")
        provider.delete()
        assert Revision.objects.count() == 0 and Comment.objects.count() == 0
        assert BuildSource.objects.filter(pk=revision.source_id).count() == 0
        # The team's log outlives the provider.
        assert AuditEvent.objects.filter(plugin_id="acme/gateway").count() == 2

    def test_the_submit_is_logged(self, personas: Personas, provider: Provider) -> None:
        submit(provider, personas.bob, "Add pricing")
        event = AuditEvent.objects.get()
        assert event.action == "submit" and event.actor == personas.bob
        assert event.team == personas.team and event.provider == provider
        assert "r1" in event.summary and "Add pricing" in event.summary


class TestDecide:
    def test_an_author_cannot_approve_their_own_revision(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = submit(provider, personas.bob)
        with pytest.raises(services.SelfApproval):
            services.revision_decide(
                revision=revision, user=personas.bob, verdict="approve"
            )
        revision.refresh_from_db()
        assert revision.status == Revision.Status.PENDING
        assert Decision.objects.count() == 0

    def test_one_approval_by_another_member_approves_by_default(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = approve(submit(provider, personas.bob), personas.carol)
        assert revision.status == Revision.Status.APPROVED
        assert revision.decided_at is not None
        assert [d.reviewer for d in revision.approvers()] == [personas.carol]

    def test_a_team_requiring_two_approvals_waits_for_the_second(
        self, personas: Personas, provider: Provider
    ) -> None:
        services.review_settings_update(
            team=personas.team, user=personas.alice, required_approvals=2
        )
        revision = submit(provider, personas.bob)
        assert revision.required_approvals == 2
        assert approve(revision, personas.carol).status == Revision.Status.PENDING
        # The same reviewer approving twice is still one approval.
        assert approve(revision, personas.carol).status == Revision.Status.PENDING
        assert approve(revision, personas.alice).status == Revision.Status.APPROVED

    def test_a_change_request_sends_it_back_until_that_reviewer_approves(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = submit(provider, personas.bob)
        services.revision_decide(
            revision=revision,
            user=personas.carol,
            verdict="request-changes",
            note="The price is wrong",
        )
        revision.refresh_from_db()
        assert revision.status == Revision.Status.CHANGES_REQUESTED
        # Another member's approval does not outvote the change request.
        assert approve(revision, personas.alice).status == (
            Revision.Status.CHANGES_REQUESTED
        )
        assert approve(revision, personas.carol).status == Revision.Status.APPROVED

    def test_the_author_may_ask_for_changes_on_their_own_revision(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = submit(provider, personas.bob)
        services.revision_decide(
            revision=revision, user=personas.bob, verdict="request-changes"
        )
        revision.refresh_from_db()
        assert revision.status == Revision.Status.CHANGES_REQUESTED

    def test_approved_and_superseded_revisions_take_no_more_decisions(
        self, personas: Personas, provider: Provider
    ) -> None:
        approved = approve(submit(provider, personas.bob), personas.carol)
        with pytest.raises(services.RevisionClosed, match="approved"):
            services.revision_decide(
                revision=approved, user=personas.alice, verdict="request-changes"
            )
        edit(provider, bump("0.0.2"))
        old = submit(provider, personas.bob)
        edit(provider, bump("0.0.3"))
        submit(provider, personas.bob)
        with pytest.raises(services.RevisionClosed, match="superseded"):
            approve(old, personas.carol)

    @pytest.mark.parametrize("who", ["victor", "mallory"])
    def test_viewers_and_outsiders_cannot_decide(
        self, personas: Personas, provider: Provider, who: str
    ) -> None:
        revision = submit(provider, personas.bob)
        with pytest.raises(services.NotAllowed):
            approve(revision, getattr(personas, who))
        assert revision.status == Revision.Status.PENDING

    def test_decisions_are_logged_with_their_note(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = submit(provider, personas.bob)
        services.revision_decide(
            revision=revision,
            user=personas.carol,
            verdict="request-changes",
            note="Fix the price",
        )
        approve(revision, personas.carol)
        assert actions(provider) == ["submit", "request-changes", "approve"]
        latest = selectors.audit_for_provider(provider)[0]
        assert latest.actor_name == "carol" and "approved" in latest.summary


class TestComments:
    def test_a_viewer_cannot_comment(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = submit(provider, personas.bob)
        with pytest.raises(services.NotAllowed):
            services.comment_create(revision=revision, user=personas.victor, body="hi")
        assert Comment.objects.count() == 0

    def test_a_comment_pinned_to_a_price_goes_outdated_when_the_price_changes(
        self, personas: Personas, provider: Provider
    ) -> None:
        first = submit(provider, personas.bob)
        price = services.comment_create(
            revision=first, user=personas.carol, body="Too cheap", anchor=PRICE
        )
        label = services.comment_create(
            revision=first,
            user=personas.carol,
            body="Nice label",
            anchor=("model", "llm", "model-001", "label"),
        )
        whole = services.comment_create(
            revision=first, user=personas.carol, body="Looks good overall"
        )
        assert price.anchor_label == "llm model model-000 · pricing"
        on_first = selectors.comments_for_revision(first, revision_view(first))
        assert [c.outdated for c in on_first] == [False, False, False]

        edit(provider, set_price("0.75"))
        second = submit(provider, personas.bob, "Price fixed")
        seen = {
            c.comment.pk: c
            for c in selectors.comments_for_revision(second, revision_view(second))
        }
        assert seen[price.pk].outdated and seen[price.pk].carried
        assert not seen[label.pk].outdated and seen[label.pk].carried
        # A comment on the first revision as a whole stays with it.
        assert whole.pk not in seen

    def test_a_comment_on_a_removed_model_goes_outdated_when_it_comes_back(
        self, personas: Personas, provider: Provider
    ) -> None:
        first = submit(provider, personas.bob)
        edit(provider, lambda doc: doc.models.pop())
        second = submit(provider, personas.bob)
        gone = ("model", "llm", "model-001")
        comment = services.comment_create(
            revision=second, user=personas.carol, body="Why?", anchor=gone
        )
        assert (
            selectors.comments_for_revision(second, revision_view(second))[0].outdated
            is False
        )
        catalog.provider_replace_files(provider=provider, files=first.files())
        edit(provider, bump("0.0.2"))
        third = submit(provider, personas.bob)
        [view] = selectors.comments_for_revision(third, revision_view(third))
        assert view.comment == comment and view.outdated

    def test_an_unknown_kind_of_place_is_refused(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = submit(provider, personas.bob)
        with pytest.raises(services.InvalidAnchor):
            services.comment_create(
                revision=revision,
                user=personas.carol,
                body="x",
                anchor=("nowhere", "at", "all"),
            )

    def test_resolving_and_reopening_is_logged_once_each(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = submit(provider, personas.bob)
        comment = services.comment_create(
            revision=revision, user=personas.carol, body="Check", anchor=PRICE
        )
        resolved = services.comment_resolve(comment=comment, user=personas.bob)
        assert resolved.is_resolved and resolved.resolved_by == personas.bob
        services.comment_resolve(comment=comment, user=personas.bob)
        reopened = services.comment_resolve(
            comment=comment, user=personas.carol, resolved=False
        )
        assert not reopened.is_resolved and reopened.resolved_by is None
        assert actions(provider) == ["submit", "comment", "resolve", "reopen"]

    def test_a_viewer_cannot_resolve(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = submit(provider, personas.bob)
        comment = services.comment_create(
            revision=revision, user=personas.carol, body="Check"
        )
        with pytest.raises(services.NotAllowed):
            services.comment_resolve(comment=comment, user=personas.victor)
        comment.refresh_from_db()
        assert not comment.is_resolved


class TestDiffOfRevisions:
    def test_the_default_base_is_the_last_approved_revision(
        self, personas: Personas, provider: Provider
    ) -> None:
        first = approve(submit(provider, personas.bob), personas.carol)
        edit(provider, bump("0.0.2"))
        second = submit(provider, personas.bob)
        edit(provider, bump("0.0.3"))
        third = submit(provider, personas.bob)
        assert selectors.default_base(third) == first
        # A first revision: what the provider was when it was created.
        assert selectors.default_base(first) == provider.baseline
        second.refresh_from_db()
        assert second.status == Revision.Status.SUPERSEDED

    def test_without_an_approved_one_it_is_the_previous_revision(
        self, personas: Personas, provider: Provider
    ) -> None:
        first = submit(provider, personas.bob)
        edit(provider, bump("0.0.2"))
        second = submit(provider, personas.bob)
        assert selectors.default_base(second) == first

    def test_any_two_revisions_compare_and_serialise(
        self, personas: Personas, provider: Provider
    ) -> None:
        import json

        first = submit(provider, personas.bob)
        edit(provider, set_price("0.6"))
        edit(provider, bump("0.1.0"))
        second = submit(provider, personas.bob)
        result = revision_diff(base=first, head=second)
        data = json.loads(json.dumps(result.as_dict()))
        assert data["base"]["number"] == 1 and data["head"]["number"] == 2
        assert data["suggestion"] == "minor" and data["warnings"] == []
        [change] = data["changes"]
        assert change["anchor"] == [*PRICE, "input"]
        assert change["level"] == "notable"
        backwards = revision_diff(base=second, head=first).diff
        assert "backwards" in backwards.warnings[0]

    def test_revisions_of_two_providers_do_not_compare(
        self, personas: Personas, provider: Provider
    ) -> None:
        other = make_provider(personas.team, "other", models=1)
        with pytest.raises(ValueError, match="different providers"):
            revision_diff(
                base=submit(other, personas.bob), head=submit(provider, personas.bob)
            )


class TestRelease:
    def test_an_unapproved_revision_cannot_be_released(
        self, personas: Personas, provider: Provider, broker: Published
    ) -> None:
        revision = submit(provider, personas.bob)
        with pytest.raises(services.NotApproved, match="only an approved revision"):
            services.release_start(revision=revision, user=personas.alice)
        assert Build.objects.count() == 0 and broker == []

    def test_a_reviewer_cannot_release(
        self, personas: Personas, provider: Provider, broker: Published
    ) -> None:
        revision = approve(submit(provider, personas.bob), personas.carol)
        with pytest.raises(services.NotAllowed):
            services.release_start(revision=revision, user=personas.carol)
        assert Build.objects.count() == 0

    def test_the_release_builds_the_frozen_files_signed_and_is_listed(
        self,
        personas: Personas,
        provider: Provider,
        run_published: Any,
        storage: Path,
        keypair: tuple[bytes, bytes],
        django_capture_on_commit_callbacks,
    ) -> None:
        build_services.signing_key_upload(
            team=personas.team, user=personas.alice, private_pem=keypair[0]
        )
        revision = approve(submit(provider, personas.bob), personas.carol)
        edit(provider, set_price("9.99"))  # the draft moves on
        with django_capture_on_commit_callbacks(execute=True):
            build = services.release_start(revision=revision, user=personas.alice)
        assert build.kind == Build.Kind.RELEASE and build.revision_label == "r1"
        assert build.source == revision.source
        with django_capture_on_commit_callbacks(execute=True):
            run_published()
        build.refresh_from_db()
        assert build.status == Build.Status.SUCCEEDED, build.error
        assert build.signed
        with build.artifact.open("rb") as stream:
            packaged = read_package(stream.read())
        assert price_of(packaged) == "0.5"

        [release] = selectors.releases_for_provider(provider)
        assert release.revision == revision and release.build == build
        assert release.version == "0.0.1" and release.approvers == ["carol"]
        assert release.as_dict()["artifact_name"] == (
            f"gateway-0.0.1-b{build.pk}-signed.difypkg"
        )
        assert release.as_dict()["key_fingerprint"] == (
            build.signing_key.display_fingerprint
        )
        assert release.as_dict()["signed"] is True
        assert actions(provider)[-1] == "release"

    def test_a_running_build_refuses_the_release(
        self,
        personas: Personas,
        provider: Provider,
        broker: Published,
        django_capture_on_commit_callbacks,
    ) -> None:
        revision = approve(submit(provider, personas.bob), personas.carol)
        with django_capture_on_commit_callbacks(execute=True):
            build_services.build_start(provider=provider, user=None)
        with pytest.raises(build_services.BuildInProgress):
            services.release_start(revision=revision, user=personas.alice)
        assert "release" not in actions(provider)


class TestInbox:
    def test_pending_reviews_wait_for_every_other_reviewing_member(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = submit(provider, personas.bob)
        assert selectors.inbox_for_user(personas.carol).to_review == [revision]
        assert selectors.inbox_for_user(personas.alice).to_review == [revision]
        assert selectors.inbox_counts(personas.carol) == (1, 0)
        for nobody in ("bob", "victor", "mallory"):
            assert selectors.inbox_counts(getattr(personas, nobody))[0] == 0
        assert selectors.inbox_for_user(personas.bob).waiting == [revision]

    def test_a_decision_takes_it_out_and_a_change_request_returns_it(
        self, personas: Personas, provider: Provider
    ) -> None:
        revision = submit(provider, personas.bob)
        services.revision_decide(
            revision=revision, user=personas.carol, verdict="request-changes"
        )
        assert selectors.inbox_counts(personas.carol) == (0, 0)
        assert selectors.inbox_counts(personas.alice) == (0, 0)
        assert selectors.inbox_counts(personas.bob) == (0, 1)
        assert selectors.inbox_for_user(personas.bob).returned == [revision]

    def test_with_two_required_an_approval_leaves_it_for_the_others(
        self, personas: Personas, provider: Provider
    ) -> None:
        services.review_settings_update(
            team=personas.team, user=personas.alice, required_approvals=2
        )
        revision = approve(submit(provider, personas.bob), personas.carol)
        assert selectors.inbox_counts(personas.carol) == (0, 0)
        assert selectors.inbox_for_user(personas.alice).to_review == [revision]


class TestSettings:
    def test_only_an_owner_changes_the_required_approvals(
        self, personas: Personas
    ) -> None:
        with pytest.raises(services.NotAllowed):
            services.review_settings_update(
                team=personas.team, user=personas.bob, required_approvals=3
            )
        saved = services.review_settings_update(
            team=personas.team, user=personas.alice, required_approvals=3
        )
        assert saved.required_approvals == 3 and saved.updated_by == personas.alice
        event = selectors.audit_for_team(personas.team)[0]
        assert event.action == "settings" and "3" in event.summary

    @pytest.mark.parametrize("value", [0, 11])
    def test_out_of_range_values_are_refused(
        self, personas: Personas, value: int
    ) -> None:
        with pytest.raises(ValueError, match="1 to 10"):
            services.review_settings_update(
                team=personas.team, user=personas.alice, required_approvals=value
            )
