"""Debug in Dify: the pages, the service and the worker's run, end to end."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core import serializers
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.builds.mock_upstream import MockUpstream
from studio.builds.models import Build
from studio.catalog.models import Provider
from studio.debugging import services
from studio.debugging.models import DebugSession
from studio.pluginfmt.driver import actions
from tests.builds.conftest import login
from tests.debugging.fake_daemon import FakeDaemon

KEY = "dify-debug-key-7Qm2xV9p"
HTMX = {"HX-Request": "true"}


def start_url(provider: Provider) -> str:
    return reverse("debugging:start", args=[provider.pk])


def session_url(session: DebugSession) -> str:
    return reverse("debugging:session", args=[session.pk])


def post_start(
    client: Client, provider: Provider, build: Build, address: str, key: str = KEY
):
    return client.post(
        start_url(provider), {"address": address, "key": key, "build": build.pk}
    )


def every_row_text() -> str:
    """Every row of every table, serialised."""
    return "\n".join(
        serializers.serialize("json", model.objects.all())
        for model in apps.get_models()
    )


def files_text(root: Path) -> str:
    return "\n".join(
        p.read_bytes().decode(errors="replace") for p in root.rglob("*") if p.is_file()
    )


class TestStartPage:
    def test_it_shows_the_form_with_the_succeeded_builds(
        self, client, personas, provider, build
    ):
        login(client, personas.bob)
        response = client.get(start_url(provider), {"build": build.pk})
        assert response.status_code == 200
        html = response.content.decode()
        assert "Debug in Dify" in html
        assert f'<option value="{build.pk}" selected>' in html
        assert 'type="password"' in html

    def test_an_htmx_request_gets_the_section(self, client, personas, provider, build):
        login(client, personas.bob)
        response = client.get(start_url(provider), headers=HTMX)
        html = response.content.decode()
        assert 'id="debug-start"' in html and "<html" not in html

    def test_the_builds_tab_links_to_it(self, client, personas, provider):
        login(client, personas.bob)
        html = client.get(reverse("builds:provider-builds", args=[provider.pk])).content
        assert start_url(provider).encode() in html

    def test_another_team_gets_404(self, client, personas, provider, build):
        login(client, personas.mallory)
        assert client.get(start_url(provider)).status_code == 404

    def test_a_viewer_cannot_start(self, client, personas, provider, build, sent):
        login(client, personas.victor)
        response = post_start(client, provider, build, "93.184.216.34:5003")
        assert response.status_code == 403
        assert not DebugSession.objects.exists()

    def test_a_wrong_method_gets_405(self, client, personas, provider):
        login(client, personas.bob)
        assert client.put(start_url(provider)).status_code == 405

    @pytest.mark.parametrize(
        ("address", "why"),
        [
            ("127.0.0.1:5003", "loopback"),
            ("10.0.0.1", "private"),
            ("169.254.169.254:80", "cloud metadata"),
            ("localhost:5003", "loopback"),
        ],
    )
    def test_internal_addresses_are_refused(
        self, client, personas, provider, build, sent, address, why
    ):
        login(client, personas.bob)
        response = post_start(client, provider, build, address)
        assert response.status_code == 400
        assert why in response.content.decode()
        assert not DebugSession.objects.exists() and not sent

    def test_an_allowed_private_host_starts_a_session(
        self,
        client,
        personas,
        provider,
        build,
        sent,
        settings,
        django_capture_on_commit_callbacks,
    ):
        settings.DEBUG_EGRESS_ALLOW = ["127.0.0.0/8"]
        login(client, personas.bob)
        with django_capture_on_commit_callbacks(execute=True):
            response = post_start(client, provider, build, "127.0.0.1")
        session = DebugSession.objects.get()
        assert response.status_code == 302
        assert response["Location"] == session_url(session)
        assert (session.host, session.port, session.state) == (
            "127.0.0.1",
            5003,
            "queued",
        )
        assert session.key_token and KEY not in session.key_token
        assert sent == [{"session_id": session.pk}]

    def test_a_bad_port_is_refused(self, client, personas, provider, build, sent):
        login(client, personas.bob)
        response = post_start(client, provider, build, "dify.example:99999")
        assert response.status_code == 400
        assert "port must be a number" in response.content.decode()

    def test_one_running_session_per_user(
        self, client, personas, provider, build, sent, settings
    ):
        settings.DEBUG_EGRESS_ALLOW = ["127.0.0.1"]
        login(client, personas.bob)
        assert post_start(client, provider, build, "127.0.0.1:5003").status_code == 302
        response = post_start(client, provider, build, "127.0.0.1:5003")
        assert response.status_code == 409
        assert "stop it first" in response.content.decode()


class TestSessionPage:
    def test_stopping_a_queued_session_ends_it_and_forgets_the_key(
        self, client, personas, provider, build, sent, settings
    ):
        settings.DEBUG_EGRESS_ALLOW = ["127.0.0.1"]
        login(client, personas.bob)
        post_start(client, provider, build, "127.0.0.1:5003")
        session = DebugSession.objects.get()
        response = client.post(reverse("debugging:stop", args=[session.pk]))
        assert response.status_code == 302
        session.refresh_from_db()
        assert session.state == "ended" and session.key_token == ""
        page = client.get(session_url(session), headers=HTMX)
        assert page.status_code == 286  # polling stops
        assert "stopped by a user" in page.content.decode()

    def test_another_team_gets_404(
        self, client, personas, provider, build, sent, settings
    ):
        settings.DEBUG_EGRESS_ALLOW = ["127.0.0.1"]
        login(client, personas.bob)
        post_start(client, provider, build, "127.0.0.1:5003")
        session = DebugSession.objects.get()
        client.logout()
        login(client, personas.mallory)
        assert client.get(session_url(session)).status_code == 404
        assert (
            client.post(reverse("debugging:stop", args=[session.pk])).status_code == 404
        )

    def test_stop_needs_a_post(self, client, personas, provider, build, sent, settings):
        settings.DEBUG_EGRESS_ALLOW = ["127.0.0.1"]
        login(client, personas.bob)
        post_start(client, provider, build, "127.0.0.1:5003")
        session = DebugSession.objects.get()
        assert (
            client.get(reverse("debugging:stop", args=[session.pk])).status_code == 405
        )


def wait_for(
    client: Client, session: DebugSession, text: str, timeout: float = 40
) -> str:
    deadline = time.monotonic() + timeout
    html = ""
    while time.monotonic() < deadline:
        html = client.get(session_url(session), headers=HTMX).content.decode()
        if text in html:
            return html
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never showed:\n{html}")


@pytest.mark.django_db(transaction=True)
class TestOnTheWorker:
    """The worker's run, in a thread of this process, against the fake daemon."""

    def run_in_thread(self, session: DebugSession) -> threading.Thread:
        thread = threading.Thread(
            target=services.debug_session_run, kwargs={"session_id": session.pk}
        )
        thread.start()
        return thread

    def test_dify_sees_the_plugin_and_the_page_shows_its_requests(
        self,
        client,
        personas,
        provider,
        build,
        sent,
        settings,
        storage,
        caplog,
        sdk_python,
    ):
        caplog.set_level(logging.DEBUG)
        settings.DEBUG_EGRESS_ALLOW = ["127.0.0.1"]
        login(client, personas.bob)
        with FakeDaemon(KEY) as daemon, MockUpstream() as upstream:
            post_start(client, provider, build, f"127.0.0.1:{daemon.port}")
            session = DebugSession.objects.get()
            thread = self.run_in_thread(session)
            assert daemon.ready.wait(60)
            credentials = {"endpoint_url": upstream.url, "api_key": upstream.api_key}
            checked = daemon.request(
                actions.validate_provider_credentials("gateway", credentials)
            )
            answer = daemon.request(
                actions.invoke_llm(
                    "gateway",
                    "gw-chat",
                    credentials,
                    [{"role": "user", "content": "Hi"}],
                )
            )
            html = wait_for(client, session, "invoke_llm")
            assert "Connected" in html and "validate_provider_credentials" in html
            client.post(reverse("debugging:stop", args=[session.pk]))
            thread.join(30)
        assert daemon.connections[0].key == KEY
        assert daemon.connections[0].models[0]["provider"] == "gateway"
        assert checked.chunks[0]["result"] is True
        assert (
            "".join(c["delta"]["message"]["content"] for c in answer.chunks)
            == "echo: Hi"
        )
        session.refresh_from_db()
        assert session.state == "ended" and session.reason == "stopped by a user"
        assert session.key_token == ""
        # The key is in no row, no log line, no stored file.
        assert KEY not in every_row_text()
        assert KEY not in caplog.text
        assert KEY not in files_text(storage)
        assert str(upstream.api_key) not in session.log

    def test_a_wrong_key_shows_the_refusal(
        self, client, personas, provider, build, sent, settings, sdk_python
    ):
        settings.DEBUG_EGRESS_ALLOW = ["127.0.0.1"]
        login(client, personas.bob)
        with FakeDaemon(KEY) as daemon:
            post_start(
                client, provider, build, f"127.0.0.1:{daemon.port}", key="not-the-key"
            )
            session = DebugSession.objects.get()
            started = time.monotonic()
            thread = self.run_in_thread(session)
            thread.join(60)
        assert time.monotonic() - started < 30
        html = client.get(session_url(session)).content.decode()
        assert "Refused" in html
        assert "refused the key" in html
        session.refresh_from_db()
        assert session.state == "refused" and len(session.log) <= 64 * 1024

    def test_the_session_ends_at_the_time_limit(
        self, client, personas, provider, build, sent, settings, sdk_python
    ):
        settings.DEBUG_EGRESS_ALLOW = ["127.0.0.1"]
        settings.DEBUG_SESSION_MAX_SECONDS = 6
        login(client, personas.bob)
        with FakeDaemon(KEY) as daemon:
            post_start(client, provider, build, f"127.0.0.1:{daemon.port}")
            session = DebugSession.objects.get()
            self.run_in_thread(session).join(60)
        session.refresh_from_db()
        assert session.state == "ended"
        assert session.reason == "the time limit of 6 s was reached"


