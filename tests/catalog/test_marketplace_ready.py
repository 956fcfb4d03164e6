"""A plugin authored in the studio with a repository and a contact passes the
Marketplace gate's blocking rules, verifies with exit 0 and starts under the SDK."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from studio.catalog import services
from studio.catalog.models import Provider
from studio.pluginfmt.package import package
from studio.pluginfmt.readers import read_package
from studio.pluginfmt.render import render_tree
from studio.pluginfmt.scaffold import NewPlugin, scaffold
from tests.catalog.marketplace_gate import blocking_problems
from tests.catalog.test_models_views import form_data, new_url
from tests.pluginfmt.echo_plugin import SDK_CACHE

pytestmark = pytest.mark.django_db

REPO = "https://github.com/acme/gateway"
CONTACT = "plugins@acme.example"


def plugin_command(*args: str) -> tuple[int, str]:
    """Run `manage.py plugin …` in-process; (exit status, stdout)."""
    out = io.StringIO()
    try:
        call_command("plugin", *args, stdout=out, stderr=io.StringIO())
        status = 0
    except SystemExit as exc:
        status = int(exc.code or 0)
    return status, out.getvalue()


def author_in_the_studio(client: Any, **fields: str) -> Provider:
    """Create a plugin through the new-provider form and add one model."""
    response = client.post(
        reverse("catalog:provider-new"),
        {
            "name": "gateway",
            "author": "acme",
            "label_en_US": "Gateway",
            "description_en_US": "Every model of the Acme gateway behind one key",
            "model_types": ["llm"],
            "configurate_methods": ["predefined-model", "customizable-model"],
            "runtime": "openai-compatible",
            "privacy": "PRIVACY.md",
            **fields,
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    provider = Provider.objects.get(name="gateway")
    response = client.post(
        new_url(provider), form_data(provider, "gw-chat", pricing_input="0.5")
    )
    assert response.status_code == 302
    provider.refresh_from_db()
    return provider


class TestMarketplaceReadyAuthoring:
    def test_it_passes_the_gate_verifies_and_starts_under_the_sdk(
        self, client: Any, personas: Any, sdk_python: Path, settings: Any, tmp_path
    ) -> None:
        settings.SMOKE_VENV_DIR = SDK_CACHE
        client.force_login(personas.bob)
        provider = author_in_the_studio(client, repo=REPO, contact=CONTACT)

        built = tmp_path / "acme-gateway.difypkg"
        built.write_bytes(package(services.provider_files(provider)))
        files = read_package(built.read_bytes())
        manifest = yaml.safe_load(files["manifest.yaml"])

        assert blocking_problems(files) == []
        assert (manifest["repo"], manifest["contact"], manifest["privacy"]) == (
            REPO,
            CONTACT,
            "PRIVACY.md",
        )
        assert manifest["meta"]["minimum_dify_version"] == "1.4.0"
        assert f"<{REPO}>".encode() in files["README.md"]
        folder = tmp_path / "unpacked"
        render_tree(files, folder)
        status, report = plugin_command("verify", str(folder))
        assert status == 0, report
        assert "manifest.unknown-key" not in report
        status, report = plugin_command("smoke", str(built), "--json")
        assert status == 0, report
        checks = {c["name"]: c["status"] for c in json.loads(report)["checks"]}
        assert checks["starts"] == "passed"
        assert checks["invoke_llm"] == "passed"

    def test_the_same_plugin_without_them_fails_the_gate_on_exactly_those(
        self, client: Any, personas: Any
    ) -> None:
        client.force_login(personas.bob)
        provider = author_in_the_studio(client)

        files = read_package(package(services.provider_files(provider)))

        assert blocking_problems(files) == [
            "missing required field: repo",
            "missing required field: contact",
            "README.md links no source repository",
        ]


GOOD = scaffold(
    NewPlugin(
        author="acme",
        name="gateway",
        label={"en_US": "Gateway"},
        description={"en_US": "The gateway"},
        model_types=["llm"],
        configurate_methods=["customizable-model"],
        repo=REPO,
        contact=CONTACT,
    )
)


def manifest_edit(old: str, new: str) -> Callable[[dict[str, bytes]], None]:
    def apply(files: dict[str, bytes]) -> None:
        text = files["manifest.yaml"].decode()
        assert text.count(old) == 1, old
        files["manifest.yaml"] = text.replace(old, new).encode()

    return apply


def put(path: str, content: bytes | None) -> Callable[[dict[str, bytes]], None]:
    def apply(files: dict[str, bytes]) -> None:
        if content is None:
            del files[path]
        else:
            files[path] = content

    return apply


def both(*steps: Callable[[dict[str, bytes]], None]) -> Callable[..., None]:
    def apply(files: dict[str, bytes]) -> None:
        for step in steps:
            step(files)

    return apply


class TestTheGateItself:
    """The test-only gate refuses what the Marketplace refuses (so it can fail)."""

    def test_a_scaffold_with_repo_and_contact_passes(self) -> None:
        assert blocking_problems(GOOD) == []

    @pytest.mark.parametrize(
        ("breaking", "problem"),
        [
            (manifest_edit("author: acme", "author: difyhub"), "author contains"),
            (manifest_edit(REPO, "https://example.com/acme/gateway"), "repo is not"),
            (manifest_edit(CONTACT, "plugins at acme"), "contact is not"),
            (manifest_edit("privacy: PRIVACY.md", "privacy: ../x.md"), "outside"),
            (
                put("PRIVACY.md", b"Please fill in the privacy policy."),
                "the template",
            ),
            (
                both(
                    manifest_edit(
                        "privacy: PRIVACY.md", "privacy: https://acme.example/p"
                    ),
                    put("PRIVACY.md", None),
                ),
                "missing required file: PRIVACY.md",
            ),
            (put("_assets/icon.svg", None), "icon file missing"),
            (
                put(
                    "_assets/icon.svg",
                    b"<svg>DIFY_MARKETPLACE_TEMPLATE_ICON_DO_NOT_USE",
                ),
                "template marker",
            ),
            (put("README.md", b"# Gateway\n"), "links no source"),
            (put("README.md", f"{REPO}\n\u7f51\u5173".encode()), "not English"),
            (put("requirements.txt", b"dify_plugin\n"), "dify-plugin below"),
            (put("requirements.txt", b"dify_plugin==0.8.0\n"), "dify-plugin below"),
            (
                put("requirements.txt", b"dify_plugin>=0.10.0,<0.11\nhttpx\n"),
                "without a version constraint",
            ),
        ],
        ids=lambda value: value if isinstance(value, str) else "",
    )
    def test_a_package_breaking_one_rule_fails_it(
        self, breaking: Callable[[dict[str, bytes]], None], problem: str
    ) -> None:
        files = dict(GOOD)
        breaking(files)

        problems = blocking_problems(files)

        assert len(problems) == 1 and problem in problems[0], problems
