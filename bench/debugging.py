"""Debug in Dify: how fast a wrong key is caught, and how fast a good one connects.

Against the fake daemon of the tests (the daemon's remote-debugging protocol),
with a scaffolded OpenAI-compatible plugin and the cached SDK virtualenv:

1. A wrong key, 5 runs: seconds from start until the plugin is stopped, bytes
   of output and TCP connections the SDK made meanwhile (it reconnects in a
   loop). Goal: stopped within 3 s, under 64 KiB.
2. The right key, 5 runs: seconds until the daemon has the plugin's `end`
   (registration done), and until a validate_provider_credentials answer.

Run: .venv/bin/python bench/debugging.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
RUNS = 5


def main() -> None:
    import django

    django.setup()
    from studio.builds.mock_upstream import MockUpstream
    from studio.debugging.runner import Limits, run_remote
    from studio.pluginfmt.driver import actions
    from studio.pluginfmt.render import render_tree
    from studio.pluginfmt.sdkenv import ensure_sdk_venv
    from tests.builds.test_smoke import make_plugin
    from tests.debugging.fake_daemon import FakeDaemon
    from tests.pluginfmt.echo_plugin import ECHO_REQUIREMENTS, SDK_CACHE, UV_CACHE

    python = ensure_sdk_venv(
        ECHO_REQUIREMENTS, cache_dir=SDK_CACHE, uv_cache_dir=UV_CACHE
    )
    folder = Path(tempfile.mkdtemp(prefix="bench-debug-")) / "plugin"
    render_tree(make_plugin(["predefined-model"]), folder)

    stopped, sizes, connections = [], [], []
    for _ in range(RUNS):
        with FakeDaemon("right") as daemon:
            started = time.monotonic()
            result = run_remote(
                folder,
                python,
                host="127.0.0.1",
                port=daemon.port,
                key="wrong",
                limits=Limits(max_seconds=60),
                on_update=lambda s: None,
                should_stop=lambda: False,
            )
            stopped.append(time.monotonic() - started)
            sizes.append(result.output_bytes)
            connections.append(len(daemon.connections))
            assert result.state == "refused", result.reason
    print(
        f"wrong key: stopped after {statistics.median(stopped):.2f} s median "
        f"(max {max(stopped):.2f} s; goal 3 s), output {max(sizes)} bytes max, "
        f"{max(connections)} connections max"
    )

    registered, answered = [], []
    for _ in range(RUNS):
        stop = threading.Event()
        with FakeDaemon("right") as daemon, MockUpstream() as upstream:
            started = time.monotonic()
            thread = threading.Thread(
                target=run_remote,
                args=(folder, python),
                kwargs={
                    "host": "127.0.0.1",
                    "port": daemon.port,
                    "key": "right",
                    "limits": Limits(max_seconds=60),
                    "on_update": lambda s: None,
                    "should_stop": stop.is_set,
                },
            )
            thread.start()
            assert daemon.ready.wait(60)
            registered.append(time.monotonic() - started)
            credentials = {"endpoint_url": upstream.url, "api_key": upstream.api_key}
            daemon.request(
                actions.validate_provider_credentials("gateway", credentials)
            )
            answered.append(time.monotonic() - started)
            stop.set()
            thread.join(30)
    print(
        f"right key: registered after {statistics.median(registered):.2f} s median, "
        f"first answer after {statistics.median(answered):.2f} s median"
    )


if __name__ == "__main__":
    main()
