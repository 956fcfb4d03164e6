from __future__ import annotations

import fcntl
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from studio.pluginfmt import sdkenv
from studio.pluginfmt.sdkenv import (
    DEFAULT_SDK_REQUIREMENT,
    LAST_USED_NAME,
    MARKER_NAME,
    SdkEnvError,
    cached_venvs,
    create_venv,
    ensure_sdk_venv,
    evict_venvs,
    find_python,
    install,
    normalise_requirements,
    normalise_resolved,
    request_key,
    using_sdk_venv,
    venv_key,
)
from studio.pluginfmt.sdkenv.locks import FileLock
from tests.pluginfmt.echo_plugin import ECHO_REQUIREMENTS, SDK_CACHE, UV_CACHE

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


class FakeInstaller:
    """Stands in for uv: a venv whose bin/python is this interpreter, and
    installed packages that are what `resolve` makes of the requirements."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        *,
        resolve: Callable[[str], str] = lambda text: text,
        delay: float = 0.0,
        fail: bool = False,
    ) -> None:
        self.built: list[str] = []
        self.resolve = resolve
        self.delay = delay
        self.fail = fail
        monkeypatch.setattr(install, "create_venv", self.create_venv)
        monkeypatch.setattr(install, "installed_packages", self.installed_packages)
        monkeypatch.setattr(install, "compile_bytecode_later", lambda venv, **kw: None)

    def create_venv(
        self, target: Path, requirements: str, **options: object
    ) -> sdkenv.NewVenv:
        self.built.append(requirements)
        (target / "bin").mkdir(parents=True)
        (target / "bin" / "python").symlink_to(sys.executable)
        (target / "requirements.in").write_text(requirements)
        time.sleep(self.delay)
        if self.fail:
            raise SdkEnvError("uv pip install failed with exit code 1:\nsimulated")
        return sdkenv.NewVenv(
            python=target / "bin" / "python", installer="uv 0.0-fake", offline=False
        )

    def installed_packages(self, venv: Path) -> str:
        return self.resolve((venv / "requirements.in").read_text())


def resolving(table: dict[str, str]) -> Callable[[str], str]:
    """A resolver: the requirement line other than the SDK's, looked up."""

    def resolve(text: str) -> str:
        (line,) = [ln for ln in text.splitlines() if "dify" not in ln]
        return f"dify-plugin==0.10.2\n{table[line]}\n"

    return resolve


def fake_venv(cache: Path, name: str, *, size_mb: int, used_ago: float) -> Path:
    """A complete venv in the cache, `size_mb` big by its marker, used long ago."""
    folder = cache / name
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "python").symlink_to(sys.executable)
    (folder / MARKER_NAME).write_text(json.dumps({"size_bytes": size_mb * MB}))
    (folder / LAST_USED_NAME).touch()
    when = time.time() - used_ago
    os.utime(folder / LAST_USED_NAME, (when, when))
    return folder


def venv_names(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name.startswith("py"))


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


class TestKeys:
    def test_a_request_key_is_the_same_for_equivalent_texts(self) -> None:
        python = find_python()

        assert request_key("a==1\n# x\nb==2", python) == request_key(
            "b==2\na==1\n", python
        )

    def test_a_request_key_differs_by_text_interpreter_and_wheels_only(self) -> None:
        python = find_python()
        other = sdkenv.Interpreter(
            executable="/opt/python3.12",
            version=python.version,
            machine=python.machine,
            implementation=python.implementation,
        )

        keys = {
            request_key("a==1", python),
            request_key("a==2", python),
            request_key("a==1", other),
            request_key("a==1", python, only_binary=False),
        }
        assert len(keys) == 4

    def test_a_venv_key_names_the_installed_packages_however_they_are_spelled(
        self,
    ) -> None:
        python = find_python()

        uv = "dify-plugin==0.10.2\npyyaml==6.0.3\n"
        pip = "PyYAML==6.0.3\ndify_plugin==0.10.2\n"
        assert normalise_resolved(pip) == uv
        assert venv_key(uv, python) == venv_key(pip, python)
        assert venv_key(uv, python) != venv_key("dify-plugin==0.10.1\n", python)
        assert venv_key(uv, python).startswith("py312-")


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
        from studio.pluginfmt.sdkenv import interpreter

        monkeypatch.setattr(interpreter, "_candidates", lambda: [])

        with pytest.raises(SdkEnvError, match=r"install python3\.12"):
            find_python()

    def test_it_rejects_an_interpreter_that_cannot_run(self, tmp_path: Path) -> None:
        with pytest.raises(SdkEnvError, match="cannot be run"):
            find_python(str(tmp_path / "nope"))


