from __future__ import annotations

import pytest

from studio.catalog import services
from studio.catalog.models import ProviderModel
from studio.catalog.services import model_form
from studio.catalog.services import models as edits
from studio.pluginfmt.document import dump_yaml, load_document
from studio.pluginfmt.verify import verify
from studio.pluginfmt.yamlio import load_yaml
from tests.factories import llm_model_data, make_provider

pytestmark = pytest.mark.django_db


ALL_TYPES = ["llm", "text-embedding", "rerank", "speech2text", "tts", "moderation"]


def data_of(provider, path: str) -> dict:
    return load_yaml(services.provider_files(provider)[path]).data


def errors_of(provider) -> list[dict]:
    files = services.provider_files(provider)
    return [f.as_dict() for f in verify(files) if f.severity == "error"]


def changed_files(before: dict, after: dict) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def row(provider, model_id: str) -> ProviderModel:
    return provider.models.get(model=model_id)


def inline(**kw) -> edits.InlineValues:
    base = {
        "label": "MODEL-001",
        "context_size": 8192,
        "max_tokens_default": 512,
        "max_tokens_max": 2048,
        "input_price": "0.5",
        "output_price": "1.5",
        "deprecated": False,
    }
    return edits.InlineValues(**(base | kw))


def add_model_file(provider, path: str, data: dict) -> None:
    files = services.provider_files(provider)
    files[path] = dump_yaml(data)
    services.provider_replace_files(provider=provider, files=files)


class TestInlineUpdate:
    def test_it_changes_exactly_one_model_file(self, personas):
        provider = make_provider(personas.team, models=3)
        before = services.provider_files(provider)
        model = row(provider, "model-001")
        edits.model_inline_update(
            provider=provider,
            model=model,
            model_lock=model.lock_version,
            values=inline(label="Model One", context_size=32000, input_price="0.25"),
        )
        after = services.provider_files(provider)
        assert changed_files(before, after) == {"models/llm/model-001.yaml"}
        data = data_of(provider, "models/llm/model-001.yaml")
        assert data["label"] == {"en_US": "Model One"}
        assert data["model_properties"]["context_size"] == 32000
        assert data["pricing"] == {
            "input": "0.25",
            "output": "1.5",
            "unit": "0.000001",
            "currency": "USD",
        }

    def test_unchanged_values_leave_every_file_as_it_was(self, personas):
        provider = make_provider(personas.team, models=2)
        before = services.provider_files(provider)
        model = row(provider, "model-001")
        result = edits.model_inline_update(
            provider=provider,
            model=model,
            model_lock=model.lock_version,
            values=inline(input_price="0.50"),  # the same number
        )
        assert result.changed_paths == []
        assert services.provider_files(provider) == before

    def test_max_tokens_equal_to_the_template_drops_the_override(self, personas):
        provider = make_provider(personas.team, models=1)
        model = row(provider, "model-000")
        edits.model_inline_update(
            provider=provider,
            model=model,
            model_lock=model.lock_version,
            values=inline(
                label="MODEL-000", max_tokens_default=64, max_tokens_max=8192
            ),
        )
        rules = data_of(provider, "models/llm/model-000.yaml")["parameter_rules"]
        assert rules[1] == {
            "name": "max_tokens",
            "use_template": "max_tokens",
            "max": 8192,
        }

    def test_a_default_above_the_max_is_refused(self, personas):
        provider = make_provider(personas.team, models=1)
        model = row(provider, "model-000")
        with pytest.raises(edits.ModelProblem) as exc:
            edits.model_inline_update(
                provider=provider,
                model=model,
                model_lock=model.lock_version,
                values=inline(label="MODEL-000", max_tokens_default=4096),
            )
        assert exc.value.field == "max_tokens_default"

    def test_a_stale_model_lock_is_refused(self, personas):
        provider = make_provider(personas.team, models=1)
        model = row(provider, "model-000")
        before = services.provider_files(provider)
        with pytest.raises(edits.StaleModel):
            edits.model_inline_update(
                provider=provider,
                model=model,
                model_lock=model.lock_version + 1,
                values=inline(label="New"),
            )
        assert services.provider_files(provider) == before

    def test_unknown_keys_of_an_imported_model_are_kept(self, personas):
        provider = make_provider(personas.team)
        data = llm_model_data("imported") | {
            "icon": "icon.svg",
            "visible": True,
            "metadata": {"source": "vendor"},
            "tiered_pricing": [{"tier": 1}],
        }
        data["parameter_rules"][0]["show_on"] = [{"variable": "x", "value": "y"}]
        add_model_file(provider, "models/llm/imported.yaml", data)
        model = row(provider, "imported")
        edits.model_inline_update(
            provider=provider,
            model=model,
            model_lock=model.lock_version,
            values=inline(label="Imported", max_tokens_default=512),
        )
        saved = data_of(provider, "models/llm/imported.yaml")
        assert saved["label"] == {"en_US": "Imported"}
        assert saved["icon"] == "icon.svg"
        assert saved["visible"] is True
        assert saved["metadata"] == {"source": "vendor"}
        assert saved["tiered_pricing"] == [{"tier": 1}]
        assert saved["parameter_rules"][0]["show_on"] == [
            {"variable": "x", "value": "y"}
        ]


