"""The smoke test starts a packaged plugin and checks what it answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from studio.builds.mock_upstream import MockUpstream
from studio.builds.smoke import (
    SmokeInputError,
    SmokeReport,
    form_values,
    llm_stream_problems,
    schema_differences,
    smoke_test,
)
from studio.builds.smoke.tracebacks import parse_traceback
from studio.pluginfmt import sdkenv
from studio.pluginfmt.document import CredentialFormField, ModelSpec
from studio.pluginfmt.document.yamltext import dump_yaml
from studio.pluginfmt.package import package
from studio.pluginfmt.readers import read_folder
from studio.pluginfmt.scaffold import CUSTOM, OPENAI_COMPATIBLE, NewPlugin, scaffold
from tests.catalog.editor_inputs import with_credential_fields
from tests.pluginfmt.echo_plugin import ECHO_REQUIREMENTS, SDK_CACHE, UV_CACHE

TYPES = ["llm", "text-embedding", "rerank"]
ECHOED = "echo: Hello from the studio smoke test"

LLM_MODEL = {
    "model": "gw-chat",
    "label": {"en_US": "Gateway chat"},
    "model_type": "llm",
    "features": ["tool-call", "agent-thought"],
    "model_properties": {"mode": "chat", "context_size": 8192},
    "parameter_rules": [
        {"name": "temperature", "use_template": "temperature"},
        {"name": "max_tokens", "use_template": "max_tokens", "required": True},
    ],
    "pricing": {"input": "0.5", "output": "1.5", "unit": "0.000001", "currency": "USD"},
}
EMBEDDING_MODEL = {
    "model": "gw-embed",
    "label": {"en_US": "Gateway embed"},
    "model_type": "text-embedding",
    "model_properties": {"context_size": 512, "max_chunks": 8},
    "pricing": {"input": "0.02", "unit": "0.000001", "currency": "USD"},
}
RERANK_MODEL = {
    "model": "gw-rerank",
    "label": {"en_US": "Gateway rerank"},
    "model_type": "rerank",
    "model_properties": {},
}


def make_plugin(
    methods: list[str],
    *,
    runtime: str = OPENAI_COMPATIBLE,
    types: list[str] | None = None,
    models: bool = True,
    files: dict[str, bytes] | None = None,
) -> dict[str, bytes]:
    """A scaffolded plugin's files, with one model YAML per type when predefined."""
    plugin = scaffold(
        NewPlugin(
            author="acme",
            name="gateway",
            label={"en_US": "Gateway"},
            description={"en_US": "Our gateway"},
            model_types=types or TYPES,
            configurate_methods=methods,
            runtime=runtime,
        )
    )
    if models and "predefined-model" in methods:
        for spec in (LLM_MODEL, EMBEDDING_MODEL, RERANK_MODEL):
            key = str(spec["model_type"]).replace("-", "_")
            if spec["model_type"] in (types or TYPES):
                plugin[f"models/{key}/{spec['model']}.yaml"] = dump_yaml(spec)
    plugin.update(files or {})
    return plugin


def smoke(files: dict[str, bytes], **kwargs: Any) -> SmokeReport:
    return smoke_test(
        package(files), cache_dir=SDK_CACHE, uv_cache_dir=UV_CACHE, **kwargs
    )


def plugin_frames(text: str, plugin_dir: str) -> list[tuple[str | None, int, str]]:
    """The traceback's frames in the plugin's own files."""
    return [
        (line.frame.plugin_path, line.frame.line, line.frame.function)
        for line in parse_traceback(text, plugin_dir)
        if line.frame is not None and line.frame.plugin_path is not None
    ]


def statuses(report: SmokeReport) -> dict[str, str]:
    return {check.name: check.status for check in report.checks}


def detail(report: SmokeReport, name: str) -> str:
    check = report.check(name)
    assert check is not None, f"no {name} check in {statuses(report)}"
    return check.detail


