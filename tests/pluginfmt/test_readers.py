from __future__ import annotations

import copy
import io
import os
import socket
import stat
import struct
import warnings
import zipfile
from pathlib import Path

import pytest

from studio.pluginfmt import readers
from studio.pluginfmt.files import PluginFiles, ReadFiles, UnsafeInput
from studio.pluginfmt.readers import (
    MAX_TOTAL_SIZE,
    check_entry_name,
    read_any,
    read_folder,
    read_package,
    read_zip,
)
from tests.conftest import CORPUS_PLUGINS

MANIFEST = b"version: 0.0.1\ntype: plugin\n"


def make_folder(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def make_zip(
    entries: list[tuple[str, bytes]] | dict[str, bytes],
    *,
    modes: dict[str, int] | None = None,
    method: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """A zip of `entries`; `modes` gives Unix modes (file type included) by name."""
    items = list(entries.items()) if isinstance(entries, dict) else entries
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(buf, "w", compression=method) as zf:
            for name, content in items:
                info = zipfile.ZipInfo(name)
                info.compress_type = method
                if modes and name in modes:
                    info.create_system = 3
                    info.external_attr = modes[name] << 16
                zf.writestr(info, content)
    return buf.getvalue()


def zeros_zip(entries: dict[str, int]) -> bytes:
    """A zip of entries made of zero bytes, written in chunks (small in memory)."""
    buf = io.BytesIO()
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.yaml", MANIFEST)
        for name, size in entries.items():
            with zf.open(name, "w", force_zip64=True) as fh:
                for _ in range(size // len(chunk)):
                    fh.write(chunk)
                fh.write(bytes(size % len(chunk)))
    return buf.getvalue()


def patch_central_directory(data: bytes, name: str, **fields: int) -> bytes:
    """Rewrite fields of `name`'s central directory (and local) header."""
    out = bytearray(data)
    # Central directory header: offsets of flag bits, sizes.
    central = {"flags": (8, "<H"), "compressed": (20, "<I"), "size": (24, "<I")}
    local = {"flags": (6, "<H"), "compressed": (18, "<I"), "size": (22, "<I")}
    encoded = name.encode()
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", out, pos + 28)[0]
        if out[pos + 46 : pos + 46 + name_len] == encoded:
            header_offset = struct.unpack_from("<I", out, pos + 42)[0]
            for key, value in fields.items():
                off, fmt = central[key]
                struct.pack_into(fmt, out, pos + off, value)
                off, fmt = local[key]
                struct.pack_into(fmt, out, header_offset + off, value)
            return bytes(out)
        pos = out.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(f"{name} not in the central directory")


def _is_device(path: str) -> bool:
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


def refusal(excinfo: pytest.ExceptionInfo[UnsafeInput]) -> tuple[str | None, str]:
    return excinfo.value.entry, str(excinfo.value)


class TestCheckEntryName:
    def test_it_accepts_a_plain_relative_path(self) -> None:
        assert check_entry_name("models/llm/gpt-4o.yaml") == "models/llm/gpt-4o.yaml"

    @pytest.mark.parametrize(
        ("name", "reason"),
        [
            ("../evil.py", ".."),
            ("models/../../evil.py", ".."),
            ("/etc/passwd", "absolute"),
            ("models\\llm\\x.yaml", "backslash"),
            ("C:/Windows/x.yaml", "drive"),
            ("./manifest.yaml", "plain relative"),
            ("models//x.yaml", "plain relative"),
            ("bad\nname", "control character"),
        ],
    )
    def test_it_refuses_an_unsafe_name(self, name: str, reason: str) -> None:
        with pytest.raises(UnsafeInput) as excinfo:
            check_entry_name(name)
        entry, message = refusal(excinfo)
        assert entry == name
        assert reason in message


class TestReadFolder:
    def test_it_reads_every_file_as_bytes(self, tmp_path: Path) -> None:
        make_folder(
            tmp_path / "p",
            {"manifest.yaml": MANIFEST, "models/llm/a.yaml": b"model: a\n"},
        )
        (tmp_path / "p" / "empty").mkdir()

        files = read_folder(tmp_path / "p")

        assert files == {"manifest.yaml": MANIFEST, "models/llm/a.yaml": b"model: a\n"}

    def test_it_reads_a_symlink_inside_the_folder_as_its_target(
        self, tmp_path: Path
    ) -> None:
        root = make_folder(
            tmp_path / "p",
            {"manifest.yaml": MANIFEST, "models/llm/gpt-4.1.yaml": b"model: x\n"},
        )
        (root / "models/llm/gpt-4.1-mini.yaml").symlink_to("gpt-4.1.yaml")
        (root / ".difyignore").symlink_to("models/llm/gpt-4.1.yaml")

        files = read_folder(root)

        assert files["models/llm/gpt-4.1-mini.yaml"] == b"model: x\n"
        assert files[".difyignore"] == b"model: x\n"
        assert files.links == {
            ".difyignore": "models/llm/gpt-4.1.yaml",
            "models/llm/gpt-4.1-mini.yaml": "models/llm/gpt-4.1.yaml",
        }

    def test_it_records_each_file_it_read_through_a_link(self, tmp_path: Path) -> None:
        root = make_folder(
            tmp_path / "p", {"manifest.yaml": MANIFEST, "models/a.yaml": b"a: 1\n"}
        )
        (root / "models/b.yaml").symlink_to("a.yaml")

        files = read_folder(root)

        assert isinstance(files, ReadFiles)
        assert files.links == {"models/b.yaml": "models/a.yaml"}
        assert files.directory_entries == []

    def test_it_follows_a_symlink_to_a_file_outside_the_folder(
        self, tmp_path: Path
    ) -> None:
        # The official plugin repository links each plugin's .difyignore to
        # the repository root's; the Dify CLI packages the target's bytes.
        (tmp_path / ".difyignore").write_bytes(b".env\n")
        root = make_folder(tmp_path / "models" / "p", {"manifest.yaml": MANIFEST})
        (root / ".difyignore").symlink_to("../../.difyignore")

        files = read_folder(root)

        assert files == {"manifest.yaml": MANIFEST, ".difyignore": b".env\n"}
        assert files.links == {".difyignore": str(tmp_path / ".difyignore")}

    def test_it_follows_a_chain_of_links_to_the_last_file(self, tmp_path: Path) -> None:
        (tmp_path / "shared").mkdir()
        (tmp_path / "shared" / "README.md").write_bytes(b"# shared\n")
        (tmp_path / "hop.md").symlink_to("shared/README.md")
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST})
        (root / "README.md").symlink_to(tmp_path / "hop.md")

        files = read_folder(root)

        assert files["README.md"] == b"# shared\n"
        assert files.links == {"README.md": str(tmp_path / "shared" / "README.md")}

    def test_a_linked_file_counts_against_the_file_size_limit(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "big.bin").write_bytes(b"x" * 101)
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST})
        (root / "big.bin").symlink_to(tmp_path / "big.bin")

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root, max_file_size=100)

        entry, message = refusal(excinfo)
        assert entry == "big.bin"
        assert "larger than 100 bytes" in message

    def test_a_linked_file_counts_against_the_total_size_limit(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "b.bin").write_bytes(b"x" * 60)
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST})
        (root / "a.bin").symlink_to(tmp_path / "b.bin")
        (root / "b.bin").symlink_to(tmp_path / "b.bin")

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root, max_total_size=100)

        entry, message = refusal(excinfo)
        assert entry == "b.bin"
        assert "total uncompressed size over 100 bytes" in message

    def test_it_refuses_a_symlink_to_a_folder_outside(self, tmp_path: Path) -> None:
        make_folder(tmp_path / "shared", {"a.yaml": b"a: 1\n"})
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST})
        (root / "models").symlink_to("../shared")

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root)

        entry, message = refusal(excinfo)
        assert entry == "models"
        assert "symlink to something other than a file (folder)" in message

    def test_it_refuses_a_symlink_to_a_fifo_outside(self, tmp_path: Path) -> None:
        os.mkfifo(tmp_path / "pipe")
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST})
        (root / "pipe.yaml").symlink_to(tmp_path / "pipe")

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root)

        entry, message = refusal(excinfo)
        assert entry == "pipe.yaml"
        assert "symlink to something other than a file (fifo)" in message

    def test_it_refuses_a_symlink_to_a_device(self, tmp_path: Path) -> None:
        # /dev/zero: every Linux machine has this character device.
        device = "/dev/zero"
        assert _is_device(device)
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST})
        (root / "null.yaml").symlink_to(device)

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root)

        entry, message = refusal(excinfo)
        assert entry == "null.yaml"
        assert "(device)" in message

    def test_it_refuses_a_looping_symlink(self, tmp_path: Path) -> None:
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST})
        (root / "a.yaml").symlink_to("b.yaml")
        (root / "b.yaml").symlink_to("a.yaml")

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root)

        entry, message = refusal(excinfo)
        assert entry == "a.yaml"
        assert "dangling or looping" in message

    def test_it_refuses_a_dangling_symlink(self, tmp_path: Path) -> None:
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST})
        (root / "gone.yaml").symlink_to("nowhere.yaml")

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root)

        entry, message = refusal(excinfo)
        assert entry == "gone.yaml"
        assert "dangling" in message

    def test_it_refuses_a_symlink_to_a_folder(self, tmp_path: Path) -> None:
        root = make_folder(
            tmp_path / "p", {"manifest.yaml": MANIFEST, "models/a.yaml": b"a: 1\n"}
        )
        (root / "again").symlink_to("models")

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root)

        entry, message = refusal(excinfo)
        assert entry == "again"
        assert "folder" in message

    def test_it_refuses_a_fifo(self, tmp_path: Path) -> None:
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST})
        os.mkfifo(root / "pipe")

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root)

        entry, message = refusal(excinfo)
        assert entry == "pipe"
        assert "fifo" in message

    def test_it_refuses_a_socket(self, tmp_path: Path) -> None:
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST})
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.bind(str(root / "sock"))
            with pytest.raises(UnsafeInput) as excinfo:
                read_folder(root)
        finally:
            sock.close()

        entry, message = refusal(excinfo)
        assert entry == "sock"
        assert "socket" in message

    def test_it_refuses_a_device_file(self, tmp_path: Path) -> None:
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST})
        try:
            os.mknod(root / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("creating a device file needs privileges")

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root)

        entry, message = refusal(excinfo)
        assert entry == "null"
        assert "device" in message

    def test_it_refuses_a_hard_link_to_a_file_outside_the_folder(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "secret").write_bytes(b"password")
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST})
        os.link(tmp_path / "secret", root / "copy.yaml")

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root)

        entry, message = refusal(excinfo)
        assert entry == "copy.yaml"
        assert "hard link" in message

    def test_it_reads_hard_links_that_stay_inside_the_folder(
        self, tmp_path: Path
    ) -> None:
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST, "a": b"same"})
        os.link(root / "a", root / "b")

        assert read_folder(root) == {
            "manifest.yaml": MANIFEST,
            "a": b"same",
            "b": b"same",
        }

    def test_it_refuses_a_file_name_with_a_backslash(self, tmp_path: Path) -> None:
        root = make_folder(tmp_path / "p", {"manifest.yaml": MANIFEST, "a\\b": b"x"})

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root)

        entry, message = refusal(excinfo)
        assert entry == "a\\b"
        assert "backslash" in message

    def test_it_refuses_more_entries_than_the_limit(self, tmp_path: Path) -> None:
        root = make_folder(
            tmp_path / "p",
            {"manifest.yaml": MANIFEST, **{f"f{i}.txt": b"x" for i in range(5)}},
        )

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root, max_entries=4)

        entry, message = refusal(excinfo)
        assert entry == "f4.txt"
        assert "more than 4 entries" in message

    def test_it_refuses_a_file_over_the_file_limit(self, tmp_path: Path) -> None:
        root = make_folder(
            tmp_path / "p", {"manifest.yaml": MANIFEST, "big.bin": b"x" * 101}
        )

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root, max_file_size=100)

        entry, message = refusal(excinfo)
        assert entry == "big.bin"
        assert "larger than 100 bytes" in message

    def test_it_refuses_a_total_over_the_limit(self, tmp_path: Path) -> None:
        root = make_folder(
            tmp_path / "p",
            {"manifest.yaml": MANIFEST, "a.bin": b"x" * 60, "b.bin": b"x" * 60},
        )

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root, max_total_size=100)

        entry, message = refusal(excinfo)
        assert entry == "b.bin"
        assert "total uncompressed size over 100 bytes" in message

    def test_it_refuses_a_folder_without_manifest(self, tmp_path: Path) -> None:
        root = make_folder(tmp_path / "p", {"README.md": b"hi"})

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(root)

        entry, message = refusal(excinfo)
        assert entry == "manifest.yaml"
        assert "no manifest.yaml" in message

    def test_it_refuses_a_path_that_is_not_a_folder(self, tmp_path: Path) -> None:
        (tmp_path / "file").write_bytes(b"x")

        with pytest.raises(UnsafeInput) as excinfo:
            read_folder(tmp_path / "file")

        assert refusal(excinfo)[0] == str(tmp_path / "file")


