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
