"""Import all 13 shared-corpus plugins into an empty database, export them again.

Prints the time to import the whole restored corpus through the import service
(read folder, load, store every file, index models, verify) into a fresh
SQLite database, and the time to export every provider back to folders.
Goal: the import of the whole corpus in under 2 s on SQLite. Wall time depends
on what else the machine runs; CPU time is printed next to it.
Run: .venv/bin/python bench/import_corpus.py [--profile]
"""

from __future__ import annotations

import cProfile
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"
GOAL_SECONDS = 2.0


def restore_corpus(dest: Path) -> list[Path]:
    folders = []
    names = sorted(p.name for p in (CORPUS / "official-models").iterdir() if p.is_dir())
    for name in names:
        subprocess.run(
            [
                sys.executable,
                str(CORPUS / "restore-placeholders"),
                str(CORPUS / "official-models" / name),
                str(dest / name),
            ],
            check=True,
            capture_output=True,
        )
        folders.append(dest / name)
    return folders


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        # A private database and storage, set before Django reads its settings.
        os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
        os.environ["STUDIO_VAR_DIR"] = str(work / "var")
        os.environ["STORAGE_DIR"] = str(work / "storage")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
        os.environ.setdefault("LOG_LEVEL", "WARNING")

        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        run(work, profile="--profile" in sys.argv)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, *, profile: bool) -> None:
    from studio.catalog.models import Provider, ProviderFile, ProviderModel, Team
    from studio.catalog.services import exports, imports
    from studio.pluginfmt.readers import read_folder

    folders = restore_corpus(work / "corpus")
    team = Team.objects.create(name="Bench", slug="bench")

    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    start, cpu_start = time.perf_counter(), time.process_time()
    read_time = 0.0
    for folder in folders:
        t = time.perf_counter()
        files = read_folder(folder)
        read_time += time.perf_counter() - t
        imports.import_plugin(team=team, user=None, files=files, source=str(folder))
    import_time = time.perf_counter() - start
    import_cpu = time.process_time() - cpu_start
    if profiler:
        profiler.disable()

    start, cpu_start = time.perf_counter(), time.process_time()
    for provider in Provider.objects.all():
        exports.provider_export(provider=provider, dest=work / "out" / provider.name)
    export_time = time.perf_counter() - start
    export_cpu = time.process_time() - cpu_start

    mismatched = [
        f.name for f in folders if read_folder(work / "out" / f.name) != read_folder(f)
    ]
    print(
        f"corpus: {len(folders)} plugins, {ProviderFile.objects.count()} files, "
        f"{ProviderModel.objects.count()} models"
    )
    verdict = "ok" if import_time < GOAL_SECONDS else "OVER GOAL"
    print(
        f"import: {import_time:.2f} s wall, {import_cpu:.2f} s CPU "
        f"({read_time:.2f} s of it reading folders)"
        f"  goal < {GOAL_SECONDS:.0f} s: {verdict}"
    )
    print(f"export: {export_time:.2f} s wall, {export_cpu:.2f} s CPU")
    print(f"round trip: {mismatched or 'identical'}")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(30)
    if mismatched:
        sys.exit(1)


if __name__ == "__main__":
    main()
