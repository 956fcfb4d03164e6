"""The Marketplace pre-check's static rules: each with a passing and a failing
package (the install test's two rules are in test_precheck_install.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.package import package
from studio.pluginfmt.precheck import (
    MAX_PER_RULE,
    RULE_ORIGINS,
    RULES,
    check_files,
    not_checked,
    precheck,
)
from studio.pluginfmt.precheck.manifest import TEMPLATE_ICON
from studio.pluginfmt.scaffold.tree import DEFAULT_ICON
from studio.pluginfmt.verify import Finding
from tests.pluginfmt.precheck_plugins import (
    READY_README,
    changed,
    ready_plugin,
    with_manifest,
)

INSTALL_RULES = {"marketplace.requirements-install", "marketplace.serverless-start"}
CLEAN_LLM = "class Clean:\n    def answer(self) -> str:\n        return 'ok'\n"
# Shaped like a key, not one: the vendor tier matches the prefix and length.
FAKE_OPENAI_KEY = "sk-" + "A1b2C3d4" * 4


@dataclass
class Case:
    """One rule: how to make a package fail it, and where the finding points."""

    rule: str
    failing: Callable[[], PluginFiles]
    where: str
    passing: Callable[[], PluginFiles] = ready_plugin
    options: dict[str, Any] = field(default_factory=dict)
    passing_options: dict[str, Any] | None = None


def readme(text: str) -> Callable[[], PluginFiles]:
    return lambda: changed(ready_plugin(), {"README.md": text})


def requirements(text: str) -> Callable[[], PluginFiles]:
    return lambda: changed(ready_plugin(), {"requirements.txt": text})


def extra(path: str, content: str | bytes) -> Callable[[], PluginFiles]:
    return lambda: changed(ready_plugin(), {path: content})


def manifest(**changes: Any) -> Callable[[], PluginFiles]:
    return lambda: with_manifest(ready_plugin(), **changes)


PYPROJECT = """\
[project]
name = "gateway"
version = "0.0.1"
requires-python = ">=3.12"
dependencies = ["dify_plugin>=0.10.0,<0.11.0"]
"""

CASES = [
    Case("marketplace.author-reserved", manifest(author="difyhub"), "manifest.yaml"),
    Case("marketplace.icon-missing", manifest(icon="missing.svg"), "manifest.yaml"),
    Case(
        "marketplace.icon-template",
        extra(
            "_assets/icon.svg",
            "<svg><!-- DIFY_MARKETPLACE_TEMPLATE_ICON_DO_NOT_USE --></svg>",
        ),
        "_assets/icon.svg",
    ),
    Case(
        "marketplace.icon-default",
        # The template's icon with its whitespace changed is still the template's.
        extra("_assets/icon.svg", TEMPLATE_ICON.replace(b"\n  ", b"\n\t")),
        "_assets/icon.svg",
    ),
    Case(
        "marketplace.icon-studio-default",
        extra("_assets/icon.svg", DEFAULT_ICON),
        "_assets/icon.svg",
    ),
    Case(
        "marketplace.packaging",
        extra("provider/gateway.yaml", "provider: [unclosed\n"),
        "provider/gateway.yaml",
    ),
    Case(
        "marketplace.version-exists",
        ready_plugin,
        "manifest.yaml",
        options={"released_versions": ["0.0.1"]},
        passing_options={"released_versions": ["0.0.0"]},
    ),
    Case(
        "marketplace.version-not-newer",
        ready_plugin,
        "manifest.yaml",
        options={"released_versions": ["0.0.0", "0.1.0"]},
        passing_options={"released_versions": ["0.0.0"]},
    ),
    Case(
        "marketplace.official-author",
        ready_plugin,
        "manifest.yaml",
        options={"profile": "official"},
        passing=manifest(author="langgenius"),
        passing_options={"profile": "official"},
    ),
    Case(
        "marketplace.official-pyproject",
        ready_plugin,
        "pyproject.toml",
        options={"profile": "official"},
        passing=extra("pyproject.toml", PYPROJECT),
        passing_options={"profile": "official"},
    ),
    Case("marketplace.manifest-field", manifest(meta__arch=None), "manifest.yaml"),
    Case(
        "marketplace.manifest-privacy",
        lambda: changed(
            ready_plugin(),
            {"PRIVACY.md": "Please fill in the privacy policy of the plugin."},
        ),
        "PRIVACY.md",
    ),
    Case(
        "marketplace.privacy-disclosure",
        extra("PRIVACY.md", "# Privacy\n\nWe respect you.\n"),
        "PRIVACY.md",
    ),
    Case(
        "marketplace.manifest-repo",
        manifest(repo="https://example.com/acme/gateway"),
        "manifest.yaml",
    ),
    Case("marketplace.manifest-contact", manifest(contact="acme"), "manifest.yaml"),
    Case(
        "marketplace.minimum-dify-version",
        manifest(meta__minimum_dify_version=None),
        "manifest.yaml",
    ),
    Case("marketplace.readme-missing", readme("  \n"), "README.md"),
    Case(
        "marketplace.readme-source-link",
        readme(READY_README.replace("https://github.com/acme/gateway", "our site")),
        "README.md",
    ),
    Case(
        "marketplace.readme-english",
        readme(READY_README + "\n模型插件的说明。\n"),
        "README.md",
        # CJK text in a code block is an example, not prose.
        passing=readme(READY_README + "\n```\n模型插件\n```\n"),
    ),
    Case(
        "marketplace.readme-locale-name",
        extra("README_zh.md", "# 网关\n"),
        "README_zh.md",
        passing=extra("README.zh_Hans.md", "# 网关\n"),
    ),
    Case(
        "marketplace.readme-sections",
        readme(READY_README.split("## Connection")[0].replace("base URL", "URL")),
        "README.md",
    ),
    Case("marketplace.contents-blocked", extra(".git/config", "[core]\n"), ".git/"),
    Case("marketplace.contents-review", extra("dist/notes.txt", "x\n"), "dist/"),
    Case(
        "marketplace.contents-size",
        ready_plugin,
        "",
        options={"package_size": 51 * 1024 * 1024},
        passing_options={"package_size": 40 * 1024},
    ),
    Case(
        "marketplace.secret",
        extra("tools/settings.py", f'OPENAI = "{FAKE_OPENAI_KEY}"\n'),
        "tools/settings.py",
    ),
    Case(
        "marketplace.secret-review",
        extra("config.yaml", "api_key: aaaabbbbccccdddd\n"),
        "config.yaml",
        passing=extra("config.yaml", "api_key: <YOUR_API_KEY>\nmax_tokens: 4096\n"),
    ),
    Case(
        "marketplace.binary",
        extra("bin/helper", b"\x7fELF\x02\x01\x01" + bytes(64)),
        "bin/helper",
    ),
    Case(
        "marketplace.binary-review",
        extra("scripts/run.sh", "#!/bin/sh\n"),
        "scripts/run.sh",
    ),
    Case(
        "marketplace.dependency-source",
        requirements(
            "dify_plugin>=0.10.0,<0.11.0\nhelper @ git+https://github.com/a/b\n"
        ),
        "requirements.txt",
    ),
    Case(
        "marketplace.dependency-unpinned",
        requirements("dify_plugin>=0.10.0,<0.11.0\nhttpx\n"),
        "requirements.txt",
    ),
    Case(
        "marketplace.dependency-sdk-floor",
        requirements("dify_plugin>=0.8.0,<0.9.0\n"),
        "requirements.txt",
    ),
    Case(
        "marketplace.dependency-lower-bound",
        requirements("dify_plugin>=0.10.0\n"),
        "requirements.txt",
    ),
    Case(
        "marketplace.dependency-local",
        requirements("dify_plugin>=0.10.0,<0.11.0\n-e ./vendor/lib\n"),
        "requirements.txt",
    ),
    Case(
        "marketplace.dependency-large",
        requirements("dify_plugin>=0.10.0,<0.11.0\ntorch>=2.5,<3\n"),
        "requirements.txt",
    ),
    Case(
        "marketplace.compileall",
        extra("tools/broken.py", "def (:\n"),
        "tools/broken.py",
    ),
    Case(
        "marketplace.requests-timeout",
        extra(
            "tools/fetch.py",
            "import requests as rq\n\n\ndef fetch(url):\n    return rq.get(url)\n",
        ),
        "tools/fetch.py",
        passing=extra(
            "tools/fetch.py",
            "import requests as rq\n\n\ndef fetch(url):\n"
            "    return rq.get(url, timeout=10)\n",
        ),
    ),
    Case(
        "marketplace.credential-exposure",
        lambda: changed(
            ready_plugin(),
            {
                "models/llm/llm.py": CLEAN_LLM,
                "tools/log.py": "import logging\n\nlogger = logging.getLogger()\n\n\n"
                "def show(api_key):\n    logger.info('key %s', api_key)\n",
            },
        ),
        "tools/log.py",
        # The generated runtime hands credentials on to the SDK, which the
        # validator's name-based sweep flags too.
        passing=lambda: changed(ready_plugin(), {"models/llm/llm.py": CLEAN_LLM}),
    ),
    Case(
        "marketplace.financial-activity",
        readme(READY_README + "\nIt can also process payments for your shop.\n"),
        "README.md",
    ),
]


def findings(rule: str, files: PluginFiles, **options: Any) -> list[Finding]:
    return [f for f in check_files(files, **options) if f.rule == rule]


class TestEveryRule:
    def test_every_rule_but_the_install_tests_has_a_case_here(self) -> None:
        assert sorted({c.rule for c in CASES} | INSTALL_RULES) == sorted(RULES)

    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
    def test_the_passing_package_has_no_finding_of_the_rule(self, case: Case) -> None:
        options = case.options if case.passing_options is None else case.passing_options
        assert findings(case.rule, case.passing(), **options) == []

    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
    def test_the_failing_package_is_reported_with_file_severity_and_fix(
        self, case: Case
    ) -> None:
        found = findings(case.rule, case.failing(), **case.options)
        rule = RULES[case.rule]

        assert found, case.rule
        assert found[0].file == case.where
        assert {f.severity for f in found} == {rule.severity}
        assert {f.layer for f in found} == {"marketplace"}
        assert all(f.fix and f.message for f in found)
        assert RULE_ORIGINS[case.rule] in {
            "ci",
            "official-ci",
            "validator",
            "reviewers",
        }


class TestReadyPlugin:
    def test_a_studio_plugin_with_repo_contact_and_own_icon_blocks_nothing(
        self,
    ) -> None:
        found = check_files(ready_plugin())

        assert [f for f in found if f.severity == "error"] == []
        assert {f.rule for f in found} <= {"marketplace.credential-exposure"}

    def test_the_studio_scaffold_with_repo_contact_and_an_own_icon_blocks_nothing(
        self,
    ) -> None:
        # As authored in the studio: the new-plugin form's repository and
        # contact, the scaffolded README, PRIVACY.md and requirements, and the
        # author's own icon uploaded; nothing else touched.
        from studio.pluginfmt.scaffold import scaffold
        from tests.factories import make_new_plugin
        from tests.pluginfmt.precheck_plugins import OWN_ICON

        files = scaffold(make_new_plugin())
        files["_assets/icon.svg"] = OWN_ICON

        assert [f.rule for f in check_files(files) if f.severity == "error"] == []

    def test_the_studio_scaffold_with_repo_and_contact_blocks_only_on_its_icon(
        self,
    ) -> None:
        from studio.pluginfmt.scaffold import scaffold
        from tests.factories import make_new_plugin

        blocking = {
            f.rule
            for f in check_files(scaffold(make_new_plugin()))
            if f.severity == "error"
        }

        # Reviewers refuse the placeholder icon: the author uploads their own.
        assert blocking == {"marketplace.icon-studio-default"}

    def test_the_studio_scaffold_without_them_fails_repo_contact_and_source_link(
        self,
    ) -> None:
        from studio.pluginfmt.scaffold import scaffold
        from tests.factories import make_new_plugin

        blocking = {
            f.rule
            for f in check_files(scaffold(make_new_plugin(repo="", contact="")))
            if f.severity == "error"
        }

        assert blocking == {
            "marketplace.manifest-repo",
            "marketplace.manifest-contact",
            "marketplace.icon-studio-default",
            "marketplace.readme-source-link",
        }


class TestDetails:
    def test_the_author_check_is_a_substring_match(self) -> None:
        for author in ("dify", "difyhub", "my-dify-tools", "langgenius-fan"):
            assert findings(
                "marketplace.author-reserved",
                with_manifest(ready_plugin(), author=author),
            ), author

    def test_an_official_plugin_may_be_by_langgenius(self) -> None:
        files = with_manifest(ready_plugin(), author="langgenius")

        assert findings("marketplace.author-reserved", files, profile="official") == []
        assert findings("marketplace.author-reserved", files) != []

    def test_a_missing_dark_icon_is_reported_too(self) -> None:
        files = with_manifest(ready_plugin(), icon_dark="dark.svg")

        [found] = findings("marketplace.icon-missing", files)
        assert found.value == "_assets/dark.svg"
        assert (
            found.line
            == files["manifest.yaml"].decode().splitlines().index("icon_dark: dark.svg")
            + 1
        )

    def test_a_privacy_url_still_needs_privacy_md_in_the_package(self) -> None:
        url = with_manifest(ready_plugin(), privacy="https://acme.example/privacy")
        without_file = changed(url, {"PRIVACY.md": None})

        assert findings("marketplace.manifest-privacy", url) == []
        [found] = findings("marketplace.manifest-privacy", without_file)
        assert found.file == "PRIVACY.md"

    @pytest.mark.parametrize(
        "privacy",
        ["ftp://acme.example/p", "../PRIVACY.md", "/etc/PRIVACY.md", "NOPE.md"],
    )
    def test_a_privacy_reference_outside_or_missing_is_refused(
        self, privacy: str
    ) -> None:
        files = with_manifest(ready_plugin(), privacy=privacy)

        [found] = findings("marketplace.manifest-privacy", files)
        assert found.value == privacy

    @pytest.mark.parametrize(
        "repo",
        [
            "https://gitlab.com/acme/gateway",
            "https://www.github.com/acme/gateway",
            "https://codeberg.org/acme/gateway",
            "https://git.sr.ht/~acme/gateway",
        ],
    )
    def test_allowed_source_hosts_pass(self, repo: str) -> None:
        assert (
            findings(
                "marketplace.manifest-repo", with_manifest(ready_plugin(), repo=repo)
            )
            == []
        )

    def test_a_repo_with_text_around_the_url_is_refused(self) -> None:
        files = with_manifest(
            ready_plugin(), repo="see https://github.com/acme/gateway"
        )

        assert findings("marketplace.manifest-repo", files) != []

    def test_a_version_is_compared_as_a_version_not_as_text(self) -> None:
        files = with_manifest(ready_plugin(), version="0.10.0")

        assert (
            findings(
                "marketplace.version-not-newer", files, released_versions=["0.9.0"]
            )
            == []
        )
        [older] = findings(
            "marketplace.version-not-newer",
            files,
            released_versions=["0.9.0", "0.11.0"],
        )
        assert older.value == {"version": "0.10.0", "last_release": "0.11.0"}

    def test_code_that_reads_a_credential_is_not_a_secret(self) -> None:
        files = changed(
            ready_plugin(),
            {"tools/read.py": 'api_key_value = credentials.get("api_key")\n'},
        )

        assert findings("marketplace.secret", files) == []
        assert findings("marketplace.secret-review", files) == []

    def test_a_secret_is_masked_in_the_message(self) -> None:
        files = changed(
            ready_plugin(), {".env.example": f"OPENAI_API_KEY={FAKE_OPENAI_KEY}\n"}
        )

        [found] = findings("marketplace.secret", files)
        assert FAKE_OPENAI_KEY not in found.message
        assert "sk-A...C3d4" in found.message
        assert found.line == 1

    def test_an_env_example_ships_but_an_env_file_does_not(self) -> None:
        assert findings("marketplace.contents-blocked", ready_plugin()) == []
        files = changed(ready_plugin(), {".env": "INSTALL_METHOD=remote\n"})
        assert [f.file for f in findings("marketplace.contents-blocked", files)] == [
            ".env"
        ]

    def test_a_compile_error_names_its_line(self) -> None:
        files = changed(ready_plugin(), {"tools/broken.py": "x = 1\n\nreturn 2\n"})

        [found] = findings("marketplace.compileall", files)
        assert found.line == 3

    def test_many_findings_of_one_rule_are_capped_with_a_count(self) -> None:
        lines = "".join(f"pkg{i}\n" for i in range(MAX_PER_RULE + 5))
        files = changed(
            ready_plugin(), {"requirements.txt": "dify_plugin>=0.10,<0.11\n" + lines}
        )

        found = findings("marketplace.dependency-unpinned", files)
        assert len(found) == MAX_PER_RULE + 1
        assert found[-1].message == "… and 5 more of this rule."
        assert found[-1].value == MAX_PER_RULE + 5

    def test_blocking_findings_come_first(self) -> None:
        found = check_files(
            with_manifest(ready_plugin(), repo=None, meta__minimum_dify_version=None)
        )

        severities = [f.severity for f in found]
        assert severities == sorted(severities, key=lambda s: s != "error")
        assert "error" in severities and "warning" in severities

    def test_an_unreadable_manifest_is_one_finding_not_a_crash(self) -> None:
        files = changed(ready_plugin(), {"manifest.yaml": b"\xff\xfe not yaml"})

        rules = {f.rule for f in check_files(files)}
        assert "marketplace.manifest-field" in rules
        assert "verifier.internal" not in rules


class TestPrecheckOfAPackage:
    def test_without_the_install_test_the_report_says_it_was_skipped(self) -> None:
        report = precheck(package(ready_plugin()), install=False)

        assert report.ok is True
        assert report.install is None
        assert report.plugin == "acme/gateway:0.0.1"
        assert any("install test" in note for note in report.not_checked)
        data = report.as_dict()
        assert data["blocking"] == 0
        assert data["install"] is None

    def test_the_packaged_plugin_is_checked_as_the_marketplace_unpacks_it(self) -> None:
        # .difyignore keeps .env out of the package, so it is not reported.
        files = changed(ready_plugin(), {".env": "INSTALL_METHOD=remote\n"})

        report = precheck(package(files), install=False)

        assert [
            f for f in report.findings if f.rule == "marketplace.contents-blocked"
        ] == []

    def test_official_adds_the_pull_request_notes(self) -> None:
        notes = not_checked("official", install=True)

        assert any("## Release Notes" in note for note in notes)
        assert not any("install test" in note for note in notes)