@pytest.fixture(autouse=True)
def _sdk(sdk_python: Path) -> None:
    """Every smoke test reuses the session's cached SDK virtualenv."""


class TestGeneratedOpenAICompatiblePlugins:
    def test_a_predefined_plugin_passes_every_check_against_the_mock(self):
        with MockUpstream() as upstream:
            report = smoke(make_plugin(["predefined-model"]), upstream=upstream)
            calls = upstream.requests
        assert statuses(report) == {
            "environment": "passed",
            "starts": "passed",
            "schemas": "passed",
            "validate_provider_credentials": "passed",
            "invoke_llm": "passed",
            "invoke_text_embedding": "passed",
            "invoke_rerank": "passed",
        }, report.as_text()
        assert report.ok
        assert f'gw-chat streamed "{ECHOED}"' in detail(report, "invoke_llm")
        assert "3 model schema(s) match" in detail(report, "schemas")
        assert "refused a wrong one" in detail(report, "validate_provider_credentials")
        # The plugin really called the mock: a streamed chat with the model's id.
        chats = [r for r in calls if r.path == "/v1/chat/completions"]
        assert chats[0].body["stream"] is True
        assert chats[0].body["model"] == "gw-chat"
        assert ("GET", "/v1/models", 401) in [
            (r.method, r.path, r.status) for r in calls
        ]
        assert json.loads(json.dumps(report.as_dict())) == report.as_dict()

    def test_a_customizable_plugin_passes_with_model_credentials(self):
        report = smoke(make_plugin(["customizable-model"]))
        assert statuses(report) == {
            "environment": "passed",
            "starts": "passed",
            "schemas": "passed",
            "validate_model_credentials:llm": "passed",
            "validate_model_credentials:text-embedding": "passed",
            "validate_model_credentials:rerank": "passed",
            "invoke_llm": "passed",
            "invoke_text_embedding": "passed",
            "invoke_rerank": "passed",
        }, report.as_text()
        assert f'smoke-llm streamed "{ECHOED}"' in detail(report, "invoke_llm")
        assert "2 vectors of 8 dimensions" in detail(report, "invoke_text_embedding")
        assert "#0 1.00" in detail(report, "invoke_rerank")

    def test_a_new_plugin_without_model_yamls_skips_what_it_lacks(self):
        report = smoke(make_plugin(["predefined-model"], types=["llm"], models=False))
        assert report.ok, report.as_text()
        assert statuses(report)["validate_provider_credentials"] == "passed"
        assert statuses(report)["schemas"] == "skipped"
        assert detail(report, "invoke_llm") == "the provider declares no llm model"


class TestOtherPlugins:
    def test_the_custom_skeleton_starts_and_skips_the_network_checks(self):
        report = smoke(
            make_plugin(["predefined-model", "customizable-model"], runtime=CUSTOM)
        )
        assert report.ok, report.as_text()
        assert statuses(report) == {
            "environment": "passed",
            "starts": "passed",
            "schemas": "passed",
            "validate_provider_credentials": "skipped",
            "invoke_llm": "skipped",
            "invoke_text_embedding": "skipped",
            "invoke_rerank": "skipped",
        }
        assert "no endpoint_url and api_key" in detail(report, "invoke_llm")

    def test_a_vendor_plugin_runs_only_the_checks_that_need_no_network(
        self, corpus_copy
    ):
        folder = corpus_copy("deepseek")
        # The session's SDK venv instead of one built from deepseek's uv.lock.
        (folder / "requirements.txt").write_text(ECHO_REQUIREMENTS)
        report = smoke(read_folder(folder))
        assert report.ok, report.as_text()
        assert statuses(report) == {
            "environment": "passed",
            "starts": "passed",
            "schemas": "passed",
            "validate_provider_credentials": "skipped",
            "invoke_llm": "skipped",
        }
        assert "2 model schema(s) match" in detail(report, "schemas")
        assert "endpoint_url is optional" in detail(report, "invoke_llm")
        assert "vendor's URL built in" in detail(
            report, "validate_provider_credentials"
        )

    def test_an_sdk_embedding_without_the_offline_fallback_is_skipped(self):
        # The SDK's own class counts tokens with tiktoken's GPT-2 vocabulary,
        # downloaded on first use: the smoke test's plugin has no internet.
        plain = (
            b"from dify_plugin import OAICompatEmbeddingModel\n\n\n"
            b"class PlainEmbedding(OAICompatEmbeddingModel):\n    pass\n"
        )
        files = make_plugin(
            ["customizable-model"],
            types=["text-embedding"],
            files={"models/text_embedding/text_embedding.py": plain},
        )
        report = smoke(files)
        assert report.ok, report.as_text()
        assert statuses(report)["validate_model_credentials:text-embedding"] == (
            "passed"
        )
        assert statuses(report)["invoke_text_embedding"] == "skipped"
        assert "GPT-2 token counter" in detail(report, "invoke_text_embedding")


