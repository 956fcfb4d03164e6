"""The verifier on valid plugins, on the real corpus, and on garbage."""

from __future__ import annotations

import ast
import json
import os
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from studio.pluginfmt.document.yamltext import dump_yaml
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.verify import RULES, Finding, model_id_problems, verify

from ..conftest import CORPUS_PLUGINS

VERIFY_PACKAGE = Path(__file__).resolve().parents[2] / "studio/pluginfmt/verify"

MANIFEST = """\
version: 0.0.1
type: plugin
author: studio
name: echo
label:
  en_US: Echo
description:
  en_US: Echo test model plugin
icon: icon.svg
resource:
  memory: 268435456
  permission: {}
plugins:
  models:
    - provider/echo.yaml
meta:
  version: 0.0.1
  arch:
    - amd64
    - arm64
  runner:
    language: python
    version: "3.12"
    entrypoint: main
created_at: 2026-01-01T00:00:00Z
privacy: PRIVACY.md
repo: https://github.com/studio/echo
contact: echo@example.com
"""

PROVIDER = """\
provider: echo
label:
  en_US: Echo
icon_small:
  en_US: icon.svg
supported_model_types:
  - llm
configurate_methods:
  - predefined-model
provider_credential_schema:
  credential_form_schemas:
    - variable: api_key
      label:
        en_US: API Key
      type: secret-input
      required: true
models:
  llm:
    predefined:
      - models/llm/*.yaml
    position: models/llm/_position.yaml
extra:
  python:
    provider_source: provider/echo.py
    model_sources:
      - models/llm/llm.py
"""

MODEL = """\
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
  - name: max_tokens
    use_template: max_tokens
    default: 256
    max: 4096
pricing:
  input: '0.001'
  output: '0.002'
  unit: '0.001'
  currency: USD
"""

MAIN_PY = """\
from dify_plugin import DifyPluginEnv, Plugin

plugin = Plugin(DifyPluginEnv(MAX_REQUEST_TIMEOUT=120))

if __name__ == "__main__":
    plugin.run()
"""

PROVIDER_PY = """\
from dify_plugin import ModelProvider
from dify_plugin.errors.model import CredentialsValidateFailedError


class EchoProvider(ModelProvider):
    def validate_provider_credentials(self, credentials: dict) -> None:
        if credentials.get("api_key") != "good":
            raise CredentialsValidateFailedError("bad key")
"""

LLM_PY = """\
from dify_plugin import LargeLanguageModel


class EchoLargeLanguageModel(LargeLanguageModel):
    def _invoke(self, *args, **kwargs):
        raise NotImplementedError

    def get_num_tokens(self, *args, **kwargs):
        return 0

    def validate_credentials(self, model, credentials):
        pass

    @property
    def _invoke_error_mapping(self):
        return {}
"""

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"/>\n'


def make_echo_files() -> PluginFiles:
    """The minimal echo plugin of format doc §10, written in block YAML."""
    return {
        "manifest.yaml": MANIFEST.encode(),
        "main.py": MAIN_PY.encode(),
        "provider/echo.yaml": PROVIDER.encode(),
        "provider/echo.py": PROVIDER_PY.encode(),
        "models/llm/llm.py": LLM_PY.encode(),
        "models/llm/echo-1.yaml": MODEL.encode(),
        "models/llm/_position.yaml": b"- echo-1\n",
        "_assets/icon.svg": SVG,
        "README.md": b"# Echo\n\nAn echo model plugin.\n",
        "PRIVACY.md": b"# Privacy\n\nThis plugin sends no data anywhere.\n",
        "requirements.txt": b"dify_plugin>=0.10.0,<0.11.0\n",
    }


def read_folder(root: Path) -> PluginFiles:
    """Every file under `root` (following links) as PluginFiles."""
    files: PluginFiles = {}
    for folder, _dirs, names in os.walk(root, followlinks=True):
        for name in names:
            path = Path(folder) / name
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def rules_of(findings: list[Finding]) -> Counter[str]:
    """How often each rule id was reported."""
    return Counter(f.rule for f in findings)


def errors_of(findings: list[Finding]) -> list[Finding]:
    """Only the error findings."""
    return [f for f in findings if f.severity == "error"]


