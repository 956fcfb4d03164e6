"""Read a plugin folder, zip or .difypkg into memory, refusing anything unsafe.

Nothing is ever extracted to disk: every reader returns `ReadFiles` (relative
POSIX path -> bytes, plus what the reader saw that the bytes do not say). All
refusals raise `UnsafeInput` naming the entry.

Decisions:

- Symlinks in a folder: a link that resolves to a regular file is read as that
  file wherever it points, and recorded in `ReadFiles.links` (the verifier
  notes it). The Dify CLI packages a folder the same way, and the official
  plugin repository relies on it (each plugin's `.difyignore` links to the
  repository root's). Following links out of the folder exposes nothing new:
  a folder is only ever read from a path on the reader's own machine (the
  command line); the web takes archives, where links stay refused. A link to
  a folder, device, fifo or socket, and a dangling or looping link, are
  refused. The size limits count the target's bytes.
- Hard links in a folder: a file whose other names all lie inside the root is
  an ordinary file; a file with a name outside the root (more links than the
  walk saw) is refused, since it may expose a file the folder's author did not
  own. Devices, fifos and sockets are refused without being opened.
- Zips: symlink and other non-regular entries (by their Unix mode), encrypted
  entries, compression methods the daemon cannot read (anything but stored and
  deflate), duplicate names and names that are both a file and a folder are
  refused. Directory entries are skipped; `read_package` records them in
  `ReadFiles.directory_entries`, since the daemon fails to decode a package
  holding any (a zip of a folder is packaged again, so there they do no
  harm). Sizes are checked twice: the
  declared sizes of the central directory before anything is inflated, then
  the bytes actually produced while inflating (an entry that inflates past its
  declared size is refused, so a lying header cannot get past the limits).
- `read_zip` skips macOS `__MACOSX/` metadata entries (after checking them) and
  strips a single top folder holding `manifest.yaml`; `read_package` takes the
  archive as it is, like the daemon.

Kept as one module of about 500 lines: it is the one safe path, and the folder
and archive readers share its entry-name checks and size budget.
"""

from __future__ import annotations

import copy
import io
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TypedDict, Unpack

from studio.pluginfmt.files import ReadFiles, UnsafeInput

MANIFEST = "manifest.yaml"

# The daemon's MAX_PLUGIN_PACKAGE_SIZE: total uncompressed size of a package.
MAX_TOTAL_SIZE = 52_428_800
# No sane plugin file comes near this; the console refuses packages over 15 MiB.
MAX_FILE_SIZE = 20 * 1024 * 1024
MAX_ENTRIES = 10_000
# Deflate tops out near 1032:1; real plugin files compress less than 20:1.
MAX_COMPRESSION_RATIO = 200
# Small entries cannot do harm whatever their ratio (a few KiB of spaces
# legitimately compress 300:1), so the ratio is only judged above this size.
RATIO_MIN_SIZE = 1024 * 1024

_CHUNK = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_SUPPORTED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_MACOS_METADATA = "__MACOSX/"


def check_entry_name(name: str) -> str:
    """Return `name` if it is a plain relative POSIX path, else raise UnsafeInput."""
    if not name:
        raise UnsafeInput("empty entry name", entry=name)
    if "\\" in name:
        raise UnsafeInput("backslash in entry name", entry=name)
    if name.startswith("/"):
        raise UnsafeInput("absolute path", entry=name)
    if _DRIVE.match(name):
        raise UnsafeInput("drive name in entry name", entry=name)
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        raise UnsafeInput("control character in entry name", entry=name)
    parts = name.split("/")
    if ".." in parts:
        raise UnsafeInput("path escapes the plugin root (..)", entry=name)
    if any(p in ("", ".") for p in parts):
        raise UnsafeInput("not a plain relative path (empty or '.' part)", entry=name)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafeInput("entry name is not UTF-8", entry=name) from None
    return name


def check_file_folder_conflicts(names: list[str]) -> None:
    """Refuse a path that is both a file and the folder of another file."""
    files = set(names)
    for name in names:
        parts = name.split("/")
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            if folder in files:
                raise UnsafeInput(
                    f"{folder!r} is both a file and a folder", entry=folder
                )


