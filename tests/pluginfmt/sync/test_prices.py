"""LiteLLM price tables: parsing, matching, unit conversion, applying, fetching."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from studio.pluginfmt.diff import LEVEL_RANK, Level, diff_documents
from studio.pluginfmt.document import PluginDocument, dump_document, load_document
from studio.pluginfmt.document.specs import model_type_of
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.readers import read_folder
from studio.pluginfmt.sync.fetch import FetchError, guarded_get
from studio.pluginfmt.sync.items import (
    CONTEXT_SIZE,
    FEATURES,
    MAX_TOKENS_MAX,
    PRICE_INPUT,
    PRICE_OUTPUT,
    FieldChange,
    SyncItem,
)
from studio.pluginfmt.sync.prices import (
    MAX_TABLE_BYTES,
    PriceTableError,
    StaleChange,
    apply_update,
    decimal_text,
    fetch_table,
    parse_table,
    price_items,
    update_entry,
)

CORPUS = Path(__file__).resolve().parents[3].parent / "shared/corpus/official-models"

MANIFEST = b"""\
version: 0.0.1
type: plugin
author: studio
name: acme
label:
  en_US: Acme
created_at: 2025-01-01T00:00:00Z
icon: icon.svg
resource:
  memory: 268435456
plugins:
  models:
    - provider/acme.yaml
meta:
  version: 0.0.1
  arch: [amd64]
  runner:
    language: python
    version: "3.12"
    entrypoint: main
"""

PROVIDER = b"""\
provider: acme
label:
  en_US: Acme
supported_model_types:
  - llm
  - text-embedding
configurate_methods:
  - predefined-model
models:
  llm:
    predefined:
      - "models/llm/*.yaml"
  text_embedding:
    predefined:
      - "models/text_embedding/*.yaml"