class TestReadZip:
    def test_it_reads_entries_and_skips_folder_entries(self) -> None:
        data = make_zip(
            [
                ("models/", b""),
                ("manifest.yaml", MANIFEST),
                ("models/a.yaml", b"model: a\n"),
            ]
        )

        files = read_zip(data)

        assert files == {"manifest.yaml": MANIFEST, "models/a.yaml": b"model: a\n"}
        # A zip of a folder is packaged again, so its folder entries do no harm.
        assert files.directory_entries == []

    def test_it_drops_a_single_top_folder_holding_the_manifest(self) -> None:
        data = make_zip(
            [
                ("openai/", b""),
                ("openai/manifest.yaml", MANIFEST),
                ("openai/models/a.yaml", b"a"),
                ("__MACOSX/openai/._manifest.yaml", b"\x00\x05\x16\x07"),
            ]
        )

        assert read_zip(data) == {"manifest.yaml": MANIFEST, "models/a.yaml": b"a"}

    def test_it_keeps_a_top_folder_without_the_manifest(self) -> None:
        data = make_zip({"p/README.md": b"x", "p/sub/manifest.yaml": MANIFEST})

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data)

        assert refusal(excinfo)[0] == "manifest.yaml"

    def test_it_reads_bytes_paths_and_file_objects_alike(self, tmp_path: Path) -> None:
        data = make_zip({"manifest.yaml": MANIFEST, "a.txt": b"a"})
        (tmp_path / "p.zip").write_bytes(data)

        from_bytes = read_zip(data)

        assert read_zip(tmp_path / "p.zip") == from_bytes
        assert read_zip(str(tmp_path / "p.zip")) == from_bytes
        assert read_zip(io.BytesIO(data)) == from_bytes
        assert from_bytes == {"manifest.yaml": MANIFEST, "a.txt": b"a"}

    @pytest.mark.parametrize(
        ("name", "reason"),
        [
            ("../evil.py", "escapes"),
            ("models/../../evil.py", "escapes"),
            ("/etc/cron.d/evil", "absolute"),
            ("models\\evil.py", "backslash"),
            ("C:/evil.py", "drive"),
        ],
    )
    def test_it_refuses_an_entry_escaping_the_root(
        self, name: str, reason: str
    ) -> None:
        data = make_zip({"manifest.yaml": MANIFEST, name: b"x"})

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data)

        entry, message = refusal(excinfo)
        assert entry == name
        assert reason in message

    def test_it_refuses_a_symlink_entry(self) -> None:
        data = make_zip(
            {"manifest.yaml": MANIFEST, "link.yaml": b"/etc/passwd"},
            modes={"link.yaml": stat.S_IFLNK | 0o777},
        )

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data)

        entry, message = refusal(excinfo)
        assert entry == "link.yaml"
        assert "symlink" in message

    @pytest.mark.parametrize(
        ("mode", "kind"),
        [
            (stat.S_IFIFO | 0o644, "fifo"),
            (stat.S_IFCHR | 0o644, "device"),
            (stat.S_IFSOCK | 0o644, "socket"),
            (stat.S_IFDIR | 0o755, "folder entry without a trailing"),
        ],
    )
    def test_it_refuses_a_non_regular_entry(self, mode: int, kind: str) -> None:
        data = make_zip({"manifest.yaml": MANIFEST, "odd": b""}, modes={"odd": mode})

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data)

        entry, message = refusal(excinfo)
        assert entry == "odd"
        assert kind in message

    def test_it_accepts_regular_unix_modes(self) -> None:
        data = make_zip(
            {"manifest.yaml": MANIFEST, "run.sh": b"#!/bin/sh\n"},
            modes={"run.sh": stat.S_IFREG | 0o755},
        )

        assert read_zip(data)["run.sh"] == b"#!/bin/sh\n"

    def test_it_refuses_more_entries_than_the_limit(self) -> None:
        data = make_zip(
            {"manifest.yaml": MANIFEST, **{f"f{i}": b"x" for i in range(5)}}
        )

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data, max_entries=5)

        entry, message = refusal(excinfo)
        assert entry == "f4"
        assert "more than 5 entries" in message

    def test_it_refuses_a_zip_bomb_by_its_compression_ratio(self) -> None:
        data = zeros_zip({"bomb.bin": 4 * 1024 * 1024})
        assert len(data) < 64 * 1024

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data)

        entry, message = refusal(excinfo)
        assert entry == "bomb.bin"
        assert "compression ratio" in message

    def test_it_refuses_a_total_over_50_mib_before_inflating(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        third = 18 * 1024 * 1024  # three of these pass alone, not together
        data = zeros_zip({"a.bin": third, "b.bin": third, "c.bin": third})

        def no_inflating(*args: object) -> bytes:
            raise AssertionError("inflated before checking the declared sizes")

        monkeypatch.setattr(readers, "_inflate", no_inflating)

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data, max_ratio=10_000)

        entry, message = refusal(excinfo)
        assert entry == "c.bin"
        assert f"total uncompressed size over {MAX_TOTAL_SIZE} bytes" in message

    def test_it_refuses_a_single_file_over_the_file_limit(self) -> None:
        data = make_zip({"manifest.yaml": MANIFEST, "big.bin": b"x" * 2000})

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data, max_file_size=1000)

        entry, message = refusal(excinfo)
        assert entry == "big.bin"
        assert "larger than 1000 bytes" in message

    def test_it_counts_inflated_bytes_when_the_header_understates_the_size(
        self,
    ) -> None:
        honest = make_zip({"manifest.yaml": MANIFEST, "big.bin": bytes(300_000)})
        lying = patch_central_directory(honest, "big.bin", size=1000)

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(lying)

        entry, message = refusal(excinfo)
        assert entry == "big.bin"
        assert "more bytes than its header declares" in message

    def test_it_refuses_an_entry_shorter_than_its_header_claims(self) -> None:
        honest = make_zip({"manifest.yaml": MANIFEST, "a.txt": b"hello"})
        lying = patch_central_directory(honest, "a.txt", size=500)

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(lying)

        entry, message = refusal(excinfo)
        assert entry == "a.txt"
        assert "header declares 500" in message

    def test_it_refuses_duplicate_entries(self) -> None:
        data = make_zip(
            [("manifest.yaml", MANIFEST), ("a.yaml", b"1"), ("a.yaml", b"2")]
        )

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data)

        entry, message = refusal(excinfo)
        assert entry == "a.yaml"
        assert "duplicate" in message

    def test_it_refuses_a_name_that_is_both_file_and_folder(self) -> None:
        data = make_zip({"manifest.yaml": MANIFEST, "a": b"1", "a/b": b"2"})

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data)

        entry, message = refusal(excinfo)
        assert entry == "a"
        assert "both a file and a folder" in message

    def test_it_refuses_something_that_is_not_a_zip(self, tmp_path: Path) -> None:
        (tmp_path / "p.zip").write_bytes(b"manifest.yaml: not a zip\n")

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(tmp_path / "p.zip")

        entry, message = refusal(excinfo)
        assert entry == str(tmp_path / "p.zip")
        assert "not a zip archive" in message

    def test_it_refuses_a_truncated_zip(self) -> None:
        data = make_zip({"manifest.yaml": MANIFEST, "a.txt": b"a" * 1000})

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data[: len(data) // 2])

        assert "truncated" in str(excinfo.value)

    def test_it_refuses_an_entry_with_corrupt_data(self) -> None:
        noise = bytes(i * 7919 % 251 for i in range(2000))  # barely compresses
        data = bytearray(make_zip({"manifest.yaml": MANIFEST, "a.txt": noise}))
        start = data.find(b"a.txt") + len("a.txt")  # the local header's name
        data[start + 5 : start + 25] = bytes(20)

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(bytes(data))

        entry, message = refusal(excinfo)
        assert entry == "a.txt"
        assert "corrupt" in message

    def test_it_refuses_an_encrypted_entry(self) -> None:
        honest = make_zip({"manifest.yaml": MANIFEST, "secret.txt": b"x"})
        encrypted = patch_central_directory(honest, "secret.txt", flags=0x1)

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(encrypted)

        entry, message = refusal(excinfo)
        assert entry == "secret.txt"
        assert "encrypted" in message

    def test_it_refuses_a_compression_method_the_daemon_cannot_read(self) -> None:
        data = make_zip({"manifest.yaml": MANIFEST}, method=zipfile.ZIP_BZIP2)

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data)

        entry, message = refusal(excinfo)
        assert entry == "manifest.yaml"
        assert "compression method 12" in message

    def test_it_refuses_a_zip_without_manifest(self) -> None:
        data = make_zip({"README.md": b"x", "models/a.yaml": b"a"})

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data)

        entry, message = refusal(excinfo)
        assert entry == "manifest.yaml"
        assert "no manifest.yaml" in message

    def test_it_refuses_a_nul_byte_in_a_name(self) -> None:
        data = make_zip({"manifest.yaml": MANIFEST, "a.yaml": b"x"})
        data = data.replace(b"a.yaml", b"a\x00yaml")

        with pytest.raises(UnsafeInput) as excinfo:
            read_zip(data)

        entry, message = refusal(excinfo)
        assert entry == "a\\0yaml"
        assert "NUL" in message


