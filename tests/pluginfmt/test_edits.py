"""The document edits the studio's forms share: pure, no database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from studio.pluginfmt.document import PluginDocument, dump_document, load_document
from studio.pluginfmt.document.edits import (
    Condition,
    FieldValues,
    OptionValues,
    copy_model_id,
    duplicate_of,
    ensure_position_file,
    field_data,
    file_stem,
    i18n_text,
    max_tokens_rule,
    merge_i18n,
    models_block,
    new_model_path,
    ordered_ids,
    parse_decimal,
    parse_rule_value,
    position_names,
    rule_effective,
    same_decimal,
    set_position,
    show_on_pairs,
    text,
)
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.verify import model_id_problems
from studio.pluginfmt.yamlio import load_yaml

MANIFEST = b"""\
version: 0.0.1
type: plugin
author: alice
name: echo
label:
  en_US: Echo
icon: icon.svg
plugins:
  models:
    - provider/echo.yaml
meta:
  version: 0.0.1
  runner: {language: python, version: "3.12", entrypoint: main}
"""

PROVIDER = b"""\
provider: echo
label:
  en_US: Echo
supported_model_types:
  - llm
configurate_methods:
  - predefined-model
models:
  llm:
    predefined:
      - "models/llm/*.yaml"
    position: models/llm/_position.yaml
