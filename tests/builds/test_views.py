from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studio.builds import services
from studio.builds.models import Build, SigningKey
from studio.lib.health import Check
from studio.pluginfmt import signing
from tests.builds.conftest import Personas, Published, login
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
READERS = ["carol", "victor"]


@pytest.fixture
def provider(personas: Personas) -> Any:
    return make_provider(personas.team, models=1)


@pytest.fixture
def as_user(personas: Personas, client: Client) -> Any:
    def log_in(name: str) -> Client:
        return login(client, getattr(personas, name))

    return log_in


@pytest.fixture
def queued(
    provider: Any, broker: Published, django_capture_on_commit_callbacks
) -> Build:
    with django_capture_on_commit_callbacks(execute=True):
        return services.build_start(provider=provider, user=None)


@pytest.fixture
def finished(
    queued: Build, run_published: Any, django_capture_on_commit_callbacks
) -> Build:
    with django_capture_on_commit_callbacks(execute=True):
        run_published()
    queued.refresh_from_db()
    assert queued.status == Build.Status.SUCCEEDED, queued.error
    return queued


@pytest.fixture
def failed(
    provider: Any,
    broker: Published,
    run_published: Any,
    settings: Any,
    django_capture_on_commit_callbacks,
) -> Build:
    settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.failing"
    with django_capture_on_commit_callbacks(execute=True):
        build = services.build_start(provider=provider, user=None)
    with django_capture_on_commit_callbacks(execute=True):
        run_published()
    build.refresh_from_db()
    assert build.status == Build.Status.FAILED
    settings.BUILD_SMOKE_RUNNER = "tests.builds.runners.passing"
    return build


def builds_url(provider: Any) -> str:
    return reverse("builds:provider-builds", args=[provider.pk])


def create_url(provider: Any) -> str:
    return reverse("builds:build-create", args=[provider.pk])


def detail_url(build: Build) -> str:
    return reverse("builds:build-detail", args=[build.pk])


class TestProviderBuilds:
    @pytest.mark.parametrize("who", ["alice", "bob", "carol", "victor"])
    def test_every_member_sees_the_history(
        self, as_user: Any, provider: Any, finished: Build, who: str
    ) -> None:
        response = as_user(who).get(builds_url(provider))
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" in body and 'aria-current="page">Builds<' in body
        assert f"gateway-0.0.1-b{finished.pk}-unsigned.difypkg" in body
        assert f"SHA-256</span> <code>{finished.sha256[:12]}…</code>" in body
        assert reverse("builds:build-download", args=[finished.pk]) in body
        assert ("Build</button>" in body) == (who in ("alice", "bob"))

    def test_the_tab_appears_on_the_provider_page(
        self, as_user: Any, provider: Any
    ) -> None:
        page = as_user("bob").get(
            reverse("catalog:provider-detail", args=[provider.pk])
        )
        assert builds_url(provider) in page.content.decode()

    def test_an_htmx_request_gets_the_history_and_stops_polling_when_idle(
        self, as_user: Any, provider: Any, finished: Build
    ) -> None:
        response = as_user("bob").get(builds_url(provider), headers=HTMX)
        assert response.status_code == 286
        body = response.content.decode()
        assert "<html" not in body and 'id="build-history"' in body
        assert "hx-trigger" not in body

    def test_an_htmx_request_keeps_polling_while_a_build_is_active(
        self, as_user: Any, provider: Any, queued: Build
    ) -> None:
        response = as_user("bob").get(builds_url(provider), headers=HTMX)
        assert response.status_code == 200
        assert 'hx-trigger="every 1s"' in response.content.decode()

    def test_another_teams_user_gets_404(self, as_user: Any, provider: Any) -> None:
        assert as_user("mallory").get(builds_url(provider)).status_code == 404

    def test_a_wrong_method_gets_405(self, as_user: Any, provider: Any) -> None:
        assert as_user("bob").post(builds_url(provider)).status_code == 405

    def test_an_anonymous_visitor_is_sent_to_log_in(
        self, client: Client, provider: Any
    ) -> None:
        response = client.get(builds_url(provider))
        assert (
            response.status_code == 302 and "/accounts/login/" in response["Location"]
        )


