"""What the Marketplace asks of `repo`, `contact` and `privacy`: the shared
judgement, the verifier's rules and what a new plugin is scaffolded with."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from studio.pluginfmt import marketplace
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.scaffold import (
    CUSTOM,
    OPENAI_COMPATIBLE,
    NewPlugin,
    link_source,
    scaffold,
)
from studio.pluginfmt.verify import RULES, verify
from studio.pluginfmt.yamlio import load_yaml

from .test_verify import make_echo_files, where
from .test_verify_rules import edit, write

MANIFEST = "manifest.yaml"
REPO = "https://github.com/studio/echo"
CONTACT = "echo@example.com"


class TestRepoProblem:
    @pytest.mark.parametrize(
        "url",
        [
            "https://github.com/acme/gateway",
            "https://www.github.com/acme/gateway",
            "https://GitLab.com/group/sub/project",
            "https://bitbucket.org/acme/gateway",
            "https://gitee.com/acme/gateway",
            "https://codeberg.org/acme/gateway",
            "https://git.sr.ht/~acme/gateway",
            "https://gitlab.anchnet.com/ai/plugin",
        ],
    )
    def test_it_takes_a_repository_on_each_admitted_host(self, url: str) -> None:
        assert marketplace.repo_problem(url, https_only=True) == ""

    @pytest.mark.parametrize(
        ("url", "words"),
        [
            ("https://example.com/acme/gateway", "not on example.com"),
            ("https://github.com.evil.example/acme/x", "not on github.com.evil"),
            ("https://evilgithub.com/acme/x", "not on evilgithub.com"),
            ("https://github.com/", "repository's address"),
            ("https://github.com", "repository's address"),
            ("http://github.com/acme/gateway", "https://"),
            ("ftp://github.com/acme/gateway", "https://"),
            ("github.com/acme/gateway", "https://"),
            ("https://token:x@github.com/acme/gateway", "passwords"),
            ("https://github.com:8443/acme/gateway", "ports"),
            ('https://github.com/acme/"x"', "repository's address"),
            ("https://github.com/acme/gate way", "repository's address"),
            ("https://[::1/acme", "not a valid URL"),
        ],
    )
    def test_the_forms_refuse_what_is_no_admitted_https_repository(
        self, url: str, words: str
    ) -> None:
        assert words in marketplace.repo_problem(url, https_only=True)

    def test_the_verifier_takes_http_as_the_marketplace_does(self) -> None:
        assert marketplace.repo_problem("http://github.com/acme/gateway") == ""
        assert marketplace.repo_problem("ftp://github.com/acme/gateway") != ""


class TestContactAndPrivacy:
    @pytest.mark.parametrize(
        ("value", "ok"),
        [
            ("dev@acme.example", True),
            ("first.last+plugins@mail.acme.co.uk", True),
            ("dev@localhost", False),
            ("dev at acme.example", False),
            ("dev@acme.example, ops@acme.example", False),
            ("<dev@acme.example>", False),
            ("dev@[127.0.0.1]", False),
            ("a" * 250 + "@x.example", False),
        ],
    )
    def test_an_email_is_one_plain_address(self, value: str, ok: bool) -> None:
        assert marketplace.is_email(value) is ok

    @pytest.mark.parametrize(
        ("value", "words"),
        [
            ("PRIVACY.md", ""),
            ("./docs/privacy-policy.md", ""),
            ("legal/PRIVACY.txt", ""),
            ("../PRIVACY.md", "inside the plugin"),
            ("docs/../../PRIVACY.md", "inside the plugin"),
            ("/etc/passwd.md", "relative path"),
            ("..\\PRIVACY.md", "relative path"),
            ("docs//PRIVACY.md", "inside the plugin"),
            (".github/PRIVACY.md", "no leading dot"),
            ("docs/PRIVACY.md\x00", "letters, digits"),
            ("main.py", "Markdown (.md) or text (.txt)"),
            ("d/" * 70 + "P.md", "at most 128"),
        ],
    )
    def test_a_privacy_path_stays_inside_the_package(
        self, value: str, words: str
    ) -> None:
        problem = marketplace.privacy_path_problem(value)
        assert (words in problem) if words else problem == ""

    def test_only_a_safe_path_names_a_privacy_file(self) -> None:
        assert marketplace.privacy_file("./docs/p.md") == "docs/p.md"
        assert marketplace.privacy_file("https://acme.example/p.md") is None
        assert marketplace.privacy_file("../p.md") is None


def echo_with(*steps: Callable[[PluginFiles], None]) -> PluginFiles:
    files = make_echo_files()
    for step in steps:
        step(files)
    return files


class TestVerifierRules:
    def test_the_marketplace_keys_are_no_unknown_keys(self) -> None:
        files = echo_with(edit(MANIFEST, f"contact: {CONTACT}", "contact:\n  email: x"))

        findings = verify(files)

        assert where(findings, "manifest.unknown-key") == []
        assert [f.rule for f in findings] == ["manifest.contact.email"]

    def test_an_echo_plugin_with_all_three_has_no_finding(self) -> None:
        files = make_echo_files()
        manifest = files[MANIFEST].decode()
        assert "privacy: PRIVACY.md" in manifest and f"repo: {REPO}" in manifest
        assert f"contact: {CONTACT}" in manifest
        assert verify(files) == []

    @pytest.mark.parametrize(
        ("rule", "step", "line"),
        [
            ("manifest.repo.missing", edit(MANIFEST, f"repo: {REPO}\n", ""), 1),
            ("manifest.repo.missing", edit(MANIFEST, f"repo: {REPO}", "repo: ''"), 27),
            (
                "manifest.contact.missing",
                edit(MANIFEST, f"contact: {CONTACT}\n", ""),
                1,
            ),
        ],
        ids=["repo-absent", "repo-empty", "contact-absent"],
    )
    def test_a_missing_key_is_an_info_hint(
        self, rule: str, step: Callable[[PluginFiles], None], line: int
    ) -> None:
        findings = verify(echo_with(step))

        assert RULES[rule].severity == "info"
        assert RULES[rule].layer == "marketplace"
        assert [(f.rule, f.line) for f in findings] == [(rule, line)]

    @pytest.mark.parametrize(
        ("rule", "step", "line"),
        [
            (
                "manifest.repo.host",
                edit(MANIFEST, REPO, "https://example.com/studio/echo"),
                27,
            ),
            ("manifest.repo.host", edit(MANIFEST, REPO, "https://github.com/"), 27),
            ("manifest.contact.email", edit(MANIFEST, CONTACT, "echo at example"), 28),
            ("manifest.contact.email", edit(MANIFEST, CONTACT, "42"), 28),
            (
                "manifest.privacy.url",
                edit(MANIFEST, "privacy: PRIVACY.md", "privacy: ftp://x.example/p"),
                26,
            ),
            (
                "manifest.privacy.outside",
                edit(MANIFEST, "privacy: PRIVACY.md", "privacy: ../PRIVACY.md"),
                26,
            ),
            (
                "manifest.privacy.outside",
                edit(MANIFEST, "privacy: PRIVACY.md", "privacy: /etc/PRIVACY.md"),
                26,
            ),
            (
                "manifest.privacy.template",
                write(
                    "PRIVACY.md", "# Privacy\n\nPlease fill in the privacy policy.\n"
                ),
                26,
            ),
            (
                "manifest.privacy.file-missing",
                edit(MANIFEST, "privacy: PRIVACY.md", "privacy: docs/PRIVACY.md"),
                26,
            ),
        ],
        ids=lambda value: value if isinstance(value, str) else "",
    )
    def test_a_value_the_marketplace_refuses_is_a_warning(
        self, rule: str, step: Callable[[PluginFiles], None], line: int
    ) -> None:
        findings = verify(echo_with(step))

        assert RULES[rule].severity == "warning"
        assert [(f.rule, f.line) for f in findings] == [(rule, line)]

    @pytest.mark.parametrize(
        "value",
        [
            "http://github.com/studio/echo",
            "https://www.gitlab.com/group/sub/echo",
            "https://acme.example/privacy",
        ],
    )
    def test_what_the_marketplace_takes_gives_no_finding(self, value: str) -> None:
        key = "privacy" if "acme" in value else "repo"
        old = "privacy: PRIVACY.md" if key == "privacy" else f"repo: {REPO}"
        assert verify(echo_with(edit(MANIFEST, old, f"{key}: {value}"))) == []


def new_plugin(**fields: object) -> NewPlugin:
    values: dict = {
        "author": "acme",
        "name": "gateway",
        "label": {"en_US": "Gateway"},
        "description": {"en_US": "Every model behind one key"},
        "model_types": ["llm", "text-embedding"],
        "configurate_methods": ["predefined-model", "customizable-model"],
    }
    values.update(fields)
    return NewPlugin(**values)


def sections(readme: str) -> list[str]:
    return re.findall(r"^## (.+)$", readme, re.MULTILINE)


class TestScaffoldForTheMarketplace:
    def test_it_writes_repo_contact_privacy_and_a_minimum_dify_version(self) -> None:
        files = scaffold(new_plugin(repo=REPO, contact=CONTACT))
        manifest = load_yaml(files[MANIFEST]).data

        assert (manifest["privacy"], manifest["repo"], manifest["contact"]) == (
            "PRIVACY.md",
            REPO,
            CONTACT,
        )
        assert list(manifest)[-3:] == ["privacy", "repo", "contact"]
        assert manifest["meta"]["minimum_dify_version"] == "1.4.0"
        assert [f for f in verify(files) if f.rule.startswith("manifest.")] == []

    def test_a_dark_icon_asks_for_dify_1_6(self) -> None:
        svg = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
        files = scaffold(new_plugin(icon_dark=("icon-dark.svg", svg)))
        meta = load_yaml(files[MANIFEST]).data["meta"]

        assert meta["minimum_dify_version"] == "1.6.0"

    def test_blank_repo_and_contact_stay_out_of_the_manifest(self) -> None:
        files = scaffold(new_plugin(privacy=""))
        manifest = load_yaml(files[MANIFEST]).data

        assert {"repo", "contact", "privacy"}.isdisjoint(manifest)
        assert "PRIVACY.md" in files  # the Marketplace looks for it regardless
        assert b"Source code" not in files["README.md"]
        assert {f.rule for f in verify(files) if f.layer == "marketplace"} == {
            "manifest.privacy.missing",
            "manifest.repo.missing",
            "manifest.contact.missing",
        }

    @pytest.mark.parametrize("runtime", [OPENAI_COMPATIBLE, CUSTOM])
    def test_the_readme_has_what_reviewers_read_and_links_the_source(
        self, runtime: str
    ) -> None:
        readme = scaffold(new_plugin(runtime=runtime, repo=REPO, contact=CONTACT))[
            "README.md"
        ].decode()

        assert sections(readme) == [
            "Setup",
            "Credentials",
            "Usage",
            "Connection",
            "Source and support",
        ]
        # The validator's keyword sweeps (setup, usage, credentials, connection).
        lower = readme.lower()
        assert "install" in lower and "usage" in lower
        assert "credential" in lower and "endpoint" in lower
        assert f"- Source code: <{REPO}>" in readme
        assert f"- Contact: <{CONTACT}>" in readme
        assert "- Privacy policy: [PRIVACY.md](PRIVACY.md)" in readme
        assert not re.search(r"[\u3400-\u9fff]", readme)

    def test_the_privacy_policy_answers_and_a_chosen_path_gets_it(self) -> None:
        files = scaffold(new_plugin(privacy="docs/privacy.md", contact=CONTACT))
        policy = files["docs/privacy.md"].decode()

        assert files["PRIVACY.md"] == files["docs/privacy.md"]
        assert marketplace.PRIVACY_TEMPLATE_MARKER not in policy.lower()
        for words in ("sends", "stores nothing", "collect", "Third parties", CONTACT):
            assert words in policy
        assert load_yaml(files[MANIFEST]).data["privacy"] == "docs/privacy.md"

    def test_a_privacy_path_never_overwrites_a_generated_file(self) -> None:
        files = scaffold(new_plugin(privacy="README.md"))

        assert files["README.md"].startswith(b"# Gateway\n")

    def test_a_privacy_url_is_named_in_the_policy_file(self) -> None:
        url = "https://acme.example/privacy"
        files = scaffold(new_plugin(privacy=url))

        assert load_yaml(files[MANIFEST]).data["privacy"] == url
        assert f"published at <{url}>".encode() in files["PRIVACY.md"]
        assert f"[{url}]({url})".encode() in files["README.md"]

    def test_requirements_pin_the_sdk_as_the_dependency_check_wants(self) -> None:
        line = scaffold(new_plugin())["requirements.txt"].decode().strip()
        floor = re.search(r">=\s*(\d+)\.(\d+)\.(\d+)", line)

        # A floor of at least 0.9.0 through `>=` and an upper bound: neither
        # the "below 0.9.0" error nor the "only a lower bound" warning.
        assert line.startswith("dify_plugin>=")
        assert floor and tuple(map(int, floor.groups())) >= (0, 9, 0)
        assert ",<" in line


class TestLinkSource:
    def test_it_adds_a_line_to_the_scaffolds_section(self) -> None:
        readme = scaffold(new_plugin(contact=CONTACT))["README.md"].decode()

        linked = link_source(readme, old="", new=REPO)

        assert f"## Source and support\n\n- Source code: <{REPO}>\n- Contact:" in (
            linked
        )

    def test_it_replaces_the_old_link_where_it_stands(self) -> None:
        old = "https://gitlab.com/acme/old"
        text = f"# X\n\nCode: [here]({old}).\n"

        assert link_source(text, old=old, new=REPO) == f"# X\n\nCode: [here]({REPO}).\n"

    def test_it_appends_a_section_to_a_readme_of_its_own(self) -> None:
        assert (
            link_source("# X", old="", new=REPO)
            == f"# X\n\n## Source code\n\n<{REPO}>\n"
        )

    def test_a_readme_that_links_it_already_is_left_alone(self) -> None:
        text = f"# X\n\nSee {REPO}.\n"

        assert link_source(text, old="https://gitlab.com/a/b", new=REPO) == text
