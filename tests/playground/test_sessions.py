"""Playground sessions: the echo plugin under the real SDK, caps, idle, orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.playground.sessions import (
    MASK,
    Limits,
    PlaygroundError,
    SessionManager,
)

ROOT = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


@pytest.fixture
def manager(venv_options: dict[str, Any]) -> Iterator[SessionManager]:
    manager = SessionManager(
        Limits(max_per_user=1, max_total=2, idle_seconds=300),
        venv_options=venv_options,
    )
    yield manager
    manager.stop_all()


def start(manager: SessionManager, package: bytes, owner: str = "1") -> Any:
    return manager.start(
        owner=owner,
        build_id=1,
        provider_id=1,
        package=package,
        credentials={"api_key": "good"},
    )


LLM = {
    "type": "model",
    "action": "invoke_llm",
    "model_type": "llm",
    "model": "echo-1",
    "prompt_messages": [{"role": "user", "content": "one two three four"}],
    "model_parameters": {},
    "stop": None,
    "tools": None,
    "stream": True,
}


def test_a_session_streams_chunks_and_masks_the_typed_key(
    manager: SessionManager, echo_package: bytes
) -> None:
    session = start(manager, echo_package)
    events = list(manager.invoke(session, dict(LLM)))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "request" and kinds[-1] == "done"
    assert kinds.count("chunk") >= 3
    assert events[0]["data"]["credentials"] == {"api_key": MASK}
    assert "good" not in repr(events).replace("good-", "")
    assert events[-1]["first_chunk_ms"] <= events[-1]["total_ms"]


def test_the_per_user_and_global_caps_answer_with_a_clear_message(
    manager: SessionManager, echo_package: bytes
) -> None:
    start(manager, echo_package, owner="1")
    with pytest.raises(PlaygroundError, match="the most one person may have") as one:
        start(manager, echo_package, owner="1")
    assert one.value.status == 429
    start(manager, echo_package, owner="2")
    with pytest.raises(PlaygroundError, match="The playground is full") as full:
        start(manager, echo_package, owner="3")
    assert full.value.status == 503


def test_an_idle_session_is_ended_and_its_process_is_gone(
    venv_options: dict[str, Any], echo_package: bytes
) -> None:
    manager = SessionManager(Limits(idle_seconds=0.5), venv_options=venv_options)
    try:
        session = start(manager, echo_package)
        pid = session.plugin.pid
        assert manager.reap_idle() == []
        time.sleep(0.6)
        assert manager.reap_idle() == [session.id]
        assert session.credentials == {}
        assert gone_within(pid, 5)
        with pytest.raises(PlaygroundError, match="no such playground session"):
            manager.get(session.id, "1")
    finally:
        manager.stop_all()


def test_a_newer_build_ends_older_sessions(
    manager: SessionManager, echo_package: bytes
) -> None:
    session = start(manager, echo_package)
    assert manager.end_older_builds(provider_id=1, build_id=2) == [session.id]
    assert gone_within(session.plugin.pid, 5)


def assert_no_orphan_when_killed(script: str) -> None:
    """Run `script` (it starts a session and prints the plugin's pid), SIGKILL
    it, and check the plugin process is gone within 5 s."""
    owner = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert owner.stdout is not None
        pid = int(owner.stdout.readline())
        assert alive(pid)
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        assert gone_within(pid, 5)
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()


OWNER = """
import sys, time
from pathlib import Path
from studio.playground.sessions import Limits, SessionManager
from studio.pluginfmt.package import package
from tests.pluginfmt.echo_plugin import ECHO_FILES, SDK_CACHE, UV_CACHE
manager = SessionManager(Limits(), venv_options={"cache_dir": SDK_CACHE,
    "uv_cache_dir": UV_CACHE, "max_bytes": None})
pkg = package({n: t.encode() for n, t in ECHO_FILES.items()})
session = manager.start(owner="1", build_id=1, provider_id=1, package=pkg,
    credentials={"api_key": "good"})
print(session.plugin.pid, flush=True)
time.sleep(600)
"""


def test_no_orphan_is_left_when_the_owning_process_is_killed(
    echo_package: bytes,
) -> None:
    assert_no_orphan_when_killed(OWNER)


STUBBORN = r"""
import json, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
sys.stdout.write(json.dumps({"name": "stubborn"}) + "\n\n")
sys.stdout.write(json.dumps({"event": "heartbeat", "data": {}}) + "\n\n")
sys.stdout.flush()
while True:  # never reads stdin: its closing does not end this plugin
    time.sleep(1)
"""

STARTER = """
import sys, time
from pathlib import Path
from studio.pluginfmt.driver import PluginProcess
plugin = PluginProcess.start(Path(sys.argv[1]), sys.executable, timeout=20,
    die_with_parent=sys.argv[2] == "1")
plugin.wait_ready()
print(plugin.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("die_with_parent", [True, False])
def test_a_plugin_that_ignores_its_stdin_dies_with_its_parent_only_when_asked(
    tmp_path: Path, die_with_parent: bool
) -> None:
    folder = tmp_path / "stubborn"
    folder.mkdir()
    (folder / "main.py").write_text(STUBBORN)
    (folder / "manifest.yaml").write_text("meta:\n  runner: {entrypoint: main}\n")
    owner = subprocess.Popen(
        [sys.executable, "-c", STARTER, str(folder), "1" if die_with_parent else "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    pid = 0
    try:
        assert owner.stdout is not None
        pid = int(owner.stdout.readline())
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        # The session server relies on the first case; the second shows the
        # process would otherwise be left behind.
        assert gone_within(pid, 3) is die_with_parent
    finally:
        if owner.poll() is None:
            owner.kill()
        if pid and alive(pid):
            os.killpg(pid, signal.SIGKILL)
