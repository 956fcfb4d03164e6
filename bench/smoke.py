"""Smoke-test time of a generated OpenAI-compatible plugin, warm and cold.

Prints: the time to smoke-test a scaffolded plugin (llm, text-embedding and
rerank, one predefined model each, against the mock upstream) with a warm
virtualenv cache, median of 3 runs, with each check's share; then the same
with a cold cache (a fresh cache folder: venv creation and pip downloads).
Goal: warm under 5 s.
Run: .venv/bin/python bench/smoke.py [--no-cold]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from studio.builds.smoke import SmokeReport, smoke_test  # noqa: E402
from studio.pluginfmt.document.yamltext import dump_yaml  # noqa: E402
from studio.pluginfmt.package import package  # noqa: E402
from studio.pluginfmt.scaffold import NewPlugin, scaffold  # noqa: E402

WARM_CACHE = ROOT / "var" / "cache" / "sdk-venvs"
GOAL_SECONDS = 5.0


def plugin_package() -> bytes:
    files = scaffold(
        NewPlugin(
            author="bench",
            name="gateway",
            label={"en_US": "Gateway"},
            description={"en_US": "Benchmark plugin"},
            model_types=["llm", "text-embedding", "rerank"],
            configurate_methods=["predefined-model"],
        )
    )
    models = {
        "llm": {"mode": "chat", "context_size": 8192},
        "text_embedding": {"context_size": 512, "max_chunks": 8},
        "rerank": {},
    }
    for key, properties in models.items():
        files[f"models/{key}/bench-{key}.yaml"] = dump_yaml(
            {
                "model": f"bench-{key}",
                "label": {"en_US": f"Bench {key}"},
                "model_type": key.replace("_", "-"),
                "model_properties": properties,
            }
        )
    return package(files)


def timed(data: bytes, cache_dir: Path) -> tuple[float, SmokeReport]:
    started = time.perf_counter()
    report = smoke_test(data, cache_dir=cache_dir)
    elapsed = time.perf_counter() - started
    if not report.ok:
        sys.exit(f"the smoke test failed:\n{report.as_text()}")
    return elapsed, report


def breakdown(report: SmokeReport) -> str:
    return ", ".join(f"{c.name} {c.duration_ms} ms" for c in report.checks)


def main() -> None:
    data = plugin_package()
    print(f"plugin: {len(data)} bytes, llm + text-embedding + rerank, predefined")

    timed(data, WARM_CACHE)  # builds the venv once if this machine has none yet
    runs = [timed(data, WARM_CACHE) for _ in range(3)]
    times = [elapsed for elapsed, _ in runs]
    median = statistics.median(times)
    _, report = runs[times.index(median)]
    verdict = "ok" if median < GOAL_SECONDS else "OVER GOAL"
    print(
        f"warm cache: median {median:5.2f} s of 3 (min {min(times):.2f} s, "
        f"goal < {GOAL_SECONDS:g} s: {verdict})"
    )
    print(f"  {report.summary}; {breakdown(report)}")

    if "--no-cold" in sys.argv:
        return
    with tempfile.TemporaryDirectory(prefix="bench-smoke-cold-") as cold:
        elapsed, report = timed(data, Path(cold))
    print(f"cold cache: {elapsed:6.2f} s (new virtualenv, packages downloaded)")
    print(f"  {report.summary}; {breakdown(report)}")


if __name__ == "__main__":
    main()
