"""Server time and query counts of a big provider's pages.

Creates a provider with 250 llm models (through its files, as an import would)
in a throwaway SQLite database, then prints for each page the median server
time of N requests made through django.test.Client, its query count (and that
of a 10-model provider) and its size. DEBUG is switched off after start-up so
templates and cursors run as in production.
Goal (issue 13): the models table of 250 models at most 150 KiB and 50 ms, its
htmx refresh and filtered forms too, with the same number of queries as for 10
models. Measured on the 2-core development box: before, 747 KiB and 194-218 ms
(every row carried its edit forms); after, 133 KiB and about 30 ms.
Run: .venv/bin/python bench/provider_pages.py [--models 250] [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throwaway import throwaway_studio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=250)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with throwaway_studio("bench-provider-pages-"):
        run(args.models, args.runs)


def run(model_count: int, runs: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from tests.factories import make_provider, make_team, make_user

    alice = make_user("alice")
    team = make_team("Acme", owner=alice)
    started = time.perf_counter()
    provider = make_provider(team, models=model_count)
    created = time.perf_counter() - started
    small = make_provider(team, "small", models=10)
    print(f"{model_count}-model provider created in {created * 1000:.0f} ms")

    client = Client()
    client.force_login(alice)
    hx = {"HTTP_HX_REQUEST": "true"}

    def pages(p) -> dict[str, Callable[[], object]]:
        model = p.models.get(model="model-005")
        table = reverse("catalog:provider-models", args=[p.pk])
        row = reverse("catalog:model-row", args=[p.pk, model.pk])
        detail = reverse("catalog:provider-detail", args=[p.pk])
        edit = reverse("catalog:model-edit", args=[p.pk, model.pk])
        menu = reverse("catalog:model-actions", args=[p.pk, model.pk])
        row_edit = reverse("catalog:model-row-edit", args=[p.pk, model.pk])
        filters = {"q": "model-0", "feature": "agent-thought", "priced": "yes"}
        labels = iter(range(10**6))

        def save_row() -> object:
            lock = p.models.values_list("lock_version", flat=True).get(pk=model.pk)
            return client.post(
                row,
                {
                    "model_lock": lock,
                    "label": f"Label {next(labels)}",
                    "context_size": "8192",
                    "max_tokens_default": "512",
                    "max_tokens_max": "2048",
                    "input_price": "0.5",
                    "output_price": "1.5",
                },
                **hx,
            )

        return {
            "provider page": lambda: client.get(detail),
            "models table": lambda: client.get(table),
            "models table (htmx)": lambda: client.get(table, **hx),
            "filtered table": lambda: client.get(table, filters),
            "filter results (htmx)": lambda: client.get(
                table, filters, HTTP_HX_TARGET="models-results", **hx
            ),
            "row menu (htmx)": lambda: client.get(menu, **hx),
            "row edit form (htmx)": lambda: client.get(row_edit, **hx),
            "model form": lambda: client.get(edit),
            "row save (htmx)": save_row,
        }

    def measure(fn: Callable[[], object]) -> tuple[float, int, int]:
        fn()  # warm caches (templates, URL resolver)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            response = fn()
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code  # type: ignore[attr-defined]
        with CaptureQueriesContext(connection) as ctx:
            response = fn()
        size = len(response.content)  # type: ignore[attr-defined]
        return statistics.median(times), len(ctx.captured_queries), size

    small_queries = {name: measure(fn)[1] for name, fn in pages(small).items()}
    print(f"median of {runs} requests, DEBUG off, SQLite")
    print(f"{'page':22} {'median ms':>10} {'queries':>8} {'10 models':>10} {'KiB':>7}")
    for name, fn in pages(provider).items():
        median, queries, size = measure(fn)
        print(
            f"{name:22} {median * 1000:10.1f} {queries:8d} "
            f"{small_queries[name]:10d} {size / 1024:7.0f}"
        )


if __name__ == "__main__":
    main()
