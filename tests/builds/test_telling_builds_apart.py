"""Builds you can tell apart (issue 13): download names that say which build and
whether it is signed, one fingerprint format everywhere, labelled digests with
copy buttons, durations in the build history."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from studio.api.models import ApiToken
from studio.audit.models import AuditEvent
from studio.builds import cli, services
from studio.builds.models import Build, SigningKey
from studio.pluginfmt import signing
from tests.api.conftest import Api, make_token
from tests.builds.conftest import Personas, Published, login
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

FINGERPRINT = re.compile(r"SHA256:[0-9a-f]{2}(?::[0-9a-f]{2}){31}")


@pytest.fixture
def provider(personas: Personas) -> Any:
    return make_provider(personas.team, models=1)


@pytest.fixture
def build_now(
    broker: Published, run_published: Any, django_capture_on_commit_callbacks: Any
) -> Any:
    """Build `provider` at once, as a worker would; the succeeded row."""

    def build(provider: Any, user: Any = None) -> Build:
        with django_capture_on_commit_callbacks(execute=True):
            started = services.build_start(provider=provider, user=user, smoke=False)
        with django_capture_on_commit_callbacks(execute=True):
            run_published()
        started.refresh_from_db()
        assert started.status == Build.Status.SUCCEEDED, started.error
        return started

    return build


@pytest.fixture
def team_key(personas: Personas, keypair: tuple[bytes, bytes]) -> SigningKey:
    return services.signing_key_upload(
        team=personas.team, user=personas.alice, private_pem=keypair[0], name="acme"
    )


def page(client: Client, name: str, *args: Any) -> str:
    """The page's HTML without the <wbr> line-break hints (the text as read)."""
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return response.content.decode().replace("<wbr>", "")


def download(client: Client, build: Build) -> Any:
    response = client.get(reverse("builds:build-download", args=[build.pk]))
    assert response.status_code == 200
    return response


