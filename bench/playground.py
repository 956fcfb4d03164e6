"""Time to first token: through the playground vs. the driver alone.

Two plugins, each under the real SDK with a warm virtualenv: the echo test
plugin (tests/pluginfmt/echo_plugin.py: no network, so the figures are pure
overhead) and a scaffolded OpenAI-compatible plugin against the mock upstream
(the playground's requests also cross its egress proxy). "Driver alone" sends
invoke_llm straight to a PluginProcess and times the first stream chunk.
"Playground" starts the playground server (Unix socket, in this process's
threads, as `manage.py playground` runs it), starts a session in it, and times
the first token the web side's client reads (`studio.playground.client.invoke`,
then `chat.follow`, as the SSE view does). Median of 40 requests after 5
warm-ups. Goal: playground <= 1.5 x the driver, and under 300 ms added. With
plugins that answer in a few milliseconds the ratio says little: the added
milliseconds are the figure to watch. A third case makes the mock upstream
wait 200 ms before its first chunk (a fast real vendor's time to first token),
so the ratio is measured at the latency a user of the playground meets.
The playground's plugins run in their own network namespace where the machine
allows it (PLAYGROUND_NETWORK_ISOLATION); the last lines time a session start
(the echo plugin, to its first heartbeat) with and without it, taking turns.

Run: .venv/bin/python bench/playground.py
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RUNS = 40
WARM = 5


def gateway_files() -> dict[str, bytes]:
    """A scaffolded OpenAI-compatible plugin with one priced LLM, chat-1."""
    from studio.pluginfmt.document import dump_document, load_document
    from studio.pluginfmt.document.yamltext import dump_yaml
    from studio.pluginfmt.scaffold import scaffold
    from tests.factories import llm_model_data, make_new_plugin

    files = dict(scaffold(make_new_plugin("gateway", methods=["predefined-model"])))
    files["models/llm/chat-1.yaml"] = dump_yaml(llm_model_data("chat-1"))
    return dict(dump_document(load_document(files)))


def first_token_alone(plugin: object, request: dict, runs: int) -> list[float]:
    times = []
    for i in range(WARM + runs):
        seen: list[float] = []
        started = time.perf_counter()

        def on_chunk(
            chunk: object, seen: list = seen, started: float = started
        ) -> None:
            if not seen:
                seen.append(time.perf_counter() - started)

        plugin.request(request, on_chunk=on_chunk)  # type: ignore[attr-defined]
        if i >= WARM:
            times.append(seen[0])
    return times


def first_token_through(session_id: str, data: dict, runs: int) -> list[float]:
    from studio.playground import chat, client

    times = []
    for i in range(WARM + runs):
        started = time.perf_counter()
        elapsed = None
        for piece, _ in chat.follow(client.invoke("bench", session_id, data), None):
            if piece and elapsed is None:
                elapsed = time.perf_counter() - started
        if i >= WARM:
            assert elapsed is not None
            times.append(elapsed)
    return times


@contextlib.contextmanager
def upstream_delay(seconds: float) -> Iterator[None]:
    """Every mock upstream in this process waits `seconds` before answering a
    chat completion (both the driver's and the playground's mock)."""
    from studio.builds.mock_upstream.handler import ROUTES

    route = "/v1/chat/completions"
    method, original = ROUTES[route]
    if not seconds:
        yield
        return

    def slow(handler: object, body: object) -> None:
        time.sleep(seconds)
        original(handler, body)

    ROUTES[route] = (method, slow)
    try:
        yield
    finally:
        ROUTES[route] = (method, original)


def report(name: str, alone: list[float], through: list[float]) -> None:
    a = statistics.median(alone) * 1000
    b = statistics.median(through) * 1000
    print(f"{name}: time to first token, median of {len(alone)}")
    print(f"  driver alone : {a:7.1f} ms")
    print(f"  playground   : {b:7.1f} ms")
    print(f"  ratio        : {b / a:7.2f} x   (goal <= 1.5 x)")
    print(f"  added        : {b - a:7.1f} ms  (goal < 300 ms)")


def start_times(app: object, files: dict, modes: list[str], runs: int) -> dict:
    """Session start to the first heartbeat, the modes taking turns."""
    from studio.pluginfmt.package import package

    manager = app.manager  # type: ignore[attr-defined]
    kept = manager.isolation
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    try:
        for _ in range(runs):
            for mode in modes:
                manager.isolation = mode
                started = time.perf_counter()
                session = manager.start(
                    owner="bench-start",
                    build_id=1,
                    provider_id=1,
                    package=package(files),
                    credentials={"api_key": "good"},
                )
                times[mode].append(time.perf_counter() - started)
                manager.end(session.id)
    finally:
        manager.isolation = kept
    return times


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from django.conf import settings

    from studio.builds.mock_upstream import MockUpstream
    from studio.builds.smoke.checks import offline_env
    from studio.playground.server import PlaygroundApp, PlaygroundServer
    from studio.playground.sessions import Limits
    from studio.pluginfmt import driver, sdkenv
    from studio.pluginfmt.package import package
    from studio.pluginfmt.render import render_tree
    from tests.pluginfmt.echo_plugin import ECHO_FILES, SDK_CACHE, UV_CACHE

    echo = {n: t.encode() for n, t in ECHO_FILES.items()}
    gateway = gateway_files()
    prompt = [{"role": "user", "content": "one two three four five six"}]

    def llm(model: str, provider: str) -> dict:
        return {
            "type": "model",
            "action": "invoke_llm",
            "model_type": "llm",
            "model": model,
            "provider": provider,
            "prompt_messages": prompt,
            "model_parameters": {},
            "stop": None,
            "tools": None,
            "stream": True,
            "user_id": "bench",
        }

    socket_path = Path(tempfile.mkdtemp(prefix="bench-pg-")) / "playground.sock"
    settings.PLAYGROUND_SOCKET = socket_path
    venvs = {"cache_dir": SDK_CACHE, "uv_cache_dir": UV_CACHE}
    app = PlaygroundApp(Limits(max_per_user=6), venv_options=venvs)
    server = PlaygroundServer(socket_path, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cases = [
            (
                "echo plugin (no network)",
                echo,
                "echo-1",
                "echo",
                {"api_key": "good"},
                0.0,
            ),
            (
                "OpenAI-compatible plugin against the mock upstream",
                gateway,
                "chat-1",
                "gateway",
                {"api_key": "good-key"},
                0.0,
            ),
            (
                "OpenAI-compatible plugin, mock upstream with a 200 ms first token",
                gateway,
                "chat-1",
                "gateway",
                {"api_key": "good-key"},
                0.2,
            ),
        ]
        for name, files, model, provider, creds, delay in cases:
            requirements = files["requirements.txt"].decode()
            folder = Path(tempfile.mkdtemp(prefix="bench-plugin-")) / "plugin"
            render_tree(files, folder)
            with (
                upstream_delay(delay),
                sdkenv.using_sdk_venv(requirements, **venvs) as venv,
                MockUpstream() as mock,
                offline_env() as env,
                driver.PluginProcess.start(folder, venv.python, env=env) as plugin,
            ):
                plugin.wait_ready()
                alone_creds = dict(creds)
                if provider == "gateway":
                    alone_creds["endpoint_url"] = mock.url
                request = {**llm(model, provider), "credentials": alone_creds}
                alone = first_token_alone(plugin, request, RUNS)
            session_creds = dict(creds)
            if provider == "gateway":
                session_creds["endpoint_url"] = app.mock.url
            session = app.manager.start(
                owner="bench",
                build_id=1,
                provider_id=1,
                package=package(files),
                credentials=session_creds,
            )
            with upstream_delay(delay):
                through = first_token_through(session.id, llm(model, provider), RUNS)
            report(name, alone, through)
        from studio.pluginfmt.driver import netjail

        netjail.support()  # the one-time probe, not part of a start
        # The same plugin through the playground, contained or not, in turns.
        kept = app.manager.isolation
        sessions = {}
        for mode in ("off", kept):
            app.manager.isolation = mode
            sessions[mode] = app.manager.start(
                owner="bench",
                build_id=1,
                provider_id=1,
                package=package(gateway),
                credentials={"api_key": "good-key", "endpoint_url": app.mock.url},
            )
        app.manager.isolation = kept
        turns: dict[str, list[float]] = {mode: [] for mode in sessions}
        for _ in range(4):
            for mode, session in sessions.items():
                turns[mode] += first_token_through(
                    session.id, llm("chat-1", "gateway"), RUNS // 4
                )
        print(
            "OpenAI-compatible plugin through the playground, by isolation "
            f"(sessions in turns), median of {RUNS}"
        )
        for mode, session in sessions.items():
            label = f"isolation {mode}" + (" (contained)" if session.contained else "")
            print(f"  {label:<28} : {statistics.median(turns[mode]) * 1000:7.1f} ms")
            app.manager.end(session.id)
        modes = ["off", app.manager.isolation]
        starts = start_times(app, echo, modes, 9)
        print("session start (echo plugin, to its first heartbeat), median of 9")
        print(f"  {'namespaces here':<28} : {netjail.support().mode}")
        for mode, times in starts.items():
            label = f"isolation {mode}"
            print(f"  {label:<28} : {statistics.median(times) * 1000:7.1f} ms")
    finally:
        server.shutdown()
        server.server_close()
        app.close()


if __name__ == "__main__":
    main()
