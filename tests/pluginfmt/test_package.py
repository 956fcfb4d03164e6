from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.package import (
    PackageTooLarge,
    package,
    package_folder_name,
    read_zip,
    write_zip,
)
from tests.conftest import CORPUS_PLUGINS

DATA = Path(__file__).parent / "data" / "uvlock"
MANIFEST = b"name: demo\nversion: 0.0.1\nmeta:\n  runner:\n    language: python\n"
PYPROJECT = b'[project]\nname = "demo"\nversion = "0.1"\ndependencies = ["a"]\n'
LOCK = b"""version = 1
requires-python = ">=3.12"

[[package]]
name = "a"
version = "1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "demo"
version = "0.1"
source = { virtual = "." }
dependencies = [{ name = "a" }]
"""


def read_folder(root: Path) -> PluginFiles:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def make_plugin(**extra: bytes) -> PluginFiles:
    files: PluginFiles = {
        "manifest.yaml": MANIFEST,
        "provider/demo.yaml": b"provider: demo\n",
        "_assets/icon.svg": b"<svg/>",
        "main.py": b"print('hi')\n",
    }
    files.update({k.replace("__", "/"): v for k, v in extra.items()})
    return files


def infos(data: bytes) -> list[zipfile.ZipInfo]:
    return zipfile.ZipFile(io.BytesIO(data)).infolist()


class TestZipLayout:
    def test_entries_are_sorted_by_path(self) -> None:
        names = [i.filename for i in infos(package(make_plugin()))]
        assert names == [
            "_assets/icon.svg",
            "main.py",
            "manifest.yaml",
            "provider/demo.yaml",
        ]

    def test_it_writes_no_directory_entries(self) -> None:
        names = [i.filename for i in infos(package(make_plugin()))]
        assert not [n for n in names if n.endswith("/")]

    def test_every_entry_is_deflated_with_zero_time_and_no_modes(self) -> None:
        for info in infos(package(make_plugin())):
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.date_time == (1980, 0, 0, 0, 0, 0)
            assert (info.external_attr, info.create_system) == (0, 0)
            assert (info.flag_bits, info.create_version, info.extract_version) == (
                0x08,
                20,
                20,
            )

    def test_a_non_ascii_name_gets_the_utf8_flag(self) -> None:
        (info,) = infos(write_zip([("readme/README_ja_JP.md·", b"x")]))
        assert info.flag_bits == 0x808

    def test_the_local_header_is_the_one_go_writes(self) -> None:
        data = write_zip([("a.txt", b"hello")])
        header = struct.unpack("<IHHHHHIIIHH", data[:30])
        assert header == (0x04034B50, 20, 8, 8, 0, 0, 0, 0, 0, 5, 0)
        assert data[30:35] == b"a.txt"

    def test_the_archive_comment_is_empty(self) -> None:
        data = package(make_plugin())
        assert zipfile.ZipFile(io.BytesIO(data)).comment == b""
        assert data[-2:] == b"\x00\x00"

    def test_output_is_deterministic_whatever_the_input_order(self) -> None:
        files = make_plugin()
        reordered = dict(reversed(list(files.items())))
        assert package(files) == package(reordered) == package(make_plugin())

    def test_contents_round_trip(self) -> None:
        files = make_plugin(big=b"x" * 100_000)
        entries, comment = read_zip(package(files))
        assert dict(entries) == files and comment == b""


