"""A playground plugin's only way out is the egress proxy (its own network
namespace), and what happens where a machine cannot isolate it."""

from __future__ import annotations

import logging
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from studio.builds.mock_upstream import MockUpstream
from studio.playground.egress_proxy import EgressProxy
from studio.playground.sessions import Limits, PlaygroundError, SessionManager
from studio.pluginfmt.driver import netjail
from studio.pluginfmt.package import package
from tests.playground.test_sessions import (
    assert_no_orphan_when_killed,
    gone_within,
)
from tests.pluginfmt.echo_plugin import ECHO_FILES, LLM_PY

# The echo plugin, except that "connect HOST:PORT" opens a raw TCP socket and
# "fetch URL" makes an HTTP request (urllib: it follows the proxy variables);
# the answer says what happened.
PROBE = """

def _probe(text):
    import socket, urllib.error, urllib.request
    verb, _, target = text.partition(" ")
    try:
        if verb == "connect":
            host, port = target.rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=3) as s:
                s.sendall(b"hello\\n")
            return "connected"
        with urllib.request.urlopen(target, timeout=5) as response:
            return f"status {response.status}"
    except urllib.error.HTTPError as error:
        return f"status {error.code}"
    except OSError as error:
        return f"failed {error}"
"""
NETPROBE_LLM = (
    LLM_PY.replace(
        '        text = _text(users[-1]) if users else ""\n',
        '        text = _text(users[-1]) if users else ""\n'
        '        if text.startswith(("connect ", "fetch ")):\n'
        "            text = _probe(text)\n",
    )
    + PROBE
)
assert "_probe(text)" in NETPROBE_LLM


@pytest.fixture(scope="module")
def netprobe_package(sdk_python: Any) -> bytes:
    files = {**ECHO_FILES, "models/llm/llm.py": NETPROBE_LLM}
    return package({name: text.encode() for name, text in files.items()})


@pytest.fixture
def mock() -> Iterator[MockUpstream]:
    with MockUpstream() as upstream:
        yield upstream


@pytest.fixture
def proxy(mock: MockUpstream) -> Iterator[EgressProxy]:
    with EgressProxy(always=[urlsplit(mock.url).netloc]) as egress:
        yield egress


@pytest.fixture
def outside() -> Iterator[tuple[int, list[bytes]]]:
    """A listener on 127.0.0.1 in the test's (the server's) own namespace."""
    server = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            with client:
                seen.append(client.recv(100))

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield server.getsockname()[1], seen
    finally:
        netjail.close_listener(server)


def manager_for(
    venv_options: dict[str, Any], proxy: EgressProxy, isolation: str
) -> SessionManager:
    return SessionManager(
        Limits(max_per_user=2, max_total=4),
        venv_options=venv_options,
        proxy=proxy,
        isolation=isolation,
    )


def start(manager: SessionManager, pkg: bytes) -> Any:
    return manager.start(
        owner="1",
        build_id=1,
        provider_id=1,
        package=pkg,
        credentials={"api_key": "good"},
    )


def ask(manager: SessionManager, session: Any, text: str) -> str:
    events = list(
        manager.invoke(
            session,
            {
                "type": "model",
                "action": "invoke_llm",
                "model_type": "llm",
                "model": "echo-1",
                "prompt_messages": [{"role": "user", "content": text}],
                "model_parameters": {},
                "stop": None,
                "tools": None,
                "stream": True,
            },
        )
    )
    assert events[-1]["event"] == "done", events[-1]
    return "".join(
        e["data"]["delta"]["message"]["content"]
        for e in events
        if e["event"] == "chunk"
    )


