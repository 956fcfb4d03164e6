"""The Marketplace CI's install test, run for real: requirements into a clean
Python 3.12 virtualenv, then `python -m main` in serverless mode, asked over
HTTP. The virtualenvs are cached (var/cache/sdk-venvs) across runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.package import package
from studio.pluginfmt.precheck import install_test, precheck, requirements_venv
from studio.pluginfmt.precheck.install import InstallResult
from studio.pluginfmt.readers import read_folder, read_package
from tests.pluginfmt.echo_plugin import SDK_CACHE
from tests.pluginfmt.precheck_plugins import changed, ready_plugin

RAISES_AT_IMPORT = (
    "from dify_plugin import DifyPluginEnv, Plugin\n\n"
    "raise RuntimeError('the gateway needs GATEWAY_REGION set')\n"
)


@pytest.fixture(scope="session")
def venv_cache() -> Path:
    """The virtualenv cache, with the studio plugin's environment built once."""
    requirements = ready_plugin()["requirements.txt"].decode()
    with requirements_venv(requirements, cache_dir=SDK_CACHE) as python:
        assert python.exists()
    return SDK_CACHE


def unpacked(files: PluginFiles) -> PluginFiles:
    """The files as the Marketplace's CI unzips them from the package."""
    return dict(read_package(package(files)))


class TestInstallTest:
    def test_a_studio_openai_compatible_plugin_installs_and_serves(
        self, venv_cache: Path
    ) -> None:
        result = install_test(unpacked(ready_plugin()), cache_dir=venv_cache)

        assert result.status == "passed", (result.detail, result.output_tail)
        assert result.detail == "served HTTP (GET / answered 404)"
        assert result.findings() == []
        assert "* Serving Flask app" in result.output_tail

    def test_an_imported_corpus_plugin_installs_and_serves(
        self, venv_cache: Path, corpus_copy
    ) -> None:
        files = unpacked(read_folder(corpus_copy("openai")))
        # The packager made requirements.txt from pyproject.toml and uv.lock.
        assert b"openai==" in files["requirements.txt"]

        result = install_test(files, cache_dir=venv_cache)

        assert result.status == "passed", (result.detail, result.output_tail)

    def test_a_main_that_raises_at_import_fails_with_the_plugins_own_error(
        self, venv_cache: Path
    ) -> None:
        files = unpacked(changed(ready_plugin(), {"main.py": RAISES_AT_IMPORT}))

        result = install_test(files, cache_dir=venv_cache)

        assert result.status == "failed"
        assert result.step == "start"
        assert result.detail == (
            "the plugin exited with code 1 before serving: "
            "RuntimeError: the gateway needs GATEWAY_REGION set"
        )
        assert 'File "' in result.output_tail and "main.py" in result.output_tail
        [finding] = result.findings()
        assert finding.rule == "marketplace.serverless-start"
        assert finding.severity == "error"
        assert finding.value == {"output": result.output_tail}

    def test_requirements_that_do_not_install_fail_before_the_start(
        self, venv_cache: Path
    ) -> None:
        files = unpacked(
            changed(
                ready_plugin(),
                {"requirements.txt": "dify_plugin>=0.10.0,<0.11.0\npackaging==0.0.0\n"},
            )
        )

        result = install_test(files, cache_dir=venv_cache)

        assert result.status == "failed"
        assert result.step == "requirements"
        assert result.detail.startswith(
            "requirements.txt does not install into a clean Python 3.12 virtualenv"
        )
        assert "packaging==0.0.0" in result.output_tail
        [finding] = result.findings()
        assert (finding.rule, finding.file) == (
            "marketplace.requirements-install",
            "requirements.txt",
        )

    def test_a_plugin_that_never_serves_fails_after_the_timeout(
        self, venv_cache: Path
    ) -> None:
        files = unpacked(
            changed(ready_plugin(), {"main.py": "import time\n\ntime.sleep(60)\n"})
        )

        result = install_test(files, cache_dir=venv_cache, timeout=3)

        assert result.status == "failed"
        assert result.detail == 'no "Serving Flask app" within 3 s'
        assert result.duration_ms < 15_000

    def test_without_requirements_txt_the_test_is_skipped_as_the_ci_does(
        self, tmp_path: Path
    ) -> None:
        files = changed(ready_plugin(), {"requirements.txt": None})

        result = install_test(files, cache_dir=tmp_path)

        assert result.status == "skipped"
        assert result.findings() == []
        assert list(tmp_path.iterdir()) == []

    def test_a_stored_result_reads_back_and_damage_reads_as_none(self) -> None:
        result = InstallResult("failed", "boom", step="start", output_tail="x")

        assert InstallResult.from_dict(result.as_dict()) == result
        assert InstallResult.from_dict({"status": "weird"}) is None
        assert InstallResult.from_dict("nope") is None


class TestPrecheckWithTheInstallTest:
    def test_the_install_failure_is_a_blocking_finding_of_the_report(
        self, venv_cache: Path
    ) -> None:
        files = changed(ready_plugin(), {"main.py": RAISES_AT_IMPORT})

        report = precheck(package(files), cache_dir=venv_cache)

        assert report.ok is False
        assert [f.rule for f in report.blocking] == ["marketplace.serverless-start"]
        assert report.install is not None and report.install.status == "failed"
        assert report.as_dict()["install"]["step"] == "start"
