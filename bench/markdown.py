"""Markdown preview rendering (studio/lib/markdown.py): markdown-it-py, then nh3.

Times `render_markdown` on the corpus READMEs, on READMEs repeated up to the
preview's cap (MAX_MARKDOWN_BYTES, 64 KiB), and on inputs known to be slow
for Markdown parsers (nesting, long runs of brackets, emphasis and backticks,
many links, table rows), each cut at the cap. markdown-it-py is pure Python
and roughly linear, but some inputs cost ~20 µs a byte. Goals: real READMEs
at the cap under 100 ms; any input at the cap under 2 s, so the preview
endpoint answers whatever an author posts (a saved file's rendering is then
cached).

Run: .venv/bin/python bench/markdown.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

import django  # noqa: E402

django.setup()

from studio.catalog.selectors.files import MAX_MARKDOWN_BYTES  # noqa: E402
from studio.lib.markdown import render_markdown  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "official-models"
if not CORPUS.exists():
    CORPUS = Path("/work/shared/corpus/official-models")
GOAL_SECONDS = 2.0
REAL_GOAL_SECONDS = 0.1


def capped(text: str) -> str:
    return text.encode()[:MAX_MARKDOWN_BYTES].decode(errors="ignore")


def timed(text: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        render_markdown(text, image_url=lambda r: "/raw", link_url=lambda r: "/v")
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    readmes = sorted(CORPUS.glob("*/README.md"))
    corpus = "\n\n".join(p.read_text() for p in readmes)
    n = MAX_MARKDOWN_BYTES // max(1, len(corpus.encode())) + 1
    cases = {
        f"corpus READMEs ({len(readmes)} files, {len(corpus)} chars)": corpus,
        "corpus READMEs repeated to the cap": capped(corpus * n),
        "nested blockquotes": capped("> " * 40_000 + "x"),
        "nested lists": capped("".join("  " * i + "- x\n" for i in range(2000))),
        "open brackets": capped("[" * 500_000),
        "link references": capped("[a](b) " * 80_000),
        "emphasis runs": capped("*a **b " * 80_000),
        "backtick runs": capped("`a `` b ``` " * 50_000),
        "raw HTML tags": capped('<div><img src="x" onerror="y">' * 20_000),
        "table rows": capped("| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 50_000),
    }
    worst = 0.0
    real = 0.0
    for n, (name, text) in enumerate(cases.items()):
        seconds = timed(text)
        worst = max(worst, seconds)
        if n < 2:
            real = max(real, seconds)
        print(f"{name:<48} {len(text.encode()):>8} bytes {seconds * 1000:9.1f} ms")
    for label, value, goal in (
        ("real READMEs", real, REAL_GOAL_SECONDS),
        ("worst case", worst, GOAL_SECONDS),
    ):
        verdict = "ok" if value < goal else "SLOWER THAN THE GOAL"
        print(f"{label}: {value * 1000:.1f} ms (goal < {goal * 1000:.0f} ms) {verdict}")


if __name__ == "__main__":
    main()