class TestFailures:
    def test_a_plugin_that_fails_at_start_up_reports_the_pydantic_message(self):
        broken = dump_yaml({**RERANK_MODEL, "model_properties": None})
        files = make_plugin(
            ["predefined-model"],
            types=["rerank"],
            files={"models/rerank/gw-rerank.yaml": broken},
        )
        report = smoke(files)
        assert not report.ok
        assert statuses(report)["starts"] == "failed"
        message = detail(report, "starts")
        assert "before its first heartbeat" in message
        assert "Error loading plugin configuration" in message
        assert "model_properties" in message
        assert "valid dictionary" in message
        assert detail(report, "schemas") == "the plugin did not start"
        assert statuses(report)["invoke_rerank"] == "skipped"
        assert "ValidationError" in report.stderr_tail

    def test_the_plugin_gets_a_clean_environment(self, monkeypatch):
        monkeypatch.setenv("SECRET_KEY", "django-insecure-do-not-leak")
        monkeypatch.setenv("DATABASE_URL", "postgres://studio:hunter2@db/studio")
        spy = (
            "import os, sys\n"
            "sys.stderr.write('ENV ' + ' '.join(sorted(os.environ)) + '\\n')\n"
            "sys.stderr.flush()\n"
        )
        main = spy.encode() + make_plugin(["customizable-model"])["main.py"]
        report = smoke(
            make_plugin(["customizable-model"], types=["llm"], files={"main.py": main})
        )
        assert report.ok, report.as_text()
        line = next(x for x in report.stderr_tail.splitlines() if x.startswith("ENV "))
        names = set(line.split()[1:])
        assert "SECRET_KEY" not in names
        assert "DATABASE_URL" not in names
        assert "hunter2" not in report.stderr_tail
        # No internet either: the proxy is a closed loopback port.
        assert {"INSTALL_METHOD", "HTTPS_PROXY", "NO_PROXY"} <= names

    def test_a_plugin_that_exits_mid_check_fails_it_and_skips_the_rest(self):
        files = make_plugin(["predefined-model"], types=["llm"])
        provider = files["provider/gateway.py"].decode()
        files["provider/gateway.py"] = provider.replace(
            '        url = str(credentials.get("endpoint_url") or "").rstrip("/")',
            "        import os\n        os._exit(3)",
        ).encode()
        report = smoke(files)
        assert not report.ok
        assert statuses(report)["validate_provider_credentials"] == "failed"
        assert "exit code 3" in detail(report, "validate_provider_credentials")
        assert statuses(report)["invoke_llm"] == "skipped"
        assert "process ended" in detail(report, "invoke_llm")

    def test_a_plugin_that_never_sends_a_heartbeat_fails_within_the_timeout(self):
        files = make_plugin(["customizable-model"], types=["llm"])
        files["main.py"] = b"import time\ntime.sleep(60)\n"
        report = smoke(files, timeout=2)
        assert statuses(report)["starts"] == "failed"
        assert "no heartbeat within" in detail(report, "starts")
        assert report.duration_ms < 20_000

    def test_a_virtualenv_that_cannot_be_built_fails_the_environment_check(
        self, monkeypatch
    ):
        def refuse(requirements: str, **kwargs: Any) -> Path:
            raise sdkenv.SdkEnvError(
                "uv pip install failed with exit code 1:\nno wheel"
            )

        monkeypatch.setattr(sdkenv, "using_sdk_venv", refuse)
        report = smoke(make_plugin(["customizable-model"], types=["llm"]))
        assert not report.ok
        assert statuses(report)["environment"] == "failed"
        assert "uv pip install failed" in detail(report, "environment")
        assert detail(report, "starts") == "the plugin's virtualenv could not be built"
        assert statuses(report)["invoke_llm"] == "skipped"

    def test_an_invoke_that_raises_carries_the_plugins_traceback(self):
        files = make_plugin(["customizable-model"], runtime=CUSTOM, types=["llm"])
        provider = files["provider/gateway.yaml"].decode()
        files["provider/gateway.yaml"] = with_credential_fields(provider).encode()
        code = (
            files["models/llm/llm.py"]
            .decode()
            .replace(
                'raise NotImplementedError("AUTHOR: implement _invoke")',
                "return self._helper(model)\n\n"
                "    def _helper(self, model):\n"
                '        raise RuntimeError("boom in " + model)',
            )
        )
        files["models/llm/llm.py"] = code.encode()
        report = smoke(files)
        check = report.check("invoke_llm")
        assert check is not None and check.status == "failed", report.as_text()
        assert "boom in smoke-llm" in check.detail
        lines = code.splitlines()
        calls = lines.index("        return self._helper(model)") + 1
        raises = lines.index('        raise RuntimeError("boom in " + model)') + 1
        assert plugin_frames(check.traceback, report.plugin_dir) == [
            ("models/llm/llm.py", calls, "_invoke"),
            ("models/llm/llm.py", raises, "_helper"),
        ]
        assert "site-packages/dify_plugin/" in check.traceback
        # A check that passed, or failed without an exception, has none.
        assert all(not c.traceback for c in report.checks if c.name != "invoke_llm"), (
            report.as_dict()
        )

    def test_a_module_that_raises_at_start_up_carries_its_traceback(self):
        files = make_plugin(["customizable-model"], runtime=CUSTOM, types=["llm"])
        code = files["models/llm/llm.py"].decode()
        code = code.replace(
            "class ", "def f():\n    return {}['x']\n\n\nf()\n\n\nclass ", 1
        )
        files["models/llm/llm.py"] = code.encode()
        report = smoke(files)
        check = report.check("starts")
        assert check is not None and check.status == "failed", report.as_text()
        lines = code.splitlines()
        frames = plugin_frames(check.traceback, report.plugin_dir)
        assert frames[0] == ("main.py", 3, "<module>")
        assert frames[1:] == [
            ("models/llm/llm.py", lines.index("f()") + 1, "<module>"),
            ("models/llm/llm.py", lines.index("    return {}['x']") + 1, "f"),
        ]
        assert check.traceback.endswith("KeyError: 'x'")

    def test_bytes_that_are_not_a_package_raise(self):
        with pytest.raises(SmokeInputError, match="not a zip archive"):
            smoke_test(b"not a zip", cache_dir=SDK_CACHE)