def test_a_contained_plugin_gets_out_only_through_the_proxy(
    venv_options: dict[str, Any],
    netprobe_package: bytes,
    proxy: EgressProxy,
    mock: MockUpstream,
    outside: tuple[int, list[bytes]],
) -> None:
    assert netjail.support().available, netjail.support().reason
    port, seen = outside
    manager = manager_for(venv_options, proxy, "required")
    try:
        session = start(manager, netprobe_package)
        assert session.contained and session.describe()["contained"] is True
        # Raw sockets: the server's loopback and a public address are out of reach.
        answer = ask(manager, session, f"connect 127.0.0.1:{port}")
        assert answer.startswith("failed") and "refused" in answer
        answer = ask(manager, session, "connect 8.8.8.8:53")
        assert answer.startswith("failed") and "unreachable" in answer
        # HTTP through the proxy: the mock upstream is reached, an internal
        # address is refused by the proxy's own check.
        assert ask(manager, session, f"fetch {mock.url}/models") == "status 401"
        assert ask(manager, session, "fetch http://10.0.0.1/") == "status 403"
        assert any("10.0.0.1" in reason for reason in proxy.refused)
        pid = session.plugin.pid
        listener = session.plugin.network_listener
        manager.end(session.id)
        assert gone_within(pid, 5)
        assert listener is not None and listener.fileno() == -1
    finally:
        manager.stop_all()
    assert seen == []


def test_with_isolation_off_a_raw_socket_gets_out(
    venv_options: dict[str, Any],
    netprobe_package: bytes,
    proxy: EgressProxy,
    mock: MockUpstream,
    outside: tuple[int, list[bytes]],
) -> None:
    # Proves the test above can fail: the gap the namespace closes.
    port, seen = outside
    manager = manager_for(venv_options, proxy, "off")
    try:
        session = start(manager, netprobe_package)
        assert not session.contained and session.plugin.network_listener is None
        assert ask(manager, session, f"connect 127.0.0.1:{port}") == "connected"
        assert ask(manager, session, f"fetch {mock.url}/models") == "status 401"
    finally:
        manager.stop_all()
    assert seen == [b"hello\n"]


def unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        netjail,
        "support",
        lambda: netjail.Support(False, reason="no user namespaces (simulated)"),
    )


