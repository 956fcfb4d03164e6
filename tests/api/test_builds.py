"""Starting builds, following them, downloading their artifacts."""

from __future__ import annotations

from typing import Any

import pytest

from studio.builds import services as build_services
from studio.builds.models import Build
from studio.catalog.models import Provider
from studio.lib import queue
from studio.lib.health import Check
from tests.api.conftest import Api, Published
from tests.catalog.conftest import Personas
from tests.factories import make_provider

pytestmark = pytest.mark.django_db


def builds_url(provider: Provider) -> str:
    return f"/api/v1/providers/{provider.pk}/builds"


class TestBuildCreate:
    def test_it_queues_a_build_and_answers_where_to_follow_it(
        self,
        api: Api,
        provider: Provider,
        broker: Published,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(builds_url(provider), '{"smoke": false}')
        assert response.status_code == 202
        body = response.json()
        build = Build.objects.get(pk=body["id"])
        assert (build.provider_id, build.kind, build.run_smoke) == (
            provider.pk,
            "dev",
            False,
        )
        assert build.created_by is not None and build.created_by.username == "bob"
        assert body["status"] == "queued" and body["finished"] is False
        assert response["Location"] == f"/api/v1/builds/{build.pk}"
        assert broker == [{"build_id": build.pk, "attempt": 1}]

    def test_an_empty_body_builds_with_the_smoke_test(
        self, api: Api, provider: Provider, broker: Published
    ) -> None:
        response = api.post(builds_url(provider), "")
        assert response.status_code == 202
        assert Build.objects.get(pk=response.json()["id"]).run_smoke is True

    def test_a_team_token_builds_as_nobody(
        self, api: Api, provider: Provider, broker: Published, personas: Personas
    ) -> None:
        from tests.api.conftest import make_token

        token = make_token(personas.alice, personas.team, kind="team", role="author")
        response = api.post(builds_url(provider), "{}", token=token)
        assert response.status_code == 202
        assert Build.objects.get(pk=response.json()["id"]).created_by is None

    @pytest.mark.parametrize("reader", ["carol", "victor"])
    def test_a_reader_cannot_build(
        self,
        api: Api,
        provider: Provider,
        broker: Published,
        tokens: dict[str, str],
        reader: str,
    ) -> None:
        response = api.post(builds_url(provider), "{}", token=tokens[reader])
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        assert not Build.objects.exists()

    def test_a_read_only_team_token_cannot_build(
        self, api: Api, provider: Provider, broker: Published, personas: Personas
    ) -> None:
        from tests.api.conftest import make_token

        token = make_token(personas.alice, personas.team, kind="team", role="viewer")
        response = api.post(builds_url(provider), "{}", token=token)
        assert response.status_code == 403

    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            ("{", "application/json"),
            ('{"smoke": "maybe"}', "application/json"),
            ('{"smoke": true, "extra": 1}', "application/json"),
            ("[]", "application/json"),
            ("smoke=1", "application/x-www-form-urlencoded"),
            ("[" * 100_000, "application/json"),
        ],
    )
    def test_a_malformed_body_is_a_400(
        self,
        api: Api,
        provider: Provider,
        broker: Published,
        body: str,
        content_type: str,
    ) -> None:
        response = api.post(builds_url(provider), body, content_type=content_type)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"
        assert not Build.objects.exists()

    def test_a_body_past_the_request_limit_is_a_413(
        self, api: Api, provider: Provider, broker: Published, settings: Any
    ) -> None:
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
        body = '{"smoke": true' + " " * 200 + "}"
        response = api.post(builds_url(provider), body)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"

    def test_a_second_build_while_one_runs_is_a_409_naming_it(
        self, api: Api, provider: Provider, broker: Published
    ) -> None:
        first = api.post(builds_url(provider), "{}").json()
        response = api.post(builds_url(provider), "{}")
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "conflict"
        assert error["context"] == {"build_id": first["id"]}

    def test_a_dead_queue_is_a_503_and_leaves_no_build(
        self,
        api: Api,
        provider: Provider,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(queue, "check_broker", lambda: Check(False, "refused"))
        response = api.post(builds_url(provider), "{}")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "queue_unavailable"
        assert not Build.objects.exists()


class TestBuildRead:
    def test_it_follows_a_build_to_its_artifact(
        self, api: Api, finished_build: Build
    ) -> None:
        body = api.get(f"/api/v1/builds/{finished_build.pk}").json()
        assert body["status"] == "succeeded" and body["finished"] is True
        assert [s["name"] for s in body["steps"]] == [
            "render",
            "verify",
            "package",
            "sign",
            "smoke",
            "store",
        ]
        artifact = body["artifact"]
        assert artifact["name"] == finished_build.artifact_name
        assert artifact["sha256"] == finished_build.sha256
        assert artifact["download"] == f"/api/v1/builds/{finished_build.pk}/artifact"

    def test_a_queued_build_has_no_artifact_yet(
        self, api: Api, provider: Provider, broker: Published
    ) -> None:
        build = build_services.build_start(provider=provider, user=None)
        body = api.get(f"/api/v1/builds/{build.pk}").json()
        assert body["status"] == "queued" and body["artifact"] is None


class TestBuildList:
    def test_it_lists_builds_newest_first_and_filters(
        self,
        api: Api,
        provider: Provider,
        finished_build: Build,
        broker: Published,
    ) -> None:
        queued = build_services.build_start(provider=provider, user=None)
        body = api.get(builds_url(provider)).json()
        assert [b["id"] for b in body["items"]] == [queued.pk, finished_build.pk]
        done = api.get(f"{builds_url(provider)}?status=succeeded").json()
        assert [b["id"] for b in done["items"]] == [finished_build.pk]
        assert api.get(f"{builds_url(provider)}?kind=release").json()["items"] == []

    def test_an_unknown_status_filter_is_a_400(
        self, api: Api, provider: Provider
    ) -> None:
        response = api.get(f"{builds_url(provider)}?status=done")
        assert response.status_code == 400

    def test_it_lists_only_the_providers_builds(
        self,
        api: Api,
        finished_build: Build,
        personas: Personas,
    ) -> None:
        other = make_provider(personas.team, "other")
        assert api.get(builds_url(other)).json()["items"] == []


class TestBuildArtifact:
    def test_a_member_downloads_the_exact_artifact(
        self, api: Api, finished_build: Build, tokens: dict[str, str]
    ) -> None:
        response = api.get(
            f"/api/v1/builds/{finished_build.pk}/artifact", token=tokens["victor"]
        )
        assert response.status_code == 200
        data = b"".join(response.streaming_content)
        with finished_build.artifact.open("rb") as fh:
            assert data == fh.read()
        assert response["Content-Type"] == "application/octet-stream"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert finished_build.artifact_name in response["Content-Disposition"]

    def test_a_build_without_artifact_is_a_404(
        self, api: Api, provider: Provider, broker: Published
    ) -> None:
        build = build_services.build_start(provider=provider, user=None)
        response = api.get(f"/api/v1/builds/{build.pk}/artifact")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    def test_a_pruned_artifact_is_a_404(self, api: Api, finished_build: Build) -> None:
        finished_build.artifact.delete(save=False)
        finished_build.mark_pruned()
        finished_build.save()
        response = api.get(f"/api/v1/builds/{finished_build.pk}/artifact")
        assert response.status_code == 404

    def test_another_teams_artifact_is_a_404(
        self, api: Api, finished_build: Build, tokens: dict[str, str]
    ) -> None:
        response = api.get(
            f"/api/v1/builds/{finished_build.pk}/artifact", token=tokens["mallory"]
        )
        assert response.status_code == 404
        assert b"PK" not in response.content
