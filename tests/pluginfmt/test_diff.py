"""The schema-aware diff on shared-corpus plugins, one change at a time."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from studio.pluginfmt.diff import (
    MISSING,
    Bump,
    Change,
    Level,
    PluginDiff,
    anchor_label,
    bump_version,
    comment_places,
    diff_documents,
    diff_files,
    plugin_view,
    text_diff,
    valid_anchor,
    value_at,
    value_digest,
    version_bump,
)
from studio.pluginfmt.document import (
    CredentialFormField,
    FormOption,
    I18n,
    PluginDocument,
    load_document,
)
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.readers import read_folder
from tests.conftest import CORPUS_PLUGINS

MINI = "models/llm/gpt-4.1-mini.yaml"


@pytest.fixture(scope="module")
def corpus_files(restored_corpus: Path) -> Callable[[str], PluginFiles]:
    cache: dict[str, PluginFiles] = {}

    def files(name: str) -> PluginFiles:
        if name not in cache:
            cache[name] = read_folder(restored_corpus / name)
        return dict(cache[name])

    return files


def changed(files: PluginFiles, change: Callable[[PluginDocument], None]) -> PluginDiff:
    """The diff after `change` edits a fresh document of `files`."""
    head = load_document(files)
    change(head)
    return diff_documents(load_document(files), head)


def model(doc: PluginDocument, path: str = MINI):
    return next(m for m in doc.models if m.path == path).spec


def field_of(doc: PluginDocument, variable: str) -> CredentialFormField:
    schema = doc.provider.spec.provider_credential_schema
    assert schema is not None and schema.credential_form_schemas is not None
    return next(f for f in schema.credential_form_schemas if f.variable == variable)


def only(diff: PluginDiff) -> Change:
    assert len(diff.changes) == 1, [c.message for c in diff.changes]
    return diff.changes[0]


class TestOneChangeAtATime:
    def test_renaming_a_credential_variable_is_breaking_and_major(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def rename(doc: PluginDocument) -> None:
            field_of(doc, "api_key").variable = "deepseek_api_key"

        diff = changed(corpus_files("deepseek"), rename)
        change = only(diff)
        assert change.kind == "renamed" and change.level == Level.BREAKING
        assert change.section == "credentials"
        assert change.subject == ("credential", "provider", "api_key")
        assert (change.old, change.new) == ("api_key", "deepseek_api_key")
        assert "api_key renamed to deepseek_api_key" in change.message
        assert diff.suggestion == Bump.MAJOR
        assert diff.suggested_version == "1.0.0"
        assert diff.warnings == [
            "The manifest version is still 0.0.20 but the changes are breaking: "
            "bump it to 1.0.0 (a major release)."
        ]

    def test_dropping_a_model_is_breaking_and_major(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        files = corpus_files("openai")
        head = dict(files)
        del head[MINI]
        diff = diff_files(files, head)
        change = only(diff)
        assert change.kind == "removed" and change.level == Level.BREAKING
        assert change.anchor == ("model", "llm", "gpt-4.1-mini")
        assert "gpt-4.1-mini removed" in change.message
        assert change.old["pricing"]["input"] == "0.40"
        assert diff.suggestion == Bump.MAJOR

    def test_changing_a_price_is_notable_and_minor(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def reprice(doc: PluginDocument) -> None:
            pricing = model(doc).pricing
            assert pricing is not None
            pricing.input = "0.45"

        diff = changed(corpus_files("openai"), reprice)
        change = only(diff)
        assert change.level == Level.NOTABLE and change.kind == "changed"
        assert change.anchor == ("model", "llm", "gpt-4.1-mini", "pricing", "input")
        assert change.field == "pricing.input"
        assert change.message == (
            'llm model gpt-4.1-mini input price "0.40" → "0.45" (USD per 1M tokens)'
        )
        assert diff.suggestion == Bump.MINOR and diff.suggested_version == "1.1.0"
        assert diff.warnings == [
            "The manifest version is still 1.0.4 but the changes are notable: "
            "bump it to 1.1.0 (a minor release)."
        ]

    def test_relabelling_a_model_is_cosmetic_and_a_patch(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def relabel(doc: PluginDocument) -> None:
            label = model(doc).label
            assert label is not None
            label.en_US = "GPT-4.1 mini"

        diff = changed(corpus_files("openai"), relabel)
        change = only(diff)
        assert change.level == Level.COSMETIC
        assert change.anchor == ("model", "llm", "gpt-4.1-mini", "label", "en_US")
        assert change.message.endswith('label.en_US "gpt-4.1-mini" → "GPT-4.1 mini"')
        assert diff.suggestion == Bump.PATCH and diff.suggested_version == "1.0.5"

    def test_a_shrunk_context_size_is_notable_and_says_so(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def shrink(doc: PluginDocument) -> None:
            props = model(doc).model_properties
            assert props is not None
            props.context_size = 128000

        change = only(changed(corpus_files("openai"), shrink))
        assert change.level == Level.NOTABLE
        assert change.message.endswith("1047576 → 128000 (shrunk)")

    def test_a_narrower_max_tokens_is_breaking_and_a_wider_one_notable(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def limit(value: int) -> Callable[[PluginDocument], None]:
            def change(doc: PluginDocument) -> None:
                rules = model(doc).parameter_rules or []
                next(r for r in rules if r.name == "max_tokens").max = value

            return change

        narrower = only(changed(corpus_files("openai"), limit(16384)))
        wider = only(changed(corpus_files("openai"), limit(65536)))
        assert narrower.level == Level.BREAKING and "range narrowed" in narrower.message
        assert narrower.anchor[-3:] == ("parameter_rules", "max_tokens", "max")
        assert wider.level == Level.NOTABLE

    def test_a_removed_feature_is_breaking_and_an_added_one_notable(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def swap(doc: PluginDocument) -> None:
            spec = model(doc)
            spec.features = [f for f in spec.features or [] if f != "vision"] + [
                "document"
            ]

        diff = changed(corpus_files("openai"), swap)
        kinds = {
            (c.kind, c.level, c.new if c.kind == "added" else c.old)
            for c in diff.changes
        }
        assert kinds == {
            ("removed", Level.BREAKING, "vision"),
            ("added", Level.NOTABLE, "document"),
        }

    def test_a_field_made_required_is_breaking(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def require(doc: PluginDocument) -> None:
            field_of(doc, "endpoint_url").required = True

        change = only(changed(corpus_files("deepseek"), require))
        assert change.level == Level.BREAKING and "made required" in change.message

    def test_a_changed_credential_type_is_breaking(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def retype(doc: PluginDocument) -> None:
            field_of(doc, "endpoint_url").type = "secret-input"

        change = only(changed(corpus_files("deepseek"), retype))
        assert change.level == Level.BREAKING and change.field == "type"

    def test_new_credential_fields_are_notable_unless_required_without_default(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def add(required: bool) -> Callable[[PluginDocument], None]:
            def change(doc: PluginDocument) -> None:
                schema = doc.provider.spec.provider_credential_schema
                assert schema is not None and schema.credential_form_schemas
                schema.credential_form_schemas.append(
                    CredentialFormField(
                        variable="region",
                        label=I18n(en_US="Region"),
                        type="text-input",
                        required=required,
                    )
                )

            return change

        optional = only(changed(corpus_files("deepseek"), add(False)))
        required = only(changed(corpus_files("deepseek"), add(True)))
        assert (optional.kind, optional.level) == ("added", Level.NOTABLE)
        assert (required.kind, required.level) == ("added", Level.BREAKING)
        assert "without a default" in required.message

    def test_a_removed_select_option_is_breaking_and_an_added_one_notable(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def options(doc: PluginDocument) -> None:
            protocol = field_of(doc, "api_protocol")
            assert protocol.options is not None
            protocol.options = [o for o in protocol.options if o.value != "chat"]
            protocol.options.append(
                FormOption(value="batch", label=I18n(en_US="Batch"))
            )

        diff = changed(corpus_files("openai"), options)
        seen = {(c.kind, c.level) for c in diff.changes}
        assert seen == {("removed", Level.BREAKING), ("added", Level.NOTABLE)}
        assert all(
            c.subject == ("credential", "provider", "api_protocol")
            for c in diff.changes
        )

    def test_a_changed_provider_id_is_breaking(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def rename(doc: PluginDocument) -> None:
            doc.provider.spec.provider = "deepseek_v2"

        change = only(changed(corpus_files("deepseek"), rename))
        assert change.level == Level.BREAKING and "orphaned" in change.message

    def test_a_model_id_changed_in_its_file_is_a_breaking_rename(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def rename(doc: PluginDocument) -> None:
            model(doc).model = "gpt-4.1-mini-2"

        diff = changed(corpus_files("openai"), rename)
        renamed = [c for c in diff.changes if c.kind == "renamed"]
        assert len(renamed) == 1 and renamed[0].level == Level.BREAKING
        assert (renamed[0].old, renamed[0].new) == ("gpt-4.1-mini", "gpt-4.1-mini-2")

    def test_deprecating_a_model_is_notable(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def deprecate(doc: PluginDocument) -> None:
            model(doc).deprecated = True

        change = only(changed(corpus_files("openai"), deprecate))
        assert (change.kind, change.level) == ("deprecated", Level.NOTABLE)
        assert "existing ones keep working" in change.message

    def test_reordering_models_is_cosmetic(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def reorder(doc: PluginDocument) -> None:
            position = doc.position_of("llm")
            assert position is not None
            position.items = list(reversed(position.items))

        change = only(changed(corpus_files("openai"), reorder))
        assert (change.kind, change.level) == ("reordered", Level.COSMETIC)
        assert change.subject == ("position", "llm")

    def test_code_is_notable_and_readme_and_icons_cosmetic(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        files = corpus_files("deepseek")
        code = dict(files)
        code["models/llm/llm.py"] += b"\n# tweak\n"
        docs = dict(files)
        docs["README.md"] += b"\nMore words.\n"
        docs["_assets/extra.svg"] = b"<svg/>"
        assert only(diff_files(files, code)).level == Level.NOTABLE
        assert {c.level for c in diff_files(files, docs).changes} == {Level.COSMETIC}

    def test_the_same_number_written_differently_is_no_change(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def respell(doc: PluginDocument) -> None:
            pricing = model(doc).pricing
            assert pricing is not None
            pricing.input = 0.4

        assert changed(corpus_files("openai"), respell).changes == []


class TestVersions:
    def test_a_big_enough_bump_gives_no_warning(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def reprice(doc: PluginDocument) -> None:
            pricing = model(doc).pricing
            assert pricing is not None
            pricing.input = "0.45"
            doc.manifest.spec.version = "1.1.0"

        diff = changed(corpus_files("openai"), reprice)
        assert diff.version_bump == Bump.MINOR and diff.warnings == []
        # The version itself is not a change to review.
        assert len(diff.changes) == 1

    def test_a_patch_bump_for_a_breaking_change_is_too_little(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def drop(doc: PluginDocument) -> None:
            doc.models = [m for m in doc.models if m.path != MINI]
            doc.manifest.spec.version = "1.0.5"

        [warning] = changed(corpus_files("openai"), drop).warnings
        assert "bumped too little (1.0.4 → 1.0.5, a patch release)" in warning
        assert "use 2.0.0 or higher" in warning

    def test_versions_bump_and_compare(self) -> None:
        assert bump_version("1.4.2", Bump.MAJOR) == "2.0.0"
        assert bump_version("1.4.2", Bump.MINOR) == "1.5.0"
        assert bump_version("1.4.2-beta", Bump.PATCH) == "1.4.3"
        assert bump_version("banana", Bump.PATCH) is None
        assert version_bump("1.4.2", "1.4.2") == Bump.NONE
        assert version_bump("1.4.2", "1.10.0") == Bump.MINOR
        assert version_bump("1.4.2", "1.3.9") is None

    def test_unreadable_versions_are_warned_about(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def drop(doc: PluginDocument) -> None:
            doc.models = [m for m in doc.models if m.path != MINI]
            doc.manifest.spec.version = "next"

        [warning] = changed(corpus_files("openai"), drop).warnings
        assert "not x.y.z" in warning


@pytest.mark.parametrize("name", CORPUS_PLUGINS)
class TestWholeCorpus:
    def test_a_plugin_compared_with_itself_has_no_change(
        self, corpus_files: Callable[[str], PluginFiles], name: str
    ) -> None:
        files = corpus_files(name)
        diff = diff_files(files, files)
        assert diff.changes == [] and diff.warnings == []
        assert diff.suggestion == Bump.NONE and diff.level is None

    def test_a_first_version_lists_every_model_as_added(
        self, corpus_files: Callable[[str], PluginFiles], name: str
    ) -> None:
        doc = load_document(corpus_files(name))
        diff = diff_documents(None, doc)
        added = {c.subject for c in diff.changes if c.section == "models"}
        assert len(added) == len({(m.type_key, m.spec.model) for m in doc.models})
        assert diff.initial and diff.suggestion == Bump.NONE and diff.warnings == []
        # Nothing was installed before a first version: nothing can break.
        assert [c for c in diff.changes if c.level == Level.BREAKING] == []
        json.dumps(diff.as_dict())  # JSON-ready, every value


class TestAnchors:
    def test_values_are_read_at_anchors_and_fingerprinted(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        view = plugin_view(load_document(corpus_files("openai")))
        price = ("model", "llm", "gpt-4.1-mini", "pricing")
        assert value_at(view, price)["input"] == "0.40"
        max_tokens = ("model", "llm", "gpt-4.1-mini", "parameter_rules", "max_tokens")
        assert value_at(view, (*max_tokens, "max")) == 32768
        # Template values are merged in: what Dify sees.
        temperature = ("model", "llm", "gpt-4.1-mini", "parameter_rules", "temperature")
        assert value_at(view, (*temperature, "max")) == 1
        assert value_at(view, ("model", "llm", "nope")) is MISSING
        assert value_digest(value_at(view, price)) == value_digest(
            {"currency": "USD", "unit": "0.000001", "output": "1.60", "input": "0.40"}
        )
        assert value_digest(MISSING) != value_digest(None)

    def test_places_to_comment_on_name_models_fields_and_credentials(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        places = dict(
            comment_places(plugin_view(load_document(corpus_files("openai"))))
        )
        assert places[("model", "llm", "gpt-4.1-mini", "pricing")] == (
            "llm model gpt-4.1-mini · pricing"
        )
        assert (
            "model",
            "llm",
            "gpt-4.1-mini",
            "parameter_rules",
            "max_tokens",
        ) in places
        assert places[("credential", "provider", "openai_api_key")] == (
            "provider credential openai_api_key"
        )
        assert all(valid_anchor(anchor) for anchor in places)

    def test_a_gateway_model_id_with_a_slash_is_one_anchor_part(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        def rename(doc: PluginDocument) -> None:
            spec = model(doc)
            spec.model = "openai/gpt-4.1-mini"
            assert spec.pricing is not None
            spec.pricing.input = "0.50"

        files = corpus_files("openai")
        base = load_document(files)
        model(base).model = "openai/gpt-4.1-mini"
        head = load_document(files)
        rename(head)
        diff = diff_documents(base, head)

        price = ("model", "llm", "openai/gpt-4.1-mini", "pricing", "input")
        change = only(diff)
        assert change.anchor == price
        assert change.subject_label == "llm model openai/gpt-4.1-mini"
        assert valid_anchor(list(price))
        assert value_at(plugin_view(head), price) == "0.50"
        places = dict(comment_places(plugin_view(head)))
        assert places[price[:4]] == "llm model openai/gpt-4.1-mini · pricing"

    def test_labels_and_validity(self) -> None:
        assert anchor_label(()) == "the revision"
        assert anchor_label(("manifest", "version")) == "Manifest · version"
        assert anchor_label(("file", "README.md")) == "file README.md"
        assert not valid_anchor(["model"])
        assert not valid_anchor(["elsewhere", "x"])
        assert not valid_anchor(["model", "llm", 3])
        assert not valid_anchor("model")


class TestTextDiff:
    def test_it_gives_unified_lines_per_changed_file(
        self, corpus_files: Callable[[str], PluginFiles]
    ) -> None:
        files = corpus_files("deepseek")
        head = dict(files)
        head["README.md"] = files["README.md"] + b"<script>x</script>\n"
        head["_assets/new.png"] = b"\x89PNG\0\0"
        del head["pyproject.toml"]
        diffs = {d.path: d for d in text_diff(files, head)}
        assert set(diffs) == {"README.md", "_assets/new.png", "pyproject.toml"}
        readme = diffs["README.md"]
        assert readme.status == "changed" and readme.added == 1 and readme.removed == 0
        assert readme.lines[0].kind == "hunk"
        assert ("add", "<script>x</script>") in [(x.kind, x.text) for x in readme.lines]
        assert diffs["_assets/new.png"].binary
        assert diffs["pyproject.toml"].status == "removed"
        assert diffs["pyproject.toml"].removed > 0
        assert "+<script>x</script>\n" in readme.as_dict()["unified"]

    def test_huge_files_are_not_diffed_line_by_line(self) -> None:
        base = {"big.txt": b"a\n" * 30}
        head = {"big.txt": b"b\n" * 30}
        [diff] = text_diff(base, head, max_lines=10)
        assert diff.too_large and diff.lines == []