def test_required_refuses_sessions_where_the_machine_cannot_isolate(
    venv_options: dict[str, Any],
    echo_package: bytes,
    proxy: EgressProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unavailable(monkeypatch)
    manager = manager_for(venv_options, proxy, "required")
    try:
        for _ in range(3):  # a refusal holds no place under the caps
            with pytest.raises(PlaygroundError) as refused:
                start(manager, echo_package)
            assert refused.value.status == 503
            assert "PLAYGROUND_NETWORK_ISOLATION=required" in refused.value.message
            assert "no user namespaces (simulated)" in refused.value.message
        assert manager.sessions() == []
    finally:
        manager.stop_all()


def test_auto_falls_back_to_proxy_variables_and_warns_once(
    venv_options: dict[str, Any],
    netprobe_package: bytes,
    proxy: EgressProxy,
    mock: MockUpstream,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    unavailable(monkeypatch)
    caplog.set_level(logging.WARNING, logger="studio.playground")
    manager = manager_for(venv_options, proxy, "auto")
    try:
        first = start(manager, netprobe_package)
        second = start(manager, netprobe_package)
        assert not first.contained and not second.contained
        assert first.describe()["isolation"] == "auto"
        # The proxy variables still lead through the proxy.
        assert ask(manager, first, "fetch http://10.0.0.1/") == "status 403"
    finally:
        manager.stop_all()
    warnings = [r for r in caplog.records if "cannot isolate" in r.getMessage()]
    assert len(warnings) == 1
    assert "simulated" in warnings[0].getMessage()


def test_an_unknown_isolation_mode_is_refused(
    venv_options: dict[str, Any], proxy: EgressProxy
) -> None:
    with pytest.raises(ValueError, match="isolation must be one of"):
        manager_for(venv_options, proxy, "sometimes")


OWNER = """
import time
from urllib.parse import urlsplit
from studio.builds.mock_upstream import MockUpstream
from studio.playground.egress_proxy import EgressProxy
from studio.playground.sessions import Limits, SessionManager
from studio.pluginfmt.package import package
from tests.pluginfmt.echo_plugin import ECHO_FILES, SDK_CACHE, UV_CACHE
mock = MockUpstream().start()
proxy = EgressProxy(always=[urlsplit(mock.url).netloc]).__enter__()
manager = SessionManager(Limits(), venv_options={"cache_dir": SDK_CACHE,
    "uv_cache_dir": UV_CACHE, "max_bytes": None}, proxy=proxy, isolation="required")
pkg = package({n: t.encode() for n, t in ECHO_FILES.items()})
session = manager.start(owner="1", build_id=1, provider_id=1, package=pkg,
    credentials={"api_key": "good"})
assert session.contained
print(session.plugin.pid, flush=True)
time.sleep(600)
"""


def test_no_orphan_is_left_by_a_killed_server_with_contained_plugins(
    echo_package: bytes,
) -> None:
    assert_no_orphan_when_killed(OWNER)


# A stand-in plugin (no SDK) that asks the playground server's Unix socket for
# /health and reports the answer as a log frame.
ASK_SERVER = r"""
import json, os, socket, sys, time
def say(frame):
    sys.stdout.write(json.dumps(frame) + "\n\n"); sys.stdout.flush()
say({"name": "asker"})
try:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(os.environ["SERVER"])
        s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    say({"event": "log", "data": {"answer": answer.decode(errors="replace")}})
except OSError as error:
    say({"event": "log", "data": {"answer": f"failed {error}"}})
say({"event": "heartbeat", "data": {}})
while True:
    time.sleep(1)
"""


@pytest.mark.parametrize("contained", [True, False])
def test_a_contained_plugin_cannot_drive_the_playground_server(
    tmp_path: Path, venv_options: dict[str, Any], contained: bool
) -> None:
    from studio.playground.server import PlaygroundApp, PlaygroundServer
    from studio.pluginfmt.driver import PluginProcess

    folder = tmp_path / "asker"
    folder.mkdir()
    (folder / "main.py").write_text(ASK_SERVER)
    (folder / "manifest.yaml").write_text("meta:\n  runner: {entrypoint: main}\n")
    path = tmp_path / "playground.sock"
    app = PlaygroundApp(Limits(), venv_options=venv_options, isolation="off")
    server = PlaygroundServer(path, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with PluginProcess.start(
            folder,
            sys.executable,
            timeout=20,
            env={"SERVER": str(path)},
            isolate_network=contained,
        ) as plugin:
            plugin.wait_ready()
            answer = plugin.logs[0]["answer"]
    finally:
        server.shutdown()
        server.server_close()
        app.close()
    # Same user, same socket file: only the namespace tells them apart.
    if contained:
        # Closed unanswered (or reset while it was still writing).
        assert answer == "" or answer.startswith("failed"), answer
    else:
        assert answer.startswith("HTTP/1.1 200 OK") and '"sessions": 0' in answer


@pytest.mark.parametrize(
    ("isolation", "available", "note"),
    [
        ("auto", True, "only through the egress proxy ("),
        ("auto", False, "proxy variables only: this machine cannot isolate them"),
        ("required", False, "sessions refused: this machine cannot isolate them"),
        ("off", True, "proxy variables only (PLAYGROUND_NETWORK_ISOLATION=off)"),
    ],
)
def test_the_server_says_at_start_how_plugins_reach_the_network(
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    isolation: str,
    available: bool,
    note: str,
) -> None:
    from studio.playground.management.commands.playground import network_note

    settings.PLAYGROUND_NETWORK_ISOLATION = isolation
    flags = netjail.support().flags if available else 0
    found = netjail.Support(available, flags=flags, reason="simulated")
    monkeypatch.setattr(netjail, "support", lambda: found)
    assert network_note().startswith(note)
