"""The Marketplace submission kit of a release, downloaded from the studio."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from studio.audit.models import AuditEvent
from studio.builds.models import Build, MarketplaceCheck
from studio.catalog.models import Provider
from studio.reviews import services
from tests.reviews.conftest import Personas, Published, approve, submit

pytestmark = pytest.mark.django_db

AsUser = Callable[[str], Client]
NOTES = "### 0.0.1\n\n#### Models added\n\n- The LLM `model-000` was added.\n"


def kit_url(provider: Provider, build: Build) -> str:
    return reverse("reviews:submission-kit", args=[provider.pk, build.pk])


@pytest.fixture
def release(
    personas: Personas,
    provider: Provider,
    run_published: Any,
    storage: Path,
    django_capture_on_commit_callbacks: Any,
) -> Build:
    """A succeeded release of r1 whose Marketplace pre-check found one
    advisory README finding."""
    revision = approve(submit(provider, personas.bob), personas.carol)
    with django_capture_on_commit_callbacks(execute=True):
        build = services.release_start(
            revision=revision, user=personas.alice, release_notes=NOTES
        )
    with django_capture_on_commit_callbacks(execute=True):
        run_published()
    build.refresh_from_db()
    assert build.status == Build.Status.SUCCEEDED, build.error
    check = MarketplaceCheck(build=build)
    check.record(
        findings=[
            {
                "rule": "marketplace.readme-sections",
                "severity": "warning",
                "layer": "marketplace",
                "file": "README.md",
                "line": None,
                "message": "No usage section.",
                "fix": "Add one.",
            }
        ],
        install={"status": "passed", "detail": "served"},
        compared_with="",
    )
    check.save()
    return build


def zip_of(response: Any) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(response.content))


class TestTheKit:
    def test_it_holds_the_package_where_the_repository_wants_it(
        self, as_user: AsUser, provider: Provider, release: Build
    ) -> None:
        response = as_user("victor").get(kit_url(provider, release))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert response["Content-Disposition"] == (
            'attachment; filename="gateway-0.0.1-submission-kit.zip"'
        )
        archive = zip_of(response)
        package = f"{provider.author}/gateway/gateway-0.0.1.difypkg"
        assert archive.namelist() == [
            package,
            "RELEASE_NOTES.md",
            "PULL_REQUEST.md",
            "CHECKLIST.md",
        ]
        with release.artifact.open("rb") as stream:
            assert archive.read(package) == stream.read()
        assert archive.read("RELEASE_NOTES.md").decode() == (
            f"## Release Notes\n\n{NOTES}"
        )

    def test_the_description_and_checklist_carry_the_studios_answers(
        self, as_user: AsUser, provider: Provider, release: Build
    ) -> None:
        archive = zip_of(as_user("alice").get(kit_url(provider, release)))
        body = archive.read("PULL_REQUEST.md").decode()
        assert body.startswith("# Plugin Submission\n\n## Plugin information\n")
        assert f"- **Author**: {provider.author}\n" in body
        assert "- [x] New plugin\n- [ ] Version update\n" in body
        assert f"on release r1, build {release.pk}: 0 blocking findings, 1 " in body
        assert body.rstrip().endswith(f"## Release Notes\n\n{NOTES}".rstrip())
        checklist = archive.read("CHECKLIST.md").decode()
        assert "## Required checks" in checklist
        assert "- [x] The package holds only what the plugin needs at runtime." in (
            checklist
        )
        # The advisory README finding leaves its item for the author to look at.
        readme = next(li for li in checklist.splitlines() if "The README covers" in li)
        assert readme.startswith("- [ ]") and "`marketplace.readme-sections` (1)" in (
            readme
        )
        assert "- [ ] I accept the Dify Plugin Developer Agreement." in checklist

    def test_the_download_is_in_the_audit_log(
        self, as_user: AsUser, provider: Provider, release: Build
    ) -> None:
        as_user("bob").get(kit_url(provider, release))
        event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
        assert event.build_id == release.pk and event.actor_name == "bob"
        assert event.summary.startswith(
            "gateway-0.0.1-submission-kit.zip (submission kit of release r1, build "
        )

    def test_the_releases_list_links_it(
        self, as_user: AsUser, provider: Provider, release: Build
    ) -> None:
        body = as_user("victor").get(
            reverse("reviews:provider-reviews", args=[provider.pk])
        )
        assert kit_url(provider, release) in body.content.decode()


class TestRefused:
    def test_a_failed_release_has_no_kit_and_says_why(
        self,
        as_user: AsUser,
        personas: Personas,
        provider: Provider,
        broker: Published,
    ) -> None:
        revision = approve(submit(provider, personas.bob), personas.carol)
        build = services.release_start(revision=revision, user=personas.alice)
        Build.objects.filter(pk=build.pk).update(
            status=Build.Status.FAILED, error="verify failed"
        )
        response = as_user("alice").get(kit_url(provider, build))
        assert response.status_code == 409
        body = response.content.decode()
        assert (
            f"Build {build.pk} failed: only a succeeded release build has a package "
            "to submit." in body
        )
        assert 'role="alert"' in body
        assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()

    def test_another_team_gets_404(
        self, as_user: AsUser, provider: Provider, release: Build
    ) -> None:
        assert as_user("mallory").get(kit_url(provider, release)).status_code == 404

    def test_anonymous_visitors_are_sent_to_log_in(
        self, client: Client, provider: Provider, release: Build
    ) -> None:
        response = client.get(kit_url(provider, release))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_a_draft_build_has_no_kit(
        self,
        as_user: AsUser,
        provider: Provider,
        broker: Published,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        from studio.builds import services as build_services

        with django_capture_on_commit_callbacks(execute=True):
            dev = build_services.build_start(provider=provider, user=None)
        Build.objects.filter(pk=dev.pk).update(status=Build.Status.SUCCEEDED)
        assert as_user("alice").get(kit_url(provider, dev)).status_code == 404

    def test_a_wrong_method_gets_405(
        self, as_user: AsUser, provider: Provider, release: Build
    ) -> None:
        assert as_user("alice").post(kit_url(provider, release)).status_code == 405