class _Budget:
    """Counts entries and bytes against the limits while reading."""

    def __init__(self, *, max_entries: int, max_total: int, max_file: int) -> None:
        self.max_entries = max_entries
        self.max_total = max_total
        self.max_file = max_file
        self.entries = 0
        self.total = 0

    def entry(self, name: str) -> None:
        self.entries += 1
        if self.entries > self.max_entries:
            raise UnsafeInput(f"more than {self.max_entries} entries", entry=name)

    def add(self, name: str, size: int, size_of_file: int) -> None:
        if size_of_file > self.max_file:
            raise UnsafeInput(f"file larger than {self.max_file} bytes", entry=name)
        self.total += size
        if self.total > self.max_total:
            raise UnsafeInput(
                f"total uncompressed size over {self.max_total} bytes", entry=name
            )


def _require_manifest(files: ReadFiles) -> ReadFiles:
    if MANIFEST not in files:
        raise UnsafeInput("no manifest.yaml at the plugin root", entry=MANIFEST)
    return files


# ---------------------------------------------------------------- folders


def read_folder(
    path: str | os.PathLike[str],
    *,
    max_entries: int = MAX_ENTRIES,
    max_total_size: int = MAX_TOTAL_SIZE,
    max_file_size: int = MAX_FILE_SIZE,
) -> ReadFiles:
    """Read every file under a plugin folder (see the module docstring for links)."""
    root = Path(path)
    if not root.is_dir():
        raise UnsafeInput("not a folder", entry=str(path))
    real_root = os.path.realpath(root)
    budget = _Budget(
        max_entries=max_entries, max_total=max_total_size, max_file=max_file_size
    )
    files = ReadFiles()
    # Names seen per hard-linked inode, to compare with its link count.
    links_seen: dict[tuple[int, int], list[str]] = {}
    link_counts: dict[tuple[int, int], int] = {}
    for rel, full, st in _walk(real_root, "", budget):
        check_entry_name(rel)
        if stat.S_ISLNK(st.st_mode):
            target = _resolve_link(full, rel)
            content = _read_regular(target, rel, budget)
            files.links[rel] = (
                Path(os.path.relpath(target, real_root)).as_posix()
                if _inside(real_root, target)
                else target
            )
        elif stat.S_ISREG(st.st_mode):
            content = _read_regular(full, rel, budget)
            if st.st_nlink > 1:
                inode = (st.st_dev, st.st_ino)
                links_seen.setdefault(inode, []).append(rel)
                link_counts[inode] = st.st_nlink
        else:
            raise UnsafeInput(f"not a regular file ({_kind(st.st_mode)})", entry=rel)
        files[rel] = content
    for inode, names in links_seen.items():
        if len(names) < link_counts[inode]:
            raise UnsafeInput(
                "hard link to a file outside the plugin folder", entry=names[0]
            )
    return _require_manifest(files)


def _inside(outer: str, inner: str) -> bool:
    return os.path.commonpath([outer, inner]) == outer


def _walk(
    real_root: str, prefix: str, budget: _Budget
) -> Iterator[tuple[str, str, os.stat_result]]:
    folder = os.path.join(real_root, prefix) if prefix else real_root
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        rel = f"{prefix}{entry.name}"
        budget.entry(rel)
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            check_entry_name(rel)
            yield from _walk(real_root, rel + "/", budget)
        else:
            yield rel, entry.path, st


def _resolve_link(full: str, rel: str) -> str:
    try:
        target = os.path.realpath(full, strict=True)
        st = os.stat(target, follow_symlinks=False)
    except OSError:
        raise UnsafeInput("dangling or looping symlink", entry=rel) from None
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeInput(
            f"symlink to something other than a file ({_kind(st.st_mode)})",
            entry=rel,
        )
    return target


def _read_regular(full: str, rel: str, budget: _Budget) -> bytes:
    # O_NONBLOCK: a fifo swapped in after the lstat must not hang the reader.
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(full, flags)
    except OSError as exc:
        raise UnsafeInput(f"cannot open: {exc.strerror}", entry=rel) from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeInput(f"not a regular file ({_kind(st.st_mode)})", entry=rel)
        budget.add(rel, 0, st.st_size)
        limit = min(budget.max_file, budget.max_total - budget.total)
        content = fh.read(limit + 1)
    budget.add(rel, len(content), len(content))
    return content


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