class Buttons(HTMLParser):
    """Every <button> with its attributes, and the text of elements with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.buttons: list[dict[str, str]] = []
        self.texts: dict[str, str] = {}
        self._open: list[str] = []
        self._button: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "button":
            self._button = {**values, "text": ""}
            self.buttons.append(self._button)
        if "id" in values and tag == "code":
            self._open.append(values["id"])
            self.texts[values["id"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._button = None
        if tag == "code" and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button["text"] += data
        for open_id in self._open:
            self.texts[open_id] += data


def parsed(body: str) -> Buttons:
    parser = Buttons()
    parser.feed(body)
    return parser


# ---------------------------------------------------------------- file names


class TestArtifactNames:
    def test_signed_and_unsigned_builds_of_one_version_download_under_different_names(
        self,
        client: Client,
        personas: Personas,
        provider: Any,
        build_now: Any,
        keypair: tuple[bytes, bytes],
        storage: Path,
    ) -> None:
        unsigned = build_now(provider)
        services.signing_key_upload(
            team=personas.team, user=personas.alice, private_pem=keypair[0]
        )
        signed = build_now(provider)
        assert unsigned.plugin_version == signed.plugin_version == "0.0.1"
        assert (
            unsigned.artifact_name == f"gateway-0.0.1-b{unsigned.pk}-unsigned.difypkg"
        )
        assert signed.artifact_name == f"gateway-0.0.1-b{signed.pk}-signed.difypkg"
        # Stored under the same name, each build in its own folder.
        for build in (unsigned, signed):
            assert build.artifact.name.endswith(f"/{build.pk}/{build.artifact_name}")
            assert (storage / build.artifact.name).is_file()

        login(client, personas.victor)
        for build in (unsigned, signed):
            response = download(client, build)
            assert response["Content-Disposition"] == (
                f'attachment; filename="{build.artifact_name}"'
            )
        history = page(client, "builds:provider-builds", provider.pk)
        for build in (unsigned, signed):
            link = reverse("builds:build-download", args=[build.pk])
            assert f'<a href="{link}" download>{build.artifact_name}</a>' in history

    def test_two_builds_of_the_same_files_get_different_names(
        self, provider: Any, build_now: Any
    ) -> None:
        first, second = build_now(provider), build_now(provider)
        assert first.source_id == second.source_id
        assert first.sha256 == second.sha256
        assert first.artifact_name != second.artifact_name

    def test_the_page_the_api_and_the_command_line_agree_on_the_name(
        self,
        client: Client,
        personas: Personas,
        provider: Any,
        build_now: Any,
        team_key: SigningKey,
    ) -> None:
        build = build_now(provider)
        login(client, personas.bob)
        browser = download(client, build)["Content-Disposition"]
        api = Api(Client(), make_token(personas.bob, personas.team))
        read = api.get(f"/api/v1/builds/{build.pk}").json()
        artifact = api.get(read["artifact"]["download"])
        assert artifact.status_code == 200
        assert (
            artifact["Content-Disposition"]
            == browser
            == (f'attachment; filename="{read["artifact"]["name"]}"')
        )
        summary = cli.build_summary(build)
        assert summary["filename"] == read["artifact"]["name"] == build.artifact_name
        assert f"file name: {build.artifact_name}\n" in cli.build_report(build, summary)

    def test_a_notification_names_the_file(
        self, personas: Personas, provider: Any, build_now: Any, team_key: SigningKey
    ) -> None:
        from studio.notifications.models import Notification

        build = build_now(provider, user=personas.bob)
        note = Notification.objects.get(recipient=personas.bob)
        assert note.body == f"gateway-0.0.1-b{build.pk}-signed.difypkg"


# ---------------------------------------------------------------- fingerprints


class TestOneFingerprintFormat:
    def test_the_keys_page_builds_page_api_cli_and_audit_show_the_same_text(
        self,
        client: Client,
        personas: Personas,
        provider: Any,
        build_now: Any,
        team_key: SigningKey,
        keypair: tuple[bytes, bytes],
        storage: Path,
        tmp_path: Path,
    ) -> None:
        build = build_now(provider)
        shown = team_key.display_fingerprint
        assert FINGERPRINT.fullmatch(shown)
        assert shown == signing.key_fingerprint(team_key.public_pem.encode())
        assert build.display_key_fingerprint == shown

        login(client, personas.carol)
        places = {
            "signing keys page": page(
                client, "builds:signing-keys", personas.team.slug
            ),
            "builds tab": page(client, "builds:provider-builds", provider.pk),
            "build page": page(client, "builds:build-detail", build.pk),
            "build log": build.log_tail(),
        }
        api = Api(Client(), make_token(personas.bob, personas.team))
        read = api.get(f"/api/v1/builds/{build.pk}").json()
        places["API"] = json.dumps(read)
        assert read["artifact"]["key_fingerprint"] == shown
        places["plugin build"] = cli.build_report(build, cli.build_summary(build))
        assert cli.build_summary(build)["key_fingerprint"] == shown

        # Downloads in the browser and with a team token (each has its summary).
        download(client, build)
        team = make_token(
            personas.alice, personas.team, kind=ApiToken.Kind.TEAM, role="viewer"
        )
        assert Api(Client(), team).get(read["artifact"]["download"]).status_code == 200
        events = AuditEvent.objects.filter(action="download").order_by("id")
        assert [e.actor_name for e in events] == ["carol", ""]
        for event in events:
            places[f"audit ({event.actor_name or 'team token'})"] = event.summary

        public = tmp_path / "acme.public.pem"
        public.write_bytes(keypair[1])
        package = tmp_path / build.artifact_name
        package.write_bytes((storage / build.artifact.name).read_bytes())
        out = StringIO()
        call_command(
            "plugin", "verify-signature", str(package), "--key", str(public), stdout=out
        )
        places["plugin verify-signature"] = out.getvalue()

        for where, text in places.items():
            assert shown in text, where
            assert FINGERPRINT.findall(text) == [shown] * len(
                FINGERPRINT.findall(text)
            ), where
            # The stored form (bare hex) is never what a person reads.
            assert team_key.fingerprint not in text, where

    def test_keygen_prints_the_new_keys_fingerprint(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keypair: Any
    ) -> None:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setattr(signing, "generate_keypair", lambda **kw: keypair)
        out = StringIO()
        call_command("plugin", "keygen", "team", "--json", stdout=out)
        data = json.loads(out.getvalue())
        assert data["fingerprint"] == signing.key_fingerprint(
            (tmp_path / "team.public.pem").read_bytes()
        )
        assert FINGERPRINT.fullmatch(data["fingerprint"])


# ---------------------------------------------------------------- the build page


class TestPackageBlock:
    def test_digests_are_labelled_each_with_a_named_copy_button(
        self,
        client: Client,
        personas: Personas,
        provider: Any,
        build_now: Any,
        team_key: SigningKey,
    ) -> None:
        build = build_now(provider)
        login(client, personas.victor)
        body = page(client, "builds:build-detail", build.pk)
        assert '<h3 id="package-title">Package</h3>' in body
        for label in ("SHA-256", "Daemon checksum", "Plugin identifier", "Signature"):
            assert f"<dt>{label}</dt>" in body
        html = parsed(body)
        copies = {
            b["aria-label"]: b["data-copy"] for b in html.buttons if "data-copy" in b
        }
        assert {label: html.texts[target] for label, target in copies.items()} == {
            "Copy SHA-256": build.sha256,
            "Copy daemon checksum": build.checksum,
            "Copy plugin identifier": build.identifier,
            "Copy key fingerprint": team_key.display_fingerprint,
        }
        assert build.identifier.endswith("@" + build.checksum)
        # Without JavaScript the buttons would do nothing: they start hidden.
        assert all("hidden" in b for b in html.buttons if "data-copy" in b)
        assert (
            '<span class="badge ok">signed</span> with key <strong>acme</strong>'
            in (body)
        )

    def test_an_unsigned_build_says_so(
        self, client: Client, personas: Personas, provider: Any, build_now: Any
    ) -> None:
        build = build_now(provider)
        login(client, personas.victor)
        body = page(client, "builds:build-detail", build.pk)
        assert '<span class="badge warning">unsigned</span>' in body
        assert "Copy key fingerprint" not in body

    def test_every_button_on_the_builds_pages_has_a_name(
        self,
        client: Client,
        personas: Personas,
        provider: Any,
        build_now: Any,
        team_key: SigningKey,
    ) -> None:
        build = build_now(provider)
        login(client, personas.alice)
        for body in (
            page(client, "builds:build-detail", build.pk),
            page(client, "builds:provider-builds", provider.pk),
            page(client, "builds:signing-keys", personas.team.slug),
        ):
            for button in parsed(body).buttons:
                assert button.get("aria-label") or button["text"].strip(), button


# ---------------------------------------------------------------- durations


def set_times(build: Build, *, queued: float, ran: float | None) -> None:
    """Give `build` a known queue wait and run time (seconds)."""
    created = timezone.now() - timedelta(hours=1)
    started = created + timedelta(seconds=queued)
    Build.objects.filter(pk=build.pk).update(
        created_at=created,
        started_at=started if ran is not None else None,
        finished_at=started + timedelta(seconds=ran) if ran is not None else None,
    )


class TestDurations:
    def test_the_history_shows_run_time_and_queue_wait(
        self, client: Client, personas: Personas, provider: Any, build_now: Any
    ) -> None:
        quick, slow = build_now(provider), build_now(provider)
        set_times(quick, queued=0.3, ran=8.44)
        set_times(slow, queued=4, ran=72)
        login(client, personas.victor)
        body = page(client, "builds:provider-builds", provider.pk)
        assert '8.4 s<br><span class="muted">queued 300 ms</span>' in body
        assert '1 m 12 s<br><span class="muted">queued 4.0 s</span>' in body
        detail = page(client, "builds:build-detail", slow.pk)
        assert '<dt>Run time</dt><dd class="build-time">1 m 12 s</dd>' in detail
        assert "after 4.0 s in the queue" in detail

    def test_a_running_build_shows_how_long_it_has_run(
        self, client: Client, personas: Personas, provider: Any, broker: Published
    ) -> None:
        build = services.build_start(provider=provider, user=None)
        now = timezone.now()
        Build.objects.filter(pk=build.pk).update(
            status=Build.Status.RUNNING,
            created_at=now - timedelta(seconds=100),
            started_at=now - timedelta(seconds=95),
            heartbeat_at=now,
        )
        login(client, personas.victor)
        body = page(client, "builds:provider-builds", provider.pk)
        assert re.search(r"running for 1 m 3[5-9] s", body), body
        assert re.search(r"running 1 m 3[5-9] s", body)
        detail = page(client, "builds:build-detail", build.pk)
        assert re.search(
            r"<dt>Running for</dt><dd class=\"build-time\">1 m 3[5-9] s", detail
        )

    def test_a_queued_build_shows_its_wait(
        self, client: Client, personas: Personas, provider: Any, broker: Published
    ) -> None:
        build = services.build_start(provider=provider, user=None)
        Build.objects.filter(pk=build.pk).update(
            created_at=timezone.now() - timedelta(seconds=12)
        )
        login(client, personas.victor)
        body = page(client, "builds:provider-builds", provider.pk)
        assert re.search(r"waiting for 1[2-5] s", body)

    def test_the_release_list_shows_durations_too(
        self, client: Client, personas: Personas, provider: Any, build_now: Any
    ) -> None:
        build = build_now(provider)
        Build.objects.filter(pk=build.pk).update(kind="release", revision_label="r1")
        set_times(build, queued=1.5, ran=31)
        login(client, personas.victor)
        body = page(client, "reviews:provider-reviews", provider.pk)
        assert '31 s<br><span class="muted">queued 1.5 s</span>' in body
        assert f"gateway-0.0.1-b{build.pk}-unsigned.difypkg" in body
        assert '<span class="badge warning">unsigned</span>' in body


class TestQueries:
    def test_the_history_costs_the_same_for_2_and_8_builds(
        self,
        client: Client,
        personas: Personas,
        provider: Any,
        build_now: Any,
        team_key: SigningKey,
    ) -> None:
        login(client, personas.victor)
        url = reverse("builds:provider-builds", args=[provider.pk])

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            return len(captured)

        queries()  # the first request of a session also records the visit
        for _ in range(2):
            build_now(provider, user=personas.bob)
        few = queries()
        for _ in range(6):
            build_now(provider, user=personas.alice)
        assert queries() == few


class TestBreakable:
    def test_long_values_may_wrap_only_between_their_parts(self) -> None:
        from studio.builds.templatetags.builds import breakable

        assert breakable("SHA256:0a:1b") == "SHA256:<wbr>0a:<wbr>1b"
        assert breakable("acme/x:1.0@ab") == "acme/<wbr>x:<wbr>1.0@<wbr>ab"
        assert breakable("<b>") == "&lt;b&gt;"