class TestDuplicateAndDelete:
    def test_a_duplicate_gets_a_new_file_and_follows_its_original(self, personas):
        provider = make_provider(personas.team, models=3)
        model = row(provider, "model-000")
        _, path = edits.model_duplicate(
            provider=provider,
            model=model,
            model_lock=model.lock_version,
            new_id="Model-000/Copy",
        )
        assert path == "models/llm/model-000-copy.yaml"
        copy = data_of(provider, path)
        assert copy["model"] == "Model-000/Copy"
        assert copy["label"] == {"en_US": "MODEL-000 (copy)"}
        assert data_of(provider, "models/llm/_position.yaml") == [
            "model-000",
            "Model-000/Copy",
            "model-001",
            "model-002",
        ]
        assert errors_of(provider) == []

    def test_a_duplicate_id_already_used_is_refused(self, personas):
        provider = make_provider(personas.team, models=2)
        model = row(provider, "model-000")
        with pytest.raises(edits.ModelProblem):
            edits.model_duplicate(
                provider=provider,
                model=model,
                model_lock=model.lock_version,
                new_id="model-001",
            )

    def test_delete_removes_the_file_and_its_position_line(self, personas):
        provider = make_provider(personas.team, models=3)
        model = row(provider, "model-001")
        result = edits.model_delete(
            provider=provider, model=model, model_lock=model.lock_version
        )
        files = services.provider_files(provider)
        assert "models/llm/model-001.yaml" not in files
        assert set(result.changed_paths) == {
            "models/llm/model-001.yaml",
            "models/llm/_position.yaml",
        }
        assert data_of(provider, "models/llm/_position.yaml") == [
            "model-000",
            "model-002",
        ]
        assert list(provider.models.values_list("model", flat=True)) == [
            "model-000",
            "model-002",
        ]
        assert errors_of(provider) == []


