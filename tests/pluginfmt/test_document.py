from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import pytest

from studio.pluginfmt.document import (
    DocumentError,
    ModelEntry,
    ModelSpec,
    ParameterRule,
    PluginDocument,
    Pricing,
    YamlPart,
    dump_document,
    dump_yaml,
    load_document,
    model_type_of,
    type_key,
)
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.readers import read_folder
from studio.pluginfmt.yamlio import load_yaml
from tests.conftest import CORPUS_PLUGINS

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
created_at: "2024-07-12T08:03:44.658609186Z"
"""

PROVIDER = b"""\
provider: echo
label:
  en_US: Echo
supported_model_types:
  - llm
  - text-embedding
configurate_methods:
  - predefined-model
models:
  llm:
    predefined:
      - "models/llm/*.yaml"
    position: models/llm/_position.yaml
  text_embedding:
    predefined:
      - "models/text_embedding/*.yaml"
extra:
  python:
    provider_source: provider/echo.py
"""

MODEL = b"""\
model: echo-1
label:
  en_US: Echo 1
model_type: llm
features:
  - agent-thought
model_properties:
  mode: chat
  context_size: 4096
parameter_rules:
  - name: temperature
    use_template: temperature
pricing:
  input: '0.001'
  output: '0.002'
  unit: '0.001'
  currency: USD
