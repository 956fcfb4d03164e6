"""Revisions, their diff, and releases through the API."""

from __future__ import annotations

from typing import Any

import pytest

from studio.audit.models import AuditEvent
from studio.builds.models import Build
from tests.api.conftest import Api, Published, Revisions, make_token
from tests.catalog.conftest import Personas

pytestmark = pytest.mark.django_db


def url(revisions: Revisions, rest: str) -> str:
    return f"/api/v1/providers/{revisions.provider.pk}/{rest}"


class TestRevisionList:
    def test_it_lists_revisions_newest_first_with_their_approvers(
        self, api: Api, revisions: Revisions
    ) -> None:
        body = api.get(url(revisions, "revisions")).json()
        assert [(r["number"], r["status"]) for r in body["items"]] == [
            (2, "pending"),
            (1, "approved"),
        ]
        first = body["items"][1]
        assert first["approvers"] == ["carol"]
        assert first["submitted_by"] == "bob"
        assert first["label"] == "r1"


class TestRevisionDiff:
    def test_it_compares_with_the_last_approved_revision(
        self, api: Api, revisions: Revisions
    ) -> None:
        body = api.get(url(revisions, "revisions/2/diff")).json()
        assert body["base"]["number"] == 1 and body["head"]["number"] == 2
        price = next(c for c in body["changes"] if c["section"] == "models")
        assert price["level"] == "notable"
        assert (price["old"], price["new"]) != (None, None)
        assert body["suggestion"] == "minor"
        assert body["head_version"] == "0.1.0"

    def test_it_compares_with_the_base_asked_for(
        self, api: Api, revisions: Revisions
    ) -> None:
        body = api.get(url(revisions, "revisions/1/diff?base=1")).json()
        assert body["changes"] == []
        assert body["level"] is None

    def test_a_first_revision_compares_with_the_baseline(
        self, api: Api, revisions: Revisions
    ) -> None:
        body = api.get(url(revisions, "revisions/1/diff")).json()
        assert body["initial"] is False and body["base"] is None
        assert body["baseline"]["kind"] == "created"
        assert body["baseline"]["version"] == "0.0.1"
        # The fixture's two models came after the provider was created.
        assert {c["kind"] for c in body["changes"] if c["section"] == "models"} == {
            "added"
        }
        same = api.get(url(revisions, "revisions/1/diff?base=baseline")).json()
        assert same["changes"] == body["changes"]

    def test_base_none_lists_everything_as_new(
        self, api: Api, revisions: Revisions
    ) -> None:
        body = api.get(url(revisions, "revisions/1/diff?base=none")).json()
        assert body["initial"] is True
        assert body["base"] is None and body["baseline"] is None

    def test_a_provider_without_a_baseline_has_none_to_compare_with(
        self, api: Api, revisions: Revisions
    ) -> None:
        revisions.provider.baseline.delete()
        first = api.get(url(revisions, "revisions/1/diff")).json()
        assert first["initial"] is True and first["baseline"] is None
        response = api.get(url(revisions, "revisions/1/diff?base=baseline"))
        assert response.status_code == 404

    @pytest.mark.parametrize("path", ["revisions/9/diff", "revisions/2/diff?base=9"])
    def test_an_unknown_revision_is_a_404(
        self, api: Api, revisions: Revisions, path: str
    ) -> None:
        response = api.get(url(revisions, path))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    def test_a_malformed_base_is_a_400(self, api: Api, revisions: Revisions) -> None:
        response = api.get(url(revisions, "revisions/2/diff?base=first"))
        assert response.status_code == 400