class TestOrder:
    def test_moving_a_model_up_rewrites_the_position_file(self, personas):
        provider = make_provider(personas.team, models=3)
        model = row(provider, "model-002")
        edits.model_move(
            provider=provider,
            model=model,
            model_lock=model.lock_version,
            direction="up",
        )
        assert data_of(provider, "models/llm/_position.yaml") == [
            "model-000",
            "model-002",
            "model-001",
        ]
        assert list(provider.models.values_list("model", flat=True)) == [
            "model-000",
            "model-002",
            "model-001",
        ]

    def test_a_missing_position_file_is_created_declared_and_globbed(self, personas):
        provider = make_provider(personas.team)
        for name in ("a", "b"):
            add_model_file(provider, f"models/llm/{name}.yaml", llm_model_data(name))
        assert "models/llm/_position.yaml" not in services.provider_files(provider)
        provider.refresh_from_db()
        edits.models_reorder(
            provider=provider,
            lock_version=provider.lock_version,
            model_type="llm",
            order=["b", "a"],
        )
        assert data_of(provider, "models/llm/_position.yaml") == ["b", "a"]
        doc = load_document(services.provider_files(provider))
        assert doc.provider.spec.models["llm"].position == "models/llm/_position.yaml"
        assert doc.provider.spec.models["llm"].predefined == ["models/llm/*.yaml"]
        findings = verify(services.provider_files(provider))
        assert [
            f for f in findings if f.rule.startswith(("position", "provider.models"))
        ] == []
        assert errors_of(provider) == []

    def test_a_glob_that_misses_the_position_file_gets_its_path_added(self, personas):
        provider = make_provider(personas.team)
        files = services.provider_files(provider)
        doc = load_document(files)
        doc.provider.spec.models["llm"].predefined = ["models/llm/gpt-*.yaml"]
        from studio.pluginfmt.document import dump_document

        files = dump_document(doc)
        files["models/llm/gpt-a.yaml"] = dump_yaml(llm_model_data("gpt-a"))
        files["models/llm/gpt-b.yaml"] = dump_yaml(llm_model_data("gpt-b"))
        services.provider_replace_files(provider=provider, files=files)
        edits.models_reorder(
            provider=provider,
            lock_version=provider.lock_version,
            model_type="llm",
            order=["gpt-b", "gpt-a"],
        )
        block = load_document(services.provider_files(provider)).provider.spec.models[
            "llm"
        ]
        assert block.predefined == [
            "models/llm/gpt-*.yaml",
            "models/llm/_position.yaml",
        ]
        assert block.position == "models/llm/_position.yaml"
        assert errors_of(provider) == []

    def test_an_order_that_is_not_the_types_models_is_refused(self, personas):
        provider = make_provider(personas.team, models=2)
        with pytest.raises(edits.ModelProblem):
            edits.models_reorder(
                provider=provider,
                lock_version=provider.lock_version,
                model_type="llm",
                order=["model-000", "nope"],
            )

    def test_a_stale_provider_lock_is_refused(self, personas):
        provider = make_provider(personas.team, models=2)
        with pytest.raises(services.StaleEdit):
            edits.models_reorder(
                provider=provider,
                lock_version=provider.lock_version - 1,
                model_type="llm",
                order=["model-001", "model-000"],
            )


class TestBulk:
    def paths(self, provider, *ids: str) -> list[str]:
        return [row(provider, i).path for i in ids]

    def test_deprecate_marks_only_the_selected_models(self, personas):
        provider = make_provider(personas.team, models=3)
        report = edits.models_bulk(
            provider=provider,
            lock_version=provider.lock_version,
            paths=self.paths(provider, "model-000", "model-002"),
            action=edits.BulkAction(action="deprecate"),
        )
        assert report.changed == ["model-000", "model-002"]
        assert data_of(provider, "models/llm/model-000.yaml")["deprecated"] is True
        assert "deprecated" not in data_of(provider, "models/llm/model-001.yaml")
        report = edits.models_bulk(
            provider=provider,
            lock_version=provider.lock_version,
            paths=self.paths(provider, "model-000", "model-001"),
            action=edits.BulkAction(action="undeprecate"),
        )
        assert report.changed == ["model-000"]
        assert report.unchanged == ["model-001"]
        assert data_of(provider, "models/llm/model-000.yaml")["deprecated"] is False

    def test_pricing_sets_currency_and_unit_and_skips_models_without_prices(
        self, personas
    ):
        provider = make_provider(personas.team, models=2)
        data = llm_model_data("free")
        del data["pricing"]
        add_model_file(provider, "models/llm/free.yaml", data)
        provider.refresh_from_db()
        report = edits.models_bulk(
            provider=provider,
            lock_version=provider.lock_version,
            paths=self.paths(provider, "model-000", "free"),
            action=edits.BulkAction(action="pricing", currency="CNY", unit="0.001"),
        )
        assert report.changed == ["model-000"]
        assert report.skipped == [("free", "it has no pricing (set its prices first)")]
        assert data_of(provider, "models/llm/model-000.yaml")["pricing"] == {
            "input": "0.5",
            "output": "1.5",
            "unit": "0.001",
            "currency": "CNY",
        }

    def test_rule_default_is_checked_against_each_rule(self, personas):
        provider = make_provider(personas.team, models=1)
        bigger = llm_model_data("bigger")
        bigger["parameter_rules"][1]["max"] = 8192
        add_model_file(provider, "models/llm/bigger.yaml", bigger)
        plain = llm_model_data("plain")
        plain["parameter_rules"] = [
            {"name": "temperature", "use_template": "temperature"}
        ]
        add_model_file(provider, "models/llm/plain.yaml", plain)
        provider.refresh_from_db()
        report = edits.models_bulk(
            provider=provider,
            lock_version=provider.lock_version,
            paths=self.paths(provider, "model-000", "bigger", "plain"),
            action=edits.BulkAction(
                action="rule-default", rule="max_tokens", value="4096"
            ),
        )
        assert report.changed == ["bigger"]
        assert report.skipped == [
            ("model-000", "4096 is above its maximum 2048"),
            ("plain", "it has no rule 'max_tokens'"),
        ]
        assert data_of(provider, "models/llm/bigger.yaml")["parameter_rules"][1] == {
            "name": "max_tokens",
            "use_template": "max_tokens",
            "default": 4096,
            "max": 8192,
        }

    def test_rule_default_refuses_a_value_of_the_wrong_type(self, personas):
        provider = make_provider(personas.team, models=1)
        report = edits.models_bulk(
            provider=provider,
            lock_version=provider.lock_version,
            paths=self.paths(provider, "model-000"),
            action=edits.BulkAction(
                action="rule-default", rule="temperature", value="hot"
            ),
        )
        assert report.changed == []
        assert report.skipped == [
            ("model-000", "'hot' is not a number (the rule is float)")
        ]


