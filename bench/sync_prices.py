"""Price tables: parse a synthetic 2,500-entry LiteLLM table and map it onto
the biggest corpus plugin (the one declaring the most models).

The table holds an entry for every llm and text-embedding model the plugin
declares (half by id, half as `<provider>/<id>`, all with new prices and
limits) and fills the rest with entries of other providers, as the real
table (~2,000 entries, 1-2 MB) does. Printed: table size, models, items, and
the best of 5 for parsing, proposing and applying every item then dumping the
plugin. Goal: each step well under a second (a page answers in one request).

Run: .venv/bin/python bench/sync_prices.py
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus" / "official-models"
ENTRIES = 2500
RUNS = 5


def best(run: Callable[[], Any]) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def biggest_plugin() -> tuple[str, dict[str, bytes]]:
    """The corpus plugin declaring the most models: (folder name, files)."""
    from studio.pluginfmt.document import load_document
    from studio.pluginfmt.readers import read_folder

    plugins: dict[str, dict[str, bytes]] = {}
    counts: dict[str, int] = {}
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        try:
            plugins[folder.name] = dict(read_folder(str(folder)))
            counts[folder.name] = len(load_document(plugins[folder.name]).models)
        except (OSError, ValueError):  # not a plugin the reader or loader takes
            continue
    name = max(counts, key=counts.__getitem__)
    return name, plugins[name]


def main() -> None:
    from studio.pluginfmt.document import dump_document, load_document
    from studio.pluginfmt.document.specs import model_type_of
    from studio.pluginfmt.sync.prices import parse_table, price_items, update_entry

    name, files = biggest_plugin()
    doc = load_document(files)
    provider = doc.provider.spec.provider or name

    table: dict[str, Any] = {"sample_spec": {"mode": "one of: chat, embedding"}}
    priced = 0
    for index, entry in enumerate(doc.models):
        model_type = model_type_of(entry.type_key)
        if model_type not in ("llm", "text-embedding") or not entry.spec.model:
            continue
        priced += 1
        key = entry.spec.model if index % 2 else f"{provider}/{entry.spec.model}"
        table[key] = {
            "litellm_provider": provider,
            "mode": "chat" if model_type == "llm" else "embedding",
            "input_cost_per_token": 1.5e-07 + index * 1e-09,
            "output_cost_per_token": 6e-07,
            "max_input_tokens": 131072,
            "max_output_tokens": 8192,
            "supports_function_calling": True,
            "supports_vision": index % 3 == 0,
        }
    filler = 0
    while len(table) - 1 < ENTRIES:
        filler += 1
        table[f"vendor{filler % 40}/model-{filler}"] = {
            "litellm_provider": f"vendor{filler % 40}",
            "mode": "chat",
            "input_cost_per_token": 2.5e-06,
            "output_cost_per_token": 1e-05,
            "cache_read_input_token_cost": 1.25e-06,
            "max_tokens": 16384,
            "max_input_tokens": 128000,
            "max_output_tokens": 16384,
            "supports_function_calling": True,
            "supports_parallel_function_calling": True,
            "supports_vision": True,
            "supports_response_schema": True,
            "supports_prompt_caching": True,
            "supports_system_messages": True,
            "supports_tool_choice": True,
        }
    content = json.dumps(table, indent=4).encode()

    parse_time, parsed = best(lambda: parse_table(content))
    propose_time, proposal = best(lambda: price_items(doc, parsed))

    def apply_all() -> int:
        fresh = load_document(files)
        for item in proposal.items:
            update_entry(fresh, item)
        return len(dump_document(fresh))

    apply_time, _ = best(apply_all)
    load_time, _ = best(lambda: load_document(files))
    print(f"plugin {name}: {len(doc.models)} models, {priced} llm/text-embedding")
    print(
        f"table: {len(parsed.entries)} entries, {len(content) / 1e6:.2f} MB, "
        f"{len(parsed.skipped)} skipped"
    )
    print(
        f"proposal: {len(proposal.items)} items, {len(proposal.unmatched)} "
        f"unmatched, {len(proposal.unpriced)} unpriced"
    )
    print(f"parse_table        {parse_time * 1000:8.1f} ms  (best of {RUNS})")
    print(f"price_items        {propose_time * 1000:8.1f} ms")
    print(f"apply all + dump   {apply_time * 1000:8.1f} ms  (load, update, dump)")
    print(f"  of which load    {load_time * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