# ------------------------------------------------------------------- zips

ZipSource = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]


def read_zip(
    source: ZipSource,
    *,
    max_entries: int = MAX_ENTRIES,
    max_total_size: int = MAX_TOTAL_SIZE,
    max_file_size: int = MAX_FILE_SIZE,
    max_ratio: float = MAX_COMPRESSION_RATIO,
) -> ReadFiles:
    """Read a zip of a plugin folder, dropping a lone top folder with the manifest."""
    files = _read_archive(
        source,
        max_entries=max_entries,
        max_total_size=max_total_size,
        max_file_size=max_file_size,
        max_ratio=max_ratio,
        skip_macos_metadata=True,
    )
    if MANIFEST not in files and files:
        tops = {name.split("/", 1)[0] for name in files}
        if len(tops) == 1 and all("/" in name for name in files):
            top = tops.pop()
            if f"{top}/{MANIFEST}" in files:
                cut = len(top) + 1
                files = ReadFiles(
                    (name[cut:], content) for name, content in files.items()
                )
    # The folder is packaged again, so its directory entries are no concern.
    files.directory_entries = []
    return _require_manifest(files)


def read_package(
    source: ZipSource,
    *,
    max_entries: int = MAX_ENTRIES,
    max_total_size: int = MAX_TOTAL_SIZE,
    max_file_size: int = MAX_FILE_SIZE,
    max_ratio: float = MAX_COMPRESSION_RATIO,
) -> ReadFiles:
    """Read a .difypkg: a zip with manifest.yaml at its root, taken as it is
    (its directory entries recorded in `directory_entries`)."""
    files = _read_archive(
        source,
        max_entries=max_entries,
        max_total_size=max_total_size,
        max_file_size=max_file_size,
        max_ratio=max_ratio,
        skip_macos_metadata=False,
    )
    return _require_manifest(files)


class FolderLimits(TypedDict, total=False):
    """The limits `read_folder` takes, for callers that pass them on."""

    max_entries: int
    max_total_size: int
    max_file_size: int


class ArchiveLimits(FolderLimits, total=False):
    """The limits `read_zip` and `read_package` take."""

    max_ratio: float


def read_any(
    path: str | os.PathLike[str], **limits: Unpack[ArchiveLimits]
) -> ReadFiles:
    """Read a plugin folder, .difypkg or zip of a folder, chosen by what `path` is."""
    p = Path(path)
    if p.is_dir():
        limits.pop("max_ratio", None)  # nothing in a folder is compressed
        folder_limits: FolderLimits = limits
        return read_folder(p, **folder_limits)
    if not p.is_file():
        raise UnsafeInput("no such folder or file", entry=str(path))
    if p.suffix.lower() == ".difypkg":
        return read_package(p, **limits)
    return read_zip(p, **limits)


def _open_source(source: ZipSource) -> tuple[IO[bytes], bool]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), True
    if isinstance(source, (str, os.PathLike)):
        try:
            return open(source, "rb"), True  # closed by the caller
        except OSError as exc:
            raise UnsafeInput(
                f"cannot open: {exc.strerror}", entry=str(source)
            ) from None
    return source, False


def _read_archive(
    source: ZipSource,
    *,
    max_entries: int,
    max_total_size: int,
    max_file_size: int,
    max_ratio: float,
    skip_macos_metadata: bool,
) -> ReadFiles:
    label = str(source) if isinstance(source, (str, os.PathLike)) else None
    fh, owned = _open_source(source)
    try:
        try:
            archive = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
            raise UnsafeInput(
                f"not a zip archive, or a truncated one ({exc})", entry=label
            ) from None
        except OSError as exc:
            raise UnsafeInput(f"cannot read the archive ({exc})", entry=label) from None
        with archive:
            return _read_entries(
                archive,
                max_entries=max_entries,
                max_total_size=max_total_size,
                max_file_size=max_file_size,
                max_ratio=max_ratio,
                skip_macos_metadata=skip_macos_metadata,
            )
    finally:
        if owned:
            fh.close()


