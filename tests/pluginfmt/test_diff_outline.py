"""A big diff laid out to be read: filters, facet counts, groups by section and
model type, added and removed models on one line; price units in words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from studio.pluginfmt.diff import (
    DiffFilter,
    Level,
    PluginDiff,
    change_model_type,
    diff_files,
    group_by_subject,
    is_model_line,
    model_facts,
    outline,
)
from studio.pluginfmt.document import PluginDocument, dump_document, load_document
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.pricing import PRICE_UNITS, price_basis_text, price_unit_text
from studio.pluginfmt.readers import read_folder

MINI = "models/llm/gpt-4.1-mini.yaml"


@pytest.fixture(scope="module")
def openai(restored_corpus: Path) -> PluginFiles:
    return read_folder(restored_corpus / "openai")


def edited(files: PluginFiles, change: Callable[[PluginDocument], None]) -> PluginFiles:
    doc = load_document(files)
    change(doc)
    return dump_document(doc)


@pytest.fixture(scope="module")
def mixed(openai: PluginFiles) -> PluginDiff:
    """Three llm prices up, one llm label changed, one llm model and one tts
    model removed."""

    def change(doc: PluginDocument) -> None:
        llm = [
            m
            for m in doc.models
            if m.type_key == "llm" and m.spec.pricing and m.path != MINI
        ]
        for entry in llm[:3]:
            assert entry.spec.pricing is not None
            entry.spec.pricing.input = "99"
        assert llm[3].spec.label is not None
        llm[3].spec.label.en_US = "Relabelled"

    head = edited(openai, change)
    del head[MINI]
    tts = sorted(
        p for p in head if p.startswith("models/tts/") and "_position" not in p
    )
    del head[tts[0]]
    return diff_files(openai, head)


class TestOutline:
    def test_without_a_filter_it_shows_everything_grouped_by_type(
        self, mixed: PluginDiff
    ) -> None:
        layout = outline(mixed)
        assert layout.shown == layout.total == len(mixed.changes)
        assert layout.level_counts == mixed.counts()
        keys = [g.key for g in layout.groups]
        assert keys == ["models-llm", "models-tts"]
        llm = layout.groups[0]
        assert llm.title == "Models · llm" and llm.model_type == "llm"
        assert [s.subject[2] for s in llm.removed] == ["gpt-4.1-mini"]
        assert len(llm.subjects) == 4 and not llm.added
        assert llm.change_count == 5 and llm.level == Level.BREAKING
        assert dict(layout.type_counts) == {"llm": 5, "tts": 1}

    def test_a_class_filter_keeps_its_class_and_counts_the_others(
        self, mixed: PluginDiff
    ) -> None:
        layout = outline(mixed, DiffFilter(level=Level.NOTABLE))
        assert layout.shown == 3 and layout.filtered_out == 3
        assert {
            c.level for g in layout.groups for s in g.subjects for c in s.changes
        } == {Level.NOTABLE}
        # Facets: the class counts ignore the class filter itself.
        assert layout.level_counts == {"breaking": 2, "notable": 3, "cosmetic": 1}
        assert dict(layout.type_counts) == {"llm": 3}

    def test_a_type_and_a_text_filter(self, mixed: PluginDiff) -> None:
        tts = outline(mixed, DiffFilter(model_type="tts"))
        assert tts.shown == 1 and [g.key for g in tts.groups] == ["models-tts"]
        assert tts.level_counts == {"breaking": 1, "notable": 0, "cosmetic": 0}
        assert dict(tts.type_counts) == {"llm": 5, "tts": 1}
        mini = outline(mixed, DiffFilter(text="GPT-4.1-MINI"))
        # Case-insensitive, in ids, labels and messages: the removed model and
        # the repriced gpt-4.1-mini-2025-04-14.
        assert mini.shown == 2
        [removed] = mini.groups[0].removed
        assert is_model_line(removed) and removed.subject[2] == "gpt-4.1-mini"
        nothing = outline(mixed, DiffFilter(text="no such model"))
        assert nothing.groups == [] and nothing.shown == 0
        assert nothing.level_counts == {"breaking": 0, "notable": 0, "cosmetic": 0}

    def test_sections_other_than_models_have_no_type(self, openai: PluginFiles) -> None:
        head = dict(openai)
        head["README.md"] = b"# changed\n"

        def bump(doc: PluginDocument) -> None:
            assert doc.manifest.spec.label is not None
            doc.manifest.spec.label.en_US = "OpenAI, relabelled"

        diff = diff_files(openai, edited(head, bump))
        layout = outline(diff)
        assert [g.key for g in layout.groups] == ["manifest", "files"]
        assert all(change_model_type(c) is None for c in diff.changes)
        assert outline(diff, DiffFilter(model_type="llm")).groups == []

    def test_everything_new_is_one_line_per_model(self, openai: PluginFiles) -> None:
        layout = outline(diff_files(None, openai))
        llm = next(g for g in layout.groups if g.key == "models-llm")
        assert not llm.subjects and len(llm.added) > 20
        line = llm.added[0]
        assert is_model_line(line) and line.changes[0].kind == "added"
        assert "per 1M tokens" in model_facts(line.changes[0].new)

    def test_group_by_subject_keeps_section_order(self, mixed: PluginDiff) -> None:
        grouped = group_by_subject(list(reversed(mixed.changes)))
        assert [s for s, _ in grouped] == ["models"]
        assert grouped == [
            (s, list(groups))
            for s, groups in group_by_subject(list(reversed(mixed.changes)))
        ]
        assert mixed.by_section()[0][1][0].subject == mixed.changes[0].subject


class TestPriceUnits:
    @pytest.mark.parametrize(
        ("unit", "text"),
        [
            ("0.000001", "per 1M tokens"),
            (0.000001, "per 1M tokens"),
            ("1e-6", "per 1M tokens"),
            ("0.001", "per 1K tokens"),
            ("1", "per token"),
            ("0.00001", "per 100K tokens"),
            ("0.0000025", "per 400K tokens"),
            ("0.000000001", "per 1B tokens"),
            ("0.000003", "unit 0.000003"),
            ("0", "unit 0"),
            ("cheap", "unit cheap"),
            (None, ""),
            ("", ""),
        ],
    )
    def test_a_unit_reads_as_words(self, unit: object, text: str) -> None:
        assert price_unit_text(unit) == text

    def test_the_forms_presets_are_worded_the_same(self) -> None:
        assert [price_unit_text(u) for u in PRICE_UNITS] == [
            "per 1M tokens",
            "per 1K tokens",
            "per token",
        ]

    def test_the_basis_names_currency_and_unit(self) -> None:
        assert price_basis_text({"currency": "USD", "unit": "0.001"}) == (
            "USD per 1K tokens"
        )
        assert price_basis_text({"input": "1"}) == ""
        assert price_basis_text("nonsense") == ""

    def test_the_diff_words_a_unit_change(self, openai: PluginFiles) -> None:
        def per_thousand(doc: PluginDocument) -> None:
            entry = next(m for m in doc.models if m.path.endswith("gpt-4.1-mini.yaml"))
            assert entry.spec.pricing is not None
            entry.spec.pricing.unit = "0.001"

        [change] = diff_files(openai, edited(openai, per_thousand)).changes
        assert change.message == (
            "llm model gpt-4.1-mini price unit per 1M tokens → per 1K tokens"
        )
        assert (change.old, change.new) == ("0.000001", "0.001")
