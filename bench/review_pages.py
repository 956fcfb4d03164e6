"""Server time, size and query counts of the review pages at the size of
real plugins.

Creates, in a throwaway SQLite database, a provider with 300 llm models
(added after it was created, so its first revision adds all 300 against the
baseline), submits r1, changes the price and the label of every model and
submits r2 (600 changes in 300 models), then changes every price again in the
draft. Prints for each page the median server time of N requests made through
django.test.Client (caches warm: the first request parses the files), its
size and its query count. DEBUG is off, as in production. Goal: well under a
second each, the same number of queries as for a 10-model provider.
Run: .venv/bin/python bench/review_pages.py [--models 300] [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throwaway import throwaway_studio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    with throwaway_studio("bench-review-pages-"):
        run(args.models, args.runs)


def run(model_count: int, runs: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from studio.catalog import services as catalog
    from studio.catalog.models import Membership, Role
    from studio.reviews import services as reviews
    from studio.reviews.diff import clear_caches
    from tests.factories import make_provider, make_team, make_user

    alice = make_user("alice")
    bob = make_user("bob")
    team = make_team("Acme", owner=alice)
    Membership.objects.create(team=team, user=bob, role=Role.AUTHOR)

    def reprice(price: str, label: str = "") -> Callable[[Any], None]:
        def change(doc: Any) -> None:
            for entry in doc.models:
                entry.spec.pricing.input = price
                if label:
                    entry.spec.label.en_US = f"{label} {entry.spec.model}"

        return change

    def prepare(name: str, count: int) -> Any:
        provider = make_provider(team, name, models=count)
        reviews.revision_submit(provider=provider, user=bob, message="all models")
        catalog.provider_edit(
            provider=provider, lock_version=None, change=reprice("0.61", "Model")
        )
        reviews.revision_submit(provider=provider, user=bob, message="repriced")
        catalog.provider_edit(
            provider=provider, lock_version=None, change=reprice("0.62")
        )
        return provider

    started = time.perf_counter()
    provider = prepare("gateway", model_count)
    print(
        f"{model_count}-model provider and 2 revisions in "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )
    small = prepare("small", 10)

    client = Client()
    client.force_login(alice)
    hx = {"HTTP_HX_REQUEST": "true"}

    def pages(p: Any) -> dict[str, Callable[[], Any]]:
        r1 = reverse("reviews:revision-detail", args=[p.pk, 1])
        r2 = reverse("reviews:revision-detail", args=[p.pk, 2])
        tab = reverse("reviews:provider-reviews", args=[p.pk])
        return {
            "r2 changes": lambda: client.get(r2),
            "r2 changes (htmx)": lambda: client.get(r2, **hx),
            "r2 notable, q": lambda: client.get(r2, {"level": "notable", "q": "7"}),
            "r2 text": lambda: client.get(r2, {"view": "text"}),
            "r1 all added": lambda: client.get(r1),
            "review tab": lambda: client.get(tab),
        }

    def measure(fn: Callable[[], Any]) -> tuple[float, float, int, int]:
        clear_caches()
        start = time.perf_counter()
        fn()  # cold: parses the files and computes the diff
        cold = time.perf_counter() - start
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            response = fn()
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code
        with CaptureQueriesContext(connection) as ctx:
            response = fn()
        return (
            statistics.median(times),
            cold,
            len(ctx.captured_queries),
            len(response.content),
        )

    small_queries = {name: measure(fn)[2] for name, fn in pages(small).items()}
    print(f"median of {runs} requests (caches warm), DEBUG off, SQLite")
    print(
        f"{'page':20} {'median ms':>10} {'cold ms':>8} {'queries':>8} "
        f"{'10 models':>10} {'KiB':>7}"
    )
    for name, fn in pages(provider).items():
        median, cold, queries, size = measure(fn)
        print(
            f"{name:20} {median * 1000:10.1f} {cold * 1000:8.0f} {queries:8d} "
            f"{small_queries[name]:10d} {size / 1024:7.0f}"
        )


if __name__ == "__main__":
    main()
