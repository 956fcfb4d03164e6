"""Every error rule, proven by breaking a valid plugin in exactly one way."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from studio.pluginfmt import readers
from studio.pluginfmt.files import PluginFiles, ReadFiles
from studio.pluginfmt.verify import RULES, verify

from .test_verify import errors_of, make_echo_files, read_folder, where

MANIFEST = "manifest.yaml"
PROVIDER = "provider/echo.yaml"
MODEL = "models/llm/echo-1.yaml"
POSITION = "models/llm/_position.yaml"


def edit(path: str, old: str, new: str) -> Callable[[PluginFiles], None]:
    """A break that replaces the one occurrence of `old` in `path`."""

    def apply(files: PluginFiles) -> None:
        text = files[path].decode()
        assert text.count(old) == 1, f"{old!r} must occur once in {path}"
        files[path] = text.replace(old, new).encode()

    return apply


def append(path: str, text: str) -> Callable[[PluginFiles], None]:
    """A break that adds `text` at the end of `path`."""

    def apply(files: PluginFiles) -> None:
        files[path] = files[path] + text.encode()

    return apply


def write(path: str, content: str | bytes) -> Callable[[PluginFiles], None]:
    """A break that (over)writes a whole file."""

    def apply(files: PluginFiles) -> None:
        files[path] = content.encode() if isinstance(content, str) else content

    return apply


def delete(path: str) -> Callable[[PluginFiles], None]:
    """A break that removes a file."""

    def apply(files: PluginFiles) -> None:
        del files[path]

    return apply


def directory_entries(*names: str) -> Callable[[PluginFiles], None]:
    """A break that makes the files a package read with these directory entries."""

    def apply(files: PluginFiles) -> None:
        assert isinstance(files, ReadFiles), "the harness reads files as ReadFiles"
        files.directory_entries = list(names)

    return apply


def both(*steps: Callable[[PluginFiles], None]) -> Callable[[PluginFiles], None]:
    """One logical break made of several edits (e.g. a rename and its file)."""

    def apply(files: PluginFiles) -> None:
        for step in steps:
            step(files)

    return apply


@dataclass(frozen=True)
class Break:
    rule: str
    apply: Callable[[PluginFiles], None]
    file: str
    line: int | None


LONG = "provider/" + "p" * 130 + ".yaml"

BREAKS = [
    # YAML level
    Break(
        "yaml.syntax",
        edit(PROVIDER, "  en_US: Echo\n", "  en_US: [Echo\n"),
        PROVIDER,
        4,
    ),
    Break(
        "yaml.duplicate-key",
        append(MODEL, "deprecated: false\ndeprecated: true\n"),
        MODEL,
        23,
    ),
    Break(
        "value.not-string",
        edit(MANIFEST, 'version: "3.12"', "version: 3.12"),
        MANIFEST,
        23,
    ),
    Break(
        "i18n.type", edit(PROVIDER, "  en_US: Echo\n", "  en_US: [Echo]\n"), PROVIDER, 3
    ),
    Break(
        "i18n.value-not-string",
        edit(PROVIDER, "  en_US: Echo\n", "  en_US: 5\n"),
        PROVIDER,
        3,
    ),
    Break(
        "i18n.en-us-missing",
        edit(PROVIDER, "  en_US: Echo\n", "  zh_Hans: Echo\n"),
        PROVIDER,
        2,
    ),
    # manifest.yaml
    Break("manifest.missing", delete(MANIFEST), MANIFEST, None),
    Break("manifest.not-mapping", write(MANIFEST, "- echo\n"), MANIFEST, 1),
    Break(
        "manifest.field-type",
        edit(MANIFEST, "memory: 268435456", "memory: lots"),
        MANIFEST,
        11,
    ),
    Break("manifest.required", edit(MANIFEST, "icon: icon.svg\n", ""), MANIFEST, 1),
    Break(
        "manifest.version.format",
        edit(MANIFEST, "version: 0.0.1\ntype", "version: '1.0'\ntype"),
        MANIFEST,
        1,
    ),
    Break(
        "manifest.version.pep440",
        edit(MANIFEST, "version: 0.0.1\ntype", "version: 0.0.1-foo\ntype"),
        MANIFEST,
        1,
    ),
    Break(
        "manifest.type.invalid",
        edit(MANIFEST, "type: plugin", "type: bundle"),
        MANIFEST,
        2,
    ),
    Break(
        "manifest.author.pattern",
        edit(MANIFEST, "author: studio", "author: Studio"),
        MANIFEST,
        3,
    ),
    Break(
        "manifest.author.uuid",
        edit(
            MANIFEST, "author: studio", "author: 0b5a3c1e-7d6f-4e2a-9c8b-1f2e3d4c5b6a"
        ),
        MANIFEST,
        3,
    ),
    Break(
        "manifest.name.pattern", edit(MANIFEST, "name: echo", "name: Echo"), MANIFEST, 4
    ),
    Break(
        "manifest.i18n.en-us-missing",
        edit(MANIFEST, "  en_US: Echo\n", '  en_US: ""\n'),
        MANIFEST,
        6,
    ),
    Break(
        "manifest.i18n.too-long",
        edit(MANIFEST, "Echo test model plugin", "x" * 1024),
        MANIFEST,
        8,
    ),
    Break(
        "manifest.icon.too-long",
        both(
            edit(MANIFEST, "icon: icon.svg", f"icon: {'i' * 125}.svg"),
            write(f"_assets/{'i' * 125}.svg", b"<svg/>"),
        ),
        MANIFEST,
        9,
    ),
    Break(
        "manifest.icon.missing-file",
        edit(MANIFEST, "icon: icon.svg", "icon: logo.svg"),
        MANIFEST,
        9,
    ),
    Break(
        "manifest.icon-dark.missing-file",
        edit(MANIFEST, "icon: icon.svg\n", "icon: icon.svg\nicon_dark: dark.svg\n"),
        MANIFEST,
        10,
    ),
    Break(
        "manifest.resource.memory",
        edit(MANIFEST, "memory: 268435456", "memory: 0"),
        MANIFEST,
        11,
    ),
    Break(
        "manifest.storage.size",
        edit(
            MANIFEST,
            "permission: {}",
            "permission: {storage: {enabled: true, size: 10}}",
        ),
        MANIFEST,
        12,
    ),
    Break(
        "manifest.plugins.no-provider",
        edit(MANIFEST, "  models:\n    - provider/echo.yaml\n", "  models: []\n"),
        MANIFEST,
        14,
    ),
    Break(
        "manifest.plugins.mixed-categories",
        both(
            edit(
                MANIFEST, "plugins:\n", "plugins:\n  endpoints:\n    - endpoint.yaml\n"
            ),
            write("endpoint.yaml", "settings: []\n"),
        ),
        MANIFEST,
        14,
    ),
    Break(
        "manifest.plugins.file-missing",
        edit(MANIFEST, "- provider/echo.yaml", "- provider/other.yaml"),
        MANIFEST,
        15,
    ),
    Break(
        "manifest.plugins.path-too-long",
        both(
            edit(MANIFEST, "- provider/echo.yaml", f"- {LONG}"),
            lambda files: files.__setitem__(LONG, files.pop(PROVIDER)),
        ),
        MANIFEST,
        15,
    ),
    Break(
        "manifest.meta-version.format",
        edit(MANIFEST, "  version: 0.0.1\n  arch", "  version: v1\n  arch"),
        MANIFEST,
        17,
    ),
    Break("manifest.arch.invalid", edit(MANIFEST, "- arm64", "- x86"), MANIFEST, 20),
    Break(
        "manifest.runner.language",
        edit(MANIFEST, "language: python", "language: go"),
        MANIFEST,
        22,
    ),
    Break(
        "manifest.minimum-dify-version.pep440",
        edit(
            MANIFEST,
            "    entrypoint: main\n",
            "    entrypoint: main\n  minimum_dify_version: latest\n",
        ),
        MANIFEST,
        25,
    ),
    Break(
        "manifest.created-at.invalid",
        edit(MANIFEST, "created_at: 2026-01-01T00:00:00Z", "created_at: yesterday"),
        MANIFEST,
        25,
    ),
    Break(
        "manifest.repo.url",
        edit(MANIFEST, "repo: https://github.com/studio/echo", "repo: my repo"),
        MANIFEST,
        27,
    ),
    Break("manifest.tags.unknown", append(MANIFEST, "tags:\n  - llm\n"), MANIFEST, 30),
    # provider YAML
    Break("provider.not-mapping", write(PROVIDER, "- echo\n"), PROVIDER, 1),
    Break(
        "provider.field-type",
        edit(PROVIDER, "supported_model_types:\n  - llm", "supported_model_types: llm"),
        PROVIDER,
        6,
    ),
    Break(
        "provider.required",
        edit(PROVIDER, "configurate_methods:\n  - predefined-model\n", ""),
        PROVIDER,
        1,
    ),
    Break(
        "provider.model-types.invalid",
        edit(PROVIDER, "  - llm\n", "  - text_embedding\n"),
        PROVIDER,
        7,
    ),
    Break(
        "provider.configurate-methods.invalid",
        edit(PROVIDER, "  - predefined-model\n", "  - fetch-from-remote\n"),
        PROVIDER,
        9,
    ),
    Break(
        "provider.help.incomplete",
        append(PROVIDER, "help:\n  title:\n    en_US: Get a key\n"),
        PROVIDER,
        27,
    ),
    Break(
        "provider.icon.missing-file",
        edit(PROVIDER, "  en_US: icon.svg", "  en_US: small.svg"),
        PROVIDER,
        5,
    ),
    Break(
        "provider.icon-dark.missing-file",
        append(PROVIDER, "icon_small_dark:\n  en_US: dark.svg\n"),
        PROVIDER,
        28,
    ),
    Break(
        "provider.credential-schema.no-forms",
        append(
            PROVIDER,
            "model_credential_schema:\n  model:\n    label:\n      en_US: Model\n",
        ),
        PROVIDER,
        27,
    ),
    Break(
        "provider.model-schema.no-model",
        append(PROVIDER, "model_credential_schema:\n  credential_form_schemas: []\n"),
        PROVIDER,
        27,
    ),
    Break(
        "provider.models.not-mapping",
        edit(
            PROVIDER,
            "models:\n  llm:\n    predefined:\n      - models/llm/*.yaml\n"
            "    position: models/llm/_position.yaml\n",
            "models: [models/llm/echo-1.yaml]\n",
        ),
        PROVIDER,
        17,
    ),
    Break(
        "provider.models.entry-invalid",
        edit(
            PROVIDER,
            "predefined:\n      - models/llm/*.yaml",
            "predefined: models/llm/*.yaml",
        ),
        PROVIDER,
        19,
    ),
    Break(
        "provider.models.position-missing",
        edit(
            PROVIDER,
            "position: models/llm/_position.yaml",
            "position: models/llm/order.yaml",
        ),
        PROVIDER,
        21,
    ),
    # credential forms
    Break(
        "provider.credential.variable-missing",
        edit(PROVIDER, "- variable: api_key\n      label:", "- label:"),
        PROVIDER,
        12,
    ),
    Break(
        "provider.credential.label-missing",
        edit(PROVIDER, "      label:\n        en_US: API Key\n", ""),
        PROVIDER,
        12,
    ),
    Break(
        "provider.credential.type-invalid",
        edit(PROVIDER, "type: secret-input", "type: password"),
        PROVIDER,
        15,
    ),
    Break(
        "provider.credential.default-not-string",
        edit(
            PROVIDER,
            "      required: true\n",
            "      required: true\n      default: 5\n",
        ),
        PROVIDER,
        17,
    ),
    Break(
        "provider.credential.option-invalid",
        edit(
            PROVIDER,
            "type: secret-input",
            "type: select\n      default: a\n      options:\n"
            "        - label:\n            en_US: A",
        ),
        PROVIDER,
        18,
    ),
    Break(
        "provider.credential.show-on-invalid",
        edit(
            PROVIDER,
            "      required: true\n",
            "      required: true\n      show_on:\n        - variable: api_key\n",
        ),
        PROVIDER,
        18,
    ),
    # model YAML
    Break("model.empty", write(MODEL, ""), MODEL, None),
    Break("model.not-mapping", write(MODEL, "- echo-1\n"), MODEL, 1),
    Break(
        "model.field-type",
        edit(MODEL, "features:\n  - agent-thought", "features: agent-thought"),
        MODEL,
        5,
    ),
    Break("model.name.missing", edit(MODEL, "model: echo-1\n", ""), MODEL, 1),
    Break("model.model-type.missing", edit(MODEL, "model_type: llm\n", ""), MODEL, 1),
    Break(
        "model.model-type.invalid",
        edit(MODEL, "model_type: llm", "model_type: multimodal-embedding"),
        MODEL,
        4,
    ),
    Break(
        "model.fetch-from.invalid",
        append(MODEL, "fetch_from: fetch-from-remote\n"),
        MODEL,
        22,
    ),
    Break(
        "model.feature.unknown", edit(MODEL, "- agent-thought", "- thinking"), MODEL, 6
    ),
    Break(
        "model.properties.missing",
        edit(MODEL, "model_properties:\n  mode: chat\n  context_size: 4096\n", ""),
        MODEL,
        1,
    ),
    Break(
        "model.properties.unknown-key",
        edit(
            MODEL,
            "  context_size: 4096\n",
            "  context_size: 4096\n  max_output_tokens: 8192\n",
        ),
        MODEL,
        10,
    ),
    Break(
        "model.parameter.name-missing",
        edit(MODEL, "  - name: temperature\n    use_template", "  - use_template"),
        MODEL,
        11,
    ),
    Break(
        "model.parameter.template-unknown",
        edit(MODEL, "use_template: temperature", "use_template: temp"),
        MODEL,
        12,
    ),
    Break(
        "model.parameter.type-missing",
        edit(MODEL, "    use_template: temperature\n", ""),
        MODEL,
        11,
    ),
    Break(
        "model.parameter.type-invalid",
        edit(MODEL, "use_template: temperature", "type: double"),
        MODEL,
        12,
    ),
    Break(
        "model.pricing.missing-field", edit(MODEL, "  currency: USD\n", ""), MODEL, 17
    ),
    Break(
        "model.pricing.invalid-decimal",
        edit(MODEL, "input: '0.001'", "input: cheap"),
        MODEL,
        18,
    ),
    # position files
    Break("position.invalid", write(POSITION, "llm:\n  - echo-1\n"), POSITION, 1),
    Break(
        "position.invalid-sdk",
        both(
            edit(PROVIDER, "    position: models/llm/_position.yaml\n", ""),
            write(POSITION, "- echo-1\n- 1.5\n"),
        ),
        POSITION,
        2,
    ),
    # Python sources
    Break("python.entrypoint.missing", delete("main.py"), MANIFEST, 24),
    Break(
        "python.syntax",
        write("provider/echo.py", "class EchoProvider(:\n    pass\n"),
        "provider/echo.py",
        1,
    ),
    Break(
        "python.provider-source.missing",
        edit(PROVIDER, "    provider_source: provider/echo.py\n", ""),
        PROVIDER,
        23,
    ),
    Break(
        "python.provider-source.not-found",
        edit(
            PROVIDER,
            "provider_source: provider/echo.py",
            "provider_source: provider/main.py",
        ),
        PROVIDER,
        24,
    ),
    Break(
        "python.provider.no-subclass",
        write(
            "provider/echo.py",
            "from dify_plugin import ModelProvider\n\n\nclass Echo:\n    pass\n",
        ),
        "provider/echo.py",
        1,
    ),
    Break(
        "python.provider.multiple-subclasses",
        append("provider/echo.py", "\nfrom dify_plugin import OAICompatProvider\n"),
        "provider/echo.py",
        10,
    ),
    Break(
        "python.model-sources.type",
        edit(
            PROVIDER,
            "model_sources:\n      - models/llm/llm.py",
            "model_sources: models/llm/llm.py",
        ),
        PROVIDER,
        25,
    ),
    Break(
        "python.model-source.not-found",
        edit(PROVIDER, "- models/llm/llm.py", "- models/llm/chat.py"),
        PROVIDER,
        26,
    ),
    # package contents
    Break(
        "package.assets.missing",
        delete("_assets/icon.svg"),
        "_assets/",
        None,
    ),
    Break(
        "package.requirements.missing",
        delete("requirements.txt"),
        "requirements.txt",
        None,
    ),
    Break(
        "package.requirements.no-sdk",
        write("requirements.txt", "requests>=2\n"),
        "requirements.txt",
        None,
    ),
    Break(
        "package.pyproject.invalid",
        write("pyproject.toml", '[project]\nname = "echo\n'),
        "pyproject.toml",
        2,
    ),
    Break(
        "package.pyproject.requires-python",
        write(
            "pyproject.toml",
            '[project]\nname = "echo"\nrequires-python = ">=3.13"\n'
            'dependencies = ["dify_plugin>=0.10.0,<0.11.0"]\n',
        ),
        "pyproject.toml",
        3,
    ),
    Break(
        "package.directory-entry",
        directory_entries("models/", "models/llm/", "_assets/"),
        "models/",
        None,
    ),
    Break(
        "package.size.limit",
        write("_assets/video.bin", b"\0" * (51 * 1024 * 1024)),
        "",
        None,
    ),
]


def test_it_proves_every_error_rule_of_the_catalogue() -> None:
    error_rules = {r.id for r in RULES.values() if r.severity == "error"}

    assert sorted({b.rule for b in BREAKS}) == sorted(error_rules)
    assert all(RULES[b.rule].severity == "error" for b in BREAKS)


@pytest.mark.parametrize("case", BREAKS, ids=[b.rule for b in BREAKS])
def test_it_reports_exactly_the_broken_rule(case: Break) -> None:
    files = ReadFiles(make_echo_files())
    case.apply(files)

    findings = verify(files)

    assert [(f.rule, f.file, f.line) for f in errors_of(findings)] == [
        (case.rule, case.file, case.line)
    ]


class TestBreakingARealPlugin:
    def test_it_finds_an_unknown_template_in_a_deepseek_model(
        self, corpus_copy: Callable[[str], Path]
    ) -> None:
        root = corpus_copy("deepseek")
        path = root / "models/llm/deepseek-v4-flash.yaml"
        text = path.read_text()
        path.write_text(
            text.replace("use_template: temperature", "use_template: temp", 1)
        )
        line = text.splitlines().index("    use_template: temperature") + 1

        errors = errors_of(verify(read_folder(root)))

        assert [(f.rule, f.file, f.line) for f in errors] == [
            (
                "model.parameter.template-unknown",
                "models/llm/deepseek-v4-flash.yaml",
                line,
            )
        ]

    def test_it_finds_a_mapping_position_file_in_regolo(
        self, corpus_copy: Callable[[str], Path]
    ) -> None:
        root = corpus_copy("regolo")
        (root / "models/llm/_position.yaml").write_text("order:\n  - Phi-4\n")

        errors = errors_of(verify(read_folder(root)))

        assert [(f.rule, f.file, f.line) for f in errors] == [
            ("position.invalid", "models/llm/_position.yaml", 1)
        ]

    def test_it_finds_duplicate_keys_once_a_glob_loads_ocis_orphan(
        self, corpus_copy: Callable[[str], Path]
    ) -> None:
        root = corpus_copy("oci")
        provider = root / "provider/oci.yaml"
        provider.write_text(
            provider.read_text().replace(
                "      - models/llm/models/xai/*.yaml\n",
                "      - models/llm/models/xai/*.yaml\n      - models/llm/*.yaml\n",
            )
        )

        findings = verify(read_folder(root))

        assert where(findings, "yaml.duplicate-key") == [
            ("models/llm/oci.yaml", 17),
            ("models/llm/oci.yaml", 19),
        ]
        # oci.yaml is an old provider declaration, so it is no model either.
        assert {f.rule for f in errors_of(findings)} == {
            "yaml.duplicate-key",
            "model.name.missing",
            "model.model-type.missing",
            "model.properties.missing",
        }

    def test_it_finds_a_numeric_credential_default_in_bedrock(
        self, corpus_copy: Callable[[str], Path]
    ) -> None:
        root = corpus_copy("bedrock")
        provider = root / "provider/bedrock.yaml"
        text = provider.read_text()
        provider.write_text(text.replace('default: "4096"', "default: 4096", 1))
        line = text.splitlines().index('      default: "4096"') + 1

        errors = errors_of(verify(read_folder(root)))

        assert [(f.rule, f.file, f.line) for f in errors] == [
            ("provider.credential.default-not-string", "provider/bedrock.yaml", line)
        ]


SECOND_KEY = """\
    - variable: api_key
      label:
        en_US: Other key
      type: text-input
      required: false
