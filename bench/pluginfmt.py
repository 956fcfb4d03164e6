"""Verify and package speed against plain baselines, on the shared corpus.

Prints: time to verify all 13 restored corpus plugins vs parsing their YAML
with PyYAML's C loader; time to package the biggest one vs `zip -r -X`.
and time to load the plugin with the most models as a document.
Goals: verify within 3x of parse-only, package within 2x of zip, load < 500 ms.
Run: .venv/bin/python bench/pluginfmt.py
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"

from studio.pluginfmt.document import load_document  # noqa: E402
from studio.pluginfmt.package import package  # noqa: E402
from studio.pluginfmt.readers import read_folder  # noqa: E402
from studio.pluginfmt.verify import verify  # noqa: E402


def best_of(fn: Callable[[], object], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def median_of(fn: Callable[[], object], runs: int = 9) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-pluginfmt-"))
    names = sorted(p.name for p in (CORPUS / "official-models").iterdir() if p.is_dir())
    for name in names:
        subprocess.run(
            [
                sys.executable,
                str(CORPUS / "restore-placeholders"),
                str(CORPUS / "official-models" / name),
                str(work / name),
            ],
            check=True,
            capture_output=True,
        )
    plugins = {name: read_folder(work / name) for name in names}
    yaml_count = sum(p.endswith((".yaml", ".yml")) for f in plugins.values() for p in f)

    def parse_only() -> None:
        for files in plugins.values():
            for path, raw in files.items():
                if path.endswith((".yaml", ".yml")):
                    with contextlib.suppress(yaml.YAMLError):
                        yaml.load(raw, Loader=yaml.CSafeLoader)

    def verify_all() -> None:
        for files in plugins.values():
            verify(files)

    parse = best_of(parse_only)
    verified = best_of(verify_all)
    print(f"corpus: {len(names)} plugins, {yaml_count} YAML files")
    print(f"verify all 13 plugins:         {verified * 1000:8.1f} ms")
    print(f"parse-only (yaml.CSafeLoader): {parse * 1000:8.1f} ms")
    print(f"ratio verify / parse:          {verified / parse:8.2f}x  (goal <= 3x)")

    def model_files(name: str) -> int:
        return sum(p.startswith("models/") for p in plugins[name])

    most_models = max(names, key=model_files)
    loaded = best_of(lambda: load_document(plugins[most_models]))
    count = len(load_document(plugins[most_models]).models)
    print(f"load_document({most_models}, {count} models):")
    print(f"  load as a document:          {loaded * 1000:8.1f} ms  (goal < 500 ms)")

    biggest = max(names, key=lambda n: sum(len(v) for v in plugins[n].values()))
    folder = work / biggest
    out = work / "zip-baseline.zip"

    def zip_baseline() -> None:
        out.unlink(missing_ok=True)
        subprocess.run(["zip", "-r", "-X", "-q", str(out), "."], cwd=folder, check=True)

    def package_biggest() -> None:
        package(read_folder(folder))

    zipped = median_of(zip_baseline)
    packaged = median_of(package_biggest)
    size = sum(len(v) for v in plugins[biggest].values())
    print(f"package {biggest} ({len(plugins[biggest])} files, {size / 1e6:.2f} MB):")
    print(f"  studio read + package:       {packaged * 1000:8.1f} ms")
    print(f"  zip -r -X:                   {zipped * 1000:8.1f} ms")
    print(f"  ratio package / zip:         {packaged / zipped:8.2f}x  (goal <= 2x)")


if __name__ == "__main__":
    main()
