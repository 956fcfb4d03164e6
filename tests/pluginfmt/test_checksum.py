from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from studio.pluginfmt.checksum import (
    IDENTIFIER_RE,
    checksum,
    files_checksum,
    is_valid_identifier,
    unique_identifier,
)
from studio.pluginfmt.package import package, write_zip

FILES = {
    "manifest.yaml": b"author: studio\nname: echo\nversion: 0.0.1\n",
    "provider/echo.yaml": b"provider: echo\n",
    "_assets/icon.svg": b"<svg/>",
}
# From pkg/entities/plugin_entities/identity_test.go of dify-plugin-daemon.
GO_CHECKSUM = "1234567890abcdef1234567890abcdef1234567890abcdef"


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class TestChecksum:
    def test_it_hashes_raw_digests_of_path_then_content_in_path_order(self) -> None:
        expected = hashlib.sha256(
            sha(b"a.txt") + sha(b"1") + sha(b"b/c.txt") + sha(b"2")
        ).hexdigest()
        data = write_zip([("b/c.txt", b"2"), ("a.txt", b"1")])
        assert checksum(data) == expected

    def test_hex_digests_would_give_another_value(self) -> None:
        hexed = hashlib.sha256(
            b"".join(hashlib.sha256(x).hexdigest().encode() for x in (b"a.txt", b"1"))
        ).hexdigest()
        assert checksum(write_zip([("a.txt", b"1")])) != hexed

    def test_a_fixed_package_keeps_its_checksum(self) -> None:
        assert checksum(package(FILES)) == (
            "9e1a31567bb71cceb978d3de8e0deb8230fa629ddb63b4ad618eb624a176c813"
        )

    def test_archive_order_and_compression_do_not_matter(self) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for name in sorted(FILES, reverse=True):
                archive.writestr(name, FILES[name])
            archive.writestr("provider/", b"")  # a directory entry is skipped
        assert checksum(buffer.getvalue()) == checksum(package(FILES))

    def test_the_zip_comment_is_not_hashed(self) -> None:
        entries = sorted(FILES.items())
        assert checksum(write_zip(entries, comment=b'{"signature":"x"}')) == (
            checksum(write_zip(entries))
        )

    def test_it_matches_the_checksum_of_extracted_files(self) -> None:
        assert files_checksum(FILES) == checksum(package(FILES))

    def test_any_content_change_changes_it(self) -> None:
        changed = dict(FILES, **{"_assets/icon.svg": b"<svg />"})
        assert checksum(package(changed)) != checksum(package(FILES))


class TestUniqueIdentifier:
    def test_it_joins_author_name_version_and_checksum(self) -> None:
        assert unique_identifier("langgenius", "test", "1.0.0", GO_CHECKSUM) == (
            f"langgenius/test:1.0.0@{GO_CHECKSUM}"
        )

    def test_without_author_it_is_name_version_checksum(self) -> None:
        assert unique_identifier("", "test", "1.0.0", GO_CHECKSUM) == (
            f"test:1.0.0@{GO_CHECKSUM}"
        )

    @pytest.mark.parametrize(
        "identifier",
        [
            f"langgenius/test:1.0.0@{GO_CHECKSUM}",
            f"test:1.0.0@{GO_CHECKSUM}",
            f"studio/echo:0.0.1-beta_1@{'a' * 64}",
            f"studio/echo:1.2.3.4@{'0' * 32}",
            f"studio/echo$0.0.1@{'a' * 64}",  # the daemon maps "$" to ":"
        ],
    )
    def test_the_daemon_regex_accepts(self, identifier: str) -> None:
        assert is_valid_identifier(identifier)

    @pytest.mark.parametrize(
        "identifier",
        [
            f"1.0.0@{GO_CHECKSUM}",  # identity_test.go
            GO_CHECKSUM,  # identity_test.go
            "langgenius/test:1.0.0@123456",  # identity_test.go
            "langgenius/test:1.0.0",  # identity_test.go
            f"Studio/echo:0.0.1@{'a' * 64}",
            f"studio/echo:1@{'a' * 64}",
            f"studio/echo:0.0.1-\u00e9@{'a' * 64}",  # Go's \w is ASCII
            f"studio/echo:0.0.1@{'A' * 64}",
            f"studio/echo:0.0.1@{'a' * 64}\n",
        ],
    )
    def test_the_daemon_regex_rejects(self, identifier: str) -> None:
        assert not is_valid_identifier(identifier)

    def test_a_real_package_identifier_is_valid(self) -> None:
        identifier = unique_identifier(
            "studio", "echo", "0.0.1", checksum(package(FILES))
        )
        assert IDENTIFIER_RE.fullmatch(identifier)


def test_the_checksum_from_stored_digests_equals_the_one_from_contents() -> None:
    import hashlib

    from studio.pluginfmt.checksum import digests_checksum, files_checksum

    files = {"b/ü.py": b"x = 1\n", "a.yaml": b"k: v\n", "_assets/i.svg": b"<svg/>"}
    digests = {p: hashlib.sha256(c).hexdigest() for p, c in files.items()}
    assert digests_checksum(digests) == files_checksum(files)