"""

WARNINGS = [
    Break(
        "provider.credential.required-implicit",
        edit(PROVIDER, "      required: true\n", ""),
        PROVIDER,
        12,
    ),
    Break(
        "provider.credential.duplicate-variable",
        edit(PROVIDER, "      required: true\n", "      required: true\n" + SECOND_KEY),
        PROVIDER,
        17,
    ),
    Break(
        "provider.credential.model-type-in-provider",
        edit(
            PROVIDER,
            "      required: true\n",
            "      required: true\n      show_on:\n"
            "        - variable: __model_type\n          value: llm\n",
        ),
        PROVIDER,
        18,
    ),
    Break(
        "provider.credential.show-on-unknown-variable",
        edit(
            PROVIDER,
            "      required: true\n",
            "      required: true\n      show_on:\n"
            "        - variable: region\n          value: eu\n",
        ),
        PROVIDER,
        18,
    ),
    Break(
        "provider.models.unknown-key",
        edit(PROVIDER, "models:\n  llm:", "models:\n  text-embedding: {}\n  llm:"),
        PROVIDER,
        18,
    ),
    Break(
        "provider.models.glob-recursive",
        edit(PROVIDER, "- models/llm/*.yaml", "- models/**/*.yaml"),
        PROVIDER,
        20,
    ),
    Break(
        "provider.models.position-not-globbed",
        edit(PROVIDER, "- models/llm/*.yaml", "- models/llm/echo-*.yaml"),
        PROVIDER,
        21,
    ),
    Break(
        "provider.models.position-undeclared",
        edit(PROVIDER, "    position: models/llm/_position.yaml\n", ""),
        PROVIDER,
        18,
    ),
    Break(
        "provider.background.invalid",
        append(PROVIDER, "background: '#FFFFF'\n"),
        PROVIDER,
        27,
    ),
    Break(
        "model.model-type.mismatch",
        both(
            edit(MODEL, "model_type: llm", "model_type: rerank"),
            edit(PROVIDER, "  - llm\n", "  - llm\n  - rerank\n"),
        ),
        MODEL,
        4,
    ),
    Break(
        "model.name.duplicate",
        write("models/llm/echo-2.yaml", make_echo_files()[MODEL]),
        "models/llm/echo-2.yaml",
        1,
    ),
    Break("model.unknown-key", append(MODEL, "visible: true\n"), MODEL, 22),
    Break(
        "model.pricing.unit-zero",
        edit(MODEL, "unit: '0.001'", "unit: '0.000'"),
        MODEL,
        20,
    ),
    Break(
        "model.parameter.range", edit(MODEL, "default: 256", "default: 8192"), MODEL, 15
    ),
    Break(
        "i18n.unknown-language",
        edit(MODEL, "  en_US: Echo 1\n", "  en_US: Echo 1\n  ko_KR: Echo 1\n"),
        MODEL,
        4,
    ),
    Break(
        "manifest.runner.version",
        edit(MANIFEST, 'version: "3.12"', 'version: "3.10"'),
        MANIFEST,
        23,
    ),
    Break("manifest.unknown-key", append(MANIFEST, "lable: Echo\n"), MANIFEST, 29),
    Break(
        "manifest.privacy.missing",
        edit(MANIFEST, "privacy: PRIVACY.md\n", ""),
        MANIFEST,
        1,
    ),
    Break(
        "position.folded-item", write(POSITION, "- echo-1\n - echo-2\n"), POSITION, 1
    ),
    Break(
        "position.unknown-model", write(POSITION, "- echo-1\n- echo-9\n"), POSITION, 2
    ),
    Break(
        "python.model-source.shallow",
        both(
            edit(PROVIDER, "- models/llm/llm.py", "- llm.py"),
            lambda f: f.__setitem__("llm.py", f.pop("models/llm/llm.py")),
        ),
        PROVIDER,
        26,
    ),
    Break(
        "python.model-class.import-order",
        append(
            "models/llm/llm.py",
            "\nfrom dify_plugin import OAICompatLargeLanguageModel\n",
        ),
        "models/llm/llm.py",
        18,
    ),
    Break(
        "package.env-file", write(".env", "REMOTE_INSTALL_KEY=secret\n"), ".env", None
    ),
    Break(
        "package.junk",
        write("provider/__pycache__/echo.cpython-312.pyc", b"\0"),
        "provider/__pycache__/",
        None,
    ),
    Break(
        "package.orphan-yaml",
        write("models/extra/old.yaml", "model: old\n"),
        "models/extra/old.yaml",
        None,
    ),
]


@pytest.mark.parametrize("case", WARNINGS, ids=[b.rule for b in WARNINGS])
def test_it_warns_without_an_error(case: Break) -> None:
    files = make_echo_files()
    case.apply(files)

    findings = verify(files)

    assert RULES[case.rule].severity == "warning"
    assert (case.file, case.line) in where(findings, case.rule)
    assert errors_of(findings) == []


class TestNotesAndSilence:
    def test_it_notes_each_file_read_through_a_link_naming_its_target(
        self,
    ) -> None:
        files = ReadFiles(
            make_echo_files(),
            links={
                "README.md": "/src/plugins/README.md",
                "_assets/icon.svg": "_assets/icon-l.svg",
            },
        )

        findings = verify(files)

        assert [(f.rule, f.severity, f.file, f.value) for f in findings] == [
            ("package.symlink", "info", "README.md", "/src/plugins/README.md"),
            ("package.symlink", "info", "_assets/icon.svg", "_assets/icon-l.svg"),
        ]
        assert "README.md is a symbolic link to /src/plugins/README.md" in (
            findings[0].message
        )

    def test_it_names_the_first_directory_entry_and_counts_the_others(
        self,
    ) -> None:
        files = ReadFiles(
            make_echo_files(), directory_entries=["models/", "models/llm/", "_assets/"]
        )

        [finding] = verify(files)

        assert (finding.rule, finding.severity, finding.file) == (
            "package.directory-entry",
            "error",
            "models/",
        )
        assert finding.value == ["models/", "models/llm/", "_assets/"]
        assert "directory entry models/ (and 2 others)" in finding.message
        assert "package decode failed" in finding.message
        assert "plugin package" in finding.fix and "zip -r -D" in finding.fix

    def test_plain_files_carry_neither_links_nor_directory_entries(self) -> None:
        assert verify(make_echo_files()) == []

    def test_it_notes_that_the_packager_generates_requirements(self) -> None:
        files = make_echo_files()
        del files["requirements.txt"]
        files["pyproject.toml"] = (
            b'[project]\nname = "echo"\nrequires-python = ">=3.12"\n'
            b'dependencies = ["dify_plugin>=0.10.0,<0.11.0"]\n'
        )
        files["uv.lock"] = b"version = 1\n"

        findings = verify(files)

        assert [(f.rule, f.severity) for f in findings] == [
            ("package.requirements.generated", "info")
        ]

    def test_it_ignores_an_env_file_that_difyignore_leaves_out(self) -> None:
        files = make_echo_files()
        files[".env"] = b"REMOTE_INSTALL_KEY=secret\n"
        files["provider/__pycache__/echo.cpython-312.pyc"] = b"\0"
        files[".difyignore"] = b".env\n__pycache__/\n"

        assert verify(files) == []

    def test_it_allows_repeated_variables_with_different_show_on(self) -> None:
        files = make_echo_files()
        edit(
            PROVIDER,
            "      required: true\n",
            "      required: true\n"
            "    - variable: region\n      label:\n        en_US: Region\n"
            "      type: select\n      required: true\n      options:\n"
            "        - value: eu\n          label:\n            en_US: EU\n"
            "        - value: us\n          label:\n            en_US: US\n"
            + SECOND_KEY.replace(
                "      required: false\n",
                "      required: false\n"
                "      show_on:\n        - variable: region\n          value: eu\n",
            )
            + SECOND_KEY.replace(
                "      required: false\n",
                "      required: false\n"
                "      show_on:\n        - variable: region\n          value: us\n",
            ),
        )(files)

        assert verify(files) == []


class TestProviderClasses:
    @pytest.mark.parametrize(
        "source",
        [
            "import dify_plugin\n\n\nclass Echo(dify_plugin.ModelProvider):\n"
            "    pass\n",
            "from dify_plugin import ModelProvider as Base\n\n\nclass Echo(Base):\n"
            "    pass\n",
            "from dify_plugin import ModelProvider\n\n\n"
            "class _Base(ModelProvider):\n    pass\n",
            "from provider.common import CommonProvider\n\n\n"
            "class Echo(CommonProvider):\n    pass\n",
            "from provider.base import *\n",
        ],
        ids=["attribute", "alias", "private-name", "local-base", "star-import"],
    )
    def test_it_accepts_one_provider_class_however_it_is_written(
        self, source: str
    ) -> None:
        files = make_echo_files()
        files["provider/echo.py"] = source.encode()

        assert verify(files) == []

    def test_it_counts_an_imported_sdk_provider_next_to_the_subclass(self) -> None:
        files = make_echo_files()
        files["provider/echo.py"] = (
            b"from dify_plugin import OAICompatProvider\n\n\n"
            b"class EchoProvider(OAICompatProvider):\n    pass\n"
        )

        findings = verify(files)

        assert where(findings, "python.provider.multiple-subclasses") == [
            ("provider/echo.py", 4)
        ]
        assert findings[0].value == ["EchoProvider", "OAICompatProvider"]


class TestWhatTheReaderSaw:
    """The readers tell the verifier about links and directory entries."""

    def test_a_package_read_with_directory_entries_has_the_error(self) -> None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(zipfile.ZipInfo("models/"), b"")
            zf.writestr(zipfile.ZipInfo("models/llm/"), b"")
            for path, content in sorted(make_echo_files().items()):
                zf.writestr(path, content)

        findings = verify(readers.read_package(buf.getvalue()))

        assert [(f.rule, f.file, f.value) for f in errors_of(findings)] == [
            ("package.directory-entry", "models/", ["models/", "models/llm/"])
        ]
        assert "(and 1 other);" in findings[0].message

    def test_a_folder_read_through_a_link_has_the_note(self, tmp_path: Path) -> None:
        shared = tmp_path / "PRIVACY.md"
        shared.write_bytes(make_echo_files()["PRIVACY.md"])
        root = tmp_path / "echo"
        for path, content in make_echo_files().items():
            if path != "PRIVACY.md":
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                (root / path).write_bytes(content)
        (root / "PRIVACY.md").symlink_to("../PRIVACY.md")

        findings = verify(readers.read_folder(root))

        assert [(f.rule, f.severity, f.file, f.value) for f in findings] == [
            ("package.symlink", "info", "PRIVACY.md", str(shared))
        ]
        assert "outside the plugin folder" in findings[0].message
