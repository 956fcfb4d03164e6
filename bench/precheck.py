"""The Marketplace pre-check's time: the static rules on every corpus plugin,
then the install test of a generated OpenAI-compatible plugin.

1. `check_files` on each shared-corpus plugin as the Marketplace unpacks it
   (the package the studio would build), best of 3. It runs on a worker; the
   build page only reads its result, so this is worker time, not page time.
2. `install_test` of a generated plugin with its virtualenv cached (warm:
   what a re-check costs), and with `--cold` also into an empty cache (pip
   downloads or reuses its wheel cache, then the start).

Wall time depends on what else the machine runs.
Run: .venv/bin/python bench/precheck.py [--cold]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "official-models"
VENVS = ROOT / "var" / "cache" / "sdk-venvs"


def best_of(runs: int, fn: object) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def static_rules() -> None:
    from studio.pluginfmt.package import package
    from studio.pluginfmt.precheck import check_files
    from studio.pluginfmt.readers import read_folder, read_package

    print("static rules (check_files, best of 3):")
    with tempfile.TemporaryDirectory() as tmp:
        for plugin in sorted(p.name for p in CORPUS.iterdir() if p.is_dir()):
            dest = Path(tmp) / plugin
            subprocess.run(
                [
                    sys.executable,
                    str(SHARED / "corpus" / "restore-placeholders"),
                    str(CORPUS / plugin),
                    str(dest),
                ],
                check=True,
                capture_output=True,
            )
            files = dict(read_package(package(read_folder(dest))))
            seconds = best_of(3, lambda files=files: check_files(files))
            found = check_files(files)
            blocking = sum(1 for f in found if f.severity == "error")
            print(
                f"  {plugin:22} {len(files):4} files  {seconds * 1000:7.1f} ms  "
                f"{blocking} blocking, {len(found) - blocking} advisory"
            )


def install(cold: bool) -> None:
    from studio.pluginfmt.package import package
    from studio.pluginfmt.precheck import install_test
    from studio.pluginfmt.readers import read_package
    from studio.pluginfmt.scaffold import scaffold
    from studio.pluginfmt.scaffold.new_plugin import NewPlugin

    plugin = NewPlugin(
        author="acme",
        name="gateway",
        label={"en_US": "Gateway"},
        description={"en_US": "Gateway models"},
        model_types=["llm"],
        configurate_methods=["predefined-model", "customizable-model"],
    )
    files = dict(read_package(package(scaffold(plugin))))
    print("install test of a generated plugin:")
    runs = [("warm (cached virtualenv)", VENVS)]
    if cold:
        runs.insert(0, ("cold (empty cache)", Path(tempfile.mkdtemp())))
    for label, cache in runs:
        started = time.perf_counter()
        result = install_test(files, cache_dir=cache)
        seconds = time.perf_counter() - started
        print(f"  {label:26} {seconds:6.1f} s  {result.status}: {result.detail}")


def main() -> None:
    static_rules()
    install("--cold" in sys.argv[1:])


if __name__ == "__main__":
    main()
