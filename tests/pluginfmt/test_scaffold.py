"""New plugins from the scaffold: no verifier error, and they start under the SDK."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.pluginfmt import driver
from studio.pluginfmt.document.yamltext import dump_yaml
from studio.pluginfmt.render import render_tree
from studio.pluginfmt.scaffold import CUSTOM, OPENAI_COMPATIBLE, NewPlugin, scaffold
from studio.pluginfmt.verify import verify

ALL_TYPES = ["llm", "text-embedding", "rerank", "speech2text", "tts", "moderation"]


def new_plugin(runtime: str, types: list[str], methods: list[str]) -> NewPlugin:
    return NewPlugin(
        author="acme",
        name="gateway",
        label={"en_US": "Gateway", "ja_JP": "ゲートウェイ"},
        description={"en_US": "Our gateway"},
        model_types=types,
        configurate_methods=methods,
        runtime=runtime,
    )


def with_llm_model(files: dict[str, bytes]) -> dict[str, bytes]:
    files["models/llm/small.yaml"] = dump_yaml(
        {
            "model": "small",
            "label": {"en_US": "Small"},
            "model_type": "llm",
            "features": ["agent-thought"],
            "model_properties": {"mode": "chat", "context_size": 4096},
            "parameter_rules": [{"name": "temperature", "use_template": "temperature"}],
            "pricing": {
                "input": "1",
                "output": "2",
                "unit": "0.000001",
                "currency": "USD",
            },
        }
    )
    return files


class TestScaffold:
    @pytest.mark.parametrize("runtime", [OPENAI_COMPATIBLE, CUSTOM])
    @pytest.mark.parametrize(
        "methods",
        [
            ["predefined-model"],
            ["customizable-model"],
            ["predefined-model", "customizable-model"],
        ],
    )
    def test_it_generates_a_plugin_without_verifier_errors(self, runtime, methods):
        files = scaffold(new_plugin(runtime, ALL_TYPES, methods))
        errors = [f for f in verify(files) if f.severity == "error"]
        assert errors == []
        assert files["requirements.txt"].startswith(b"dify_plugin>=0.10.0")
        assert set(ALL_TYPES) == {
            t for t in ALL_TYPES if f"models/{t.replace('-', '_')}/" in " ".join(files)
        }

    def test_labels_keep_only_the_four_dify_languages(self):
        plugin = new_plugin(OPENAI_COMPATIBLE, ["llm"], ["predefined-model"])
        plugin.label["zh_Hant"] = "閘道"
        files = scaffold(plugin)
        assert b"zh_Hant" not in files["manifest.yaml"]
        assert "ゲートウェイ".encode() in files["manifest.yaml"]


class TestGeneratedCodeUnderTheSdk:
    @pytest.mark.parametrize("runtime", [OPENAI_COMPATIBLE, CUSTOM])
    def test_it_starts_and_returns_the_declared_model_schema(
        self, runtime, sdk_python: Path, tmp_path: Path
    ):
        files = with_llm_model(
            scaffold(
                new_plugin(
                    runtime, ALL_TYPES, ["predefined-model", "customizable-model"]
                )
            )
        )
        folder = tmp_path / "plugin"
        render_tree(files, folder)
        with driver.PluginProcess.start(folder, sdk_python, timeout=60) as plugin:
            plugin.wait_ready()
            result = plugin.request(
                driver.get_ai_model_schemas("gateway", "llm", "small", {})
            )
        assert result.error is None, result.error
        schema = result.chunks[0]["model_schema"]
        assert schema["model"] == "small"
        assert schema["model_properties"]["context_size"] == 4096
        assert schema["parameter_rules"][0]["max"] == 1.0
