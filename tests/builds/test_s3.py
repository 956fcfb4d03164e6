"""Builds with STORAGE_BACKEND=s3, against moto's S3 server: artifacts are
objects in the bucket, downloads are checked, logged and presigned, and
deleting a provider or pruning deletes objects. Nothing lands in STORAGE_DIR."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from studio.audit.models import AuditEvent
from studio.builds import services
from studio.builds.cli import build_summary
from studio.builds.models import Build
from studio.catalog.models import Provider
from tests.api.conftest import make_token
from tests.builds.conftest import Personas, Published, login
from tests.factories import make_provider
from tests.s3 import S3Bucket, fetch, files_under, presigned_query

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket(
    broker: Published, s3_bucket: S3Bucket, settings: Any, tmp_path: Path
) -> S3Bucket:
    """The bucket as default storage (`broker` had set a folder up)."""
    s3_bucket.use(settings, tmp_path / "storage")
    return s3_bucket


@pytest.fixture
def provider(personas: Personas) -> Provider:
    return make_provider(personas.team, models=2)


def built(provider: Provider, capture: Any, run_published: Any, **kw: Any) -> Build:
    with capture(execute=True):
        build = services.build_start(provider=provider, user=None, **kw)
    with capture(execute=True):
        run_published()
    build.refresh_from_db()
    assert build.status == Build.Status.SUCCEEDED, build.error
    return build


@pytest.fixture
def finished(
    bucket: S3Bucket,
    provider: Provider,
    run_published: Any,
    django_capture_on_commit_callbacks: Any,
) -> Build:
    return built(provider, django_capture_on_commit_callbacks, run_published)


def downloads(build: Build) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            action=AuditEvent.Action.DOWNLOAD, build=build
        ).values_list("summary", flat=True)
    )


class TestArtifactsInTheBucket:
    def test_a_build_stores_its_artifact_as_an_object_and_nothing_on_disk(
        self, bucket: S3Bucket, finished: Build, settings: Any
    ) -> None:
        key = finished.artifact.name
        assert key == (
            f"builds/{finished.team_id}/{finished.provider_id}/{finished.pk}/"
            f"{finished.artifact_name}"
        )
        assert bucket.keys() == [key]
        data = bucket.read(key)
        assert len(data) == finished.size
        assert hashlib.sha256(data).hexdigest() == finished.sha256
        assert files_under(settings.STORAGE_DIR) == []

    def test_plugin_build_names_the_object(
        self, bucket: S3Bucket, finished: Build
    ) -> None:
        summary = build_summary(finished)
        assert summary["path"] == f"s3://{bucket.name}/{finished.artifact.name}"

    def test_a_failed_build_leaves_no_object(
        self,
        bucket: S3Bucket,
        provider: Provider,
        run_published: Any,
        settings: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.failing"
        with django_capture_on_commit_callbacks(execute=True):
            build = services.build_start(provider=provider, user=None)
        with django_capture_on_commit_callbacks(execute=True):
            run_published()
        build.refresh_from_db()
        assert build.status == Build.Status.FAILED
        assert bucket.keys() == []

    def test_pruning_deletes_the_objects_of_old_dev_builds(
        self,
        bucket: S3Bucket,
        provider: Provider,
        run_published: Any,
        settings: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        settings.BUILD_DEV_ARTIFACTS_KEEP = 2
        capture = django_capture_on_commit_callbacks
        release = built(
            provider,
            capture,
            run_published,
            kind=Build.Kind.RELEASE,
            revision_label="r1",
        )
        dev = [built(provider, capture, run_published) for _ in range(4)]
        for build in dev:
            build.refresh_from_db()
        assert [b.pruned_at is not None for b in dev] == [True, True, False, False]
        assert bucket.keys() == sorted(b.artifact.name for b in [release, *dev[2:]])
        assert files_under(settings.STORAGE_DIR) == []

    def test_deleting_the_provider_deletes_its_objects_only(
        self,
        bucket: S3Bucket,
        finished: Build,
        provider: Provider,
        personas: Personas,
        run_published: Any,
        client: Client,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        other = make_provider(personas.team, "other")
        kept = built(other, django_capture_on_commit_callbacks, run_published)
        assert len(bucket.keys()) == 2
        login(client, personas.alice)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("catalog:provider-delete", args=[provider.pk]),
                {"confirm": provider.plugin_id},
            )
        assert response.status_code == 302
        assert not Provider.objects.filter(pk=provider.pk).exists()
        assert bucket.keys() == [kept.artifact.name]


class TestBrowserDownload:
    def url(self, build: Build) -> str:
        return reverse("builds:build-download", args=[build.pk])

    @pytest.mark.parametrize("who", ["alice", "bob", "carol", "victor"])
    def test_a_member_is_sent_to_a_presigned_url_that_serves_the_artifact(
        self,
        bucket: S3Bucket,
        finished: Build,
        personas: Personas,
        client: Client,
        who: str,
    ) -> None:
        response = login(client, getattr(personas, who)).get(self.url(finished))
        assert response.status_code == 302
        location = response["Location"]
        assert location.startswith(
            f"{bucket.endpoint}/{bucket.name}/{finished.artifact.name}?"
        )
        assert presigned_query(location)["X-Amz-Expires"] == "60"
        assert response["Cache-Control"] == "no-store"

        fetched = fetch(location)
        assert fetched.body == bucket.read(finished.artifact.name)
        assert hashlib.sha256(fetched.body).hexdigest() == finished.sha256
        assert fetched.headers["Content-Disposition"] == (
            f'attachment; filename="gateway-0.0.1-b{finished.pk}-unsigned.difypkg"'
        )
        [summary] = downloads(finished)
        assert summary.startswith(f"{finished.artifact_name} (draft build")

    def test_another_teams_user_gets_404_and_no_url(
        self, finished: Build, personas: Personas, client: Client
    ) -> None:
        response = login(client, personas.mallory).get(self.url(finished))
        assert response.status_code == 404
        assert "Location" not in response
        assert downloads(finished) == []

    def test_a_wrong_method_gets_405(
        self, finished: Build, personas: Personas, client: Client
    ) -> None:
        assert login(client, personas.bob).post(self.url(finished)).status_code == 405

    def test_an_object_gone_from_the_bucket_is_a_404_and_not_logged(
        self,
        bucket: S3Bucket,
        finished: Build,
        personas: Personas,
        client: Client,
    ) -> None:
        bucket.client().delete_object(Bucket=bucket.name, Key=finished.artifact.name)
        response = login(client, personas.bob).get(self.url(finished))
        assert response.status_code == 404
        assert downloads(finished) == []

    def test_with_s3_downloads_stream_the_studio_sends_the_bytes(
        self,
        bucket: S3Bucket,
        finished: Build,
        personas: Personas,
        client: Client,
        settings: Any,
    ) -> None:
        settings.S3_DOWNLOADS = "stream"
        response = login(client, personas.bob).get(self.url(finished))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == bucket.read(
            finished.artifact.name
        )
        assert len(downloads(finished)) == 1


class TestApiDownload:
    def url(self, build: Build) -> str:
        return f"/api/v1/builds/{build.pk}/artifact"

    def test_a_token_is_sent_to_a_presigned_url_that_serves_the_artifact(
        self,
        bucket: S3Bucket,
        finished: Build,
        personas: Personas,
        client: Client,
    ) -> None:
        token = make_token(personas.victor, personas.team)
        response = client.get(
            self.url(finished), headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 302
        assert response["RateLimit-Limit"]
        fetched = fetch(response["Location"])
        assert hashlib.sha256(fetched.body).hexdigest() == finished.sha256
        assert fetched.headers["Content-Disposition"] == (
            f'attachment; filename="{finished.artifact_name}"'
        )
        assert len(downloads(finished)) == 1

    def test_another_teams_token_gets_404(
        self, finished: Build, personas: Personas, client: Client
    ) -> None:
        token = make_token(personas.mallory, personas.other_team)
        response = client.get(
            self.url(finished), headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    def test_an_object_gone_from_the_bucket_is_a_404(
        self,
        bucket: S3Bucket,
        finished: Build,
        personas: Personas,
        client: Client,
    ) -> None:
        bucket.client().delete_object(Bucket=bucket.name, Key=finished.artifact.name)
        token = make_token(personas.bob, personas.team)
        response = client.get(
            self.url(finished), headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "The artifact file is gone."
        assert downloads(finished) == []