"""


def make_plugin(changes: dict[str, bytes] | None = None) -> PluginFiles:
    """A small valid plugin, with files added or replaced by `changes`."""
    plugin: PluginFiles = {
        "manifest.yaml": MANIFEST,
        "provider/echo.yaml": PROVIDER,
        "provider/echo.py": b"# provider\n",
        "models/llm/echo-1.yaml": MODEL,
        "models/llm/_position.yaml": b"- echo-1\n",
        "_assets/icon.svg": b"<svg/>",
    }
    plugin.update(changes or {})
    return plugin


def changed_paths(before: PluginFiles, after: PluginFiles) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def key_orders(
    data: Any, path: tuple[Any, ...] = ()
) -> dict[tuple[Any, ...], list[Any]]:
    """The key order of every mapping in `data`, by its path."""
    orders: dict[tuple[Any, ...], list[Any]] = {}
    if isinstance(data, dict):
        orders[path] = list(data)
        for k, v in data.items():
            orders.update(key_orders(v, (*path, k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            orders.update(key_orders(v, (*path, i)))
    return orders


class TestModelTypeKeys:
    def test_it_maps_hyphenated_types_to_underscore_keys_and_back(self) -> None:
        assert type_key("text-embedding") == "text_embedding"
        assert type_key("llm") == "llm"
        assert model_type_of("text_embedding") == "text-embedding"
        assert model_type_of("speech2text") == "speech2text"


class TestParameterRule:
    def test_its_effective_rule_overrides_the_template_with_its_own_keys(
        self,
    ) -> None:
        rule = ParameterRule.model_validate(
            {"name": "max_tokens", "use_template": "max_tokens", "max": 16384}
        )

        assert rule.effective() == {
            "type": "int",
            "default": 64,
            "min": 1,
            "max": 16384,
            "precision": 0,
            "name": "max_tokens",
            "use_template": "max_tokens",
        }


class TestLoadDocument:
    def test_it_finds_models_only_through_the_predefined_globs(self) -> None:
        files = make_plugin(
            {
                "models/llm/nested/hidden.yaml": b"model: hidden\nmodel_type: llm\n",
                "models/rerank/r.yaml": b"model: r\nmodel_type: rerank\n",
                "docs/x.yaml": b"a: 1\n",
            }
        )

        doc = load_document(files)

        assert [(m.path, m.type_key) for m in doc.models] == [
            ("models/llm/echo-1.yaml", "llm")
        ]
        assert doc.models[0].spec.model == "echo-1"
        assert doc.orphans == ["models/llm/nested/hidden.yaml", "models/rerank/r.yaml"]
        assert doc.files["models/rerank/r.yaml"] == b"model: r\nmodel_type: rerank\n"

    def test_it_records_the_models_key_that_globbed_each_model(self) -> None:
        embedding = b"model: e\nmodel_type: text-embedding\n"
        files = make_plugin({"models/text_embedding/e.yaml": embedding})

        doc = load_document(files)

        assert [(m.type_key, m.spec.model_type) for m in doc.models] == [
            ("llm", "llm"),
            ("text_embedding", "text-embedding"),
        ]
        assert [m.path for m in doc.models_of("text_embedding")] == [
            "models/text_embedding/e.yaml"
        ]

    def test_it_ignores_models_keys_that_dify_ignores(self) -> None:
        provider = PROVIDER.replace(b"  text_embedding:", b"  text-embedding:")
        embedding = b"model: e\nmodel_type: text-embedding\n"
        files = make_plugin(
            {"provider/echo.yaml": provider, "models/text_embedding/e.yaml": embedding}
        )

        doc = load_document(files)

        assert [m.path for m in doc.models] == ["models/llm/echo-1.yaml"]
        assert doc.orphans == ["models/text_embedding/e.yaml"]

    def test_it_reads_the_position_file_both_declared_and_globbed(self) -> None:
        doc = load_document(make_plugin())

        [position] = doc.positions
        assert (position.path, position.type_key) == (
            "models/llm/_position.yaml",
            "llm",
        )
        assert (position.declared, position.globbed) == (True, True)
        assert position.names == ["echo-1"]
        assert doc.position_of("llm") is position

    def test_it_reads_a_declared_position_file_no_glob_matches(self) -> None:
        provider = PROVIDER.replace(
            b"models/llm/_position.yaml", b"models/order/_position.yaml"
        )
        files = make_plugin(
            {
                "provider/echo.yaml": provider,
                "models/order/_position.yaml": b"- echo-1\n",
            }
        )

        doc = load_document(files)

        positions = {(p.path, p.declared, p.globbed) for p in doc.positions}
        assert positions == {
            ("models/order/_position.yaml", True, False),
            ("models/llm/_position.yaml", False, True),
        }
        assert doc.position_of("llm").path == "models/order/_position.yaml"

    def test_it_keeps_a_malformed_position_list_as_it_is(self) -> None:
        files = make_plugin(
            {"models/llm/_position.yaml": b"- echo-1\n - echo-2\n - echo-3\n"}
        )

        doc = load_document(files)

        assert doc.positions[0].items == ["echo-1 - echo-2 - echo-3"]
        assert doc.positions[0].names == ["echo-1 - echo-2 - echo-3"]
        assert dump_document(doc) == files

    def test_it_keeps_unknown_keys_at_every_level(self) -> None:
        model = MODEL.replace(b"model: echo-1\n", b"model: echo-1\nvisible: true\n")
        model = model.replace(b"  currency: USD\n", b"  currency: USD\n  cached: '1'\n")
        rule_extra = b"    show_on: [{variable: x, value: true}]\n"
        model = model.replace(
            b"    use_template: temperature\n",
            b"    use_template: temperature\n" + rule_extra,
        )
        doc = load_document(make_plugin({"models/llm/echo-1.yaml": model}))

        spec = doc.models[0].spec
        assert spec.model_extra == {"visible": True}
        assert spec.pricing.model_extra == {"cached": "1"}
        assert spec.parameter_rules[0].model_extra == {
            "show_on": [{"variable": "x", "value": True}]
        }

    def test_it_keeps_an_omitted_required_as_omitted(self) -> None:
        provider = PROVIDER + (
            b"provider_credential_schema:\n"
            b"  credential_form_schemas:\n"
            b"    - variable: api_key\n"
            b"      label: {en_US: API Key}\n"
            b"      type: secret-input\n"
        )
        doc = load_document(make_plugin({"provider/echo.yaml": provider}))

        field = doc.provider.spec.provider_credential_schema.credential_form_schemas[0]
        assert field.required is None
        assert "required" not in field.to_data()

    def test_it_accepts_odd_values_real_plugins_use(self) -> None:
        provider = PROVIDER.replace(
            b"provider: echo\n", b"provider: echo\nbackground: '#FFFFF'\n"
        )
        model = (
            MODEL.replace(b"  unit: '0.001'", b"  unit: '0.000'")
            .replace(b"  - agent-thought", b"  - agent-thought\n  - teleport")
            .replace(b"  context_size: 4096\n", b"")
            .replace(
                b"pricing:",
                b"  - name: system\n    type: text\n"
                b"    label: {en_US: System, ko_KR: x}\npricing:",
            )
        )
        doc = load_document(
            make_plugin(
                {"provider/echo.yaml": provider, "models/llm/echo-1.yaml": model}
            )
        )

        spec = doc.models[0].spec
        assert doc.provider.spec.background == "#FFFFF"
        assert spec.pricing.unit == "0.000"
        assert spec.features == ["agent-thought", "teleport"]
        assert spec.model_properties.context_size is None
        assert spec.parameter_rules[1].type == "text"
        assert spec.parameter_rules[1].label.model_extra == {"ko_KR": "x"}

    def test_it_keeps_created_at_as_its_original_text(self) -> None:
        doc = load_document(make_plugin())

        assert doc.manifest.spec.created_at == "2024-07-12T08:03:44.658609186Z"

    def test_it_refuses_a_plugin_without_manifest(self) -> None:
        files = make_plugin()
        del files["manifest.yaml"]

        with pytest.raises(DocumentError) as excinfo:
            load_document(files)

        assert excinfo.value.file == "manifest.yaml"
        assert "missing" in str(excinfo.value)

    def test_it_refuses_a_manifest_listing_no_provider(self) -> None:
        manifest = MANIFEST.replace(b"    - provider/echo.yaml\n", b"    []\n").replace(
            b"  models:\n    []", b"  models: []"
        )

        with pytest.raises(DocumentError) as excinfo:
            load_document(make_plugin({"manifest.yaml": manifest}))

        assert (excinfo.value.file, excinfo.value.line) == ("manifest.yaml", 8)
        assert "plugins.models" in str(excinfo.value)

    def test_it_refuses_a_missing_provider_file(self) -> None:
        files = make_plugin()
        del files["provider/echo.yaml"]

        with pytest.raises(DocumentError) as excinfo:
            load_document(files)

        assert excinfo.value.file == "provider/echo.yaml"
        assert str(excinfo.value) == (
            "provider/echo.yaml: the provider file listed in manifest.yaml "
            "(plugins.models) is missing"
        )

    def test_it_refuses_a_yaml_syntax_error_with_its_line(self) -> None:
        broken = MODEL.replace(b"  mode: chat\n", b"  mode: [chat\n")

        with pytest.raises(DocumentError) as excinfo:
            load_document(make_plugin({"models/llm/echo-1.yaml": broken}))

        assert excinfo.value.file == "models/llm/echo-1.yaml"
        assert excinfo.value.line is not None
        assert excinfo.value.line >= 8

    def test_it_refuses_yaml_that_is_not_utf8_with_its_line(self) -> None:
        latin1 = MODEL.replace(b"en_US: Echo 1", "en_US: Écho".encode("latin-1"))

        with pytest.raises(DocumentError) as excinfo:
            load_document(make_plugin({"models/llm/echo-1.yaml": latin1}))

        assert (excinfo.value.file, excinfo.value.line) == ("models/llm/echo-1.yaml", 3)
        assert "not UTF-8" in str(excinfo.value)

    def test_it_refuses_a_model_yaml_that_is_not_a_mapping(self) -> None:
        files = make_plugin({"models/llm/echo-1.yaml": b"- echo-1\n- echo-2\n"})

        with pytest.raises(DocumentError) as excinfo:
            load_document(files)

        assert (excinfo.value.file, excinfo.value.line) == ("models/llm/echo-1.yaml", 1)
        assert "expected a mapping at the top level, found list" in str(excinfo.value)

    def test_it_refuses_an_empty_model_yaml(self) -> None:
        with pytest.raises(DocumentError) as excinfo:
            load_document(make_plugin({"models/llm/echo-1.yaml": b""}))

        assert "found an empty file" in str(excinfo.value)

    def test_it_names_the_key_and_line_of_a_value_of_the_wrong_shape(self) -> None:
        broken = MODEL.replace(
            b"  - name: temperature\n    use_template: temperature\n",
            b"  - name: temperature\n    options: {a: 1}\n",
        )

        with pytest.raises(DocumentError) as excinfo:
            load_document(make_plugin({"models/llm/echo-1.yaml": broken}))

        assert excinfo.value.file == "models/llm/echo-1.yaml"
        assert excinfo.value.line == 12
        assert excinfo.value.message.startswith("parameter_rules.0.options: ")


class TestDumpDocument:
    def test_it_gives_back_the_original_bytes_of_tricky_yaml(self) -> None:
        model = (
            codecs.BOM_UTF8
            + b"# a comment\r\n"
            + b"model: echo-1\r\n"
            + b"model_type: llm\r\n"
            + b"rule: &base {min: 1}\r\n"
            + b"again: *base\r\n"
            + b"created_at: 2024-07-12T08:03:44.658609186Z"
        )
        files = make_plugin({"models/llm/echo-1.yaml": model})

        out = dump_document(load_document(files))

        assert out == files
        assert list(out) == list(files)

    def test_an_edit_re_dumps_only_the_edited_file(self) -> None:
        files = make_plugin()
        doc = load_document(files)

        doc.models[0].spec.deprecated = True
        out = dump_document(doc)

        assert changed_paths(files, out) == {"models/llm/echo-1.yaml"}
        data = load_yaml(out["models/llm/echo-1.yaml"]).data
        assert data == {**load_yaml(MODEL).data, "deprecated": True}
        assert list(data) == [*load_yaml(MODEL).data, "deprecated"]

    def test_an_edited_file_keeps_bom_crlf_key_order_and_plain_timestamps(
        self,
    ) -> None:
        manifest = codecs.BOM_UTF8 + MANIFEST.replace(
            b'created_at: "2024-07-12T08:03:44.658609186Z"',
            b"created_at: 2024-07-12T08:03:44.658609186Z\nverified: false",
        ).replace(b"\n", b"\r\n")
        doc = load_document(make_plugin({"manifest.yaml": manifest}))

        doc.manifest.spec.version = "0.0.2"
        out = dump_document(doc)["manifest.yaml"]

        assert out.startswith(codecs.BOM_UTF8)
        assert b"\r\n" in out
        assert b"\n" not in out.replace(b"\r\n", b"")
        assert b"\r\ncreated_at: 2024-07-12T08:03:44.658609186Z\r\n" in out
        data = load_yaml(out).data
        assert list(data) == list(load_yaml(manifest).data)
        assert data["version"] == "0.0.2"
        assert data["created_at"] == "2024-07-12T08:03:44.658609186Z"
        assert data["verified"] is False

    def test_an_edited_file_keeps_its_leading_comments(self) -> None:
        model = b"# Model card: https://example.com/echo\n\n" + MODEL
        doc = load_document(make_plugin({"models/llm/echo-1.yaml": model}))

        doc.models[0].spec.pricing = Pricing(input="1", unit="0.001", currency="EUR")
        out = dump_document(doc)["models/llm/echo-1.yaml"]

        assert out.startswith(
            b"# Model card: https://example.com/echo\n\nmodel: echo-1\n"
        )
        assert load_yaml(out).data["pricing"] == {
            "input": "1",
            "unit": "0.001",
            "currency": "EUR",
        }

    def test_a_re_dumped_string_that_looks_like_another_type_stays_a_string(
        self,
    ) -> None:
        texts = ["0.15", "true", "no", "null", "2024-01-01", "1e3", "0o17", "~", ""]
        doc = load_document(make_plugin())

        doc.models[0].spec.pricing.input = "1"
        doc.models[0].spec.features = texts
        out = dump_document(doc)["models/llm/echo-1.yaml"]

        data = load_yaml(out).data
        assert data["features"] == texts
        assert data["pricing"]["input"] == "1"

    def test_it_writes_a_new_model_entry(self) -> None:
        doc = load_document(make_plugin())
        spec = ModelSpec.model_validate(
            {
                "model": "echo-2",
                "model_type": "llm",
                "model_properties": {"mode": "chat"},
            }
        )

        doc.models.append(
            ModelEntry(path="models/llm/echo-2.yaml", type_key="llm", spec=spec)
        )
        out = dump_document(doc)

        assert out["models/llm/echo-2.yaml"] == (
            b"model: echo-2\nmodel_type: llm\nmodel_properties:\n  mode: chat\n"
        )

    def test_removing_a_model_removes_its_file(self) -> None:
        doc = load_document(make_plugin())

        doc.models.clear()
        out = dump_document(doc)

        assert "models/llm/echo-1.yaml" not in out
        assert "models/llm/_position.yaml" in out

    def test_an_edited_position_list_is_re_dumped(self) -> None:
        doc = load_document(make_plugin())

        doc.positions[0].items.insert(0, "echo-0")
        out = dump_document(doc)

        assert out["models/llm/_position.yaml"] == b"- echo-0\n- echo-1\n"

    def test_it_refuses_a_part_and_a_plain_file_on_one_path(self) -> None:
        doc = load_document(make_plugin())

        doc.files["models/llm/echo-1.yaml"] = b"model: other\n"

        with pytest.raises(DocumentError) as excinfo:
            dump_document(doc)

        assert excinfo.value.file == "models/llm/echo-1.yaml"


# Customizable-only corpus plugins: no model YAML to edit.
CUSTOM_ONLY = ("azure_openai", "ollama", "openai_api_compatible", "xinference")


def load_corpus(root: Path, name: str) -> tuple[PluginFiles, PluginDocument]:
    files = read_folder(root / name)
    return files, load_document(files)


class TestCorpusRoundTrip:
    @pytest.mark.parametrize("name", CORPUS_PLUGINS)
    def test_loading_and_dumping_gives_back_every_file_byte_for_byte(
        self, restored_corpus: Path, name: str
    ) -> None:
        files, doc = load_corpus(restored_corpus, name)

        out = dump_document(doc)

        assert out == files
        assert [p.path for p in doc.parts() if p.changed] == []

    @pytest.mark.parametrize("name", CORPUS_PLUGINS)
    def test_every_part_model_dumps_the_data_it_was_read_from(
        self, restored_corpus: Path, name: str
    ) -> None:
        _, doc = load_corpus(restored_corpus, name)

        parts: list[YamlPart[Any]] = [doc.manifest, doc.provider, *doc.models]
        for part in parts:
            assert part.loaded is not None
            assert part.spec.to_data() == part.loaded.data, part.path

    @pytest.mark.parametrize("name", CORPUS_PLUGINS)
    def test_every_yaml_file_survives_a_forced_re_dump(
        self, restored_corpus: Path, name: str
    ) -> None:
        files = read_folder(restored_corpus / name)

        for path, content in files.items():
            if path.endswith(".yaml"):
                data = load_yaml(content).data
                assert load_yaml(dump_yaml(data, like=content)).data == data, path

    @pytest.mark.parametrize(
        "name", [n for n in CORPUS_PLUGINS if n not in CUSTOM_ONLY]
    )
    def test_editing_one_model_changes_only_that_file(
        self, restored_corpus: Path, name: str
    ) -> None:
        files, doc = load_corpus(restored_corpus, name)
        entry = doc.models[-1]
        before = load_yaml(files[entry.path]).data

        entry.spec.deprecated = not entry.spec.deprecated
        out = dump_document(doc)

        assert changed_paths(files, out) == {entry.path}
        after = load_yaml(out[entry.path]).data
        assert after == {**before, "deprecated": not before.get("deprecated")}
        expected_orders = key_orders(before)
        if "deprecated" not in before:
            expected_orders[()] = [*before, "deprecated"]
        assert key_orders(after) == expected_orders

    def test_bedrock_and_oci_report_their_orphan_yamls(
        self, restored_corpus: Path
    ) -> None:
        _, bedrock = load_corpus(restored_corpus, "bedrock")
        _, oci = load_corpus(restored_corpus, "oci")

        assert all(
            p.startswith("models/llm/model_configurations/") for p in bedrock.orphans
        )
        assert len(bedrock.orphans) == 25
        assert sorted(oci.orphans) == [
            "models/llm/llm.yaml",
            "models/llm/models/deprecated/cohere.command-r-16k.yaml",
            "models/llm/models/deprecated/cohere.command-r-plus.yaml",
            "models/llm/models/deprecated/meta.llama-3-70b-instruct.yaml",
            "models/llm/oci.yaml",
        ]

    def test_the_corpus_models_are_found_as_the_daemon_finds_them(
        self, restored_corpus: Path
    ) -> None:
        counts = {
            name: len(load_corpus(restored_corpus, name)[1].models)
            for name in ("openai", "tongyi", "xinference", "oci")
        }

        assert counts == {"openai": 52, "tongyi": 104, "xinference": 0, "oci": 24}

    def test_the_biggest_plugin_loads_every_model(self, restored_corpus: Path) -> None:
        # Its load time is a figure of bench/pluginfmt.py, not an assert here.
        doc = load_document(read_folder(restored_corpus / "tongyi"))

        assert len(doc.models) == 104