class TestJudging:
    def test_it_lists_how_a_schema_differs_from_the_yaml(self):
        spec = ModelSpec.model_validate(LLM_MODEL)
        found = {
            "model": "gw-chat",
            "model_type": "llm",
            "features": ["agent-thought", "tool-call"],
            "model_properties": {"mode": "chat", "context_size": 4096},
            "parameter_rules": [{"name": "temperature"}],
            "pricing": {
                "input": "0.5",
                "output": "1.50",
                "unit": "0.000001",
                "currency": "EUR",
            },
        }
        assert schema_differences(spec, found) == [
            "model_properties.context_size is 4096, declared 8192",
            "parameter rules are ['temperature'], declared "
            "['temperature', 'max_tokens']",
            "pricing.currency is 'EUR', declared 'USD'",
        ]
        assert schema_differences(spec, None) == ["the plugin returned no schema"]

    def test_a_stream_without_usage_or_finish_reason_is_not_well_formed(self):
        chunks = [
            {"delta": {"message": {"content": "hi"}}},
            {"delta": {"message": {"content": ""}, "usage": {"prompt_tokens": 1}}},
            {"delta": {}},
        ]
        problems, text, _ = llm_stream_problems(chunks)
        assert text == "hi"
        assert problems == [
            "chunk 2 has no delta.message",
            "the last chunk has no usage",
            "the last chunk has no finish_reason",
        ]

    def test_credentials_are_filled_as_dify_would_send_them(self):
        fields = [
            CredentialFormField.model_validate(f)
            for f in [
                {"variable": "api_key", "type": "secret-input", "required": True},
                {"variable": "note", "type": "text-input", "required": False},
                {
                    "variable": "region",
                    "type": "select",
                    "options": [{"value": "eu"}, {"value": "us"}],
                },
                {
                    "variable": "mode",
                    "type": "select",
                    "default": "chat",
                    "show_on": [{"variable": "__model_type", "value": "llm"}],
                },
                {
                    "variable": "context_size",
                    "type": "text-input",
                    "default": 512,
                    "show_on": [
                        {"variable": "__model_type", "value": "text-embedding"}
                    ],
                },
                {
                    "variable": "eu_zone",
                    "type": "switch",
                    "default": True,
                    "show_on": [{"variable": "region", "value": "eu"}],
                },
            ]
        ]
        assert form_values(fields, "llm", {"api_key": "k"}) == {
            "api_key": "k",
            "region": "eu",
            "mode": "chat",
            "eu_zone": "true",
        }
        assert form_values(fields, "text-embedding") == {
            "api_key": "smoke-test",
            "region": "eu",
            "context_size": "512",
            "eu_zone": "true",
        }


