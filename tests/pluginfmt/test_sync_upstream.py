"""Upstream model lists: parsing, comparing, items, applying (pure parts)."""

from __future__ import annotations

import json

import pytest

from studio.pluginfmt.diff import Bump, Level, diff_documents
from studio.pluginfmt.document import dump_document, load_document
from studio.pluginfmt.document.yamltext import dump_yaml
from studio.pluginfmt.egress import EgressRefused
from studio.pluginfmt.scaffold import scaffold
from studio.pluginfmt.sync.apply import ApplyConflict, apply_items, conflicts
from studio.pluginfmt.sync.items import SyncItem
from studio.pluginfmt.sync.upstream import (
    ModelList,
    UpstreamError,
    compare_models,
    fetch_model_list,
    guess_type,
    models_url,
    parse_model_list,
    upstream_items,
)
from tests.factories import make_new_plugin


def _listing(*ids: object) -> bytes:
    return json.dumps(
        {"object": "list", "data": [{"id": i, "object": "model"} for i in ids]}
    ).encode()


class TestParsing:
    def test_it_reads_openais_list_shape_in_order_without_duplicates(self) -> None:
        listed = parse_model_list(_listing("b", "a", "b"))
        assert listed.ids == ("b", "a")
        assert listed.skipped == ()

    def test_odd_entries_are_skipped_and_named(self) -> None:
        raw = json.dumps(
            {"data": [{"id": "ok"}, {"object": "model"}, 7, {"id": "x\ny"}]}
        ).encode()
        listed = parse_model_list(raw)
        assert listed.ids == ("ok",)
        assert listed.skipped[0] == "entry 2 has no id"
        assert listed.skipped[1] == "entry 3 has no id"
        assert "not a usable model id" in listed.skipped[2]

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            (b"<html>", "not JSON"),
            (b'{"object": "list"}', 'no "data" list'),
            (b'{"data": {"id": "x"}}', '"data" is a dict, not a list'),
            (b'"models"', "not an object"),
        ],
    )
    def test_an_unusable_answer_is_refused_with_the_reason(
        self, raw: bytes, message: str
    ) -> None:
        with pytest.raises(UpstreamError, match=message):
            parse_model_list(raw)

    def test_a_list_over_the_size_cap_is_refused(self) -> None:
        with pytest.raises(UpstreamError, match="larger than 1 KiB"):
            parse_model_list(_listing(*[f"m{i}" for i in range(200)]), max_bytes=1024)

    def test_types_are_guessed_from_names(self) -> None:
        assert guess_type("text-embedding-3-small") == "text-embedding"
        assert guess_type("bge-reranker-v2") == "rerank"
        assert guess_type("whisper-1") == "speech2text"
        assert guess_type("tts-1") == "tts"
        assert guess_type("gpt-4o") == "llm"

    def test_the_models_url_follows_the_base(self) -> None:
        assert models_url("https://api.x.com/v1/") == "https://api.x.com/v1/models"
        assert models_url("https://api.x.com") == "https://api.x.com/v1/models"
        assert models_url("https://x.com/v1/models") == "https://x.com/v1/models"


def _llm(model: str, **extra: object) -> bytes:
    return dump_yaml(
        {
            "model": model,
            "label": {"en_US": model.upper()},
            "model_type": "llm",
            "features": ["tool-call"],
            "model_properties": {"mode": "chat", "context_size": 32000},
            "parameter_rules": [{"name": "max_tokens", "use_template": "max_tokens"}],
            "pricing": {
                "input": "1",
                "output": "2",
                "unit": "0.000001",
                "currency": "USD",
            },
            **extra,
        }
    )


def _doc(*llms: str, deprecated: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    files = scaffold(make_new_plugin())
    for name in llms:
        extra = {"deprecated": True} if name in deprecated else {}
        files[f"models/llm/{name}.yaml"] = _llm(name, **extra)
    files["models/llm/_position.yaml"] = dump_yaml(list(llms))
    doc = load_document(files)
    doc.provider.spec.models["llm"].position = "models/llm/_position.yaml"
    return load_document(dump_document(doc))


class TestComparing:
    def test_new_gone_and_unchanged(self) -> None:
        doc = _doc("a", "b", "c")
        result = compare_models(doc, ModelList(("a", "c", "d", "e-embed")))
        assert result.new == {"llm": ["d"]}
        assert result.gone == {"llm": ["b"]}
        assert result.unchanged == {"llm": ["a", "c"]}
        # An embedding model is not an LLM: listed, not proposed.
        assert result.other_types == ["e-embed"]

    def test_an_already_deprecated_model_is_not_gone_again(self) -> None:
        doc = _doc("a", "b", deprecated=("b",))
        assert compare_models(doc, ["a"]).gone == {"llm": []}

    def test_items_copy_the_template_and_deprecate_at_the_diffs_level(self) -> None:
        doc = _doc("a", "b", "c")
        items = upstream_items(doc, compare_models(doc, ["a", "c", "d"]), {"llm": "c"})
        assert [(i.kind, i.model, i.template, i.level) for i in items] == [
            ("add_model", "d", "c", Level.NOTABLE),
            ("deprecate_model", "b", "", Level.NOTABLE),
        ]
        assert [i.key for i in items] == ["add:llm:d", "deprecate:llm:b"]
        assert SyncItem.from_dict(items[0].as_dict()) == items[0]

    def test_a_template_that_is_not_declared_is_refused(self) -> None:
        doc = _doc("a")
        with pytest.raises(UpstreamError, match="not a declared llm model"):
            upstream_items(doc, compare_models(doc, ["a", "z"]), {"llm": "nope"})


class TestApplying:
    def test_the_document_gets_exactly_the_items_and_the_diff_agrees(self) -> None:
        before = _doc("a", "b", "c")
        doc = load_document(dump_document(before))
        items = upstream_items(doc, compare_models(doc, ["a", "c", "d"]), {"llm": "c"})
        apply_items(doc, items)
        after = load_document(dump_document(doc))
        d = next(e for e in after.models if e.spec.model == "d")
        assert d.path == "models/llm/d.yaml"
        data = d.spec.to_data()
        assert data["label"] == {"en_US": "d"}
        assert data["pricing"]["input"] == "1"
        assert data["model_properties"]["context_size"] == 32000
        b = next(e for e in after.models if e.spec.model == "b")
        assert b.spec.deprecated is True
        assert after.position_of("llm").names == ["a", "b", "c", "d"]
        diff = diff_documents(before, after)
        assert sorted((c.kind, c.subject[-1], c.level) for c in diff.changes) == [
            ("added", "d", Level.NOTABLE),
            ("deprecated", "b", Level.NOTABLE),
        ]
        assert diff.suggestion == Bump.MINOR

    def test_conflicting_items_are_refused_all_at_once(self) -> None:
        doc = _doc("a", "b")
        items = [
            SyncItem("add_model", "llm", "a", Level.NOTABLE, "", template="b"),
            SyncItem("deprecate_model", "llm", "zz", Level.NOTABLE, ""),
        ]
        assert conflicts(doc, items) == [
            "a is already declared",
            "zz is no longer declared",
        ]
        before = dump_document(doc)
        with pytest.raises(ApplyConflict):
            apply_items(doc, items)
        assert dump_document(doc) == before


class TestFetching:
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:9/v1",
            "http://10.0.0.1/v1",
            "http://169.254.169.254/latest",
        ],
    )
    def test_internal_addresses_are_refused_before_any_connection(
        self, url: str
    ) -> None:
        with pytest.raises(EgressRefused):
            fetch_model_list(url, "key")
