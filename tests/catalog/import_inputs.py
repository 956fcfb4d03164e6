"""Inputs for the import tests: plugin archives, hostile ones included."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studio.catalog.models import ImportJob, Provider, ProviderFile, ProviderModel
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.package import package
from studio.pluginfmt.readers import read_folder
from tests.svg_inputs import HOSTILE_SVGS

MIB = 1024 * 1024


def zip_of(files: PluginFiles, *, top: str = "") -> bytes:
    """A plain zip of `files` (under a top folder if given), as `zip -r` makes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, content in files.items():
            zf.writestr(f"{top}{path}", content)
    return buf.getvalue()


def difypkg_of(files: PluginFiles) -> bytes:
    return package(files)


def plugin_files(corpus: Path, name: str = "deepseek") -> PluginFiles:
    return read_folder(corpus / name)


def share_by_links(folder: Path) -> dict[str, bytes]:
    """Make a plugin folder share files by symlink, as the official plugin
    repository does: `.difyignore` links to its parent's, `README.md` into a
    shared folder. Returns the targets' bytes by the linked path."""
    parent = folder.parent
    own = folder / ".difyignore"
    ignore = b"# the repository's .difyignore\n" + (
        own.read_bytes() if own.exists() else b".env\n"
    )
    (parent / ".difyignore").write_bytes(ignore)
    own.unlink(missing_ok=True)
    own.symlink_to("../.difyignore")
    readme = (folder / "README.md").read_bytes() + b"\nShared by link.\n"
    (parent / "shared").mkdir(exist_ok=True)
    (parent / "shared" / "README.md").write_bytes(readme)
    (folder / "README.md").unlink()
    (folder / "README.md").symlink_to("../shared/README.md")
    return {".difyignore": ignore, "README.md": readme}


def with_directory_entries(data: bytes) -> bytes:
    """The same package with a directory entry before each folder's files,
    as `zip -r` writes them."""
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        written: set[str] = set()
        for info in src.infolist():
            parts = info.filename.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                folder = "/".join(parts[:i]) + "/"
                if folder not in written:
                    dst.writestr(zipfile.ZipInfo(folder), b"")
                    written.add(folder)
            dst.writestr(info.filename, src.read(info))
    return buf.getvalue()


def counts() -> dict[str, int]:
    """Row counts an import may change; refused input must leave them alone."""
    return {
        "providers": Provider.objects.count(),
        "models": ProviderModel.objects.count(),
        "files": ProviderFile.objects.count(),
        "jobs": ImportJob.objects.count(),
    }


def listing(root: Path) -> list[str]:
    """Every file and folder under `root`, relative, sorted."""
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# ---------------------------------------------------------------- hostile


@dataclass(frozen=True)
class Hostile:
    """An upload the import must refuse, and words its message must contain."""

    id: str
    filename: str
    build: Callable[[PluginFiles], bytes]
    expect: str


def _with_entry(
    info: zipfile.ZipInfo, content: bytes
) -> Callable[[PluginFiles], bytes]:
    def build(files: PluginFiles) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path, data in files.items():
                zf.writestr(path, data)
            zf.writestr(info, content)
        return buf.getvalue()

    return build


def _symlink_info() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("models/llm/evil.yaml")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _bomb(files: PluginFiles) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zf.writestr(path, data)
        zf.writestr("_assets/bomb.bin", bytes(16 * MIB))  # ~1000:1
    return buf.getvalue()


ALIAS_BOMB = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _replace(path: str, content: bytes) -> Callable[[PluginFiles], bytes]:
    def build(files: PluginFiles) -> bytes:
        return zip_of({**files, path: content})

    return build


def _alias_bomb(files: PluginFiles) -> bytes:
    return zip_of({**files, "manifest.yaml": files["manifest.yaml"] + ALIAS_BOMB})


def _binary_yaml(files: PluginFiles) -> bytes:
    junk = bytes(range(256)) * 8
    return zip_of({**files, "provider/deepseek.yaml": b"provider: x\n" + junk})