def where(findings: list[Finding], rule: str) -> list[tuple[str, int | None]]:
    """(file, line) of every finding of `rule`."""
    return [(f.file, f.line) for f in findings if f.rule == rule]


class TestTheEchoPlugin:
    def test_it_reports_nothing_on_the_minimal_plugin(self) -> None:
        assert verify(make_echo_files()) == []

    def test_it_reports_a_future_created_at_against_the_given_now(self) -> None:
        findings = verify(make_echo_files(), now=datetime(2025, 1, 1, tzinfo=UTC))

        assert where(findings, "manifest.created-at.future") == [("manifest.yaml", 25)]
        assert errors_of(findings) == []

    def test_it_sorts_findings_by_file_then_line(self) -> None:
        files = make_echo_files()
        files["manifest.yaml"] = files["manifest.yaml"].replace(
            b"author: studio", b"author: dify"
        )
        files["models/llm/echo-1.yaml"] += b"icon: x.svg\nvisible: true\n"
        del files["README.md"]

        findings = verify(files)

        keys = [(f.file, f.line or 0) for f in findings]
        assert keys == sorted(keys)
        assert [f.rule for f in findings] == [
            "package.readme.missing",
            "manifest.author.reserved",
            "model.unknown-key",
            "model.unknown-key",
        ]

    def test_it_gives_every_finding_as_json_ready_data(self) -> None:
        files = make_echo_files()
        files["provider/echo.yaml"] = files["provider/echo.yaml"].replace(
            b"      required: true\n", b"      default: 5\n"
        )

        data = [f.as_dict() for f in verify(files)]

        assert json.loads(json.dumps(data)) == data
        assert [d["rule"] for d in data] == [
            "provider.credential.required-implicit",
            "provider.credential.default-not-string",
        ]
        assert data[0]["severity"] == "warning"
        assert data[1] == {
            "rule": "provider.credential.default-not-string",
            "severity": "error",
            "layer": "runtime",
            "file": "provider/echo.yaml",
            "line": 16,
            "message": "Credential `api_key` has default the number 5; the SDK "
            "accepts only a string.",
            "value": 5,
            "fix": 'Quote it: default: "5".',
        }


GATEWAY_IDS = [
    "Qwen/Qwen3-8B",
    "deepseek-ai/DeepSeek-V3",
    "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "llama3.1:8b",
    "amazon nova",  # a corpus id (bedrock)
    "1:30",  # a YAML 1.1 sexagesimal number unless quoted
    "true",
    "模型-1",
    "x" * 255,
]


def _echo_renamed(model_id: str) -> PluginFiles:
    """The echo plugin whose one model (and its position line) is `model_id`."""
    files = make_echo_files()
    data = yaml.safe_load(files["models/llm/echo-1.yaml"])
    data["model"] = model_id
    files["models/llm/echo-1.yaml"] = dump_yaml(data)
    files["models/llm/_position.yaml"] = dump_yaml([model_id])
    return files


class TestModelIds:
    @pytest.mark.parametrize("model_id", GATEWAY_IDS)
    def test_it_accepts_the_ids_gateways_use(self, model_id: str) -> None:
        assert model_id_problems(model_id) == []
        assert verify(_echo_renamed(model_id)) == []

    @pytest.mark.parametrize(
        ("model_id", "rule"),
        [
            ("", "model.name.empty"),
            ("x" * 256, "model.name.too-long"),
            ("../x", "model.name.path-segment"),
            ("a/../b", "model.name.path-segment"),
            ("a/./b", "model.name.path-segment"),
            ("..", "model.name.path-segment"),
            ("a\x01b", "model.name.control-character"),
            ("a\nb", "model.name.control-character"),
            ("a\x1bb", "model.name.control-character"),
            ("a\u2028b", "model.name.control-character"),
        ],
    )
    def test_it_warns_about_ids_that_name_nothing_or_walk_paths(
        self, model_id: str, rule: str
    ) -> None:
        assert [p.rule for p in model_id_problems(model_id)] == [rule]
        findings = verify(_echo_renamed(model_id))
        assert where(findings, rule) == [("models/llm/echo-1.yaml", 1)]
        assert errors_of(findings) == []

    def test_a_finding_shows_control_characters_escaped(self) -> None:
        findings = verify(_echo_renamed("a\x1bb"))
        (finding,) = [f for f in findings if f.rule.startswith("model.name")]
        assert finding.value == "a\\u001bb"
        assert "U+001B" in finding.message

    def test_a_nul_is_refused_with_the_yaml_itself(self) -> None:
        # No database column can store a NUL: the YAML loader refuses it, and
        # the forms' check names it too.
        findings = verify(_echo_renamed("a\x00b"))

        assert where(findings, "yaml.syntax") == [("models/llm/echo-1.yaml", 1)]
        assert "NUL" in next(f for f in findings if f.rule == "yaml.syntax").message
        assert [p.rule for p in model_id_problems("a\x00b")] == [
            "model.name.control-character"
        ]

    def test_it_allows_dots_inside_a_segment(self) -> None:
        assert model_id_problems("a..b") == []
        assert model_id_problems(".hidden/x.") == []