class TestReleases:
    def test_an_approved_revision_is_released_built_and_downloaded(
        self,
        api: Api,
        revisions: Revisions,
        broker: Published,
        run_published: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(
                url(revisions, "releases"), '{"revision": 1, "smoke": false}'
            )
        assert response.status_code == 202
        build = Build.objects.get(pk=response.json()["id"])
        assert (build.kind, build.revision_label) == ("release", "r1")
        with django_capture_on_commit_callbacks(execute=True):
            run_published()
        listing = api.get(url(revisions, "releases")).json()
        release = listing["items"][0]
        assert release["revision"] == 1
        assert release["approvers"] == ["carol"]
        assert release["version"] == "0.0.1"
        download = release["build"]["artifact"]["download"]
        artifact = api.get(download)
        assert artifact.status_code == 200
        build.refresh_from_db()
        with build.artifact.open("rb") as fh:
            assert b"".join(artifact.streaming_content) == fh.read()
        event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
        assert (event.build_id, event.actor_name) == (build.pk, "bob")

    def test_a_revision_in_review_cannot_be_released(
        self, api: Api, revisions: Revisions, broker: Published
    ) -> None:
        response = api.post(url(revisions, "releases"), '{"revision": 2}')
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"
        assert not Build.objects.exists()

    def test_a_team_token_cannot_release(
        self,
        api: Api,
        revisions: Revisions,
        broker: Published,
        personas: Personas,
    ) -> None:
        token = make_token(personas.alice, personas.team, kind="team", role="author")
        response = api.post(url(revisions, "releases"), '{"revision": 1}', token=token)
        assert response.status_code == 403
        assert "personal token" in response.json()["error"]["message"]

    @pytest.mark.parametrize("reader", ["carol", "victor"])
    def test_a_reader_cannot_release(
        self,
        api: Api,
        revisions: Revisions,
        broker: Published,
        tokens: dict[str, str],
        reader: str,
    ) -> None:
        response = api.post(
            url(revisions, "releases"), '{"revision": 1}', token=tokens[reader]
        )
        assert response.status_code == 403
        assert not Build.objects.exists()

    @pytest.mark.parametrize(
        "body", ["{}", '{"revision": 0}', '{"revision": "one"}', "not json"]
    )
    def test_a_malformed_release_request_is_a_400(
        self, api: Api, revisions: Revisions, broker: Published, body: str
    ) -> None:
        response = api.post(url(revisions, "releases"), body)
        assert response.status_code == 400

    def test_an_unknown_revision_is_a_404(
        self, api: Api, revisions: Revisions, broker: Published
    ) -> None:
        response = api.post(url(revisions, "releases"), '{"revision": 7}')
        assert response.status_code == 404

    def test_a_team_tokens_download_is_audited_under_its_name(
        self,
        api: Api,
        finished_build: Build,
        personas: Personas,
    ) -> None:
        token = make_token(
            personas.alice, personas.team, kind="team", role="viewer", name="deployer"
        )
        response = api.get(f"/api/v1/builds/{finished_build.pk}/artifact", token=token)
        assert response.status_code == 200
        event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
        assert "deployer" in event.summary and event.actor is None


class TestReleaseNotes:
    def test_a_revision_gets_its_generated_notes(
        self, api: Api, revisions: Revisions, broker: Published
    ) -> None:
        body = api.get(url(revisions, "revisions/2/release-notes")).json()
        # r1 was approved but never released: the notes compare with the baseline.
        assert body["compared_with"] == {
            "kind": "baseline",
            "revision": None,
            "version": "0.0.1",
        }
        assert body["version"] == "0.1.0"
        assert body["release_notes"].startswith("### 0.1.0\n\nChanges since the ")
        build = Build.objects.get(
            pk=api.post(url(revisions, "releases"), '{"revision": 1}').json()["id"]
        )
        Build.objects.filter(pk=build.pk).update(status=Build.Status.SUCCEEDED)
        body = api.get(url(revisions, "revisions/2/release-notes")).json()
        assert body["compared_with"] == {
            "kind": "release",
            "revision": 1,
            "version": "0.0.1",
        }
        assert body["release_notes"] == (
            "### 0.1.0\n\nChanges since 0.0.1, the previous release (r1).\n\n"
            "#### Price changes\n\n"
            "- LLM `model-000`: the input price rose from 0.5 to 0.9 USD per 1M "
            "tokens.\n"
        )

    def test_notes_sent_with_the_release_are_stored_and_listed(
        self, api: Api, revisions: Revisions, broker: Published
    ) -> None:
        response = api.post(
            url(revisions, "releases"),
            '{"revision": 1, "release_notes": "### 0.0.1\\n\\nFirst."}',
        )
        assert response.status_code == 202
        [release] = api.get(url(revisions, "releases")).json()["items"]
        assert release["release_notes"] == "### 0.0.1\n\nFirst.\n"
        assert release["submission_kit"] is None  # not built yet

    def test_without_notes_the_generated_ones_are_stored(
        self, api: Api, revisions: Revisions, broker: Published
    ) -> None:
        api.post(url(revisions, "releases"), '{"revision": 1}')
        generated = api.get(url(revisions, "revisions/1/release-notes")).json()
        assert Build.objects.get().release_notes == generated["release_notes"]

    @pytest.mark.parametrize("notes", ['""', '"  \\n "', '"' + "x" * 20_001 + '"'])
    def test_blank_or_overlong_notes_are_a_400(
        self, api: Api, revisions: Revisions, broker: Published, notes: str
    ) -> None:
        response = api.post(
            url(revisions, "releases"), f'{{"revision": 1, "release_notes": {notes}}}'
        )
        assert response.status_code == 400
        assert not Build.objects.exists()


class TestSubmissionKit:
    def test_a_succeeded_release_has_its_kit(
        self,
        api: Api,
        revisions: Revisions,
        broker: Published,
        run_published: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        import io
        import zipfile

        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(
                url(revisions, "releases"), '{"revision": 1, "smoke": false}'
            )
        with django_capture_on_commit_callbacks(execute=True):
            run_published()
        [release] = api.get(url(revisions, "releases")).json()["items"]
        kit = api.get(release["submission_kit"])
        assert kit.status_code == 200
        assert kit["Content-Type"] == "application/octet-stream"
        assert kit["Content-Disposition"] == (
            'attachment; filename="gateway-0.0.1-submission-kit.zip"'
        )
        names = zipfile.ZipFile(io.BytesIO(kit.content)).namelist()
        author = revisions.provider.author
        assert names[0] == f"{author}/gateway/gateway-0.0.1.difypkg"
        assert names[1:] == ["RELEASE_NOTES.md", "PULL_REQUEST.md", "CHECKLIST.md"]
        event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
        assert event.summary.startswith("submission kit gateway-0.0.1-submission-kit")
        assert event.build_id == response.json()["id"]

    def test_a_failed_release_is_a_conflict(
        self, api: Api, revisions: Revisions, broker: Published
    ) -> None:
        build_id = api.post(url(revisions, "releases"), '{"revision": 1}').json()["id"]
        Build.objects.filter(pk=build_id).update(status=Build.Status.FAILED)
        response = api.get(f"/api/v1/builds/{build_id}/submission-kit")
        assert response.status_code == 409
        assert "only a succeeded release build" in response.json()["error"]["message"]

    def test_a_draft_build_is_not_found(self, api: Api, finished_build: Build) -> None:
        response = api.get(f"/api/v1/builds/{finished_build.pk}/submission-kit")
        assert response.status_code == 404

    def test_another_teams_token_gets_404(
        self, api: Api, revisions: Revisions, broker: Published, tokens: dict[str, str]
    ) -> None:
        build_id = api.post(url(revisions, "releases"), '{"revision": 1}').json()["id"]
        Build.objects.filter(pk=build_id).update(status=Build.Status.SUCCEEDED)
        response = api.get(
            f"/api/v1/builds/{build_id}/submission-kit", token=tokens["mallory"]
        )
        assert response.status_code == 404
        notes = api.get(
            url(revisions, "revisions/1/release-notes"), token=tokens["mallory"]
        )
        assert notes.status_code == 404
