"""Upstream model lists: a vendor's `/v1/models` with 1,000 ids against the
biggest corpus plugin (the one declaring the most models).

The list keeps every other declared LLM (so half are "gone") and adds new
ids up to 1,000 entries. Printed: models, items, and the best of 5 for
parsing the list, comparing and making the items, and applying every item
(new files from the template, deprecations) then dumping the plugin. Goal:
each step well under a second for the drift a vendor shows in practice (a
few to a few dozen models); applying grows linearly with the new models,
as each one is a new YAML file written by PyYAML's Python emitter.

Run: .venv/bin/python bench/sync_upstream.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LISTED = 1000


def main() -> None:
    from bench.sync_prices import best, biggest_plugin
    from studio.pluginfmt.document import dump_document, load_document
    from studio.pluginfmt.sync.apply import apply_items
    from studio.pluginfmt.sync.upstream import (
        compare_models,
        declared_ids,
        parse_model_list,
        upstream_items,
    )

    name, files = biggest_plugin()
    doc = load_document(files)
    llms = declared_ids(doc, "llm")
    kept = llms[::2]
    ids = kept + [f"vendor-model-{i:04d}" for i in range(LISTED - len(kept))]
    raw = json.dumps(
        {"object": "list", "data": [{"id": i, "object": "model"} for i in ids]}
    ).encode()
    print(f"plugin {name}: {len(doc.models)} models, {len(llms)} llm")
    print(f"list: {len(ids)} ids, {len(raw) / 1024:.0f} KiB")

    took, listed = best(lambda: parse_model_list(raw))
    print(f"parse_model_list      {took * 1000:7.1f} ms")

    def propose() -> Any:
        comparison = compare_models(doc, listed, ["llm"])
        return upstream_items(doc, comparison, {"llm": llms[0]})

    took, items = best(propose)
    kinds = [i.kind for i in items]
    print(
        f"compare + items       {took * 1000:7.1f} ms  "
        f"({kinds.count('add_model')} new, {kinds.count('deprecate_model')} gone)"
    )

    def apply_all() -> Any:
        fresh = load_document(files)
        apply_items(fresh, items)
        return dump_document(fresh)

    took, out = best(apply_all)
    added = kinds.count("add_model") or 1
    print(
        f"apply all + dump      {took * 1000:7.1f} ms  ({len(out)} files out; "
        f"{took * 1000 / added:.1f} ms per new model, linear: writing each new "
        "model's YAML)"
    )


if __name__ == "__main__":
    main()