class TestTheRuleCatalogue:
    def test_it_gives_every_rule_a_known_severity_layer_and_texts(self) -> None:
        for rule_id, rule in RULES.items():
            assert rule.id == rule_id
            assert rule.severity in ("error", "warning", "info")
            assert rule.layer in ("package", "install", "runtime", "marketplace")
            assert rule.summary.endswith(".") and rule.fix

    def test_it_only_calls_marketplace_rules_warnings_or_notes(self) -> None:
        assert {r.severity for r in RULES.values() if r.layer == "marketplace"} <= {
            "warning",
            "info",
        }

    def test_it_emits_only_catalogued_rules_with_their_severity(
        self, restored_corpus: Path
    ) -> None:
        findings = [
            *verify(make_echo_files(), now=datetime(2020, 1, 1, tzinfo=UTC)),
            *(f for files in GARBAGE for f in verify(files)),
            *(
                f
                for n in CORPUS_PLUGINS
                for f in verify(read_folder(restored_corpus / n))
            ),
        ]

        assert findings
        for finding in findings:
            rule = RULES[finding.rule]
            assert (finding.severity, finding.layer) == (rule.severity, rule.layer)
            assert finding.message and finding.fix

    def test_it_keeps_django_and_the_sdk_out_of_the_verifier(self) -> None:
        imported: set[str] = set()
        for source in VERIFY_PACKAGE.glob("*.py"):
            for node in ast.walk(ast.parse(source.read_text())):
                if isinstance(node, ast.Import):
                    imported |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    imported.add((node.module or "").split(".")[0])

        assert imported
        assert not imported & {"django", "dify_plugin"}


@pytest.mark.parametrize("name", CORPUS_PLUGINS)
def test_it_reports_no_error_on_a_real_corpus_plugin(
    restored_corpus: Path, name: str
) -> None:
    findings = verify(read_folder(restored_corpus / name))

    assert [f.as_dict() for f in errors_of(findings)] == []
    assert "verifier.internal" not in rules_of(findings)


