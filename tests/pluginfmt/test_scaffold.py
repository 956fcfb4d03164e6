"""New plugins from the scaffold: no verifier error, and they start under the SDK."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from studio.builds.mock_upstream import FAKE_MP3, MockUpstream
from studio.pluginfmt import driver
from studio.pluginfmt.document.yamltext import dump_yaml
from studio.pluginfmt.render import render_tree
from studio.pluginfmt.scaffold import (
    CUSTOM,
    OPENAI_COMPATIBLE,
    NewPlugin,
    openai_compatible_model_fields,
    scaffold,
)
from studio.pluginfmt.verify import verify
from studio.pluginfmt.yamlio import load_yaml

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


def with_llm_model(
    files: dict[str, bytes], features: tuple[str, ...] = ("agent-thought",)
) -> dict[str, bytes]:
    files["models/llm/small.yaml"] = dump_yaml(
        {
            "model": "small",
            "label": {"en_US": "Small"},
            "model_type": "llm",
            "features": list(features),
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
        assert "_assets/icon.svg" in files

    @pytest.mark.parametrize("runtime", [OPENAI_COMPATIBLE, CUSTOM])
    def test_the_provider_module_names_exactly_one_provider_class(self, runtime):
        source = scaffold(new_plugin(runtime, ALL_TYPES, ["predefined-model"]))[
            "provider/gateway.py"
        ].decode()
        tree = ast.parse(source)
        classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
        imported = [
            alias.asname or alias.name
            for node in tree.body
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        ]
        assert [c.name for c in classes] == ["GatewayProvider"]
        assert not [name for name in imported if name.endswith("Provider")]

    def test_model_classes_come_after_their_sdk_base_import(self):
        files = scaffold(new_plugin(OPENAI_COMPATIBLE, ALL_TYPES, ["predefined-model"]))
        for model_type in ALL_TYPES:
            key = model_type.replace("-", "_")
            tree = ast.parse(files[f"models/{key}/{key}.py"])
            kinds = [type(node).__name__ for node in tree.body]
            # The SDK registers the last model class in the module: ours.
            assert kinds[-1] == "ClassDef", model_type

    def test_a_customizable_llm_picks_its_function_calling_type(self):
        files = scaffold(
            new_plugin(OPENAI_COMPATIBLE, ALL_TYPES, ["customizable-model"])
        )
        data = load_yaml(files["provider/gateway.yaml"]).data
        fields = data["model_credential_schema"]["credential_form_schemas"]
        (field,) = [f for f in fields if f["variable"] == "function_calling_type"]
        assert field["type"] == "select"
        assert field["default"] == "tool_call"
        assert [o["value"] for o in field["options"]] == [
            "no_call",
            "function_call",
            "tool_call",
        ]
        assert field["show_on"] == [{"variable": "__model_type", "value": "llm"}]
        embedding_only = openai_compatible_model_fields(["text-embedding"])
        assert "function_calling_type" not in {f["variable"] for f in embedding_only}

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


WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather of a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def with_completion_model(files: dict[str, bytes]) -> dict[str, bytes]:
    files["models/llm/legacy.yaml"] = dump_yaml(
        {
            "model": "legacy",
            "label": {"en_US": "Legacy"},
            "model_type": "llm",
            "model_properties": {"mode": "completion", "context_size": 2048},
            "parameter_rules": [],
        }
    )
    return files


def streamed(result: driver.SessionResult) -> str:
    return "".join(c["delta"]["message"]["content"] or "" for c in result.chunks)


@pytest.fixture(scope="module")
def oai_plugin(sdk_python: Path, tmp_path_factory: pytest.TempPathFactory):
    """One running OpenAI-compatible plugin and the mock upstream it talks to."""
    files = with_completion_model(
        with_llm_model(
            scaffold(
                new_plugin(
                    OPENAI_COMPATIBLE,
                    ALL_TYPES,
                    ["predefined-model", "customizable-model"],
                )
            ),
            features=("agent-thought", "tool-call"),
        )
    )
    folder = tmp_path_factory.mktemp("oai") / "plugin"
    render_tree(files, folder)
    with (
        MockUpstream() as upstream,
        driver.PluginProcess.start(folder, sdk_python, timeout=60) as plugin,
    ):
        plugin.wait_ready()
        yield plugin, upstream


class TestOpenAICompatibleCodeAgainstTheMock:
    """What the OAICompat bases need from the generated code, answered by the mock."""

    def credentials(self, upstream: MockUpstream, **extra: str) -> dict[str, str]:
        return {"endpoint_url": upstream.url, "api_key": "good-key", **extra}

    def test_a_predefined_tool_call_model_sends_tools_and_streams_the_call(
        self, oai_plugin
    ):
        plugin, upstream = oai_plugin
        result = plugin.request(
            driver.invoke_llm(
                "gateway",
                "small",
                self.credentials(upstream),
                [{"role": "user", "content": "Paris"}],
                tools=[WEATHER_TOOL],
            )
        )
        assert result.error is None, result.error
        calls = [
            call
            for chunk in result.chunks
            for call in chunk["delta"]["message"]["tool_calls"]
        ]
        assert [c["function"]["name"] for c in calls] == ["get_weather"]
        assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris"}
        sent = [r for r in upstream.requests if r.path == "/v1/chat/completions"]
        assert sent[-1].body["tools"][0]["function"]["name"] == "get_weather"

    def test_a_predefined_completion_model_uses_the_completions_endpoint(
        self, oai_plugin
    ):
        plugin, upstream = oai_plugin
        result = plugin.request(
            driver.invoke_llm(
                "gateway",
                "legacy",
                self.credentials(upstream),
                [{"role": "user", "content": "ping"}],
            )
        )
        assert result.error is None, result.error
        assert streamed(result) == "echo: ping"
        assert upstream.requests[-1].path == "/v1/completions"

    def test_token_counts_work_without_the_gpt2_download(self, oai_plugin):
        plugin, upstream = oai_plugin
        result = plugin.request(
            driver.get_llm_num_tokens(
                "gateway",
                "small",
                self.credentials(upstream),
                [{"role": "user", "content": "count these words please"}],
            )
        )
        assert result.error is None, result.error
        assert result.chunks[0]["num_tokens"] > 0

    def test_a_customizable_llm_with_the_forms_defaults_calls_tools(self, oai_plugin):
        plugin, upstream = oai_plugin
        # What Dify sends for an llm added with the generated form, defaults kept.
        defaults = {
            str(f["variable"]): str(f["default"])
            for f in openai_compatible_model_fields(["llm"])
            if "default" in f
            and f.get("show_on") == [{"variable": "__model_type", "value": "llm"}]
        }
        assert defaults["function_calling_type"] == "tool_call"
        credentials = self.credentials(upstream, **defaults)
        schema = plugin.request(
            driver.get_ai_model_schemas("gateway", "llm", "my-chat", credentials)
        )
        assert "multi-tool-call" in schema.chunks[0]["model_schema"]["features"]
        result = plugin.request(
            driver.invoke_llm(
                "gateway",
                "my-chat",
                credentials,
                [{"role": "user", "content": "Paris"}],
                tools=[WEATHER_TOOL],
            )
        )
        assert result.error is None, result.error
        calls = [
            call
            for chunk in result.chunks
            for call in chunk["delta"]["message"]["tool_calls"]
        ]
        assert [c["function"]["name"] for c in calls] == ["get_weather"]

    def test_moderation_speech2text_and_tts_answer_through_the_mock(self, oai_plugin):
        plugin, upstream = oai_plugin
        credentials = self.credentials(upstream)
        flagged = plugin.request(
            driver.invoke_moderation("gateway", "mod-x", credentials, "a forbidden act")
        )
        clean = plugin.request(
            driver.invoke_moderation("gateway", "mod-x", credentials, "a kind act")
        )
        assert flagged.error is None, flagged.error
        assert [flagged.chunks[0]["result"], clean.chunks[0]["result"]] == [True, False]
        assert upstream.requests[-1].path == "/v1/moderations"
        refused = plugin.request(
            driver.invoke_moderation(
                "gateway", "mod-x", {**credentials, "api_key": "bad"}, "x"
            )
        )
        assert refused.error is not None
        assert refused.error["error_type"] == "InvokeAuthorizationError"
        heard = plugin.request(
            driver.invoke_speech2text("gateway", "whisper-x", credentials, FAKE_MP3)
        )
        assert heard.chunks[0]["result"] == f"mock transcript of {len(FAKE_MP3)} bytes"
        spoken = plugin.request(
            driver.invoke_tts("gateway", "tts-x", credentials, "Hello.", "alloy")
        )
        assert spoken.error is None, spoken.error
        audio = b"".join(bytes.fromhex(c["result"]) for c in spoken.chunks)
        assert audio == FAKE_MP3

    def test_customizable_speech2text_and_rerank_models_have_schemas(self, oai_plugin):
        plugin, upstream = oai_plugin
        speech = plugin.request(
            driver.get_ai_model_schemas(
                "gateway", "speech2text", "whisper-x", self.credentials(upstream)
            )
        )
        rerank = plugin.request(
            driver.get_ai_model_schemas(
                "gateway",
                "rerank",
                "rerank-x",
                self.credentials(upstream, context_size="1024"),
            )
        )
        schema = speech.chunks[0]["model_schema"]
        assert schema["fetch_from"] == "customizable-model"
        assert schema["model_properties"]["file_upload_limit"] == 25
        assert rerank.chunks[0]["model_schema"]["model_properties"] == {
            "context_size": 1024
        }


class TestCustomSkeletonUnderTheSdk:
    def test_it_validates_lists_customizable_models_and_marks_invoke(
        self, sdk_python: Path, tmp_path: Path
    ):
        files = scaffold(
            new_plugin(CUSTOM, ALL_TYPES, ["predefined-model", "customizable-model"])
        )
        folder = tmp_path / "plugin"
        render_tree(files, folder)
        with driver.PluginProcess.start(folder, sdk_python, timeout=60) as plugin:
            plugin.wait_ready()
            provider = plugin.request(
                driver.validate_provider_credentials("gateway", {})
            )
            model = plugin.request(
                driver.validate_model_credentials("gateway", "llm", "mine", {})
            )
            # The SDK asks for a customizable schema only with credentials.
            schemas = {
                model_type: plugin.request(
                    driver.get_ai_model_schemas(
                        "gateway", model_type, "mine", {"api_key": "k"}
                    )
                )
                for model_type in ALL_TYPES
            }
            invoke = plugin.request(
                driver.invoke_llm(
                    "gateway", "mine", {}, [{"role": "user", "content": "hi"}]
                )
            )
        assert provider.error is None and provider.chunks[0]["result"] is True
        assert model.error is None
        for model_type, result in schemas.items():
            schema = result.chunks[0]["model_schema"]
            assert schema["model"] == "mine", model_type
            assert schema["model_type"] == model_type
        assert schemas["llm"].chunks[0]["model_schema"]["model_properties"] == {
            "mode": "chat",
            "context_size": 4096,
        }
        assert "AUTHOR: implement _invoke" in str(invoke.error_message)

    def test_a_required_provider_field_is_checked(
        self, sdk_python: Path, tmp_path: Path
    ):
        files = scaffold(new_plugin(CUSTOM, ["llm"], ["predefined-model"]))
        provider_yaml = files["provider/gateway.yaml"].decode()
        files["provider/gateway.yaml"] = provider_yaml.replace(
            "credential_form_schemas: []",
            "credential_form_schemas:\n"
            "  - variable: token\n"
            "    label: {en_US: Access token}\n"
            "    type: secret-input\n"
            "    required: true",
        ).encode()
        folder = tmp_path / "plugin"
        render_tree(files, folder)
        with driver.PluginProcess.start(folder, sdk_python, timeout=60) as plugin:
            plugin.wait_ready()
            missing = plugin.request(
                driver.validate_provider_credentials("gateway", {})
            )
            given = plugin.request(
                driver.validate_provider_credentials("gateway", {"token": "t"})
            )
        assert missing.error_type == "CredentialsValidateFailedError"
        assert missing.error_message == "Access token is required."
        assert given.error is None