class TestRequirements:
    def test_it_generates_requirements_from_the_lock(self) -> None:
        files = make_plugin(**{"pyproject.toml": PYPROJECT, "uv.lock": LOCK})
        entries = dict(read_zip(package(files))[0])
        assert entries["requirements.txt"] == b"a==1.0\n"
        assert "pyproject.toml" in entries and "uv.lock" in entries

    def test_an_existing_requirements_file_is_kept_as_is(self) -> None:
        files = make_plugin(
            **{
                "pyproject.toml": PYPROJECT,
                "uv.lock": LOCK,
                "requirements.txt": b"dify_plugin>=0.9\n",
            }
        )
        entries = dict(read_zip(package(files))[0])
        assert entries["requirements.txt"] == b"dify_plugin>=0.9\n"

    def test_an_ignored_requirements_file_is_neither_packed_nor_regenerated(
        self,
    ) -> None:
        files = make_plugin(
            **{
                "pyproject.toml": PYPROJECT,
                "uv.lock": LOCK,
                "requirements.txt": b"x\n",
                ".difyignore": b"requirements.txt\n",
            }
        )
        assert "requirements.txt" not in dict(read_zip(package(files))[0])

    def test_an_ignored_lock_still_feeds_the_generation(self) -> None:
        files = make_plugin(
            **{
                "pyproject.toml": PYPROJECT,
                "uv.lock": LOCK,
                ".difyignore": b"uv.lock\n",
            }
        )
        entries = dict(read_zip(package(files))[0])
        assert entries["requirements.txt"] == b"a==1.0\n" and "uv.lock" not in entries

    def test_nothing_is_generated_without_a_lock(self) -> None:
        files = make_plugin(**{"pyproject.toml": PYPROJECT})
        assert "requirements.txt" not in dict(read_zip(package(files))[0])

    def test_nothing_is_generated_for_a_non_python_runner(self) -> None:
        files = make_plugin(**{"pyproject.toml": PYPROJECT, "uv.lock": LOCK})
        files["manifest.yaml"] = MANIFEST.replace(b"python", b"go")
        assert "requirements.txt" not in dict(read_zip(package(files))[0])

    def test_a_broken_manifest_means_no_generation(self) -> None:
        files = make_plugin(**{"pyproject.toml": PYPROJECT, "uv.lock": LOCK})
        files["manifest.yaml"] = b"meta: [unclosed\n"
        assert "requirements.txt" not in dict(read_zip(package(files))[0])

    @pytest.mark.parametrize("plugin", CORPUS_PLUGINS)
    def test_corpus_plugins_get_the_requirements_uv_would_export(
        self, plugin: str, restored_corpus: Path
    ) -> None:
        files = read_folder(restored_corpus / plugin)
        assert "requirements.txt" not in files
        entries = dict(read_zip(package(files))[0])
        expected = (DATA / "corpus-expected" / f"{plugin}.txt").read_bytes()
        assert entries["requirements.txt"] == expected
        assert b"dify-plugin==" in expected


class TestSizeLimit:
    def test_it_refuses_more_than_max_size_naming_the_five_largest(self) -> None:
        files = {f"f{i}.bin": b"x" * (100 * i) for i in range(1, 8)}
        with pytest.raises(PackageTooLarge) as caught:
            package(files, max_size=2000)
        assert caught.value.largest == [
            ("f7.bin", 700),
            ("f6.bin", 600),
            ("f5.bin", 500),
            ("f4.bin", 400),
            ("f3.bin", 300),
        ]
        assert caught.value.total == 2800
        assert "1. name: f7.bin, size: 700 bytes" in str(caught.value)
        assert "f2.bin" not in str(caught.value)

    def test_exactly_max_size_is_accepted(self) -> None:
        data = package({"a": b"x" * 1000, "b": b"y" * 1000}, max_size=2000)
        assert [i.file_size for i in infos(data)] == [1000, 1000]

    def test_ignored_files_do_not_count(self) -> None:
        files = {"keep": b"x" * 10, "big.bin": b"x" * 5000, ".difyignore": b"*.bin\n"}
        assert [i.filename for i in infos(package(files, max_size=100))] == [
            ".difyignore",
            "keep",
        ]


class TestFolderName:
    def test_it_is_name_dash_version(self) -> None:
        assert package_folder_name({"name": "tongyi", "version": "0.2.13"}) == (
            "tongyi-0.2.13.difypkg"
        )