class TestBuildCreate:
    def test_an_author_queues_a_build_and_lands_on_its_page(
        self,
        as_user: Any,
        provider: Any,
        broker: Published,
        personas: Personas,
        django_capture_on_commit_callbacks,
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = as_user("bob").post(create_url(provider), {"smoke": "on"})
        build = Build.objects.get()
        assert response.status_code == 302
        assert response["Location"] == detail_url(build)
        assert build.run_smoke and build.created_by == personas.bob
        assert broker == [{"build_id": build.pk, "attempt": 1}]

    def test_an_htmx_press_returns_the_live_history(
        self, as_user: Any, provider: Any, broker: Published
    ) -> None:
        response = as_user("alice").post(create_url(provider), {}, headers=HTMX)
        build = Build.objects.get()
        body = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in body and 'hx-trigger="every 1s"' in body
        assert detail_url(build) in body
        assert build.run_smoke is False

    @pytest.mark.parametrize("who", READERS)
    def test_readers_cannot_build(
        self, as_user: Any, provider: Any, broker: Published, who: str
    ) -> None:
        assert as_user(who).post(create_url(provider)).status_code == 403
        assert Build.objects.count() == 0

    def test_another_teams_user_gets_404(
        self, as_user: Any, provider: Any, broker: Published
    ) -> None:
        assert as_user("mallory").post(create_url(provider)).status_code == 404
        assert Build.objects.count() == 0

    def test_a_wrong_method_gets_405(self, as_user: Any, provider: Any) -> None:
        assert as_user("bob").get(create_url(provider)).status_code == 405

    def test_a_second_build_while_one_runs_is_refused_with_409(
        self, as_user: Any, provider: Any, queued: Build
    ) -> None:
        client = as_user("bob")
        page = client.post(create_url(provider))
        partial = client.post(create_url(provider), headers=HTMX)
        assert page.status_code == 409 and partial.status_code == 409
        assert b"already in progress" in page.content
        assert b"already in progress" in partial.content
        assert b"<html" not in partial.content
        assert Build.objects.count() == 1

    def test_a_dead_queue_gives_503_and_no_row(
        self,
        as_user: Any,
        provider: Any,
        broker: Published,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        from studio.lib import queue

        monkeypatch.setattr(
            queue,
            "check_broker",
            lambda: Check(False, "broker (Redis) unreachable: connection refused"),
        )
        response = as_user("bob").post(create_url(provider), headers=HTMX)
        assert response.status_code == 503
        assert b"The job queue (Redis) is unreachable; nothing was saved" in (
            response.content
        )
        assert Build.objects.count() == 0 and broker == []


class TestBuildDetail:
    def test_the_page_shows_steps_log_and_artifact(
        self, as_user: Any, finished: Build
    ) -> None:
        response = as_user("victor").get(detail_url(finished))
        body = response.content.decode()
        assert response.status_code == 200 and "<html" in body
        for step in ("render", "verify", "package", "sign", "smoke", "store"):
            assert f"<td>{step}</td>" in body
        assert "rendered the source tree" in body
        assert finished.checksum in body and finished.identifier in body
        assert f"gateway-0.0.1-b{finished.pk}-unsigned.difypkg" in body

    def test_an_htmx_poll_continues_while_active_and_stops_when_ended(
        self,
        as_user: Any,
        queued: Build,
        run_published: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        client = as_user("bob")
        live = client.get(detail_url(queued), headers=HTMX)
        assert live.status_code == 200
        assert 'hx-trigger="every 1s"' in live.content.decode()
        assert b"<html" not in live.content
        with django_capture_on_commit_callbacks(execute=True):
            run_published()
        done = client.get(detail_url(queued), headers=HTMX)
        assert done.status_code == 286
        assert b"hx-trigger" not in done.content and b"succeeded" in done.content

    def test_findings_of_a_failed_build_are_listed(
        self, as_user: Any, failed: Build
    ) -> None:
        body = as_user("bob").get(detail_url(failed)).content.decode()
        assert "smoke test failed: invoke_llm" in body
        assert "Retry</button>" in body

    def test_reading_a_stale_build_reaps_it(
        self, as_user: Any, queued: Build, settings: Any
    ) -> None:
        settings.BUILD_MAX_ATTEMPTS = 1
        now = timezone.now()
        queued.mark_running(worker="gone@host", pid=1, now=now)
        queued.heartbeat_at = now - timedelta(seconds=settings.BUILD_STALE_SECONDS + 5)
        queued.save()
        response = as_user("carol").get(detail_url(queued), headers=HTMX)
        assert response.status_code == 286
        assert b"worker lost: gone@host" in response.content

    def test_another_teams_user_gets_404(self, as_user: Any, queued: Build) -> None:
        assert as_user("mallory").get(detail_url(queued)).status_code == 404

    def test_a_missing_build_gets_404(self, as_user: Any, personas: Personas) -> None:
        response = as_user("bob").get(reverse("builds:build-detail", args=[999]))
        assert response.status_code == 404

    def test_a_wrong_method_gets_405(self, as_user: Any, queued: Build) -> None:
        assert as_user("bob").post(detail_url(queued)).status_code == 405


class TestCancelAndRetry:
    def test_an_author_cancels_a_queued_build(
        self, as_user: Any, queued: Build
    ) -> None:
        url = reverse("builds:build-cancel", args=[queued.pk])
        response = as_user("bob").post(url)
        assert response.status_code == 302
        queued.refresh_from_db()
        assert queued.status == Build.Status.CANCELLED

    def test_an_htmx_cancel_returns_the_progress(
        self, as_user: Any, queued: Build
    ) -> None:
        url = reverse("builds:build-cancel", args=[queued.pk])
        response = as_user("alice").post(url, headers=HTMX)
        assert response.status_code == 200
        assert b'id="build-progress"' in response.content
        assert b"<html" not in response.content
        assert b"Cancelled" in response.content

    def test_cancelling_an_ended_build_is_refused(
        self, as_user: Any, finished: Build
    ) -> None:
        url = reverse("builds:build-cancel", args=[finished.pk])
        response = as_user("bob").post(url, headers=HTMX)
        assert response.status_code == 409
        assert b"already succeeded" in response.content

    @pytest.mark.parametrize("action", ["build-cancel", "build-retry"])
    @pytest.mark.parametrize("who", READERS)
    def test_readers_cannot_cancel_or_retry(
        self, as_user: Any, failed: Build, action: str, who: str
    ) -> None:
        url = reverse(f"builds:{action}", args=[failed.pk])
        assert as_user(who).post(url).status_code == 403
        assert Build.objects.count() == 1

    @pytest.mark.parametrize("action", ["build-cancel", "build-retry"])
    def test_another_teams_user_gets_404(
        self, as_user: Any, failed: Build, action: str
    ) -> None:
        url = reverse(f"builds:{action}", args=[failed.pk])
        assert as_user("mallory").post(url).status_code == 404

    @pytest.mark.parametrize("action", ["build-cancel", "build-retry"])
    def test_a_wrong_method_gets_405(
        self, as_user: Any, failed: Build, action: str
    ) -> None:
        url = reverse(f"builds:{action}", args=[failed.pk])
        assert as_user("bob").get(url).status_code == 405

    def test_a_retry_starts_a_new_build_of_the_same_files(
        self, as_user: Any, failed: Build
    ) -> None:
        url = reverse("builds:build-retry", args=[failed.pk])
        response = as_user("bob").post(url)
        retry = Build.objects.exclude(pk=failed.pk).get()
        assert response.status_code == 302
        assert response["Location"] == detail_url(retry)
        assert retry.source_id == failed.source_id and retry.retry_of == failed

    def test_an_htmx_retry_redirects_the_client(
        self, as_user: Any, failed: Build
    ) -> None:
        url = reverse("builds:build-retry", args=[failed.pk])
        response = as_user("bob").post(url, headers=HTMX)
        retry = Build.objects.exclude(pk=failed.pk).get()
        assert response["HX-Redirect"] == detail_url(retry)

    def test_a_succeeded_build_is_not_retried(
        self, as_user: Any, finished: Build
    ) -> None:
        url = reverse("builds:build-retry", args=[finished.pk])
        response = as_user("bob").post(url)
        assert response.status_code == 409
        assert b"cannot be retried" in response.content


class TestDownload:
    @pytest.mark.parametrize("who", ["alice", "bob", "carol", "victor"])
    def test_team_members_download_the_artifact(
        self, as_user: Any, finished: Build, storage: Path, who: str
    ) -> None:
        url = reverse("builds:build-download", args=[finished.pk])
        response = as_user(who).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"] == (
            f'attachment; filename="gateway-0.0.1-b{finished.pk}-unsigned.difypkg"'
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        data = b"".join(response.streaming_content)
        assert data == (storage / finished.artifact.name).read_bytes()
        assert int(response["Content-Length"]) == finished.size

    def test_another_teams_user_gets_404(self, as_user: Any, finished: Build) -> None:
        url = reverse("builds:build-download", args=[finished.pk])
        assert as_user("mallory").get(url).status_code == 404

    def test_a_wrong_method_gets_405(self, as_user: Any, finished: Build) -> None:
        url = reverse("builds:build-download", args=[finished.pk])
        assert as_user("bob").post(url).status_code == 405

    def test_a_failed_build_has_nothing_to_download(
        self, as_user: Any, failed: Build
    ) -> None:
        url = reverse("builds:build-download", args=[failed.pk])
        assert as_user("bob").get(url).status_code == 404

    def test_a_pruned_artifact_is_gone(
        self,
        as_user: Any,
        finished: Build,
        provider: Any,
        django_capture_on_commit_callbacks,
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            finished.mark_pruned()
            finished.save()
        url = reverse("builds:build-download", args=[finished.pk])
        assert as_user("bob").get(url).status_code == 404
        page = as_user("bob").get(builds_url(provider)).content.decode()
        assert "pruned" in page


# ---------------------------------------------------------------- signing keys


def keys_url(personas: Personas, team: Any = None) -> str:
    return reverse("builds:signing-keys", args=[(team or personas.team).slug])


@pytest.fixture
def fast_keygen(monkeypatch: pytest.MonkeyPatch, keypair: tuple[bytes, bytes]) -> None:
    monkeypatch.setattr(signing, "generate_keypair", lambda **kw: keypair)


@pytest.fixture
def team_key(personas: Personas, keypair: tuple[bytes, bytes]) -> SigningKey:
    return services.signing_key_upload(
        team=personas.team, user=personas.alice, private_pem=keypair[0], name="acme"
    )


class TestSigningKeysPage:
    @pytest.mark.parametrize("who", ["alice", "bob", "carol", "victor"])
    def test_members_see_the_keys_and_daemon_settings(
        self, as_user: Any, personas: Personas, team_key: SigningKey, who: str
    ) -> None:
        body = as_user(who).get(keys_url(personas)).content.decode()
        assert team_key.display_fingerprint in body.replace("<wbr>", "")
        assert (
            "THIRD_PARTY_SIGNATURE_VERIFICATION_ENABLED=true\n"
            "THIRD_PARTY_SIGNATURE_VERIFICATION_PUBLIC_KEYS=/path/to/acme.public.pem"
        ) in body
        assert "FORCE_VERIFYING_SIGNATURE" in body
        assert ("Generate</button>" in body) == (who == "alice")

    def test_an_htmx_request_gets_the_keys_part(
        self, as_user: Any, personas: Personas, team_key: SigningKey
    ) -> None:
        response = as_user("bob").get(keys_url(personas), headers=HTMX)
        assert response.status_code == 200
        assert b'id="signing-keys"' in response.content
        assert b"<html" not in response.content

    def test_another_teams_user_gets_404(
        self, as_user: Any, personas: Personas
    ) -> None:
        assert as_user("mallory").get(keys_url(personas)).status_code == 404

    def test_a_wrong_method_gets_405(self, as_user: Any, personas: Personas) -> None:
        assert as_user("alice").post(keys_url(personas)).status_code == 405


class TestSigningKeyChanges:
    def test_the_owner_generates_a_key_that_replaces_the_active_one(
        self, as_user: Any, personas: Personas, team_key: SigningKey, fast_keygen: None
    ) -> None:
        url = reverse("builds:signing-key-generate", args=[personas.team.slug])
        response = as_user("alice").post(url, {"name": "acme-2026"})
        assert response.status_code == 302
        active = SigningKey.objects.get(is_active=True)
        assert active.name == "acme-2026" and active.created_by == personas.alice
        team_key.refresh_from_db()
        assert not team_key.is_active and team_key.deactivated_at

    def test_an_htmx_generate_returns_the_keys_part(
        self, as_user: Any, personas: Personas, fast_keygen: None
    ) -> None:
        url = reverse("builds:signing-key-generate", args=[personas.team.slug])
        response = as_user("alice").post(url, {}, headers=HTMX)
        assert response.status_code == 200
        assert b"<html" not in response.content
        key = SigningKey.objects.get()
        shown = response.content.decode().replace("<wbr>", "")
        assert key.display_fingerprint in shown

    def test_the_owner_uploads_a_key_stored_encrypted(
        self, as_user: Any, personas: Personas, keypair: tuple[bytes, bytes]
    ) -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        url = reverse("builds:signing-key-upload", args=[personas.team.slug])
        upload = SimpleUploadedFile("team.private.pem", keypair[0])
        response = as_user("alice").post(url, {"name": "up", "key_file": upload})
        assert response.status_code == 302
        key = SigningKey.objects.get()
        assert key.origin == "uploaded" and key.name == "up"
        assert "PRIVATE KEY" not in key.private_key_encrypted
        assert key.public_pem.encode() == keypair[1]

    def test_an_unusable_key_is_refused_with_a_message(
        self, as_user: Any, personas: Personas
    ) -> None:
        url = reverse("builds:signing-key-upload", args=[personas.team.slug])
        response = as_user("alice").post(
            url, {"key_text": "<script>alert(1)</script>"}, headers=HTMX
        )
        assert response.status_code == 400
        assert b"not a PEM private key" in response.content
        assert b"<script>alert" not in response.content
        assert SigningKey.objects.count() == 0

    def test_an_empty_upload_is_refused(self, as_user: Any, personas: Personas) -> None:
        url = reverse("builds:signing-key-upload", args=[personas.team.slug])
        response = as_user("alice").post(url, {})
        assert response.status_code == 400
        assert b"Choose a key file or paste the key" in response.content

    def test_the_owner_deactivates_a_key(
        self, as_user: Any, personas: Personas, team_key: SigningKey
    ) -> None:
        url = reverse(
            "builds:signing-key-deactivate", args=[personas.team.slug, team_key.pk]
        )
        response = as_user("alice").post(url, headers=HTMX)
        assert response.status_code == 200
        team_key.refresh_from_db()
        assert not team_key.is_active

    @pytest.mark.parametrize("who", ["bob", "carol", "victor"])
    def test_only_the_owner_changes_keys(
        self,
        as_user: Any,
        personas: Personas,
        team_key: SigningKey,
        fast_keygen: None,
        who: str,
    ) -> None:
        slug = personas.team.slug
        client = as_user(who)
        for url in (
            reverse("builds:signing-key-generate", args=[slug]),
            reverse("builds:signing-key-upload", args=[slug]),
            reverse("builds:signing-key-deactivate", args=[slug, team_key.pk]),
        ):
            assert client.post(url).status_code == 403
        assert list(SigningKey.objects.values_list("is_active", flat=True)) == [True]

    def test_another_teams_owner_gets_404(
        self, as_user: Any, personas: Personas, team_key: SigningKey, fast_keygen: None
    ) -> None:
        slug = personas.team.slug
        client = as_user("mallory")
        assert (
            client.post(reverse("builds:signing-key-generate", args=[slug])).status_code
            == 404
        )
        url = reverse("builds:signing-key-deactivate", args=[slug, team_key.pk])
        assert client.post(url).status_code == 404
        own = reverse(
            "builds:signing-key-deactivate",
            args=[personas.other_team.slug, team_key.pk],
        )
        assert client.post(own).status_code == 404
        team_key.refresh_from_db()
        assert team_key.is_active

    @pytest.mark.parametrize("name", ["signing-key-generate", "signing-key-upload"])
    def test_a_wrong_method_gets_405(
        self, as_user: Any, personas: Personas, name: str
    ) -> None:
        url = reverse(f"builds:{name}", args=[personas.team.slug])
        assert as_user("alice").get(url).status_code == 405


class TestPublicKeyDownload:
    def test_a_viewer_downloads_the_public_key(
        self, as_user: Any, personas: Personas, team_key: SigningKey
    ) -> None:
        url = reverse(
            "builds:signing-key-public", args=[personas.team.slug, team_key.pk]
        )
        response = as_user("victor").get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"] == (
            'attachment; filename="acme.public.pem"'
        )
        assert response.content.decode() == team_key.public_pem
        assert b"PRIVATE" not in response.content

    def test_the_daemon_settings_download_names_the_key_file(
        self, as_user: Any, personas: Personas, team_key: SigningKey
    ) -> None:
        url = reverse(
            "builds:signing-key-daemon-env", args=[personas.team.slug, team_key.pk]
        )
        response = as_user("bob").get(url)
        assert response.content.decode() == (
            "THIRD_PARTY_SIGNATURE_VERIFICATION_ENABLED=true\n"
            "THIRD_PARTY_SIGNATURE_VERIFICATION_PUBLIC_KEYS=/path/to/acme.public.pem\n"
        )

    def test_another_teams_user_gets_404(
        self, as_user: Any, personas: Personas, team_key: SigningKey
    ) -> None:
        url = reverse(
            "builds:signing-key-public", args=[personas.team.slug, team_key.pk]
        )
        assert as_user("mallory").get(url).status_code == 404

    def test_a_wrong_method_gets_405(
        self, as_user: Any, personas: Personas, team_key: SigningKey
    ) -> None:
        url = reverse(
            "builds:signing-key-public", args=[personas.team.slug, team_key.pk]
        )
        assert as_user("bob").post(url).status_code == 405
