"""A real worker and a real Redis run a debugging session: Dify (the fake
daemon) sees the plugin; a stop ends it; a killed worker leaves no plugin."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from studio.builds.models import Build
from studio.debugging.models import DebugSession
from tests.builds.conftest import Workers, login
from tests.debugging.fake_daemon import FakeDaemon

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

KEY = "e2e-debug-key-Zt81"


def plugins_for(port: int) -> list[int]:
    """Pids of plugin processes told to connect to this port."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"REMOTE_INSTALL_PORT={port}".encode() in environ:
            found.append(int(entry.name))
    return found


def wait_state(
    session: DebugSession, states: set[str], timeout: float = 60
) -> DebugSession:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.refresh_from_db()
        if session.state in states:
            return session
        time.sleep(0.2)
    raise AssertionError(f"session still {session.state}: {session.reason}")


class TestOnARealWorker:
    def test_a_session_connects_serves_and_stops_and_a_killed_worker_leaves_no_plugin(
        self,
        personas: Any,
        workers: Workers,
        build: Build,
        client: Client,
        settings: Any,
        sdk_python: Path,
    ) -> None:
        settings.DEBUG_EGRESS_ALLOW = ["127.0.0.1"]
        worker = workers.start("debug", DEBUG_EGRESS_ALLOW="127.0.0.1")
        login(client, personas.bob)
        url = reverse("debugging:start", args=[build.provider_id])
        with FakeDaemon(KEY) as daemon:
            response = client.post(
                url,
                {"address": f"127.0.0.1:{daemon.port}", "key": KEY, "build": build.pk},
            )
            assert response.status_code == 302
            session = DebugSession.objects.get()
            assert daemon.ready.wait(90), worker.log.read_text()[-3000:]
            assert daemon.connections[0].key == KEY
            wait_state(session, {"connected"})
            assert session.key_token == ""
            client.post(reverse("debugging:stop", args=[session.pk]))
            session = wait_state(session, {"ended"}, timeout=15)
            assert session.reason == "stopped by a user"
            assert plugins_for(daemon.port) == []

            client.post(
                url,
                {"address": f"127.0.0.1:{daemon.port}", "key": KEY, "build": build.pk},
            )
            second = DebugSession.objects.exclude(pk=session.pk).get()
            wait_state(second, {"connected"})
            assert plugins_for(daemon.port)
            workers.kill(worker)
            deadline = time.monotonic() + 10
            while plugins_for(daemon.port) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert plugins_for(daemon.port) == []
        assert KEY not in worker.log.read_text()