class TestCommand:
    def run(self, *args: str) -> tuple[int, str]:
        import io

        out = io.StringIO()
        try:
            call_command("plugin", "smoke", *args, stdout=out, stderr=io.StringIO())
        except SystemExit as exc:
            return int(exc.code or 0), out.getvalue()
        return 0, out.getvalue()

    def test_a_passing_package_exits_0_with_a_json_report(self, tmp_path, settings):
        settings.SMOKE_VENV_DIR = SDK_CACHE
        path = tmp_path / "gateway.difypkg"
        path.write_bytes(package(make_plugin(["customizable-model"], types=["llm"])))
        status, out = self.run(str(path), "--json")
        assert status == 0, out
        data = json.loads(out)
        assert data["ok"] is True
        assert data["path"] == str(path)
        invoke = next(c for c in data["checks"] if c["name"] == "invoke_llm")
        assert ECHOED in invoke["detail"]

    def test_a_failing_check_exits_1(self, tmp_path, settings):
        settings.SMOKE_VENV_DIR = SDK_CACHE
        files = make_plugin(["customizable-model"], types=["llm"])
        files["main.py"] = b"raise SystemExit('no luck')\n"
        path = tmp_path / "broken.difypkg"
        path.write_bytes(package(files))
        status, out = self.run(str(path))
        assert status == 1
        assert out.startswith("smoke test FAILED")
        assert "failed  starts" in out
        assert "no luck" in out

    def test_an_unreadable_package_exits_2(self, tmp_path):
        path = tmp_path / "junk.difypkg"
        path.write_bytes(b"junk")
        status, out = self.run(str(path), "--json")
        assert status == 2
        assert json.loads(out)["ok"] is False
        assert "not a zip archive" in json.loads(out)["error"]