def _read_entries(
    archive: zipfile.ZipFile,
    *,
    max_entries: int,
    max_total_size: int,
    max_file_size: int,
    max_ratio: float,
    skip_macos_metadata: bool,
) -> ReadFiles:
    infos = archive.infolist()
    if len(infos) > max_entries:
        raise UnsafeInput(
            f"more than {max_entries} entries ({len(infos)})",
            entry=infos[max_entries].filename,
        )
    # Everything about every entry is checked before a single byte is inflated.
    wanted: list[zipfile.ZipInfo] = []
    directories: list[str] = []
    seen: set[str] = set()
    declared_total = 0
    for info in infos:
        name = info.filename
        if info.orig_filename != name and "\x00" in info.orig_filename:
            raise UnsafeInput(
                "NUL byte in entry name",
                entry=info.orig_filename.replace("\x00", "\\0"),
            )
        if name in seen:
            raise UnsafeInput("duplicate entry name", entry=name)
        seen.add(name)
        is_dir = name.endswith("/")
        check_entry_name(name[:-1] if is_dir else name)
        _check_mode(info, is_dir)
        if info.flag_bits & 0x41:
            raise UnsafeInput("encrypted entry", entry=name)
        if is_dir:
            directories.append(name)
            continue
        if info.compress_type not in _SUPPORTED_METHODS:
            raise UnsafeInput(
                f"compression method {info.compress_type} is not supported "
                "(the daemon reads stored and deflate only)",
                entry=name,
            )
        if info.file_size > max_file_size:
            raise UnsafeInput(f"file larger than {max_file_size} bytes", entry=name)
        declared_total += info.file_size
        if declared_total > max_total_size:
            raise UnsafeInput(
                f"total uncompressed size over {max_total_size} bytes", entry=name
            )
        _check_ratio(name, info.file_size, info.compress_size, max_ratio)
        if skip_macos_metadata and name.startswith(_MACOS_METADATA):
            continue
        wanted.append(info)
    check_file_folder_conflicts([i.filename for i in wanted])

    budget = _Budget(
        max_entries=max_entries, max_total=max_total_size, max_file=max_file_size
    )
    files = ReadFiles(directory_entries=directories)
    for info in wanted:
        files[info.filename] = _inflate(archive, info, budget, max_ratio)
    return files


def _check_mode(info: zipfile.ZipInfo, is_dir: bool) -> None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    # No Unix type bits (e.g. zips written by Go or on Windows): a plain entry.
    if not kind or stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode) and is_dir:
        return
    if stat.S_ISDIR(mode):
        raise UnsafeInput("folder entry without a trailing '/'", entry=info.filename)
    raise UnsafeInput(f"not a regular file ({_kind(mode)})", entry=info.filename)


def _check_ratio(name: str, size: int, compressed: int, max_ratio: float) -> None:
    if size > RATIO_MIN_SIZE and size > max_ratio * max(compressed, 1):
        raise UnsafeInput(
            f"compression ratio over {max_ratio:g}:1 (zip bomb?)", entry=name
        )


def _inflate(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, max_ratio: float
) -> bytes:
    name = info.filename
    # zipfile stops at the declared size and checks the CRC itself; asking
    # for one byte more, and checking the CRC here, lets us see an entry that
    # inflates past what its header claims.
    probe = copy.copy(info)
    probe.file_size = info.file_size + 1
    # None makes zipfile skip its own CRC check (typeshed types CRC as int).
    probe.CRC = None  # type: ignore[assignment]
    chunks: list[bytes] = []
    size = 0
    crc = 0
    try:
        with archive.open(probe) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > info.file_size:
                    raise UnsafeInput(
                        "inflates to more bytes than its header declares",
                        entry=name,
                    )
                budget.add(name, len(chunk), size)
                _check_ratio(name, size, info.compress_size, max_ratio)
                crc = zlib.crc32(chunk, crc)
                chunks.append(chunk)
    except UnsafeInput:
        raise
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError) as exc:
        raise UnsafeInput(f"corrupt or truncated entry ({exc})", entry=name) from None
    except NotImplementedError as exc:
        raise UnsafeInput(f"unsupported entry ({exc})", entry=name) from None
    if size != info.file_size:
        raise UnsafeInput(
            f"corrupt entry: inflates to {size} bytes "
            f"but its header declares {info.file_size}",
            entry=name,
        )
    if crc != info.CRC:
        raise UnsafeInput("corrupt entry (CRC-32 mismatch)", entry=name)
    return b"".join(chunks)
