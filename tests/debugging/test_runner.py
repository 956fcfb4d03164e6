"""The remote-debugging runner against a daemon that speaks the real protocol."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from studio.builds.mock_upstream import MockUpstream
from studio.debugging.runner import (
    CONNECTED,
    ENDED,
    REFUSED,
    Limits,
    Snapshot,
    run_remote,
)
from studio.pluginfmt.driver import actions
from studio.pluginfmt.render import render_tree
from tests.builds.test_smoke import make_plugin
from tests.debugging.fake_daemon import FakeDaemon

KEY = "dbg-key-3f9a7c1e5b2d"


@pytest.fixture(scope="module")
def plugin_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="debug-test-")) / "plugin"
    render_tree(make_plugin(["predefined-model"]), folder)
    return folder


class Session:
    """run_remote in a thread; `updates` keeps every snapshot reported."""

    def __init__(self, folder: Path, python: Path, port: int, key: str, **limits: Any):
        self.updates: list[Snapshot] = []
        self.stop = threading.Event()
        self.result: Snapshot | None = None
        self.elapsed = 0.0
        self.pids: list[int] = []

        def run() -> None:
            started = time.monotonic()
            self.result = run_remote(
                folder,
                python,
                host="127.0.0.1",
                port=port,
                key=key,
                limits=Limits(**{"max_seconds": 60, **limits}),
                on_update=self.updates.append,
                should_stop=self.stop.is_set,
            )
            self.elapsed = time.monotonic() - started

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 60) -> Snapshot:
        self.thread.join(timeout)
        assert self.result is not None, "the session did not end"
        return self.result

    def wait_state(self, state: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(u.state == state for u in self.updates):
                return
            time.sleep(0.05)
        raise AssertionError(f"never {state}: {[u.state for u in self.updates]}")


def plugin_processes(folder: Path) -> list[int]:
    """Pids of processes running in the plugin's folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd") == str(folder):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class TestRunRemote:
    def test_the_daemon_sees_the_key_and_declarations_and_gets_answers(
        self, plugin_folder: Path, sdk_python: Path
    ) -> None:
        with FakeDaemon(KEY) as daemon, MockUpstream() as upstream:
            session = Session(plugin_folder, sdk_python, daemon.port, KEY)
            assert daemon.ready.wait(30)
            credentials = {"endpoint_url": upstream.url, "api_key": upstream.api_key}
            checked = daemon.request(
                actions.validate_provider_credentials("gateway", credentials)
            )
            answer = daemon.request(
                actions.invoke_llm(
                    "gateway",
                    "gw-chat",
                    credentials,
                    [{"role": "user", "content": "Hello from Dify"}],
                )
            )
            session.wait_state(CONNECTED)
            time.sleep(0.5)
            session.stop.set()
            result = session.join()
        connection = daemon.connections[0]
        assert connection.key == KEY
        assert connection.messages[:2] == ["handshake", "manifest_declaration"]
        assert "model_declaration" in connection.messages
        assert connection.messages[-1] == "end"
        assert connection.manifest is not None
        assert connection.manifest["name"] == "gateway"
        assert connection.models[0]["provider"] == "gateway"
        assert "icon.svg" in connection.assets or connection.assets
        assert checked.error is None and checked.chunks[0]["result"] is True
        assert answer.error is None
        text = "".join(c["delta"]["message"]["content"] or "" for c in answer.chunks)
        assert text == "echo: Hello from Dify"
        assert len(answer.chunks) >= 2
        assert result.state == ENDED and result.reason == "stopped by a user"
        assert [r["action"] for r in result.requests] == [
            "validate_provider_credentials",
            "invoke_llm",
        ]
        assert result.requests[1]["model"] == "gw-chat"
        shown = "\n".join(result.log)
        assert KEY not in shown
        assert str(upstream.api_key) not in shown  # Dify's credentials stay out
        assert plugin_processes(plugin_folder) == []

    def test_a_wrong_key_is_refused_and_the_process_stopped_quickly(
        self, plugin_folder: Path, sdk_python: Path
    ) -> None:
        with FakeDaemon(KEY) as daemon:
            port = daemon.port
            session = Session(plugin_folder, sdk_python, port, "wrong-key-000")
            result = session.join()
        assert result.state == REFUSED
        assert result.reason.startswith(
            f"The Dify daemon at 127.0.0.1:{port} refused the key ("
        )
        assert session.elapsed < 15
        assert sum(len(line) + 1 for line in result.log) <= 64 * 1024
        assert "wrong-key-000" not in "\n".join(result.log)
        assert plugin_processes(plugin_folder) == []

    def test_the_process_ends_at_the_time_limit(
        self, plugin_folder: Path, sdk_python: Path
    ) -> None:
        with FakeDaemon(KEY) as daemon:
            session = Session(
                plugin_folder, sdk_python, daemon.port, KEY, max_seconds=7
            )
            result = session.join()
        assert result.state == ENDED
        assert result.reason == "the time limit of 7 s was reached"
        assert 7 <= session.elapsed < 15
        assert any(u.state == CONNECTED for u in session.updates)
        assert plugin_processes(plugin_folder) == []

    def test_the_log_tail_is_capped(
        self, plugin_folder: Path, sdk_python: Path
    ) -> None:
        with FakeDaemon(KEY) as daemon:
            session = Session(
                plugin_folder, sdk_python, daemon.port, "wrong", keep_lines=3
            )
            result = session.join()
        assert len(result.log) <= 3


class TestParentDeath:
    def test_the_plugin_dies_with_the_process_that_started_it(
        self, plugin_folder: Path, sdk_python: Path
    ) -> None:
        """A worker killed mid-session leaves no plugin process behind."""
        import subprocess
        import sys
        import textwrap

        with FakeDaemon(KEY) as daemon:
            script = textwrap.dedent(
                f"""
                import django, os
                os.environ["DJANGO_SETTINGS_MODULE"] = "studio.settings"
                from pathlib import Path
                from studio.debugging.runner import Limits, run_remote
                run_remote(Path({str(plugin_folder)!r}), Path({str(sdk_python)!r}),
                    host="127.0.0.1", port={daemon.port}, key={KEY!r},
                    limits=Limits(max_seconds=120), on_update=lambda s: None,
                    should_stop=lambda: False)
                """
            )
            worker = subprocess.Popen([sys.executable, "-c", script])
            try:
                assert daemon.ready.wait(30)
                assert plugin_processes(plugin_folder)
            finally:
                worker.kill()
                worker.wait()
            deadline = time.monotonic() + 10
            while plugin_processes(plugin_folder) and time.monotonic() < deadline:
                time.sleep(0.1)
        assert plugin_processes(plugin_folder) == []
