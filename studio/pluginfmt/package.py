"""`.difypkg` packaging as `dify plugin package` does it, and zip reading.

The archive mirrors what Go's `archive/zip` writes for `zipWriter.Create`:
entries sorted by path, no directory entries, Deflate, MS-DOS time and date 0,
the data-descriptor flag (0x08, plus 0x800 for non-ASCII UTF-8 names), version
2.0, no extra fields, no external attributes (no unix modes), empty archive
comment. Output is deterministic. The deflate streams come from zlib, not
Go's compress/flate, so compressed bytes differ from the Go CLI's output;
everything hashed or signed (entry names and uncompressed content) is the same.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from studio.pluginfmt.files import PluginFiles, UnsafeInput
from studio.pluginfmt.ignore import select_files
from studio.pluginfmt.uvlock import UvLockError, export_requirements
from studio.pluginfmt.yamlio import load_yaml

DEFAULT_MAX_SIZE = 52_428_800  # 50 MiB, the CLI's --max-size and the daemon's limit
COMPRESS_LEVEL = 6
REQUIREMENTS = "requirements.txt"

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_DESCRIPTOR = struct.Struct("<IIII")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_VERSION = 20
_FLAG_DESCRIPTOR = 0x08
_FLAG_UTF8 = 0x800
_U32 = 0xFFFFFFFF


class PackageTooLarge(ValueError):
    """The files add up to more than the allowed uncompressed size."""

    def __init__(self, *, total: int, max_size: int, largest: list[tuple[str, int]]):
        self.total = total
        self.max_size = max_size
        self.largest = largest
        lines = "".join(
            f"{i}. name: {path}, size: {size} bytes\n"
            for i, (path, size) in enumerate(largest, 1)
        )
        super().__init__(
            "Plugin package size is too large. Please ensure the uncompressed size "
            f"is less than {max_size} bytes (it is {total} bytes).\n"
            f"Largest files:\n{lines}"
        )


class BadPackage(ValueError):
    """Bytes that are not a readable `.difypkg` zip archive."""


def package(files: PluginFiles, *, max_size: int = DEFAULT_MAX_SIZE) -> bytes:
    """Zip a plugin's files exactly as the Go packager selects and orders them."""
    selected = select_files(files)
    if REQUIREMENTS not in selected:
        generated = generated_requirements(files)
        if generated is not None:
            selected[REQUIREMENTS] = generated
    total = sum(len(content) for content in selected.values())
    if total > max_size:
        largest = sorted(
            ((path, len(content)) for path, content in selected.items()),
            key=lambda item: (-item[1], item[0]),
        )[:5]
        raise PackageTooLarge(total=total, max_size=max_size, largest=largest)
    order = sorted(selected, key=lambda p: p.encode("utf-8", "surrogateescape"))
    return write_zip((path, selected[path]) for path in order)


def generated_requirements(files: PluginFiles) -> bytes | None:
    """The `requirements.txt` the packager adds, or None when it adds none.

    Like the Go packager, the conditions look at the plugin folder before the
    ignore file applies: a python runner, no `requirements.txt`, and both
    `pyproject.toml` and `uv.lock`.
    """
    if REQUIREMENTS in files or "pyproject.toml" not in files or "uv.lock" not in files:
        return None
    if runner_language(files.get("manifest.yaml")) != "python":
        return None
    try:
        text = export_requirements(files["pyproject.toml"], files["uv.lock"])
    except UvLockError as exc:
        raise UvLockError(f"cannot generate requirements.txt: {exc}") from exc
    return text.encode()


def runner_language(manifest: bytes | None) -> str | None:
    """`meta.runner.language` of a manifest, or None when it cannot be read."""
    if manifest is None:
        return None
    try:
        data = load_yaml(manifest).data
    except Exception:  # a broken manifest only means "not python" here
        return None
    meta = data.get("meta") if isinstance(data, dict) else None
    runner = meta.get("runner") if isinstance(meta, dict) else None
    language = runner.get("language") if isinstance(runner, dict) else None
    return language if isinstance(language, str) else None


def package_folder_name(manifest: Mapping[str, Any]) -> str:
    """File name for a package: `<name>-<version>.difypkg`."""
    return f"{manifest.get('name')}-{manifest.get('version')}.difypkg"


def write_zip(entries: Iterable[tuple[str, bytes]], *, comment: bytes = b"") -> bytes:
    """A zip of `entries` in the given order, laid out like Go's `zip.Writer`."""
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    count = 0
    for name, content in entries:
        raw_name = name.encode("utf-8", "surrogateescape")
        flags = _FLAG_DESCRIPTOR
        if not raw_name.isascii() and _is_utf8(raw_name):
            flags |= _FLAG_UTF8
        compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
        data = compressor.compress(content) + compressor.flush()
        crc = zlib.crc32(content)
        size = len(content)
        if size > _U32 or len(data) > _U32 or offset > _U32:
            raise ValueError(f"{name}: too large for a zip without Zip64")
        out.append(
            _LOCAL.pack(0x04034B50, _VERSION, flags, 8, 0, 0, 0, 0, 0, len(raw_name), 0)
        )
        out.append(raw_name)
        out.append(data)
        out.append(_DESCRIPTOR.pack(0x08074B50, crc, len(data), size))
        central.append(
            _CENTRAL.pack(
                0x02014B50,
                _VERSION,
                _VERSION,
                flags,
                8,
                0,
                0,
                crc,
                len(data),
                size,
                len(raw_name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + raw_name
        )
        offset += _LOCAL.size + len(raw_name) + len(data) + _DESCRIPTOR.size
        count += 1
    directory = b"".join(central)
    if count > 0xFFFF or offset > _U32:
        raise ValueError("too many entries for a zip without Zip64")
    end = _END.pack(
        0x06054B50, 0, 0, count, count, len(directory), offset, len(comment)
    )
    return b"".join(out) + directory + end + comment


def read_zip(package_bytes: bytes) -> tuple[list[tuple[str, bytes]], bytes]:
    """File entries (in archive order, directories skipped) and the archive comment."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(package_bytes))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BadPackage(f"not a valid difypkg file: {exc}") from exc
    entries: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = _entry_name(info)
            _check_entry_name(name)
            if name in seen:
                raise UnsafeInput("duplicate entry in the archive", entry=name)
            seen.add(name)
            try:
                entries.append((name, archive.read(info)))
            except (
                zipfile.BadZipFile,
                OSError,
                ValueError,
                NotImplementedError,
            ) as exc:
                raise BadPackage(f"{name}: cannot be read: {exc}") from exc
        comment = archive.comment
    return entries, comment


def _entry_name(info: zipfile.ZipInfo) -> str:
    # Go reads names as raw bytes whatever the flags say; zipfile decodes
    # names without the UTF-8 flag as cp437, so undo that.
    if info.flag_bits & _FLAG_UTF8:
        return info.filename
    return info.orig_filename.encode("cp437").decode("utf-8", "surrogateescape")


def _check_entry_name(name: str) -> None:
    parts = name.split("/")
    if (
        not name
        or "\\" in name
        or name.startswith("/")
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise UnsafeInput("entry name is not a plain relative path", entry=name)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