class TestTheCorpusDefects:
    @pytest.fixture(scope="class")
    @classmethod
    def found(cls, restored_corpus: Path) -> dict[str, list[Finding]]:
        return {n: verify(read_folder(restored_corpus / n)) for n in CORPUS_PLUGINS}

    def test_it_warns_about_regolos_mis_indented_position_file(
        self, found: dict[str, list[Finding]]
    ) -> None:
        regolo = found["regolo"]

        assert where(regolo, "position.folded-item") == [
            ("models/llm/_position.yaml", 1)
        ]
        assert RULES["position.folded-item"].severity == "warning"

    def test_it_warns_about_regolos_duplicate_model_id(
        self, found: dict[str, list[Finding]]
    ) -> None:
        assert where(found["regolo"], "model.name.duplicate") == [
            ("models/text_embedding/text-embedding-3-small.yaml", 1)
        ]

    def test_it_warns_about_upstages_colour_language_and_python(
        self, found: dict[str, list[Finding]]
    ) -> None:
        upstage = found["upstage"]

        assert where(upstage, "provider.background.invalid") == [
            ("provider/upstage.yaml", 1)
        ]
        assert where(upstage, "i18n.unknown-language") == [
            ("models/llm/solar-1-mini-chat.yaml", 5)
        ]
        assert where(upstage, "manifest.runner.version") == [("manifest.yaml", 15)]

    def test_it_warns_about_omitted_required_in_oci(
        self, found: dict[str, list[Finding]]
    ) -> None:
        assert where(found["oci"], "provider.credential.required-implicit") == [
            ("provider/oci.yaml", 70),
            ("provider/oci.yaml", 82),
            ("provider/oci.yaml", 94),
            ("provider/oci.yaml", 105),
        ]

    def test_it_treats_ocis_orphan_with_duplicate_keys_as_a_warning(
        self, found: dict[str, list[Finding]]
    ) -> None:
        oci = found["oci"]

        assert ("models/llm/oci.yaml", None) in where(oci, "package.orphan-yaml")
        assert "yaml.duplicate-key" not in rules_of(oci)
        assert where(oci, "provider.unknown-key") == [("provider/oci.yaml", 2)]

    def test_it_warns_about_position_names_of_unknown_models_in_bedrock(
        self, found: dict[str, list[Finding]]
    ) -> None:
        bedrock = found["bedrock"]

        assert where(bedrock, "position.unknown-model") == [
            ("models/llm/_position.yaml", 1),
            ("models/llm/_position.yaml", 2),
            ("models/llm/_position.yaml", 3),
            ("models/llm/_position.yaml", 5),
        ]
        assert rules_of(bedrock)["package.orphan-yaml"] == 25
        assert ("models/llm/anthropic-claude.yaml", 92) in where(
            bedrock, "model.unknown-key"
        )

    def test_it_warns_about_geminis_zero_pricing_unit(
        self, found: dict[str, list[Finding]]
    ) -> None:
        assert where(found["gemini"], "model.pricing.unit-zero") == [
            ("models/text_embedding/embedding-001.yaml", 9),
            ("models/text_embedding/text-embedding-004.yaml", 9),
        ]

    def test_it_allows_repeated_variables_told_apart_by_show_on(
        self, found: dict[str, list[Finding]]
    ) -> None:
        compatible = rules_of(found["openai_api_compatible"])

        assert compatible["provider.credential.duplicate-variable"] == 0
        assert compatible["provider.credential.too-many"] == 1
        assert compatible["provider.credential.model-type-in-provider"] == 0

    def test_it_notes_the_bom_and_the_generated_requirements(
        self, found: dict[str, list[Finding]]
    ) -> None:
        assert where(found["fishaudio"], "yaml.bom") == [("provider/fishaudio.yaml", 1)]
        for name in CORPUS_PLUGINS:
            assert rules_of(found[name])["package.requirements.generated"] == 1

    def test_it_warns_about_unknown_pricing_keys_in_tongyi(
        self, found: dict[str, list[Finding]]
    ) -> None:
        tongyi = [f for f in found["tongyi"] if f.rule == "model.unknown-key"]

        assert tongyi and all("tiered_pricing" in f.message for f in tongyi)


def _echo_with(path: str, text: str) -> PluginFiles:
    files = make_echo_files()
    files[path] = text.encode()
    return files


