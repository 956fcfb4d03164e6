from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from studio.pluginfmt import sdkenv
from studio.pluginfmt.sdkenv import (
    DEFAULT_SDK_REQUIREMENT,
    MARKER_NAME,
    SdkEnvError,
    ensure_sdk_venv,
    find_python,
    normalise_requirements,
    venv_key,
)
from tests.pluginfmt.echo_plugin import (
    ECHO_REQUIREMENTS,
    SDK_CACHE,
)


def fake_build(calls: list[Path], *, delay: float = 0.0, fail: bool = False):
    """Stand in for venv + pip: a bin/python linked to this interpreter."""

    def build(venv: Path, **options: object) -> None:
        calls.append(venv)
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").symlink_to(sys.executable)
        time.sleep(delay)
        if fail:
            raise SdkEnvError("pip install failed with exit code 1:\nsimulated")

    return build


class TestNormaliseRequirements:
    def test_it_adds_the_sdk_when_the_requirements_do_not_name_it(self) -> None:
        assert normalise_requirements("httpx>=0.27\n") == (
            f"{DEFAULT_SDK_REQUIREMENT}\nhttpx>=0.27\n"
        )

    def test_it_keeps_the_plugins_own_sdk_pin(self) -> None:
        for pin in ("dify-plugin==0.10.2", "dify_plugin>=0.9", "Dify_Plugin~=0.10"):
            assert normalise_requirements(pin) == f"{pin}\n"

    def test_it_does_not_take_a_similar_name_for_the_sdk(self) -> None:
        assert DEFAULT_SDK_REQUIREMENT in normalise_requirements("dify-plugin-extra\n")

    def test_it_ignores_comments_blank_lines_and_order(self) -> None:
        one = "# deps\nhttpx>=0.27   # client\n\nopenai==1.0\n"
        two = "openai==1.0\nhttpx>=0.27\n"

        assert normalise_requirements(one) == normalise_requirements(two)


class TestVenvKey:
    def test_it_is_the_same_for_equivalent_requirements(self) -> None:
        python = find_python()

        assert venv_key("a==1\n# x\nb==2", python) == venv_key("b==2\na==1\n", python)

    def test_it_differs_for_different_requirements_or_interpreters(self) -> None:
        python = find_python()
        other = sdkenv.Interpreter(
            executable="/opt/python3.12",
            version=python.version,
            machine=python.machine,
            implementation=python.implementation,
        )

        keys = {
            venv_key("a==1", python),
            venv_key("a==2", python),
            venv_key("a==1", other),
        }
        assert len(keys) == 3
        assert all(key.startswith("py312-") for key in keys)


class TestFindPython:
    def test_it_finds_a_python_312(self) -> None:
        assert find_python().version[:2] == (3, 12)

    def test_it_refuses_an_older_interpreter(self, tmp_path: Path) -> None:
        old = tmp_path / "python3.11"
        old.write_text(
            '#!/bin/sh\necho \'{"version": [3, 11, 7], "executable": "x", '
            '"machine": "x86_64", "implementation": "cpython"}\'\n'
        )
        old.chmod(0o755)

        with pytest.raises(
            SdkEnvError, match=r"Python 3\.11\.7; .* needs Python 3\.12"
        ):
            find_python(str(old))

    def test_it_names_what_to_install_when_none_is_found(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sdkenv, "_candidates", lambda: [])

        with pytest.raises(SdkEnvError, match=r"install python3\.12"):
            find_python()

    def test_it_rejects_an_interpreter_that_cannot_run(self, tmp_path: Path) -> None:
        with pytest.raises(SdkEnvError, match="cannot be run"):
            find_python(str(tmp_path / "nope"))


class TestEnsureSdkVenv:
    def test_it_builds_a_venv_whose_python_runs_the_sdk(
        self,
        sdk_python: Path,
    ) -> None:
        result = subprocess.run(
            [
                str(sdk_python),
                "-c",
                "import importlib.metadata as m, sys; "
                "print(m.version('dify_plugin'), sys.version_info[:2])",
            ],
            capture_output=True,
            text=True,
            check=True,
        )

        assert result.stdout.startswith("0.10.")
        assert result.stdout.strip().endswith("(3, 12)")
        assert (sdk_python.parents[1] / MARKER_NAME).is_file()
        assert sdk_python.parents[1].parent == SDK_CACHE

    def test_it_reuses_the_complete_venv(
        self,
        sdk_python: Path,
    ) -> None:
        marker = sdk_python.parents[1] / MARKER_NAME
        before = marker.stat().st_mtime_ns

        again = ensure_sdk_venv(
            "# same, reformatted\n\n" + ECHO_REQUIREMENTS, cache_dir=SDK_CACHE
        )

        assert again == sdk_python
        assert marker.stat().st_mtime_ns == before

    def test_it_builds_once_for_concurrent_callers(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls: list[Path] = []
        monkeypatch.setattr(sdkenv, "_build", fake_build(calls, delay=0.5))
        results: list[Path] = []

        def build() -> None:
            results.append(ensure_sdk_venv("httpx\n", cache_dir=tmp_path))

        threads = [threading.Thread(target=build) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert len(calls) == 1
        assert len(set(results)) == 1 and len(results) == 3
        assert (results[0].parents[1] / MARKER_NAME).is_file()
        assert sorted(
            p.name for p in tmp_path.iterdir() if not p.name.startswith(".")
        ) == [results[0].parents[1].name]

    def test_it_leaves_nothing_ready_looking_after_a_failed_build(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls: list[Path] = []
        monkeypatch.setattr(sdkenv, "_build", fake_build(calls, fail=True))

        with pytest.raises(SdkEnvError, match="simulated"):
            ensure_sdk_venv("httpx\n", cache_dir=tmp_path)

        leftovers = [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")]
        assert leftovers == []
        monkeypatch.setattr(sdkenv, "_build", fake_build(calls))
        python = ensure_sdk_venv("httpx\n", cache_dir=tmp_path)
        assert sdkenv.is_complete(python.parents[1])
        assert len(calls) == 2

    def test_it_rebuilds_a_venv_left_without_its_marker(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls: list[Path] = []
        monkeypatch.setattr(sdkenv, "_build", fake_build(calls))
        key = venv_key("httpx\n", find_python())
        (tmp_path / key / "bin").mkdir(parents=True)
        (tmp_path / key / "half-installed").write_text("")

        python = ensure_sdk_venv("httpx\n", cache_dir=tmp_path)

        assert python == tmp_path / key / "bin" / "python"
        assert not (tmp_path / key / "half-installed").exists()
        assert len(calls) == 1

    def test_it_times_out_waiting_for_a_build_elsewhere(self, tmp_path: Path) -> None:
        key = venv_key("httpx\n", find_python())
        fd = os.open(tmp_path / f".{key}.lock", os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            with pytest.raises(
                SdkEnvError, match="timed out waiting for another build"
            ):
                ensure_sdk_venv("httpx\n", cache_dir=tmp_path, timeout=0.5)
        finally:
            os.close(fd)

    def test_it_reports_pips_output_when_a_requirement_cannot_be_installed(
        self, tmp_path: Path
    ) -> None:
        with pytest.raises(SdkEnvError) as caught:
            ensure_sdk_venv("this-package-does-not-exist-xyz==1\n", cache_dir=tmp_path)

        message = str(caught.value)
        assert message.startswith("pip install failed with exit code 1:")
        assert (
            "No matching distribution found for this-package-does-not-exist-xyz==1"
            in (message)
        )
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("py")] == []