class TestReadPackage:
    def test_it_reads_a_package_as_it_is(self) -> None:
        data = make_zip({"manifest.yaml": MANIFEST, "__MACOSX/x": b"kept"})

        assert read_package(data) == {"manifest.yaml": MANIFEST, "__MACOSX/x": b"kept"}

    def test_it_records_the_directory_entries_the_daemon_cannot_read(self) -> None:
        data = make_zip(
            [
                ("manifest.yaml", MANIFEST),
                ("models/", b""),
                ("models/llm/", b""),
                ("models/llm/a.yaml", b"model: a\n"),
            ]
        )

        files = read_package(data)

        assert files == {"manifest.yaml": MANIFEST, "models/llm/a.yaml": b"model: a\n"}
        assert files.directory_entries == ["models/", "models/llm/"]
        assert files.links == {}

    def test_it_refuses_a_symlink_entry(self) -> None:
        data = make_zip(
            {"manifest.yaml": MANIFEST, ".difyignore": b"../.difyignore"},
            modes={".difyignore": stat.S_IFLNK | 0o777},
        )

        with pytest.raises(UnsafeInput) as excinfo:
            read_package(data)

        entry, message = refusal(excinfo)
        assert entry == ".difyignore"
        assert "symlink" in message

    def test_it_refuses_a_package_whose_manifest_is_in_a_folder(self) -> None:
        data = make_zip({"p/manifest.yaml": MANIFEST})

        with pytest.raises(UnsafeInput) as excinfo:
            read_package(data)

        assert refusal(excinfo)[0] == "manifest.yaml"