def llm_values(model_id: str = "m1", **kw) -> model_form.ModelValues:
    base = {
        "model": model_id,
        "label": {},
        "properties": {"mode": "chat", "context_size": 4096},
        "features": ["tool-call"],
        "rules": [
            model_form.RuleValues(
                origin=None,
                values={"name": "temperature", "use_template": "temperature"},
            ),
            model_form.RuleValues(
                origin=None,
                values={
                    "name": "max_tokens",
                    "use_template": "max_tokens",
                    "default": 1024,
                    "max": 4096,
                },
            ),
        ],
        "pricing": model_form.PricingValues(
            input="0.1", output="0.2", unit="0.000001", currency="USD"
        ),
    }
    return model_form.ModelValues(**(base | kw))


class TestModelSave:
    def test_a_new_model_is_written_under_the_glob_and_added_to_the_order(
        self, personas
    ):
        provider = make_provider(personas.team, models=2)
        _, path = model_form.model_save(
            provider=provider,
            lock_version=provider.lock_version,
            model_type="llm",
            model=None,
            values=llm_values("New.Model"),
        )
        assert path == "models/llm/new.model.yaml"
        assert data_of(provider, path) == {
            "model": "New.Model",
            "label": {"en_US": "New.Model"},
            "model_type": "llm",
            "features": ["tool-call"],
            "model_properties": {"mode": "chat", "context_size": 4096},
            "parameter_rules": [
                {"name": "temperature", "use_template": "temperature"},
                {
                    "name": "max_tokens",
                    "use_template": "max_tokens",
                    "default": 1024,
                    "max": 4096,
                },
            ],
            "pricing": {
                "input": "0.1",
                "output": "0.2",
                "unit": "0.000001",
                "currency": "USD",
            },
        }
        assert data_of(provider, "models/llm/_position.yaml")[-1] == "New.Model"
        assert errors_of(provider) == []

    def test_an_edit_keeps_unknown_keys_and_renames_in_the_order(self, personas):
        provider = make_provider(personas.team, models=2)
        data = data_of(provider, "models/llm/model-001.yaml") | {"visible": False}
        data["parameter_rules"][1]["show_on"] = [{"variable": "a", "value": "b"}]
        add_model_file(provider, "models/llm/model-001.yaml", data)
        provider.refresh_from_db()
        values = llm_values(
            "renamed",
            rules=[
                model_form.RuleValues(
                    origin=1,
                    values={
                        "name": "max_tokens",
                        "use_template": "max_tokens",
                        "default": 256,
                    },
                )
            ],
        )
        model_form.model_save(
            provider=provider,
            lock_version=provider.lock_version,
            model_type="llm",
            model=row(provider, "model-001"),
            values=values,
        )
        saved = data_of(provider, "models/llm/model-001.yaml")
        assert saved["visible"] is False
        assert saved["parameter_rules"] == [
            {
                "name": "max_tokens",
                "use_template": "max_tokens",
                "default": 256,
                "show_on": [{"variable": "a", "value": "b"}],
            }
        ]
        assert data_of(provider, "models/llm/_position.yaml") == [
            "model-000",
            "renamed",
        ]

    @pytest.mark.parametrize(
        ("model_type", "properties"),
        [
            ("text-embedding", {"context_size": 8192, "max_chunks": 32}),
            ("rerank", {"context_size": 4096}),
            (
                "speech2text",
                {"file_upload_limit": 25, "supported_file_extensions": "mp3,wav"},
            ),
            (
                "tts",
                {
                    "default_voice": "alloy",
                    "word_limit": 3500,
                    "audio_type": "mp3",
                    "max_workers": 5,
                },
            ),
            ("moderation", {"max_chunks": 32, "max_characters_per_chunk": 2000}),
        ],
    )
    def test_every_model_type_saves_a_file_the_verifier_accepts(
        self, personas, model_type, properties
    ):
        provider = make_provider(personas.team, model_types=ALL_TYPES)
        voices = (
            [
                model_form.VoiceValues(
                    origin=None, name="Alloy", mode="alloy", language=["en-US"]
                )
            ]
            if model_type == "tts"
            else None
        )
        values = model_form.ModelValues(
            model=f"{model_type}-1",
            label={"en_US": "One", "zh_Hans": "一"},
            properties=properties,
            voices=voices,
            pricing=model_form.PricingValues(
                input="0.01", output=None, unit="0.001", currency="USD"
            ),
        )
        _, path = model_form.model_save(
            provider=provider,
            lock_version=provider.lock_version,
            model_type=model_type,
            model=None,
            values=values,
        )
        key = model_type.replace("-", "_")
        assert path == f"models/{key}/{model_type}-1.yaml"
        saved = data_of(provider, path)
        assert saved["model_type"] == model_type
        expected = dict(properties)
        if voices:
            expected["voices"] = [
                {"name": "Alloy", "mode": "alloy", "language": ["en-US"]}
            ]
        assert saved["model_properties"] == expected
        assert errors_of(provider) == []
        assert provider.models.get(path=path).model_type == model_type

    def test_a_taken_id_is_refused_inside_the_transaction(self, personas):
        provider = make_provider(personas.team, models=1)
        with pytest.raises(edits.ModelProblem) as exc:
            model_form.model_save(
                provider=provider,
                lock_version=provider.lock_version,
                model_type="llm",
                model=None,
                values=llm_values("model-000"),
            )
        assert exc.value.field == "model"

    def test_a_type_without_a_models_block_gets_one(self, personas):
        provider = make_provider(
            personas.team, model_types=["llm", "rerank"], methods=["predefined-model"]
        )
        files = services.provider_files(provider)
        doc = load_document(files)
        doc.provider.spec.models = {"llm": doc.provider.spec.models["llm"]}
        from studio.pluginfmt.document import dump_document

        services.provider_replace_files(provider=provider, files=dump_document(doc))
        model_form.model_save(
            provider=provider,
            lock_version=provider.lock_version,
            model_type="rerank",
            model=None,
            values=model_form.ModelValues(
                model="r1", label={}, properties={"context_size": 512}
            ),
        )
        doc = load_document(services.provider_files(provider))
        assert doc.provider.spec.models["rerank"].predefined == ["models/rerank/*.yaml"]
        assert [m.path for m in doc.models_of("rerank")] == ["models/rerank/r1.yaml"]
        assert errors_of(provider) == []


class TestPreview:
    def test_an_unchanged_model_previews_as_its_exact_bytes(self):
        source = (
            b"# hand written\nmodel: m\nmodel_type: llm\nlabel:\n  en_US: M\n"
            b"model_properties:\n  mode: chat\n  context_size: 10\n"
        )
        values = model_form.ModelValues(
            model="m",
            label={"en_US": "M"},
            properties={"mode": "chat", "context_size": 10},
            features=[],
        )
        text = model_form.model_yaml(source=source, model_type="llm", values=values)
        assert text == source.decode()