"""


def model_yaml(model_id: str) -> bytes:
    return f"model: {model_id}\nmodel_type: llm\n".encode()


def make_doc(changes: dict[str, bytes] | None = None) -> PluginDocument:
    """A small plugin with two llm models, the second listed first."""
    files: PluginFiles = {
        "manifest.yaml": MANIFEST,
        "provider/echo.yaml": PROVIDER,
        "models/llm/a.yaml": model_yaml("a"),
        "models/llm/b.yaml": model_yaml("b"),
        "models/llm/_position.yaml": b"- b\n- a\n",
    }
    files.update(changes or {})
    return load_document(files)


def provider_data(doc: PluginDocument) -> Any:
    return load_yaml(dump_document(doc)["provider/echo.yaml"]).data


class TestText:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [(None, ""), (True, "true"), (False, "false"), (3, "3"), ("x", "x")],
    )
    def test_a_scalar_reads_as_dify_compares_it(
        self, value: Any, expected: str
    ) -> None:
        assert text(value) == expected

    def test_an_i18n_value_falls_back_to_english_then_to_plain_text(self) -> None:
        assert i18n_text({"en_US": "Key", "ja_JP": "キー"}, "ja_JP") == "キー"
        assert i18n_text({"en_US": "Key"}, "ja_JP") == "Key"
        assert i18n_text("Key") == "Key"
        assert i18n_text(None) == ""


class TestMergeI18n:
    def test_it_replaces_the_given_languages_and_keeps_the_others(self) -> None:
        old = {"en_US": "Old", "zh_Hans": "旧", "de_DE": "Alt"}
        assert merge_i18n(old, {"en_US": "New", "zh_Hans": ""}) == {
            "en_US": "New",
            "de_DE": "Alt",
        }
        assert old["en_US"] == "Old"  # a new dict, the old one untouched

    def test_only_the_named_languages_are_touched(self) -> None:
        old = {"en_US": "Old", "zh_Hans": "旧"}
        assert merge_i18n(old, {}, ("en_US",)) == {"zh_Hans": "旧"}

    def test_it_starts_from_nothing_when_old_is_no_mapping(self) -> None:
        assert merge_i18n("text", {"en_US": "New"}) == {"en_US": "New"}


class TestShowOn:
    def test_pairs_are_text_and_skip_what_is_no_condition(self) -> None:
        show_on = [{"variable": "mode", "value": True}, "junk"]
        assert show_on_pairs(show_on) == [("mode", "true")]
        assert show_on_pairs(None) == []

    def test_a_duplicate_has_the_same_variable_and_conditions_in_any_order(
        self,
    ) -> None:
        fields = [
            {"variable": "key"},
            {
                "variable": "key",
                "show_on": [
                    {"variable": "a", "value": "1"},
                    {"variable": "b", "value": "2"},
                ],
            },
        ]
        assert duplicate_of(fields, "key", []) == 0
        assert duplicate_of(fields, "key", [("b", "2"), ("a", "1")]) == 1
        assert duplicate_of(fields, "key", [("a", "1")]) is None
        assert duplicate_of(fields, "key", [], skip=0) is None


class TestFieldData:
    def test_a_new_field_holds_exactly_the_managed_keys_given(self) -> None:
        values = FieldValues(
            variable="api_key",
            type="secret-input",
            required=True,
            label={"en_US": "API key"},
        )
        assert field_data(None, values) == {
            "variable": "api_key",
            "label": {"en_US": "API key"},
            "type": "secret-input",
            "required": True,
        }

    def test_an_edit_keeps_unknown_keys_and_other_languages(self) -> None:
        existing: dict[str, Any] = {
            "variable": "region",
            "label": {"en_US": "Region", "de_DE": "Region (de)"},
            "type": "select",
            "required": False,
            "help": {"en_US": "Where"},
            "placeholder": {"en_US": "Pick one"},
            "options": [
                {"value": "eu", "label": {"en_US": "EU", "zh_Hans": "欧洲"}, "x": 1}
            ],
        }
        values = FieldValues(
            variable="region",
            type="select",
            required=True,
            label={"en_US": "Area"},
            default="us",
            options=(
                OptionValues(value="eu", label="Europe", row=0),
                OptionValues(
                    value="us",
                    label="US",
                    show_on=(Condition(variable="tier", value="pro"),),
                ),
            ),
        )
        data = field_data(existing, values)
        assert data["label"] == {"en_US": "Area", "de_DE": "Region (de)"}
        assert data["help"] == {"en_US": "Where"}
        assert "placeholder" not in data
        assert data["default"] == "us"
        assert data["options"] == [
            {"value": "eu", "label": {"en_US": "Europe", "zh_Hans": "欧洲"}, "x": 1},
            {
                "value": "us",
                "label": {"en_US": "US"},
                "show_on": [{"variable": "tier", "value": "pro"}],
            },
        ]
        assert existing["options"][0]["label"] == {"en_US": "EU", "zh_Hans": "欧洲"}

    def test_a_field_that_is_no_choice_loses_its_options(self) -> None:
        existing = {"variable": "k", "type": "select", "options": [{"value": "a"}]}
        values = FieldValues(variable="k", type="text-input", required=False, label={})
        assert "options" not in field_data(existing, values)


class TestNumbers:
    @pytest.mark.parametrize("value", ["-1", "NaN", "Infinity", "abc", ""])
    def test_a_price_must_be_a_finite_non_negative_decimal(self, value: str) -> None:
        assert parse_decimal(value) is None

    def test_a_price_keeps_its_exact_decimal(self) -> None:
        assert parse_decimal(" 0.15 ") == Decimal("0.15")

    def test_prices_are_the_same_number_whatever_their_text(self) -> None:
        assert same_decimal("0.50", 0.5)
        assert not same_decimal("0.5", "0.51")
        assert same_decimal(None, None)
        assert not same_decimal(None, "0")
        assert same_decimal("n/a", "n/a")


class TestRules:
    def test_a_rule_overrides_its_template_with_its_own_keys(self) -> None:
        effective = rule_effective(
            {"name": "max_tokens", "use_template": "max_tokens", "max": 8192}
        )
        assert effective["max"] == 8192
        assert effective["type"] == "int"  # from the template

    def test_the_max_tokens_rule_is_found_by_name_before_template(self) -> None:
        by_template = {"name": "length", "use_template": "max_tokens"}
        by_name = {"name": "max_tokens", "type": "int"}
        assert max_tokens_rule([by_template, by_name]) is by_name
        assert max_tokens_rule([by_template]) is by_template
        assert max_tokens_rule("junk") is None

    @pytest.mark.parametrize(
        ("kind", "value", "expected"),
        [
            ("int", "42", 42),
            ("int", "4.0", 4),
            ("float", "0.5", 0.5),
            ("boolean", "Yes", True),
            ("boolean", "0", False),
            ("string", " hi ", "hi"),
        ],
    )
    def test_a_value_is_typed_as_its_rule_says(
        self, kind: str, value: str, expected: Any
    ) -> None:
        parsed = parse_rule_value(kind, value)
        assert parsed == expected
        assert type(parsed) is type(expected)

    @pytest.mark.parametrize(
        ("kind", "value", "reason"),
        [
            ("int", "4.5", "not a whole number"),
            ("float", "x", "not a number"),
            ("float", "inf", "not a finite number"),
            ("boolean", "maybe", "not true or false"),
            ("", "1", "no usable type"),
        ],
    )
    def test_a_value_of_the_wrong_type_is_refused_with_a_reason(
        self, kind: str, value: str, reason: str
    ) -> None:
        with pytest.raises(ValueError, match=reason):
            parse_rule_value(kind, value)


class TestFileStem:
    @pytest.mark.parametrize(
        ("model_id", "stem"),
        [
            ("gpt-4o", "gpt-4o"),
            ("Qwen/Qwen2.5-72B", "qwen-qwen2.5-72b"),
            ("../../etc/passwd", "etc-passwd"),
            ("a..b", "a.b"),
            ("..", "model"),
            ("llama3:8b", "llama3-8b"),
            ("llama3.1:8b", "llama3.1-8b"),
            (
                "meta-llama/Llama-3.3-70B-Instruct-Turbo",
                "meta-llama-llama-3.3-70b-instruct-turbo",
            ),
            ("a\x00b\nc", "a-b-c"),
            ("模型", "model"),
            # Go skips every file whose name ends in _position.yaml.
            ("_position", "_position-model"),
            ("gpt_position", "gpt_position-model"),
        ],
    )
    def test_it_keeps_only_safe_lowercase_characters(
        self, model_id: str, stem: str
    ) -> None:
        assert file_stem(model_id) == stem

    def test_it_keeps_a_long_id_to_100_characters(self) -> None:
        assert file_stem("org/" + "x" * 300) == "org-" + "x" * 96


class TestCopyIds:
    def test_a_copy_gets_the_copy_suffix(self) -> None:
        assert copy_model_id("Qwen/Qwen3-8B", set()) == "Qwen/Qwen3-8B-copy"

    def test_a_taken_copy_id_gets_a_number(self) -> None:
        taken = {"a", "a-copy", "a-copy-2"}
        assert copy_model_id("a", taken) == "a-copy-3"

    def test_the_copy_of_a_255_character_id_stays_within_255(self) -> None:
        long_id = "org/" + "x" * 251
        copy = copy_model_id(long_id, {long_id})
        assert len(copy) == 255
        assert copy.endswith("-copy")
        assert model_id_problems(copy) == []


class TestModelPaths:
    def test_a_new_model_goes_where_the_types_glob_loads_it(self) -> None:
        doc = make_doc()
        assert new_model_path(doc, "llm", "GPT-4o") == "models/llm/gpt-4o.yaml"
        assert new_model_path(doc, "llm", "a") == "models/llm/a-2.yaml"

    @pytest.mark.parametrize(
        ("model_id", "path"),
        [
            ("Qwen/Qwen3-8B", "models/llm/qwen-qwen3-8b.yaml"),
            ("llama3.1:8b", "models/llm/llama3.1-8b.yaml"),
            ("../x", "models/llm/x.yaml"),
            ("_position", "models/llm/_position-model.yaml"),
        ],
    )
    def test_an_id_with_path_characters_gets_a_safe_name_the_glob_loads(
        self, model_id: str, path: str
    ) -> None:
        doc = make_doc()
        assert new_model_path(doc, "llm", model_id) == path
        assert provider_data(doc)["models"]["llm"]["predefined"] == [
            "models/llm/*.yaml"
        ]

    def test_ids_with_the_same_safe_name_get_numbered_files(self) -> None:
        doc = make_doc({"models/llm/qwen-qwen3-8b.yaml": model_yaml("qwen-qwen3-8b")})
        assert new_model_path(doc, "llm", "Qwen/Qwen3-8B") == (
            "models/llm/qwen-qwen3-8b-2.yaml"
        )

    def test_a_glob_that_cannot_name_a_file_gets_the_exact_path_added(self) -> None:
        provider = PROVIDER.replace(b'"models/llm/*.yaml"', b'"models/llm/a.yaml"')
        doc = make_doc({"provider/echo.yaml": provider})
        assert new_model_path(doc, "llm", "c") == "models/llm/c.yaml"
        llm = provider_data(doc)["models"]["llm"]
        assert llm["predefined"] == ["models/llm/a.yaml", "models/llm/c.yaml"]

    def test_a_type_without_a_block_gets_one_with_a_glob(self) -> None:
        doc = make_doc()
        block = models_block(doc, "text_embedding")
        assert block.predefined == ["models/text_embedding/*.yaml"]
        assert "text_embedding" in provider_data(doc)["models"]

    def test_a_new_block_does_not_glob_files_already_there(self) -> None:
        doc = make_doc({"models/rerank/old.yaml": model_yaml("old")})
        assert models_block(doc, "rerank").predefined == []


class TestPositions:
    def test_the_position_names_are_a_copy(self) -> None:
        doc = make_doc()
        names = position_names(doc, "llm")
        assert names == ["b", "a"]
        assert names is not None
        names.append("c")
        assert position_names(doc, "llm") == ["b", "a"]
        assert position_names(doc, "rerank") is None

    def test_setting_the_position_rewrites_only_that_file(self) -> None:
        doc = make_doc()
        before = dump_document(doc)
        set_position(doc, "llm", ["a", "b"])
        after = dump_document(doc)
        changed = {p for p in before if before[p] != after[p]}
        assert changed == {"models/llm/_position.yaml"}
        assert load_yaml(after["models/llm/_position.yaml"]).data == ["a", "b"]

    def test_models_are_ordered_by_the_position_file_then_as_loaded(self) -> None:
        doc = make_doc({"models/llm/c.yaml": model_yaml("c")})
        assert ordered_ids(doc, "llm") == ["b", "a", "c"]

    def test_a_missing_position_file_is_created_declared_and_globbed(self) -> None:
        provider = PROVIDER.replace(
            b"    position: models/llm/_position.yaml\n", b""
        ).replace(b'"models/llm/*.yaml"', b'"models/llm/*-model.yaml"')
        doc = make_doc({"provider/echo.yaml": provider})
        position = ensure_position_file(doc, "llm")
        assert position.path == "models/llm/_position.yaml"
        llm = provider_data(doc)["models"]["llm"]
        assert llm["position"] == "models/llm/_position.yaml"
        assert llm["predefined"] == [
            "models/llm/*-model.yaml",
            "models/llm/_position.yaml",
        ]
        assert ensure_position_file(doc, "llm") is position
