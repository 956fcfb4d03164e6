from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from studio.pluginfmt.uvlock import (
    UvLockError,
    export_requirements,
    normalize_name,
    parse_marker,
    requires_python_set,
)
from tests.conftest import CORPUS, CORPUS_PLUGINS

DATA = Path(__file__).parent / "data" / "uvlock"
RP312 = requires_python_set(">=3.12")


def direct_and_dev(plugin: str) -> tuple[set[str], set[str]]:
    project = tomllib.loads((CORPUS / plugin / "pyproject.toml").read_text())
    direct = {_req_name(r) for r in project["project"]["dependencies"]}
    dev = {_req_name(r) for r in project.get("dependency-groups", {}).get("dev", [])}
    return direct, dev


def _req_name(requirement: str) -> str:
    for stop in "<>=!~;[ ":
        requirement = requirement.split(stop, 1)[0]
    return normalize_name(requirement)


def make_lock(packages: str, *, requires_python: str = ">=3.12") -> str:
    header = f'version = 1\nrevision = 3\nrequires-python = "{requires_python}"\n'
    return f"{header}\n{packages}"


def registry(name: str, version: str = "1.0", deps: str = "", extra: str = "") -> str:
    text = f'[[package]]\nname = "{name}"\nversion = "{version}"\n'
    text += 'source = { registry = "https://pypi.org/simple" }\n'
    if deps:
        text += f"dependencies = [{deps}]\n"
    return text + extra + "\n"


def project(deps: str, extra: str = "") -> str:
    return (
        '[[package]]\nname = "demo"\nversion = "0.1"\nsource = { virtual = "." }\n'
        f"dependencies = [{deps}]\n{extra}\n"
    )


PYPROJECT = '[project]\nname = "demo"\nversion = "0.1"\n'


class TestCorpusExport:
    @pytest.mark.parametrize("plugin", CORPUS_PLUGINS)
    def test_it_prints_what_uv_export_prints(self, plugin: str) -> None:
        got = export_requirements(
            (CORPUS / plugin / "pyproject.toml").read_bytes(),
            (CORPUS / plugin / "uv.lock").read_bytes(),
        )
        assert got == (DATA / "corpus-expected" / f"{plugin}.txt").read_text()

    @pytest.mark.parametrize("plugin", CORPUS_PLUGINS)
    def test_it_pins_the_sdk_and_every_direct_dependency_but_no_dev_tool(
        self, plugin: str
    ) -> None:
        text = export_requirements(
            (CORPUS / plugin / "pyproject.toml").read_bytes(),
            (CORPUS / plugin / "uv.lock").read_bytes(),
        )
        names = {line.split("==", 1)[0] for line in text.splitlines()}
        direct, dev = direct_and_dev(plugin)
        assert "dify-plugin==" in text
        assert direct <= names
        # The dev group's tools (pytest, ruff, ...) are needed by nothing at runtime.
        assert not names & (dev - {"pyyaml", "pillow", "python-dotenv"})
        assert all("==" in line for line in text.splitlines())

    def test_dev_only_pillow_of_gemini_is_left_out(self) -> None:
        text = export_requirements(
            (CORPUS / "gemini" / "pyproject.toml").read_bytes(),
            (CORPUS / "gemini" / "uv.lock").read_bytes(),
        )
        assert "pillow" not in text and "pyyaml==" in text


class TestSyntheticExports:
    @pytest.mark.parametrize("case", ["transitive", "markers"])
    def test_markers_combine_like_uv(self, case: str) -> None:
        folder = DATA / case
        got = export_requirements(
            (folder / "pyproject.toml").read_bytes(), (folder / "uv.lock").read_bytes()
        )
        assert got == (folder / "expected.txt").read_text()