"""


def llm(
    model_id: str,
    *,
    pricing: str | None = None,
    context: int = 8192,
    rule: str = "",
    features: str = "",
    comment: str = "",
) -> bytes:
    text = f"{comment}model: {model_id}\nlabel:\n  en_US: {model_id}\nmodel_type: llm\n"
    if features:
        text += f"features:\n{features}"
    text += f"model_properties:\n  mode: chat\n  context_size: {context}\n"
    text += "parameter_rules:\n  - name: temperature\n    use_template: temperature\n"
    text += rule
    if pricing is not None:
        text += pricing
    return text.encode()


def pricing(
    input_: str, output: str, unit: str = "'0.000001'", currency: str = "USD"
) -> str:
    return (
        f"pricing:\n  input: {input_}\n  output: {output}\n  unit: {unit}\n"
        f"  currency: {currency}\n"
    )


MAX_RULE = "  - name: max_tokens\n    use_template: max_tokens\n    max: 4096\n"
FEATURES_TOOLS = "  - tool-call\n  - agent-thought\n"


def plugin(models: dict[str, bytes]) -> PluginDocument:
    files: PluginFiles = {
        "manifest.yaml": MANIFEST,
        "provider/acme.yaml": PROVIDER,
        "icon.svg": b"<svg/>",
        **models,
    }
    return load_document(files)


def table(entries: dict[str, Any]) -> bytes:
    """A table in the LiteLLM format, numbers written as LiteLLM writes them."""
    return json.dumps(
        {
            "sample_spec": {
                "max_tokens": "LEGACY parameter. set to max_output_tokens",
                "input_cost_per_token": 0.0,
                "litellm_provider": "one of https://docs.litellm.ai/docs/providers",
                "mode": "one of: chat, embedding, completion",
                "supports_function_calling": True,
            },
            **entries,
        },
        indent=4,
    ).encode()


def raw_table(text: str) -> bytes:
    return text.encode()


def changes_of(item: SyncItem) -> dict[str, tuple[Any, Any]]:
    return {c.field: (c.old, c.new) for c in item.changes}


@pytest.fixture
def acme() -> PluginDocument:
    return plugin(
        {
            "models/llm/alpha.yaml": llm(
                "alpha",
                pricing=pricing("'3.00'", "'15.00'"),
                context=128000,
                rule=MAX_RULE,
                features=FEATURES_TOOLS,
                comment="# Alpha: the flagship\n",
            ),
            "models/llm/beta.yaml": llm("beta", pricing=pricing("'1'", "'2'")),
            "models/llm/gamma.yaml": llm("gamma", pricing=pricing("'0.5'", "'1.5'")),
            "models/llm/delta.yaml": llm("delta"),
            "models/text_embedding/emb.yaml": (
                b"model: emb\nmodel_type: text-embedding\nmodel_properties:\n"
                b"  context_size: 8191\n  max_chunks: 32\npricing:\n"
                b"  input: '0.0001'\n  unit: '0.001'\n  currency: USD\n"
            ),
        }
    )


# ---------------------------------------------------------------- parsing


class TestParseTable:
    def test_numbers_stay_exact_decimals(self) -> None:
        parsed = parse_table(
            raw_table(
                '{"m": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": '
                '0.000015, "max_input_tokens": 200000, "max_output_tokens": 8192, '
                '"litellm_provider": "acme", "mode": "chat", '
                '"supports_vision": true, "supports_function_calling": false}}'
            )
        )
        entry = parsed.entries["m"]
        assert entry.input_cost == Decimal("2.5e-06")
        assert isinstance(entry.input_cost, Decimal)
        assert entry.output_cost == Decimal("0.000015")
        assert (entry.max_input_tokens, entry.max_output_tokens) == (200000, 8192)
        assert entry.context_size == 200000
        assert (entry.provider, entry.mode) == ("acme", "chat")
        assert entry.flags == {
            "supports_vision": True,
            "supports_function_calling": False,
        }
        assert parsed.skipped == []

    def test_sample_spec_is_ignored_not_reported(self) -> None:
        parsed = parse_table(table({"m": {"input_cost_per_token": 1e-06}}))
        assert list(parsed.entries) == ["m"]
        assert parsed.skipped == []

    def test_legacy_max_tokens_is_the_context_only_without_max_output(self) -> None:
        parsed = parse_table(
            table(
                {
                    "old": {"max_tokens": 4097},
                    "new": {"max_tokens": 4096, "max_output_tokens": 4096},
                }
            )
        )
        assert parsed.entries["old"].context_size == 4097
        assert parsed.entries["new"].context_size is None

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"not json at all", "the table is not JSON: Expecting value at line 1"),
            (b"[1, 2]", "must be a JSON object with one key per model; this is a list"),
            (b'"text"', "this is a single value"),
            (b"\xff\xfe{}", "the table is not UTF-8 text"),
            (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
        ],
    )
    def test_unusable_tables_are_refused_with_a_reason(
        self, content: bytes, message: str
    ) -> None:
        with pytest.raises(PriceTableError, match=message):
            parse_table(content)

    def test_a_huge_table_is_refused_before_parsing(self) -> None:
        content = b" " * (MAX_TABLE_BYTES + 1)
        with pytest.raises(PriceTableError) as caught:
            parse_table(content)
        assert "at most 20 MB" in str(caught.value)

    def test_wrong_types_skip_the_entry_with_its_reason(self) -> None:
        parsed = parse_table(
            raw_table(
                """{
                "good": {"input_cost_per_token": 1e-06, "litellm_provider": "acme"},
                "text-price": {"input_cost_per_token": "0.000001"},
                "negative": {"output_cost_per_token": -1e-06},
                "fraction": {"max_input_tokens": 1000.5},
                "flag": {"supports_vision": "yes"},
                "provider": {"litellm_provider": 7},
                "nan": {"input_cost_per_token": NaN},
                "list": [1, 2],
                "": {"input_cost_per_token": 1e-06},
                "nulls": {"input_cost_per_token": null, "supports_vision": null}
            }"""
            )
        )
        assert sorted(parsed.entries) == ["good", "nulls"]
        assert parsed.entries["nulls"].input_cost is None
        reasons = {s.id: s.reason for s in parsed.skipped}
        assert reasons == {
            "text-price": "input_cost_per_token must be a number, found the text "
            "'0.000001'",
            "negative": "output_cost_per_token is negative (-0.000001)",
            "fraction": "max_input_tokens must be a positive whole number, not 1000.5",
            "flag": "supports_vision must be true or false, found the text 'yes'",
            "provider": "litellm_provider must be text, found the number 7",
            "nan": "input_cost_per_token is not a finite number (NaN)",
            "list": "expected an object of fields, found a list",
            "": "the model id is empty",
        }


# ---------------------------------------------------------------- decimals


class TestUnits:
    @pytest.mark.parametrize(
        ("cost", "unit", "expected"),
        [
            ("2.5e-06", "'0.000001'", "2.5"),
            ("2.5e-06", "'0.001'", "0.0025"),
            ("2.5e-06", "'1'", "0.0000025"),
            ("1.5e-07", "'0.000001'", "0.15"),
            ("1.5e-07", "'0.001'", "0.00015"),
            ("1.5e-07", "'1'", "0.00000015"),
            ("3e-05", "'0.000001'", "30"),
            ("3e-05", "'0.001'", "0.03"),
            ("3e-05", "'1'", "0.00003"),
            ("0.000015", "'0.000001'", "15"),
            ("0.000015", "'0.001'", "0.015"),
            ("0.000015", "'1'", "0.000015"),
            ("1e-05", "0.000001", "10"),
        ],
    )
    def test_cost_per_token_becomes_the_models_unit(
        self, cost: str, unit: str, expected: str
    ) -> None:
        doc = plugin(
            {"models/llm/m.yaml": llm("m", pricing=pricing("'9'", "'9'", unit=unit))}
        )
        content = raw_table(
            f'{{"m": {{"input_cost_per_token": {cost}, '
            f'"output_cost_per_token": {cost}, "mode": "chat"}}}}'
        )
        (item,) = price_items(doc, parse_table(content)).items
        assert changes_of(item) == {
            PRICE_INPUT: ("9", expected),
            PRICE_OUTPUT: ("9", expected),
        }

    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (Decimal("2.50000"), "2.5"),
            (Decimal("2.5E+0"), "2.5"),
            (Decimal("1E+2"), "100"),
            (Decimal("0E-7"), "0"),
            (Decimal("1.5e-07") / Decimal("0.000001"), "0.15"),
        ],
    )
    def test_decimal_text_has_no_exponent_nor_trailing_zeros(
        self, value: Decimal, text: str
    ) -> None:
        assert decimal_text(value) == text

    def test_no_float_artefacts(self) -> None:
        # 0.1 + 0.05 in floats is 0.15000000000000002.
        doc = plugin({"models/llm/m.yaml": llm("m", pricing=pricing("'1'", "'1'"))})
        content = raw_table(
            '{"m": {"input_cost_per_token": 0.00000015, '
            '"output_cost_per_token": 1.5000000000000002e-07}}'
        )
        (item,) = price_items(doc, parse_table(content)).items
        assert changes_of(item)[PRICE_INPUT] == ("1", "0.15")
        assert changes_of(item)[PRICE_OUTPUT] == ("1", "0.15000000000000002")


# ---------------------------------------------------------------- proposals


class TestPriceItems:
    def test_matched_models_only_unmatched_and_unpriced_listed(
        self, acme: PluginDocument
    ) -> None:
        content = table(
            {
                "alpha": {
                    "input_cost_per_token": 2.5e-06,
                    "output_cost_per_token": 1e-05,
                    "max_input_tokens": 200000,
                    "max_output_tokens": 4096,
                    "litellm_provider": "acme",
                    "mode": "chat",
                },
                "acme/beta": {
                    "input_cost_per_token": 1e-06,
                    "output_cost_per_token": 2e-06,
                    "max_input_tokens": 32000,
                    "litellm_provider": "acme",
                    "mode": "chat",
                },
                "emb": {
                    "input_cost_per_token": 1.3e-07,
                    "output_cost_per_token": 0,
                    "max_input_tokens": 8191,
                    "litellm_provider": "acme",
                    "mode": "embedding",
                },
                "acme/omega": {"litellm_provider": "acme", "mode": "chat"},
                "acme/image-1": {
                    "litellm_provider": "acme",
                    "mode": "image_generation",
                },
                "other/zeta": {"litellm_provider": "other", "mode": "chat"},
            }
        )
        proposal = price_items(acme, parse_table(content))
        by_model = {item.model: item for item in proposal.items}
        assert sorted(by_model) == ["alpha", "beta", "emb"]
        assert changes_of(by_model["alpha"]) == {
            PRICE_INPUT: ("3.00", "2.5"),
            PRICE_OUTPUT: ("15.00", "10"),
            CONTEXT_SIZE: (128000, 200000),
        }
        # Equal prices ('1' and 1e-06 per token per 1M) give no change.
        assert changes_of(by_model["beta"]) == {CONTEXT_SIZE: (8192, 32000)}
        # An embedding gets its input price only (unit 0.001 here).
        assert changes_of(by_model["emb"]) == {PRICE_INPUT: ("0.0001", "0.00013")}
        assert all(item.kind == "update_model" for item in proposal.items)
        assert all(item.level is Level.NOTABLE for item in proposal.items)
        assert by_model["alpha"].key == "update:llm:alpha"
        assert by_model["emb"].model_type == "text-embedding"
        assert by_model["alpha"].summary == (
            "alpha: input price 3.00 → 2.5 (USD per 1M tokens); output price "
            "15.00 → 10 (USD per 1M tokens); context size 128000 → 200000"
        )
        assert proposal.unmatched == ["acme/omega"]
        assert proposal.unpriced == ["llm:delta", "llm:gamma"]
        assert proposal.matched == {
            "llm:alpha": "alpha",
            "llm:beta": "acme/beta",
            "text-embedding:emb": "emb",
        }

    def test_the_mapping_matches_ids_that_differ_and_wins(
        self, acme: PluginDocument
    ) -> None:
        content = table(
            {
                "gamma": {"input_cost_per_token": 9e-06, "mode": "chat"},
                "gamma-2025-01-01": {
                    "input_cost_per_token": 7e-07,
                    "output_cost_per_token": 2.1e-06,
                    "mode": "chat",
                },
                "delta-latest": {"input_cost_per_token": 4e-06, "mode": "chat"},
                "beta-embed": {"input_cost_per_token": 1e-08, "mode": "embedding"},
            }
        )
        proposal = price_items(
            acme,
            parse_table(content),
            {
                "gamma-2025-01-01": "gamma",
                "delta-latest": "delta",
                "missing": "alpha",
                "gamma": "nobody",
                "beta-embed": "beta",
            },
        )
        by_model = {item.model: item for item in proposal.items}
        assert changes_of(by_model["gamma"]) == {
            PRICE_INPUT: ("0.5", "0.7"),
            PRICE_OUTPUT: ("1.5", "2.1"),
        }
        # A model without pricing gets unit 0.000001 in USD.
        assert changes_of(by_model["delta"]) == {PRICE_INPUT: (None, "4")}
        assert "missing" in proposal.unmatched
        assert "mapping missing → alpha: the table has no missing" in proposal.notes
        assert any(
            "declares no llm or text-embedding model nobody" in n
            for n in proposal.notes
        )
        assert (
            "mapping beta-embed → beta: the table's mode embedding does not suit "
            "the llm model beta" in proposal.notes
        )
        assert "beta" not in by_model

    def test_a_mode_that_does_not_fit_the_type_is_not_matched(
        self, acme: PluginDocument
    ) -> None:
        content = table({"gamma": {"input_cost_per_token": 9e-06, "mode": "embedding"}})
        proposal = price_items(acme, parse_table(content))
        assert proposal.items == []
        assert "llm:gamma" in proposal.unpriced

    def test_a_currency_other_than_usd_is_left_alone_and_reported(self) -> None:
        doc = plugin(
            {
                "models/llm/m.yaml": llm(
                    "m", pricing=pricing("'1'", "'2'", currency="EUR"), context=1000
                )
            }
        )
        content = table(
            {
                "m": {
                    "input_cost_per_token": 5e-06,
                    "output_cost_per_token": 6e-06,
                    "max_input_tokens": 2000,
                }
            }
        )
        proposal = price_items(doc, parse_table(content))
        (item,) = proposal.items
        assert changes_of(item) == {CONTEXT_SIZE: (1000, 2000)}
        assert proposal.notes == [
            "llm model m is priced in EUR; the table is in USD, so its prices "
            "were left alone"
        ]

    def test_equal_values_give_no_item(self, acme: PluginDocument) -> None:
        content = table(
            {
                "alpha": {
                    "input_cost_per_token": 0.000003,
                    "output_cost_per_token": 1.5e-05,
                    "max_input_tokens": 128000,
                    "max_output_tokens": 4096,
                    "supports_function_calling": True,
                }
            }
        )
        proposal = price_items(acme, parse_table(content))
        assert proposal.items == []
        assert proposal.matched == {"llm:alpha": "alpha"}

    def test_max_tokens_and_features(self, acme: PluginDocument) -> None:
        content = table(
            {
                "alpha": {
                    "max_output_tokens": 2048,
                    "supports_function_calling": True,
                    "supports_parallel_function_calling": True,
                    "supports_vision": True,
                    "supports_response_schema": True,
                    "supports_reasoning": True,
                    "supports_tool_choice": True,
                },
                "beta": {
                    "max_output_tokens": 100000,
                    "supports_function_calling": True,
                },
            }
        )
        by_model = {i.model: i for i in price_items(acme, parse_table(content)).items}
        alpha = by_model["alpha"]
        assert changes_of(alpha) == {
            MAX_TOKENS_MAX: (4096, 2048),
            FEATURES: (
                ["agent-thought", "tool-call"],
                [
                    "agent-thought",
                    "multi-tool-call",
                    "structured-output",
                    "tool-call",
                    "vision",
                ],
            ),
        }
        # A lower max narrows the range: breaking, as the review diff says.
        assert alpha.level is Level.BREAKING
        # beta has no max_tokens rule: no max; tool-call added.
        assert changes_of(by_model["beta"]) == {FEATURES: ([], ["tool-call"])}
        assert by_model["beta"].level is Level.NOTABLE

    def test_an_explicit_false_removes_tool_call_and_vision_only(self) -> None:
        features = "  - multi-tool-call\n  - vision\n  - agent-thought\n  - audio\n"
        doc = plugin({"models/llm/m.yaml": llm("m", features=features)})
        content = table(
            {
                "m": {
                    "supports_function_calling": False,
                    "supports_vision": False,
                    "supports_audio_input": False,
                }
            }
        )
        (item,) = price_items(doc, parse_table(content)).items
        assert changes_of(item) == {
            FEATURES: (
                ["agent-thought", "audio", "multi-tool-call", "vision"],
                ["agent-thought", "audio"],
            )
        }
        assert item.level is Level.BREAKING

    def test_multi_tool_call_counts_as_tool_calling(self) -> None:
        doc = plugin({"models/llm/m.yaml": llm("m", features="  - multi-tool-call\n")})
        content = table({"m": {"supports_function_calling": True}})
        assert price_items(doc, parse_table(content)).items == []

    def test_a_max_below_the_rules_default_is_left_alone(self) -> None:
        rule = "  - name: max_tokens\n    use_template: max_tokens\n    default: 512\n"
        doc = plugin({"models/llm/m.yaml": llm("m", rule=rule)})
        content = table({"m": {"max_output_tokens": 256}})
        proposal = price_items(doc, parse_table(content))
        assert proposal.items == []
        assert proposal.notes == [
            "llm model m: the table's max output 256 is below the max_tokens "
            "rule's default 512; its max was left alone"
        ]

    def test_levels_agree_with_the_review_diff(self, acme: PluginDocument) -> None:
        content = table(
            {
                "alpha": {
                    "input_cost_per_token": 1e-06,
                    "max_output_tokens": 1024,
                    "supports_vision": True,
                },
                "beta": {"max_input_tokens": 4096},
                "gamma": {"supports_function_calling": True},
                "emb": {"input_cost_per_token": 2e-07},
            }
        )
        proposal = price_items(acme, parse_table(content))
        assert len(proposal.items) == 4
        for item in proposal.items:
            doc = plugin(dict(dump_document(acme)))
            update_entry(doc, item)
            changes = diff_documents(acme, doc).changes
            assert {c.subject[2] for c in changes} == {item.model}
            worst = max((c.level for c in changes), key=LEVEL_RANK.__getitem__)
            assert worst is item.level, item.summary

    def test_a_real_plugin_against_its_own_prices_gives_no_item(self) -> None:
        files = dict(read_folder(str(CORPUS / "openai")))
        doc = load_document(files)
        entries: dict[str, Any] = {}
        for entry in doc.models:
            data = entry.spec.to_data()
            model_type = model_type_of(entry.type_key)
            pricing_data = data.get("pricing")
            if model_type not in ("llm", "text-embedding") or not pricing_data:
                continue
            unit = Decimal(str(pricing_data["unit"]))
            row: dict[str, Any] = {
                "litellm_provider": "openai",
                "mode": "chat" if model_type == "llm" else "embedding",
                "input_cost_per_token": Decimal(str(pricing_data["input"])) * unit,
                "max_input_tokens": data["model_properties"]["context_size"],
            }
            if "output" in pricing_data:
                row["output_cost_per_token"] = (
                    Decimal(str(pricing_data["output"])) * unit
                )
            entries[str(data["model"])] = row
        assert len(entries) > 30
        # Costs as JSON numbers (LiteLLM writes 1.5e-07), read back as Decimal.
        content = json.dumps(
            {
                key: {
                    f: float(v) if isinstance(v, Decimal) else v for f, v in row.items()
                }
                for key, row in entries.items()
            }
        )
        proposal = price_items(doc, parse_table(content.encode()))
        assert proposal.items == []
        assert proposal.unmatched == []
        assert len(proposal.matched) == len(entries)


# ---------------------------------------------------------------- applying


class TestApplyUpdate:
    def test_round_trip_keeps_other_keys_and_untouched_files(
        self, acme: PluginDocument
    ) -> None:
        before = dump_document(acme)
        content = table(
            {
                "alpha": {
                    "input_cost_per_token": 2.5e-06,
                    "max_input_tokens": 200000,
                    "max_output_tokens": 8192,
                    "supports_vision": True,
                },
                "delta": {
                    "input_cost_per_token": 1.5e-07,
                    "output_cost_per_token": 6e-07,
                },
            }
        )
        proposal = price_items(acme, parse_table(content))
        stored = [
            SyncItem.from_dict(json.loads(json.dumps(i.as_dict())))
            for i in proposal.items
        ]
        for item in stored:
            update_entry(acme, item)
        after = dump_document(acme)
        changed = {path for path in after if after[path] != before[path]}
        assert changed == {"models/llm/alpha.yaml", "models/llm/delta.yaml"}
        assert after["models/llm/alpha.yaml"].decode() == (
            "# Alpha: the flagship\n"
            "model: alpha\n"
            "label:\n  en_US: alpha\n"
            "model_type: llm\n"
            "features:\n  - tool-call\n  - agent-thought\n  - vision\n"
            "model_properties:\n  mode: chat\n  context_size: 200000\n"
            "parameter_rules:\n"
            "  - name: temperature\n    use_template: temperature\n"
            "  - name: max_tokens\n    use_template: max_tokens\n    max: 8192\n"
            "pricing:\n  input: '2.5'\n  output: '15.00'\n"
            "  unit: '0.000001'\n  currency: USD\n"
        )
        delta = load_document(after).models
        (delta_entry,) = [m for m in delta if m.spec.model == "delta"]
        assert delta_entry.spec.to_data()["pricing"] == {
            "input": "0.15",
            "output": "0.6",
            "unit": "0.000001",
            "currency": "USD",
        }
        # Applying the proposal again finds nothing left to change.
        assert price_items(load_document(after), parse_table(content)).items == []

    def test_numbers_stay_numbers(self) -> None:
        data: dict[str, Any] = {
            "model": "m",
            "pricing": {"input": 1, "output": 2.5, "unit": 0.001, "currency": "USD"},
        }
        item = SyncItem(
            kind="update_model",
            model_type="llm",
            model="m",
            level=Level.NOTABLE,
            summary="",
            changes=(
                FieldChange(PRICE_INPUT, 1, "3"),
                FieldChange(PRICE_OUTPUT, 2.5, "0.15"),
            ),
        )
        apply_update(data, item)
        assert data["pricing"] == {
            "input": 3,
            "output": 0.15,
            "unit": 0.001,
            "currency": "USD",
        }

    def test_template_max_drops_the_override(self) -> None:
        data: dict[str, Any] = {
            "parameter_rules": [
                {"name": "max_tokens", "use_template": "max_tokens", "max": 4096}
            ]
        }
        item = SyncItem(
            kind="update_model",
            model_type="llm",
            model="m",
            level=Level.BREAKING,
            summary="",
            changes=(FieldChange(MAX_TOKENS_MAX, 4096, 2048),),
        )
        apply_update(data, item)
        assert data["parameter_rules"] == [
            {"name": "max_tokens", "use_template": "max_tokens"}
        ]

    def test_a_stale_item_is_refused(self) -> None:
        data: dict[str, Any] = {"model_properties": {"context_size": 64000}}
        item = SyncItem(
            kind="update_model",
            model_type="llm",
            model="m",
            level=Level.NOTABLE,
            summary="",
            changes=(FieldChange(CONTEXT_SIZE, 32000, 128000),),
        )
        with pytest.raises(StaleChange, match="is now 64000, the proposal was made"):
            apply_update(data, item)
        assert data == {"model_properties": {"context_size": 64000}}


# ---------------------------------------------------------------- fetching


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hanging up on a too-big body is the point of a test


class _Server:
    def __init__(self, body: bytes, *, redirect: str = "", status: int = 200) -> None:
        outer = self
        self.seen: list[dict[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.seen.append(dict(self.headers))
                if status != 200:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if redirect:
                    self.send_response(302)
                    self.send_header("Location", redirect)
                    self.end_headers()
                    return
                self.send_response(200)
                if outer.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(body), 1 << 20):
                        part = body[start : start + (1 << 20)]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        Handler.protocol_version = "HTTP/1.1"
        self.chunked = False
        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/prices.json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def serving(body: bytes) -> Iterator[_Server]:
    """A local server answering `body` at its `url`, for tests of other modules."""
    server = _Server(body)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[_Server] = []

    def start(body: bytes, **kwargs: Any) -> _Server:
        server = _Server(body, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


class TestFetchTable:
    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("http://127.0.0.1/prices.json", "127.0.0.1 is a loopback address"),
            ("http://10.0.0.1/prices.json", "10.0.0.1 is a private address"),
            (
                "http://169.254.169.254/latest/meta-data",
                "169.254.169.254 is a cloud metadata address",
            ),
            ("ftp://example.com/prices.json", "not an http or https URL"),
        ],
    )
    def test_internal_addresses_are_refused(self, url: str, reason: str) -> None:
        with pytest.raises(PriceTableError) as caught:
            fetch_table(url)
        assert reason in str(caught.value)
        assert str(caught.value).startswith("could not fetch the table: ")

    def test_localhost_is_refused(self) -> None:
        with pytest.raises(PriceTableError, match=r"localhost \(.*\) is a loopback"):
            fetch_table("http://localhost:8000/prices.json")

    def test_a_name_resolving_to_loopback_is_refused(self) -> None:
        with pytest.raises(
            PriceTableError, match=r"prices.example \(127.0.0.1\) is a loopback"
        ):
            fetch_table(
                "https://prices.example/p.json",
                resolver=lambda host, port: ["127.0.0.1"],
            )

    def test_an_allowed_server_is_read(self, serve: Any) -> None:
        body = table({"m": {"input_cost_per_token": 2.5e-06}})
        server = serve(body)
        assert fetch_table(server.url, allow=["127.0.0.1"]) == body
        with pytest.raises(PriceTableError, match="PLAYGROUND_EGRESS_ALLOW"):
            fetch_table(server.url)

    def test_a_redirect_is_checked_again(self, serve: Any) -> None:
        server = serve(b"", redirect="http://169.254.169.254/latest/meta-data")
        with pytest.raises(PriceTableError, match="cloud metadata address"):
            fetch_table(server.url, allow=["127.0.0.1"])

    def test_a_redirect_to_an_allowed_server_is_followed(self, serve: Any) -> None:
        target = serve(b"{}")
        server = serve(b"", redirect=target.url)
        assert fetch_table(server.url, allow=["127.0.0.1"]) == b"{}"

    def test_too_big_a_body_is_refused(self, serve: Any) -> None:
        big = b" " * (MAX_TABLE_BYTES + 1)
        server = serve(big)
        with pytest.raises(
            PriceTableError, match="is 20 MB; the studio reads at most 20 MB"
        ):
            fetch_table(server.url, allow=["127.0.0.1"])

    def test_too_big_a_streamed_body_is_cut_while_reading(self, serve: Any) -> None:
        big = b" " * (MAX_TABLE_BYTES + 1)
        server = serve(big)
        server.chunked = True
        with pytest.raises(
            PriceTableError, match="larger than 20 MB, the most the studio reads"
        ):
            fetch_table(server.url, allow=["127.0.0.1"])


class TestGuardedGet:
    def test_headers_go_to_the_first_origin_only(self, serve: Any) -> None:
        target = serve(b"{}")
        server = serve(b"", redirect=target.url)
        body = guarded_get(
            server.url,
            allow=["127.0.0.1"],
            headers={"Authorization": "Bearer secret"},
            max_bytes=100,
        )
        assert body == b"{}"
        assert server.seen[0]["Authorization"] == "Bearer secret"
        assert "Authorization" not in target.seen[0]

    def test_an_answer_other_than_200_is_an_error(self, serve: Any) -> None:
        server = serve(b"", status=404)
        with pytest.raises(FetchError, match="answered 404 Not Found"):
            guarded_get(server.url, allow=["127.0.0.1"], max_bytes=100)

    def test_a_silent_server_times_out(self) -> None:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]
            with pytest.raises(FetchError, match="timed out"):
                guarded_get(
                    f"http://127.0.0.1:{port}/",
                    allow=["127.0.0.1"],
                    max_bytes=100,
                    timeout=0.3,
                )

    def test_endless_redirects_stop(self, serve: Any) -> None:
        loop = serve(b"", redirect="/prices.json")
        with pytest.raises(FetchError, match="redirects more than 3 times"):
            guarded_get(loop.url, allow=["127.0.0.1"], max_bytes=100)
        assert len(loop.seen) == 4

    def test_credentials_in_the_url_are_refused(self) -> None:
        with pytest.raises(FetchError, match="not in the URL"):
            guarded_get("https://user:pw@example.com/", max_bytes=100)


def test_numbers_out_of_any_sensible_range_skip_their_entry() -> None:
    from studio.pluginfmt.sync.prices import parse_table

    table = parse_table(
        b'{"a": {"input_cost_per_token": 1e1000000},'
        b' "b": {"input_cost_per_token": 1e-1000000},'
        b' "c": {"max_input_tokens": 1e5000},'
        b' "d": {"input_cost_per_token": 2.5e-06, "max_input_tokens": 128000}}'
    )
    assert list(table.entries) == ["d"]
    reasons = {s.id: s.reason for s in table.skipped}
    assert "out of any sensible range" in reasons["a"]
    assert "out of any sensible range" in reasons["b"]
    assert "too large" in reasons["c"]