GARBAGE: list[PluginFiles] = [
    {},
    {"manifest.yaml": b""},
    {"manifest.yaml": b"\xff\xfe\x00bad"},
    {"manifest.yaml": b"[unclosed"},
    {"manifest.yaml": b"- a\n- b\n"},
    {"manifest.yaml": b"plugins: [a]\nmeta: 5\nresource: x\nlabel: 5\n"},
    {"manifest.yaml": b"plugins:\n  models: [5, null, [x], {a: b}]\n"},
    {"manifest.yaml": b"a: &a [*a]\n"},
    {"manifest.yaml": b"x: " + b"[" * 200 + b"]" * 200 + b"\n"},
    {
        "manifest.yaml": b"a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\n"
        b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c]\n"
        b"e: &e [*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e]\n"
    },
    {"manifest.yaml": b"? [a, b]\n: c\n1: 2\ntrue: x\n~: y\n"},
    {"manifest.yaml": b"created_at: 5\nversion: [1]\nauthor: {a: b}\nname: 5\n"},
    {"manifest.yaml": b"!!python/object:os.system ls\n"},
    _echo_with("provider/echo.yaml", "models: [a]\nlabel: 5\n"),
    _echo_with("provider/echo.yaml", "models: 5\nextra: [1]\nhelp: 5\n"),
    _echo_with("provider/echo.yaml", "provider: [x]\nmodels:\n  llm: 5\n  tts: null\n"),
    _echo_with(
        "provider/echo.yaml",
        "models:\n  llm:\n    predefined: [5, null]\n    position: {a: b}\n"
        "extra:\n  python:\n    provider_source: [x]\n    model_sources: {a: 1}\n",
    ),
    _echo_with(
        "provider/echo.yaml",
        "provider_credential_schema:\n  credential_form_schemas: x\n"
        "model_credential_schema: [1]\nsupported_model_types: {a: 1}\n",
    ),
    _echo_with(
        "provider/echo.yaml",
        "provider_credential_schema:\n  credential_form_schemas:\n"
        "    - 5\n    - null\n    - variable: [x]\n      options: 5\n      show_on: x\n"
        "    - variable: y\n      options: [5, {value: [1]}, {label: 3}]\n"
        "      show_on: [5, {variable: {a: 1}}]\n      default: [1]\n",
    ),
    _echo_with("models/llm/echo-1.yaml", "parameter_rules: {}\nfeatures: 5\n"),
    _echo_with(
        "models/llm/echo-1.yaml",
        "model: [1]\nmodel_type: {a: b}\nparameter_rules: [5, null, [1], {name: {}}]\n"
        "pricing: [1]\nmodel_properties: [a]\nlabel: []\n",
    ),
    _echo_with(
        "models/llm/echo-1.yaml",
        "model: x\nmodel_type: llm\nmodel_properties: {mode: [1], context_size: x}\n"
        "parameter_rules:\n  - {name: a, type: int, default: {}, min: x, max: []}\n"
        "  - {name: b, use_template: [1], options: x}\n"
        "  - {name: c, type: string, options: [[1]], default: 5}\n"
        "pricing: {input: {}, output: x, unit: .nan, currency: 5}\n",
    ),
    _echo_with("models/llm/echo-1.yaml", "\x00binary"),
    _echo_with("models/llm/_position.yaml", "{a: [b]}\n"),
    _echo_with("models/llm/_position.yaml", "- [a]\n- {b: c}\n- null\n"),
    _echo_with("main.py", "\x00\x01 not python"),
    _echo_with("provider/echo.py", "def (:\n"),
    _echo_with("pyproject.toml", "[[[\n"),
    _echo_with("pyproject.toml", "[project]\nrequires-python = 5\ndependencies = 7\n"),
    _echo_with("requirements.txt", "\xff"),
]


class TestGarbage:
    @pytest.mark.parametrize("files", GARBAGE, ids=range(len(GARBAGE)))
    def test_it_turns_garbage_into_findings_without_raising(
        self, files: PluginFiles
    ) -> None:
        findings = verify(files)

        assert findings
        assert "verifier.internal" not in rules_of(findings)
        assert all(f.rule in RULES for f in findings)

    def test_it_survives_random_damage_to_every_yaml_file(self) -> None:
        rng = random.Random(20260821)
        base = make_echo_files()
        yaml_paths = [p for p in base if p.endswith(".yaml")]
        junk = [
            "",
            ":",
            "- ",
            "[",
            "{",
            "'",
            "&a ",
            "*a",
            "\t",
            "?",
            "5",
            "~",
            "!!str ",
        ]
        internal = []
        for _ in range(400):
            files = dict(base)
            path = rng.choice(yaml_paths)
            lines = files[path].decode().splitlines(keepends=True)
            for _ in range(rng.randint(1, 3)):
                i = rng.randrange(len(lines))
                action = rng.randrange(3)
                if action == 0:
                    del lines[i]
                elif action == 1:
                    lines[i] = rng.choice(junk) + lines[i]
                else:
                    cut = rng.randrange(len(lines[i]) + 1)
                    lines[i] = lines[i][:cut] + rng.choice(junk) + lines[i][cut:]
                if not lines:
                    lines = ["\n"]
            files[path] = "".join(lines).encode()
            findings = verify(files)
            internal += [f.message for f in findings if f.rule == "verifier.internal"]

        assert internal == []

    def test_it_accepts_str_contents_and_ignores_non_file_entries(self) -> None:
        files = {k: v.decode("utf-8") for k, v in make_echo_files().items()}

        assert verify(files) == []  # type: ignore[arg-type]
        assert rules_of(verify(None))["manifest.missing"] == 1  # type: ignore[arg-type]