class TestGraphWalk:
    def test_extras_on_an_edge_bring_in_optional_dependencies(self) -> None:
        lock = make_lock(
            project('{ name = "a", extra = ["crypto"] }')
            + registry(
                "a",
                deps='{ name = "b" }',
                extra='[package.optional-dependencies]\ncrypto = [{ name = "c" }]\n'
                'other = [{ name = "d" }]\n',
            )
            + registry("b")
            + registry("c")
            + registry("d")
        )
        assert export_requirements(PYPROJECT, lock) == "a==1.0\nb==1.0\nc==1.0\n"

    def test_dev_group_is_left_out_but_other_default_groups_are_kept(self) -> None:
        lock = make_lock(
            project(
                '{ name = "a" }',
                '[package.dev-dependencies]\ndev = [{ name = "b" }]\n'
                'docs = [{ name = "c" }]\nlint = [{ name = "d" }]\n',
            )
            + registry("a")
            + registry("b")
            + registry("c")
            + registry("d")
        )
        plain = export_requirements(PYPROJECT, lock)
        grouped = export_requirements(
            PYPROJECT + '[tool.uv]\ndefault-groups = ["dev", "docs"]\n', lock
        )
        assert (plain, grouped) == ("a==1.0\n", "a==1.0\nc==1.0\n")

    def test_a_path_that_cannot_hold_under_requires_python_is_dropped(self) -> None:
        lock = make_lock(
            project(
                '{ name = "a" }, '
                '{ name = "old", marker = "python_full_version < \'3.11\'" }'
            )
            + registry("a")
            + registry("old")
        )
        assert export_requirements(PYPROJECT, lock) == "a==1.0\n"

    def test_cycles_terminate_and_markers_reach_the_whole_cycle(self) -> None:
        lock = make_lock(
            project('{ name = "a", marker = "sys_platform == \'win32\'" }')
            + registry("a", deps='{ name = "b" }')
            + registry("b", deps='{ name = "a" }')
        )
        assert export_requirements(PYPROJECT, lock) == (
            "a==1.0 ; sys_platform == 'win32'\nb==1.0 ; sys_platform == 'win32'\n"
        )

    def test_a_forked_package_is_picked_by_version(self) -> None:
        pypi = 'source = { registry = "https://pypi.org/simple" }'
        lock = make_lock(
            project(
                f'{{ name = "n", version = "1.0", {pypi}, '
                "marker = \"python_full_version < '3.13'\" }, "
                f'{{ name = "n", version = "2.0", {pypi}, '
                "marker = \"python_full_version >= '3.13'\" }"
            )
            + registry("n", "1.0")
            + registry("n", "2.0")
        )
        assert export_requirements(PYPROJECT, lock) == (
            "n==1.0 ; python_full_version < '3.13'\n"
            "n==2.0 ; python_full_version >= '3.13'\n"
        )

    def test_a_broken_lock_raises(self) -> None:
        with pytest.raises(UvLockError):
            export_requirements(PYPROJECT, "version = [")

    def test_a_lock_without_the_project_raises(self) -> None:
        with pytest.raises(UvLockError, match="project"):
            export_requirements(PYPROJECT, make_lock(registry("a")))


class TestMarkers:
    @pytest.mark.parametrize(
        ("marker", "expected"),
        [
            (
                "platform_python_implementation != 'PyPy' or "
                "(platform_python_implementation == 'CPython' "
                "and sys_platform == 'win32')",
                "platform_python_implementation != 'PyPy'",
            ),
            ("python_full_version >= '3.11'", ""),
            ("python_version < '3.13'", "python_full_version < '3.13'"),
            ("python_version == '3.13'", "python_full_version == '3.13.*'"),
            (
                "sys_platform == 'linux' or sys_platform == 'darwin'",
                "sys_platform == 'darwin' or sys_platform == 'linux'",
            ),
            (
                "python_full_version < '3.13' and (platform_machine == 'x86_64' "
                "or platform_machine == 'arm64')",
                "python_full_version < '3.13' and (platform_machine == 'arm64' "
                "or platform_machine == 'x86_64')",
            ),
            ("sys_platform == 'win32' and sys_platform == 'linux'", None),
        ],
    )
    def test_it_simplifies_like_uv(self, marker: str, expected: str | None) -> None:
        parsed = parse_marker(marker, RP312)
        if expected is None:
            assert parsed.is_false()
        else:
            assert parsed.to_string(RP312) == expected

    def test_and_distributes_over_or(self) -> None:
        a = parse_marker("sys_platform == 'win32' or os_name == 'nt'", RP312)
        b = parse_marker("implementation_name == 'cpython'", RP312)
        assert a.and_(b).to_string(RP312) == (
            "(implementation_name == 'cpython' and os_name == 'nt') or "
            "(implementation_name == 'cpython' and sys_platform == 'win32')"
        )

    def test_an_unparsable_marker_raises(self) -> None:
        with pytest.raises(UvLockError):
            parse_marker("sys_platform ==", RP312)