class TestReadAny:
    def test_it_chooses_the_reader_by_kind(self, tmp_path: Path) -> None:
        files: PluginFiles = {"manifest.yaml": MANIFEST, "a.txt": b"a"}
        make_folder(tmp_path / "folder", files)
        (tmp_path / "p.difypkg").write_bytes(make_zip(files))
        (tmp_path / "p.zip").write_bytes(
            make_zip({f"p/{name}": content for name, content in files.items()})
        )

        assert read_any(tmp_path / "folder") == files
        assert read_any(tmp_path / "p.difypkg") == files
        assert read_any(tmp_path / "p.zip") == files

    def test_it_does_not_strip_a_folder_from_a_package(self, tmp_path: Path) -> None:
        (tmp_path / "p.difypkg").write_bytes(make_zip({"p/manifest.yaml": MANIFEST}))

        with pytest.raises(UnsafeInput) as excinfo:
            read_any(tmp_path / "p.difypkg")

        assert refusal(excinfo)[0] == "manifest.yaml"

    def test_it_refuses_a_missing_path(self, tmp_path: Path) -> None:
        with pytest.raises(UnsafeInput) as excinfo:
            read_any(tmp_path / "nothing")

        assert refusal(excinfo)[0] == str(tmp_path / "nothing")


def zip_folder(root: Path) -> bytes:
    """Zip a folder the way `zip -r` would: top folder, folder entries, modes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            zf.write(path, Path(root.name) / path.relative_to(root))
    return buf.getvalue()


class TestCorpus:
    @pytest.mark.parametrize("name", CORPUS_PLUGINS)
    def test_a_zip_of_a_corpus_folder_reads_like_the_folder(
        self, restored_corpus: Path, name: str
    ) -> None:
        folder = read_folder(restored_corpus / name)

        zipped = read_zip(zip_folder(restored_corpus / name))

        assert zipped == folder
        assert "manifest.yaml" in folder


class TestReadFiles:
    def test_it_equals_the_same_files_whatever_the_reader_saw(self) -> None:
        files = ReadFiles({"a": b"1"}, links={"a": "/x/a"}, directory_entries=["d/"])

        assert files == {"a": b"1"}
        assert files == ReadFiles({"a": b"1"})
        assert files != {"a": b"2"}

    def test_a_copy_keeps_the_facts_and_a_plain_dict_drops_them(self) -> None:
        files = ReadFiles({"a": b"1"}, links={"a": "/x/a"}, directory_entries=["d/"])

        copied = copy.deepcopy(files)
        plain = dict(files)

        assert (copied.links, copied.directory_entries) == ({"a": "/x/a"}, ["d/"])
        assert copied.links is not files.links
        assert type(plain) is dict and plain == files

    def test_a_read_without_links_or_folders_records_none(self) -> None:
        files = ReadFiles({"a": b"1"})

        assert (files.links, files.directory_entries) == ({}, [])