class TestCreateVenv:
    def test_uv_makes_a_python_312_venv_with_the_requirements(
        self, tmp_path: Path
    ) -> None:
        new = create_venv(
            tmp_path / "venv", "typing-extensions\n", uv_cache_dir=UV_CACHE
        )

        result = subprocess.run(
            [
                str(new.python),
                "-c",
                "import sys, typing_extensions; print(sys.version_info[:2])",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.strip() == "(3, 12)"
        assert new.installer.startswith("uv 0.")
        config = (tmp_path / "venv" / "pyvenv.cfg").read_text()
        assert "relocatable = true" in config
        assert f"home = {Path(find_python().executable).parent}" in config
        assert not (tmp_path / "venv" / "bin" / "pip").exists()
        (listed,) = install.installed_packages(tmp_path / "venv").splitlines()
        assert listed.startswith("typing_extensions==4.")

    def test_without_uv_pip_builds_it_and_the_log_says_so(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        monkeypatch.setattr(install, "find_uv", lambda: None)
        commands: list[list[str]] = []

        def run(command: list[str], **options: object) -> str:
            commands.append(command)
            return ""

        monkeypatch.setattr(install, "_run", run)

        with caplog.at_level(logging.WARNING, logger="studio.pluginfmt.sdkenv"):
            new = create_venv(
                tmp_path / "venv",
                "typing-extensions\n",
                pip_cache_dir=tmp_path / "pip-cache",
            )

        assert new.installer == "pip"
        assert "uv is not installed (pip install uv)" in caplog.text
        assert "with pip, which is much slower" in caplog.text
        python = find_python().executable
        assert commands[0] == [python, "-m", "venv", str(tmp_path / "venv")]
        assert commands[1][:4] == [str(new.python), "-m", "pip", "install"]
        assert str(tmp_path / "pip-cache") in commands[1]
        assert "--only-binary" in commands[1]
        assert commands[1][-2] == "-r"

    def test_it_reports_uvs_output_when_a_requirement_cannot_be_installed(
        self, tmp_path: Path
    ) -> None:
        with pytest.raises(SdkEnvError) as caught:
            ensure_sdk_venv(
                "this-package-does-not-exist-xyz==1\n",
                cache_dir=tmp_path / "venvs",
                uv_cache_dir=UV_CACHE,
            )

        message = str(caught.value)
        assert message.startswith("uv pip install failed with exit code 1:")
        assert "this-package-does-not-exist-xyz" in message
        assert "No solution found when resolving dependencies" in message
        assert venv_names(tmp_path / "venvs") == []


class TestCompileBytecodeLater:
    def test_it_compiles_the_venv_in_the_background(self, tmp_path: Path) -> None:
        venv = tmp_path / "venv"
        create_venv(venv, "typing-extensions\n", uv_cache_dir=UV_CACHE)

        process = install.compile_bytecode_later(venv, hold=tmp_path / ".v.lock")

        assert process is not None
        assert process.wait(60) == 0
        compiled = list(venv.glob("lib/python3.12/site-packages/__pycache__/*.pyc"))
        assert "typing_extensions" in " ".join(p.name for p in compiled)

    def test_it_holds_the_venv_in_use_until_it_ends(self, tmp_path: Path) -> None:
        venv = tmp_path / "venv"
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").write_text("#!/bin/sh\nsleep 1\n")
        (venv / "bin" / "python").chmod(0o755)
        lock = FileLock(tmp_path / ".v.lock")

        process = install.compile_bytecode_later(venv, hold=tmp_path / ".v.lock")

        assert process is not None
        assert not lock.acquire(None)  # eviction would spare it
        process.wait(10)
        assert lock.acquire(None)
        lock.release()

    def test_it_does_not_start_on_a_venv_being_evicted(self, tmp_path: Path) -> None:
        lock = FileLock(tmp_path / ".v.lock")
        assert lock.acquire(None)
        try:
            assert install.compile_bytecode_later(tmp_path, hold=lock.path) is None
        finally:
            lock.release()


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
        marker = json.loads((sdk_python.parents[1] / MARKER_NAME).read_text())
        assert "dify-plugin==0.10." in marker["resolved"]
        assert marker["size_bytes"] > 10 * MB
        assert sdk_python.parents[1].parent == SDK_CACHE

    def test_it_reuses_the_complete_venv(
        self,
        sdk_python: Path,
    ) -> None:
        marker = sdk_python.parents[1] / MARKER_NAME
        before = marker.stat().st_mtime_ns

        again = ensure_sdk_venv(
            "# same, reformatted\n\n" + ECHO_REQUIREMENTS,
            cache_dir=SDK_CACHE,
            uv_cache_dir=UV_CACHE,
        )

        assert again == sdk_python
        assert marker.stat().st_mtime_ns == before
        assert (sdk_python.parents[1] / LAST_USED_NAME).stat().st_mtime > (
            time.time() - 60
        )

    def test_texts_that_resolve_to_the_same_packages_share_one_venv(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fake = FakeInstaller(
            monkeypatch,
            resolve=resolving(
                {"a>=1": "a==1.2", "a==1.2": "a==1.2", "a<1.2": "a==1.1"}
            ),
        )

        one = ensure_sdk_venv("a>=1\n", cache_dir=tmp_path)
        same = ensure_sdk_venv("a==1.2\n", cache_dir=tmp_path)
        other = ensure_sdk_venv("a<1.2\n", cache_dir=tmp_path)
        again = ensure_sdk_venv("# again\na>=1\n", cache_dir=tmp_path)

        assert one == same == again
        assert other != one
        assert venv_names(tmp_path) == sorted(
            [one.parents[1].name, other.parents[1].name]
        )
        # Three installs (the second found its packages' venv and was dropped);
        # the text seen before was remembered and installed nothing.
        assert len(fake.built) == 3
        marker = json.loads((one.parents[1] / MARKER_NAME).read_text())
        assert marker["resolved"] == "a==1.2\ndify-plugin==0.10.2\n"
        assert marker["installer"] == "uv 0.0-fake"

    def test_it_builds_once_for_concurrent_callers(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fake = FakeInstaller(monkeypatch, delay=0.5)
        results: list[Path] = []

        def build() -> None:
            results.append(ensure_sdk_venv("httpx\n", cache_dir=tmp_path))

        threads = [threading.Thread(target=build) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert len(fake.built) == 1
        assert len(set(results)) == 1 and len(results) == 3
        assert (results[0].parents[1] / MARKER_NAME).is_file()
        assert sorted(
            p.name for p in tmp_path.iterdir() if not p.name.startswith(".")
        ) == [results[0].parents[1].name]

    def test_it_leaves_nothing_ready_looking_after_a_failed_build(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fake = FakeInstaller(monkeypatch, fail=True)

        with pytest.raises(SdkEnvError, match="simulated"):
            ensure_sdk_venv("httpx\n", cache_dir=tmp_path)

        leftovers = [
            p.name
            for p in tmp_path.iterdir()
            if not p.name.endswith(".lock") and p.name != ".requests"
        ]
        assert leftovers == []
        fake.fail = False
        python = ensure_sdk_venv("httpx\n", cache_dir=tmp_path)
        assert sdkenv.is_complete(python.parents[1])
        assert len(fake.built) == 2

    def test_it_rebuilds_a_venv_left_without_its_marker(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fake = FakeInstaller(monkeypatch)
        key = venv_key(normalise_requirements("httpx\n"), find_python())
        (tmp_path / key / "bin").mkdir(parents=True)
        (tmp_path / key / "half-installed").write_text("")

        python = ensure_sdk_venv("httpx\n", cache_dir=tmp_path)

        assert python == tmp_path / key / "bin" / "python"
        assert not (tmp_path / key / "half-installed").exists()
        assert len(fake.built) == 1

    def test_it_times_out_waiting_for_a_build_elsewhere(self, tmp_path: Path) -> None:
        key = request_key("httpx\n", find_python())
        fd = os.open(tmp_path / f".{key}.lock", os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            with pytest.raises(
                SdkEnvError, match="timed out waiting for another build"
            ):
                ensure_sdk_venv("httpx\n", cache_dir=tmp_path, timeout=0.5)
        finally:
            os.close(fd)


class TestUsingSdkVenv:
    def test_the_venv_is_held_in_use_for_the_block(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        FakeInstaller(monkeypatch)

        with using_sdk_venv("httpx\n", cache_dir=tmp_path) as venv:
            assert venv.built
            lock = FileLock(tmp_path / f".{venv.key}.lock")
            assert not lock.acquire(None)
            assert evict_venvs(tmp_path, max_bytes=0) == []
        assert lock.acquire(None)
        lock.release()
        with using_sdk_venv("httpx\n", cache_dir=tmp_path) as again:
            assert not again.built and again.key == venv.key

    def test_a_new_venv_evicts_the_least_recently_used_above_the_cap(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        FakeInstaller(monkeypatch)
        fake_venv(tmp_path, "py312-" + "a" * 20, size_mb=3, used_ago=300)
        fake_venv(tmp_path, "py312-" + "b" * 20, size_mb=3, used_ago=200)

        with using_sdk_venv("httpx\n", cache_dir=tmp_path, max_bytes=4 * MB) as venv:
            assert venv_names(tmp_path) == sorted(["py312-" + "b" * 20, venv.key])


class TestEviction:
    def test_it_removes_the_least_recently_used_until_under_the_cap(
        self, tmp_path: Path
    ) -> None:
        for name, used_ago in (("a", 400), ("b", 300), ("c", 200), ("d", 100)):
            fake_venv(tmp_path, "py312-" + name * 20, size_mb=2, used_ago=used_ago)

        evicted = evict_venvs(tmp_path, max_bytes=5 * MB)

        assert evicted == ["py312-" + "a" * 20, "py312-" + "b" * 20]
        assert venv_names(tmp_path) == ["py312-" + "c" * 20, "py312-" + "d" * 20]
        assert [p.name for p in tmp_path.glob(".*evicted*")] == []
        assert evict_venvs(tmp_path, max_bytes=5 * MB) == []

    def test_a_venv_in_use_is_spared(self, tmp_path: Path) -> None:
        for name, used_ago in (("a", 400), ("b", 300), ("c", 200)):
            fake_venv(tmp_path, "py312-" + name * 20, size_mb=2, used_ago=used_ago)
        in_use = FileLock(tmp_path / f".py312-{'a' * 20}.lock", shared=True)
        assert in_use.acquire(None)
        try:
            evicted = evict_venvs(tmp_path, max_bytes=3 * MB)
        finally:
            in_use.release()

        assert evicted == ["py312-" + "b" * 20, "py312-" + "c" * 20]
        assert venv_names(tmp_path) == ["py312-" + "a" * 20]

    def test_a_remembered_text_whose_venv_was_evicted_builds_it_again(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fake = FakeInstaller(monkeypatch)
        python = ensure_sdk_venv("httpx\n", cache_dir=tmp_path)
        assert [p.name for p in (tmp_path / ".requests").iterdir()] != []

        assert evict_venvs(tmp_path, max_bytes=0) == [python.parents[1].name]

        assert list((tmp_path / ".requests").iterdir()) == []
        assert ensure_sdk_venv("httpx\n", cache_dir=tmp_path) == python
        assert len(fake.built) == 2

    def test_it_clears_what_crashed_builds_and_evictions_left(
        self, tmp_path: Path
    ) -> None:
        fake_venv(tmp_path, "py312-" + "a" * 20, size_mb=1, used_ago=10)
        (tmp_path / f".py312-{'b' * 20}.evicted-1234abcd" / "lib").mkdir(parents=True)
        (tmp_path / ".req-0123456789abcdef0123.tmp-xyz" / "venv").mkdir(parents=True)
        (tmp_path / ("py312-" + "c" * 20) / "bin").mkdir(parents=True)

        assert evict_venvs(tmp_path, max_bytes=100 * MB) == []

        assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [
            "py312-" + "a" * 20
        ]

    def test_two_processes_evicting_at_once_remove_each_venv_once(
        self, tmp_path: Path
    ) -> None:
        names = [f"py312-{letter * 20}" for letter in "abcdef"]
        for age, name in enumerate(reversed(names)):
            fake_venv(tmp_path, name, size_mb=2, used_ago=100 * (age + 1))
        # "a" is the oldest, and in use by a third process.
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import fcntl, os, sys, time\n"
                f"fd = os.open({str(tmp_path / ('.' + names[0] + '.lock'))!r}, "
                "os.O_RDWR | os.O_CREAT)\n"
                "fcntl.flock(fd, fcntl.LOCK_SH)\n"
                "print('held', flush=True)\n"
                "sys.stdin.read()\n",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        go = tmp_path / "go"
        script = (
            "import json, os, sys, time\n"
            "from pathlib import Path\n"
            "from studio.pluginfmt.sdkenv import evict_venvs\n"
            f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
            f"print(json.dumps(evict_venvs(Path({str(tmp_path)!r}), "
            f"max_bytes={5 * MB})))\n"
        )
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
            evictors = [
                subprocess.Popen(
                    [sys.executable, "-c", script],
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(2)
            ]
            time.sleep(0.3)
            go.touch()
            outputs = [evictor.communicate(timeout=60) for evictor in evictors]
        finally:
            holder.communicate(input="", timeout=10)

        assert [evictor.returncode for evictor in evictors] == [0, 0], outputs
        evicted = [key for out, _ in outputs for key in json.loads(out)]
        # 12 MB for a 5 MB cap: "a" is spared (in use), then b, c, d and e go,
        # oldest first, leaving a and f (4 MB).
        assert sorted(evicted) == names[1:5]
        assert len(evicted) == len(set(evicted))
        assert venv_names(tmp_path) == [names[0], names[5]]
        assert [p.name for p in tmp_path.glob(".*evicted*")] == []

    def test_cached_venvs_lists_sizes_and_last_use_oldest_first(
        self, tmp_path: Path
    ) -> None:
        fake_venv(tmp_path, "py312-" + "b" * 20, size_mb=2, used_ago=10)
        fake_venv(tmp_path, "py312-" + "a" * 20, size_mb=1, used_ago=20)

        listed = cached_venvs(tmp_path)

        assert [(v.key[-1], v.size_bytes) for v in listed] == [("a", MB), ("b", 2 * MB)]
