"""Smoke-test a packaged plugin: run it as the daemon would and ask it questions.

The recipe is the format doc's §7.6: unpack the `.difypkg`, get a Python 3.12
virtualenv for its requirements (cached by their hash), start `python -m main`
with the stdio driver (time and memory limits, a clean environment), then
check that it starts, that it returns the model schemas its YAML declares,
that it validates credentials, and that it streams an answer.

Plugins whose credential form requires an `endpoint_url` and has an `api_key`
(the studio's generated OpenAI-compatible runtime) are pointed at a mock
OpenAI-compatible server on loopback. Any other plugin calls its vendor's own
URLs, so only the checks that need no network run and the others are
reported as skipped, with the reason. The plugin gets no internet access
either way: its HTTP proxy is a closed loopback port, so results do not
depend on the worker's network.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

from studio.builds.mock_upstream import MockUpstream
from studio.builds.smoke.checks import Run, ms, offline_env
from studio.builds.smoke.judging import (
    embedding_problems,
    llm_stream_problems,
    rerank_problems,
    schema_differences,
)
from studio.builds.smoke.plan import Plan, form_values, plan_for
from studio.builds.smoke.report import (
    FAILED,
    PASSED,
    SKIPPED,
    CheckStatus,
    SmokeCheck,
    SmokeInputError,
    SmokeReport,
)
from studio.pluginfmt.document import DocumentError, load_document
from studio.pluginfmt.files import UnsafeInput
from studio.pluginfmt.readers import read_package
from studio.pluginfmt.render import render_tree

__all__ = [
    "FAILED",
    "PASSED",
    "SKIPPED",
    "CheckStatus",
    "SmokeCheck",
    "SmokeInputError",
    "SmokeReport",
    "embedding_problems",
    "form_values",
    "llm_stream_problems",
    "rerank_problems",
    "schema_differences",
    "smoke_test",
]

STDERR_TAIL_CHARS = 4000


def smoke_test(
    package: bytes,
    *,
    cache_dir: Path,
    timeout: float = 120,
    memory_limit_mb: int = 1024,
    upstream: MockUpstream | None = None,
    uv_cache_dir: Path | None = None,
    max_venv_bytes: int | None = None,
) -> SmokeReport:
    """Run a `.difypkg` and check it answers; raises SmokeInputError for non-packages.

    `timeout` bounds the plugin's run (start and every request); building a
    missing virtualenv has its own limit. The virtualenv comes from the cache
    in `cache_dir` (uv's downloads in `uv_cache_dir`; the least recently used
    venvs are evicted above `max_venv_bytes`) and is held in use for the run.
    A mock upstream is started for OpenAI-compatible plugins unless one is
    given.
    """
    started = time.monotonic()
    try:
        files = read_package(package)
    except UnsafeInput as exc:
        raise SmokeInputError(f"not a readable plugin package: {exc}") from None
    try:
        plan = plan_for(load_document(files))
    except DocumentError as exc:
        plan = Plan.unreadable_plugin(f"the plugin's YAML cannot be read: {exc}")
    requirements = files.get("requirements.txt", b"").decode(errors="replace")
    run = Run(deadline=started + timeout)
    plugin_dir = ""
    with contextlib.ExitStack() as stack:
        python = run.environment(
            requirements,
            Path(cache_dir),
            stack,
            uv_cache_dir=uv_cache_dir,
            max_venv_bytes=max_venv_bytes,
        )
        # A virtualenv built just now does not eat into the plugin's time.
        run.deadline = time.monotonic() + timeout
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smoke-")))
        if python is not None:
            folder = tmp / "plugin"
            render_tree(files, folder)
            # The plugin's frames show the folder as its process sees it.
            plugin_dir = str(folder.resolve())
            if plan.network_reason is None and upstream is None:
                upstream = stack.enter_context(MockUpstream())
            env = stack.enter_context(offline_env())
            run.start(folder, python, memory_limit_mb=memory_limit_mb, env=env)
            stack.callback(run.stop)
        else:
            run.skip("starts", "there is no virtualenv to start it with")
        run.checks_for(plan, upstream)
    return SmokeReport(
        ok=not any(c.status == FAILED for c in run.checks),
        checks=run.checks,
        stderr_tail=run.stderr[-STDERR_TAIL_CHARS:].strip(),
        duration_ms=ms(time.monotonic() - started),
        plugin_dir=plugin_dir,
    )
