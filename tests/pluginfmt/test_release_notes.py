"""Release notes from the schema-aware diff: what users of a release act on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from studio.pluginfmt.diff import (
    NOTE_HEADINGS,
    diff_views,
    note_items,
    plugin_view,
    release_notes,
)
from studio.pluginfmt.diff.notes import NOTHING
from studio.pluginfmt.document import I18n, PluginDocument, load_document
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.readers import read_folder

MINI = "gpt-4.1-mini"
SINCE = "0.2.0, the previous release (r1)"


@pytest.fixture(scope="module")
def openai(restored_corpus: Path) -> PluginFiles:
    return read_folder(restored_corpus / "openai")


def notes_after(
    files: PluginFiles, *changes: Callable[[PluginDocument], None]
) -> tuple[str, list[str]]:
    """The notes (and their bullet lines) after `changes` edit the plugin."""
    base = plugin_view(load_document(files))
    doc = load_document(files)
    for change in changes:
        change(doc)
    head = plugin_view(doc)
    text = release_notes(
        diff_views(base, head), version="0.3.0", since=SINCE, head=head, base=base
    )
    return text, [line for line in text.splitlines() if line.startswith("- ")]


def model(doc: PluginDocument, model_id: str = MINI):
    return next(m for m in doc.models if m.spec.model == model_id).spec


def reprice(doc: PluginDocument) -> None:
    pricing = model(doc).pricing
    assert pricing is not None
    pricing.output = "1.80"


def drop_nano(doc: PluginDocument) -> None:
    doc.models = [m for m in doc.models if m.spec.model != "gpt-4.1-nano"]


def headings(text: str) -> list[str]:
    return [line[5:] for line in text.splitlines() if line.startswith("#### ")]


class TestWhatTheNotesSay:
    def test_a_price_change_and_a_dropped_model_are_all_they_list(
        self, openai: PluginFiles
    ) -> None:
        text, bullets = notes_after(openai, reprice, drop_nano)
        assert text.startswith("### 0.3.0\n\nChanges since 0.2.0, the previous")
        assert headings(text) == ["Models removed", "Price changes"]
        assert bullets == [
            "- The LLM `gpt-4.1-nano` was removed: apps that use it stop working.",
            "- LLM `gpt-4.1-mini`: the output price rose from 1.60 to 1.80 USD per "
            "1M tokens.",
        ]

    def test_labels_order_and_code_are_left_to_the_review(
        self, openai: PluginFiles
    ) -> None:
        def cosmetic(doc: PluginDocument) -> None:
            model(doc).label = I18n(en_US="GPT 4.1 mini")
            doc.models.reverse()

        text, bullets = notes_after(openai, cosmetic)
        assert bullets == []
        assert NOTHING in text

    def test_a_new_model_is_named_with_its_facts(self, openai: PluginFiles) -> None:
        base_doc = load_document(openai)
        drop_nano(base_doc)
        base = plugin_view(base_doc)
        head = plugin_view(load_document(openai))
        text = release_notes(
            diff_views(base, head), version="0.3.0", since=SINCE, head=head, base=base
        )
        assert headings(text) == ["Models added"]
        [added] = [line for line in text.splitlines() if line.startswith("- ")]
        assert added == (
            "- The LLM `gpt-4.1-nano` was added (context 1047576; max tokens 32768; "
            "price 0.10 in / 0.40 out USD per 1M tokens; features multi-tool-call, "
            "agent-thought, stream-tool-call, vision)."
        )

    def test_deprecation_and_limits_are_told_in_words(
        self, openai: PluginFiles
    ) -> None:
        def deprecate_and_shrink(doc: PluginDocument) -> None:
            model(doc, "gpt-4.1-nano").deprecated = True
            spec = model(doc)
            assert spec.model_properties is not None and spec.parameter_rules
            spec.model_properties.context_size = 65536
            rule = next(r for r in spec.parameter_rules if r.name == "max_tokens")
            rule.max = 16384

        text, bullets = notes_after(openai, deprecate_and_shrink)
        assert headings(text) == ["Models deprecated", "Limit changes"]
        assert bullets == [
            "- The LLM `gpt-4.1-nano` is deprecated: new configurations no longer "
            "offer it, existing ones keep working.",
            "- LLM `gpt-4.1-mini`: the context size shrank from 1047576 to 65536 "
            "tokens.",
            "- LLM `gpt-4.1-mini`: the maximum output tokens went down from 32768 "
            "to 16384; saved values above it are refused.",
        ]

    def test_a_renamed_credential_is_a_breaking_credential_change(
        self, openai: PluginFiles
    ) -> None:
        def rename(doc: PluginDocument) -> None:
            schema = doc.provider.spec.provider_credential_schema
            assert schema is not None and schema.credential_form_schemas
            field = next(
                f
                for f in schema.credential_form_schemas
                if f.variable == "openai_api_key"
            )
            field.variable = "api_key"

        text, bullets = notes_after(openai, rename)
        assert headings(text) == ["Breaking credential changes"]
        assert bullets == [
            "- The provider credential `openai_api_key` is now called `api_key`: "
            "values saved under the old name are no longer passed to the plugin, "
            "so users enter them again."
        ]

    def test_other_breaking_changes_are_kept_apart(self, openai: PluginFiles) -> None:
        def drop_vision(doc: PluginDocument) -> None:
            spec = model(doc)
            assert spec.features and "vision" in spec.features
            spec.features = [f for f in spec.features if f != "vision"]

        text, bullets = notes_after(openai, drop_vision)
        assert headings(text) == ["Other breaking changes"]
        assert bullets == [
            "- LLM `gpt-4.1-mini`: feature vision removed: apps that rely on it "
            "stop working."
        ]

    def test_prices_that_appear_as_a_whole_are_one_sentence(
        self, openai: PluginFiles
    ) -> None:
        def unprice(doc: PluginDocument) -> None:
            model(doc).pricing = None

        base_doc = load_document(openai)
        unprice(base_doc)
        base = plugin_view(base_doc)
        head = plugin_view(load_document(openai))
        items = note_items(diff_views(base, head), head=head, base=base)
        assert [(i.heading, i.text) for i in items] == [
            (
                "Price changes",
                "LLM `gpt-4.1-mini`: now has prices: 0.40 input / 1.60 output "
                "USD per 1M tokens.",
            )
        ]
        # And the other way round.
        [gone] = note_items(diff_views(head, base), head=base, base=head)
        assert gone.text == (
            "LLM `gpt-4.1-mini`: no longer has prices (they were 0.40 input / "
            "1.60 output USD per 1M tokens)."
        )

    def test_a_first_release_lists_its_models_by_type(
        self, openai: PluginFiles
    ) -> None:
        head = plugin_view(load_document(openai))
        text = release_notes(
            diff_views(None, head), version="1.0.0", since=None, head=head
        )
        assert text.startswith("### 1.0.0\n\nFirst release.\n\n#### Models\n")
        assert "- 3 text embedding models: `text-embedding-3-large`, " in text
        assert "- 1 moderation model: `omni-moderation-latest`." in text
        llm = next(line for line in text.splitlines() if "LLMs" in line)
        assert llm.startswith("- 40 LLMs: `chat-latest`, ")
        assert llm.endswith(" and 10 more.")  # 30 named

    def test_the_headings_keep_their_order(self) -> None:
        assert NOTE_HEADINGS == (
            "Models added",
            "Models removed",
            "Models deprecated",
            "Price changes",
            "Limit changes",
            "Breaking credential changes",
            "Other breaking changes",
        )