class TestLostWorker:
    def test_a_session_past_its_limit_is_ended_when_the_page_is_read(
        self, client, personas, provider, build, sent, settings
    ):
        settings.DEBUG_EGRESS_ALLOW = ["127.0.0.1"]
        settings.DEBUG_SESSION_MAX_SECONDS = 60
        login(client, personas.bob)
        post_start(client, provider, build, "127.0.0.1:5003")
        session = DebugSession.objects.get()
        DebugSession.objects.filter(pk=session.pk).update(
            state="connected",
            created_at=session.created_at - timedelta(seconds=200),
        )
        html = client.get(session_url(session)).content.decode()
        session.refresh_from_db()
        assert session.state == "ended"
        assert "the worker running the session was lost" in html


class TestQueries:
    def test_the_pages_make_as_many_queries_with_many_sessions(
        self, client, personas, provider, build
    ):
        login(client, personas.bob)

        def add(count: int) -> DebugSession:
            made = [
                DebugSession.objects.create(
                    build=build,
                    created_by=personas.bob,
                    host="dify.example",
                    port=5003,
                    state="ended",
                    requests=[{"action": "invoke_llm", "model": "m", "type": "model"}]
                    * 20,
                )
                for _ in range(count)
            ]
            return made[-1]

        add(1)
        client.get(start_url(provider))  # the first request after login does more
        counts = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as context:
                client.get(start_url(provider))
            counts.append(len(context.captured_queries))
            last = add(8)
        with CaptureQueriesContext(connection) as context:
            client.get(session_url(last))
        assert counts[0] == counts[1]
        assert len(context.captured_queries) <= counts[0]


class TestTheWorkerChecksAgain:
    def test_an_address_no_longer_allowed_ends_the_session_unrun(
        self, client, personas, provider, build, sent, settings
    ):
        settings.DEBUG_EGRESS_ALLOW = ["127.0.0.1"]
        login(client, personas.bob)
        post_start(client, provider, build, "127.0.0.1:5003")
        session = DebugSession.objects.get()
        settings.DEBUG_EGRESS_ALLOW = []
        services.debug_session_run(session_id=session.pk)
        session.refresh_from_db()
        assert session.state == "ended"
        assert "loopback" in session.reason
        assert session.key_token == ""
