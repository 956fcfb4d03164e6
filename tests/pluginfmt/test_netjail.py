"""A plugin process in its own network namespace: out only through its listener."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.pluginfmt.driver import PluginProcess, PluginStartError, netjail

# A stand-in plugin (no SDK): tries each address it is given and reports what
# happened as log frames, then heartbeats until stopped.
PROBE = r"""
import json, socket, sys, time
def say(frame):
    sys.stdout.write(json.dumps(frame) + "\n\n"); sys.stdout.flush()
say({"name": "probe"})
for spec in __import__("os").environ.get("TARGETS", "").split():
    host, port = spec.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2) as s:
            s.sendall(b"hello\n")
            answer = s.recv(100).decode()
        say({"event": "log", "data": {"target": spec, "outcome": "connected",
             "answer": answer}})
    except OSError as error:
        say({"event": "log", "data": {"target": spec, "outcome": str(error)}})
say({"event": "heartbeat", "data": {}})
while True:
    time.sleep(1)
"""


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    folder = tmp_path / "probe"
    folder.mkdir()
    (folder / "main.py").write_text(PROBE)
    (folder / "manifest.yaml").write_text("meta:\n  runner: {entrypoint: main}\n")
    return folder


@pytest.fixture
def outside() -> Iterator[tuple[int, list[bytes]]]:
    """A listener in the test's own namespace that records what reaches it."""
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
                client.sendall(b"outside\n")

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield server.getsockname()[1], seen
    finally:
        netjail.close_listener(server)


def outcomes(plugin: PluginProcess) -> dict[str, dict[str, str]]:
    plugin.wait_ready()
    return {entry["target"]: entry for entry in plugin.logs}


def test_this_machine_can_isolate_plugins() -> None:
    # The other tests here need it; CI runs as root on a VM.
    support = netjail.support()
    assert support.available, support.reason
    assert support.mode in ("user+net", "net")


# As root (CI) also the fallback where user namespaces are disabled: a
# network namespace alone.
MODES = ["user+net"] + (["net"] if os.geteuid() == 0 else [])


@pytest.mark.parametrize("mode", MODES)
def test_a_jailed_plugin_reaches_only_its_listener(
    probe: Path,
    outside: tuple[int, list[bytes]],
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    flags = os.CLONE_NEWNET | (os.CLONE_NEWUSER if mode == "user+net" else 0)
    chosen = netjail.Support(True, flags=flags)
    assert chosen.mode == mode
    monkeypatch.setattr(netjail, "support", lambda: chosen)
    port, seen = outside
    targets = f"127.0.0.1:{port} 8.8.8.8:53 127.0.0.1:{netjail.PROXY_PORT}"
    plugin = PluginProcess.start(
        probe,
        sys.executable,
        timeout=20,
        env={"TARGETS": targets},
        isolate_network=True,
    )
    with plugin:
        listener = plugin.network_listener
        assert listener is not None
        assert listener.getsockname() == ("127.0.0.1", netjail.PROXY_PORT)
        accepted: list[bytes] = []

        def answer() -> None:
            client, _ = listener.accept()
            with client:
                accepted.append(client.recv(100))
                client.sendall(b"proxy\n")

        threading.Thread(target=answer, daemon=True).start()
        found = outcomes(plugin)
    # The listener in the test's namespace saw nothing: 127.0.0.1 is the plugin's own.
    assert "refused" in found[f"127.0.0.1:{port}"]["outcome"]
    assert seen == []
    assert "unreachable" in found["8.8.8.8:53"]["outcome"]
    # Its only way out: the listener handed back to the parent.
    inside = found[f"127.0.0.1:{netjail.PROXY_PORT}"]
    assert inside["outcome"] == "connected" and inside["answer"] == "proxy\n"
    assert accepted == [b"hello\n"]
    assert listener.fileno() == -1  # stop() closed it


def test_without_the_jail_the_same_plugin_reaches_the_listener(
    probe: Path, outside: tuple[int, list[bytes]]
) -> None:
    # Proves the test above can fail.
    port, seen = outside
    with PluginProcess.start(
        probe, sys.executable, timeout=20, env={"TARGETS": f"127.0.0.1:{port}"}
    ) as plugin:
        assert plugin.network_listener is None
        found = outcomes(plugin)
    assert found[f"127.0.0.1:{port}"]["answer"] == "outside\n"
    assert seen == [b"hello\n"]


def test_starting_jailed_where_the_machine_cannot_is_refused(
    probe: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        netjail, "support", lambda: netjail.Support(False, reason="simulated")
    )
    with pytest.raises(PluginStartError, match=r"cannot isolate .*simulated"):
        PluginProcess.start(probe, sys.executable, isolate_network=True)


def test_a_failing_namespace_set_up_says_why(
    probe: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: netjail.Jail) -> None:
        raise PermissionError(1, "Operation not permitted (simulated)")

    # The probe says namespaces work (so start() tries), then entering fails:
    # start()'s own failure path, whatever ran before this test.
    flags = os.CLONE_NEWUSER | os.CLONE_NEWNET
    monkeypatch.setattr(netjail, "support", lambda: netjail.Support(True, flags=flags))
    monkeypatch.setattr(netjail.Jail, "_enter", refuse)
    with pytest.raises(PluginStartError, match=r"simulated") as caught:
        PluginProcess.start(probe, sys.executable, isolate_network=True)
    assert "cannot isolate" not in str(caught.value)


def test_the_probe_says_why_namespaces_are_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(self: netjail.Jail) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(netjail.Jail, "_enter", refuse)
    found = netjail._probe()
    assert not found.available and found.mode == "unavailable"
    assert "Operation not permitted" in found.reason