def _escaped_nul(files: PluginFiles) -> bytes:
    # Valid YAML whose string holds a NUL: PostgreSQL can store it nowhere.
    manifest = files["manifest.yaml"] + b'x_note: "a\\0b"\n'
    return zip_of({**files, "manifest.yaml": manifest})


def _truncated(files: PluginFiles) -> bytes:
    data = difypkg_of(files)
    return data[: len(data) // 2]


def _no_manifest(files: PluginFiles) -> bytes:
    return zip_of({p: c for p, c in files.items() if p != "manifest.yaml"})


HOSTILE = [
    Hostile(
        "path-traversal",
        "traversal.zip",
        _with_entry(zipfile.ZipInfo("../../etc/evil.yaml"), b"x: 1\n"),
        "path escapes the plugin root",
    ),
    Hostile("zip-bomb", "bomb.zip", _bomb, "zip bomb"),
    Hostile(
        "symlink-entry",
        "link.zip",
        _with_entry(_symlink_info(), b"/etc/passwd"),
        "symlink",
    ),
    Hostile("yaml-alias-bomb", "aliases.zip", _alias_bomb, "manifest.yaml"),
    Hostile(
        "not-a-zip",
        "junk.difypkg",
        lambda files: b"MZ\x90\x00 not a zip" * 100,
        "not a zip",
    ),
    Hostile("truncated-zip", "cut.difypkg", _truncated, "truncated"),
    Hostile("manifest-missing", "nomanifest.zip", _no_manifest, "no manifest.yaml"),
    Hostile("binary-in-yaml", "binary.zip", _binary_yaml, "provider/deepseek.yaml"),
    Hostile("escaped-nul-in-yaml", "nul.zip", _escaped_nul, "NUL character"),
    # Unsafe SVG icons: the manifest's icon (deepseek's), and an asset named
    # like a PNG that is an SVG.
    *[
        Hostile(
            f"svg-{svg.id}",
            "icon.zip",
            _replace("_assets/icon_s_en.svg", svg.content),
            svg.expect,
        )
        for svg in HOSTILE_SVGS
    ],
    Hostile(
        "svg-named-png",
        "deepseek.zip",
        _replace("_assets/deepseek.PNG", HOSTILE_SVGS[0].content),
        "_assets/deepseek.PNG:2: <script> is not allowed in an icon",
    ),
]


def write_big_zip(path: Path, size: int = 60 * MIB) -> Path:
    """A stored (uncompressed) zip holding one `size`-byte file, written in
    chunks so it never sits in memory."""
    chunk = bytes(MIB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("manifest.yaml", b"version: 0.0.1\n")
        with zf.open("_assets/huge.bin", "w", force_zip64=True) as out:
            for _ in range(size // MIB):
                out.write(chunk)
    return path


class MultipartFile(io.RawIOBase):
    """A multipart/form-data body read from a file on disk, chunk by chunk
    (the test client would build the whole body in memory)."""

    BOUNDARY = "----import-test-boundary"

    def __init__(self, fields: dict[str, str], name: str, path: Path) -> None:
        head = b"".join(
            f'--{self.BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"'
            f"\r\n\r\n{v}\r\n".encode()
            for k, v in fields.items()
        )
        head += (
            f"--{self.BOUNDARY}\r\nContent-Disposition: form-data; "
            f'name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{self.BOUNDARY}--\r\n".encode()
        self._parts: list[io.BufferedIOBase | io.BytesIO] = [
            io.BytesIO(head),
            path.open("rb"),
            io.BytesIO(tail),
        ]
        self.length = len(head) + path.stat().st_size + len(tail)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.BOUNDARY}"

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        out = b""
        while self._parts and (size < 0 or len(out) < size):
            want = -1 if size < 0 else size - len(out)
            data = self._parts[0].read(want)
            if not data:
                self._parts.pop(0).close()
                continue
            out += data
        return out

    def close(self) -> None:
        for part in self._parts:
            part.close()
        super().close()
