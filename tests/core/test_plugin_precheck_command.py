"""`python manage.py plugin precheck`: exit codes, text and JSON, options."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.package import package
from studio.pluginfmt.render import render_tree
from tests.core.test_plugin_command import plugin, plugin_json
from tests.pluginfmt.echo_plugin import SDK_CACHE
from tests.pluginfmt.precheck_plugins import changed, ready_plugin, with_manifest


def folder(tmp_path: Path, files: PluginFiles) -> str:
    dest = tmp_path / "plugin"
    render_tree(files, dest)
    return str(dest)


class TestPrecheckCommand:
    def test_a_ready_plugin_exits_0_and_says_the_install_test_was_skipped(
        self, tmp_path: Path
    ) -> None:
        status, out, _ = plugin(
            "precheck", folder(tmp_path, ready_plugin()), "--no-install"
        )

        assert status == 0
        assert "install test: skipped (--no-install)" in out
        # The advisory count follows the generated code's credential warnings.
        last = out.rstrip().splitlines()[-1]
        assert re.fullmatch(
            r"acme/gateway:0\.0\.1 \(community\): 0 blocking, \d+ advisory — "
            r"ready for the Marketplace",
            last,
        ), last

    def test_blocking_findings_exit_1_with_rule_file_and_fix(
        self, tmp_path: Path
    ) -> None:
        files = with_manifest(ready_plugin(), author="difyhub", contact="nobody")

        status, out, _ = plugin("precheck", folder(tmp_path, files), "--no-install")

        assert status == 1
        assert (
            "manifest.yaml:3: error [marketplace.author-reserved] (marketplace) The "
            "author 'difyhub' contains 'dify'"
        ) in out
        assert "    fix: Set `contact` to an email address" in out
        assert "2 blocking" in out and "not ready for the Marketplace" in out

    def test_unreadable_input_exits_2(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.difypkg"
        bad.write_bytes(b"not a zip")

        status, data = plugin_json("precheck", str(bad), "--no-install")

        assert status == 2
        assert data["ok"] is False and data["path"] == str(bad)

    def test_the_json_report_has_counts_findings_and_what_was_not_checked(
        self, tmp_path: Path
    ) -> None:
        pkg = tmp_path / "gateway.difypkg"
        pkg.write_bytes(package(with_manifest(ready_plugin(), repo=None)))

        status, data = plugin_json("precheck", str(pkg), "--no-install")

        assert status == 1
        assert (data["ok"], data["profile"], data["blocking"]) == (
            False,
            "community",
            1,
        )
        [blocking] = [f for f in data["findings"] if f["severity"] == "error"]
        assert blocking["rule"] == "marketplace.manifest-repo"
        assert blocking["layer"] == "marketplace"
        assert data["install"] is None
        assert any("skipped on request" in note for note in data["not_checked"])

    def test_last_version_must_be_exceeded(self, tmp_path: Path) -> None:
        path = folder(tmp_path, ready_plugin())

        status, data = plugin_json(
            "precheck", path, "--no-install", "--last-version", "0.0.1"
        )

        assert status == 1
        assert [f["rule"] for f in data["findings"] if f["severity"] == "error"] == [
            "marketplace.version-exists"
        ]
        assert (
            plugin("precheck", path, "--no-install", "--last-version", "0.0.0")[0] == 0
        )

    def test_official_wants_langgenius_and_pyproject(self, tmp_path: Path) -> None:
        status, data = plugin_json(
            "precheck", folder(tmp_path, ready_plugin()), "--no-install", "--official"
        )

        assert status == 1
        assert data["profile"] == "official"
        assert {f["rule"] for f in data["findings"] if f["severity"] == "error"} == {
            "marketplace.official-author",
            "marketplace.official-pyproject",
        }
        assert any("## Release Notes" in note for note in data["not_checked"])

    def test_the_install_test_runs_unless_told_not_to(
        self, tmp_path: Path, settings: Any
    ) -> None:
        settings.SMOKE_VENV_DIR = SDK_CACHE
        raising = changed(
            ready_plugin(), {"main.py": "raise SystemExit('no config')\n"}
        )

        status, out, _ = plugin("precheck", folder(tmp_path, raising))

        assert status == 1
        assert "install test: failed in " in out
        assert "the plugin exited with code 1 before serving" in out
        assert "[marketplace.serverless-start]" in out
        assert "    | no config" in out


def test_the_json_of_a_finding_matches_the_verifier_shape(tmp_path: Path) -> None:
    status, out, _ = plugin(
        "precheck", folder(tmp_path, ready_plugin()), "--no-install", "--json"
    )

    data = json.loads(out)
    assert status == 0
    assert set(data["findings"][0]) == {
        "rule",
        "severity",
        "layer",
        "file",
        "line",
        "message",
        "value",
        "fix",
    }
