"""Reads of a provider's files for the files tab: the tree with what a build
packages, one file's preview, and the source zip.

Lists never load file contents they do not need: the tree reads paths and
sizes, and only the few files that decide what a build packages
(`.difyignore`, `.gitignore`, `manifest.yaml`, `pyproject.toml`, `uv.lock`)
are read in full.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import re
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import quote

from django.core.cache import cache
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from studio.catalog.highlight import highlight, language_for
from studio.catalog.models import Provider, ProviderFile
from studio.lib.markdown import relative_target, render_markdown
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.ignore import IGNORE_FILES, select_files
from studio.pluginfmt.package import (
    DEFAULT_MAX_SIZE,
    generated_requirements,
)
from studio.pluginfmt.uvlock import UvLockError

# The files whose content decides what `dify plugin package` puts in a build.
PACKAGING_INPUTS = (*IGNORE_FILES, "manifest.yaml", "pyproject.toml", "uv.lock")
# Larger text files are not highlighted in the page (download the source).
MAX_SHOWN_BYTES = 1024 * 1024
# The most Markdown the preview renders: a README is a few KiB (the corpus's
# largest is under 10 KiB), and markdown-it-py, pure Python, takes up to about
# 1.5 s for 64 KiB of hostile input (bench/markdown.py). The preview endpoint
# refuses more, and a larger file is shown as source.
MAX_MARKDOWN_BYTES = 64 * 1024
# Rendered Markdown is cached by everything it depends on.
MARKDOWN_CACHE_SECONDS = 24 * 3600
# README images load from here only: Dify serves a plugin's `_assets/`.
MARKDOWN_ASSETS = "_assets/"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- the tree


@dataclass(frozen=True)
class TreeRow:
    """One line of the files tree: a directory or a file."""

    path: str  # a directory's path has no trailing "/"
    name: str
    depth: int
    is_dir: bool
    size: int  # a directory's size is the total of the files under it
    excluded: bool  # not packaged (a directory: nothing under it is)

    @property
    def indent(self) -> int:
        """The depth the page indents by (deep trees stop indenting)."""
        return min(self.depth, 12)


@dataclass(frozen=True)
class FileListing:
    """The provider's files as a tree, and what a build would package."""

    rows: list[TreeRow]
    file_count: int
    total_size: int
    ignore_file: str | None  # the ignore file in force, if any
    excluded: list[str]  # paths the ignore file leaves out of a build
    packaged_count: int
    packaged_size: int
    max_size: int
    requirements: str | None  # the requirements.txt a build would generate
    requirements_error: str  # why generating it fails ("" when it does not)
    has_requirements: bool  # the plugin has a requirements.txt of its own

    @property
    def too_large(self) -> bool:
        """Whether the packager would refuse the build for its size."""
        return self.packaged_size > self.max_size


def file_listing(provider: Provider) -> FileListing:
    """The provider's file tree with sizes and what a build would package."""
    sizes = dict(provider.files.values_list("path", "size"))
    inputs = {
        path: bytes(content)
        for path, content in provider.files.filter(
            path__in=PACKAGING_INPUTS
        ).values_list("path", "content")
    }
    # select_files and generated_requirements only read the packaging inputs;
    # every other file is there for its path.
    files: PluginFiles = {path: inputs.get(path, b"") for path in sizes}
    selected = select_files(files)
    excluded = sorted(set(sizes) - set(selected))
    ignore_file = next((name for name in IGNORE_FILES if name in sizes), None)
    requirements: str | None = None
    requirements_error = ""
    try:
        generated = generated_requirements(files)
    except UvLockError as exc:
        requirements_error = str(exc)
    else:
        if generated is not None:
            requirements = generated.decode("utf-8", "replace")
    packaged_size = sum(sizes[p] for p in selected)
    packaged_count = len(selected)
    if requirements is not None:
        packaged_size += len(requirements.encode())
        packaged_count += 1
    return FileListing(
        rows=_tree(sizes, set(excluded)),
        file_count=len(sizes),
        total_size=sum(sizes.values()),
        ignore_file=ignore_file,
        excluded=excluded,
        packaged_count=packaged_count,
        packaged_size=packaged_size,
        max_size=DEFAULT_MAX_SIZE,
        requirements=requirements,
        has_requirements="requirements.txt" in sizes,
        requirements_error=requirements_error,
    )


@dataclass
class _Dir:
    dirs: dict[str, _Dir] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)


def _tree(sizes: dict[str, int], excluded: set[str]) -> list[TreeRow]:
    """Depth-first rows, directories before files, each sorted by name."""
    root = _Dir()
    for path, size in sizes.items():
        node = root
        *parents, name = path.split("/")
        for part in parents:
            node = node.dirs.setdefault(part, _Dir())
        node.files[name] = size
    rows: list[TreeRow] = []

    def walk(node: _Dir, prefix: str, depth: int) -> tuple[int, bool]:
        total, all_excluded = 0, True
        for name in sorted(node.dirs):
            path = f"{prefix}{name}"
            at = len(rows)
            rows.append(TreeRow(path, name, depth, True, 0, False))
            size, dir_excluded = walk(node.dirs[name], f"{path}/", depth + 1)
            rows[at] = TreeRow(path, name, depth, True, size, dir_excluded)
            total += size
            all_excluded = all_excluded and dir_excluded
        for name in sorted(node.files):
            path = f"{prefix}{name}"
            is_excluded = path in excluded
            rows.append(
                TreeRow(path, name, depth, False, node.files[name], is_excluded)
            )
            total += node.files[name]
            all_excluded = all_excluded and is_excluded
        return total, all_excluded

    walk(root, "", 0)
    return rows


# ---------------------------------------------------------------- one file


def provider_file(provider: Provider, path: str) -> ProviderFile | None:
    """The provider's own file row at `path` (never anything else), or None."""
    # NUL is refused by PostgreSQL text: such a path is no file of ours anyway.
    if not path or len(path) > 1024 or "\x00" in path:
        return None
    return provider.files.filter(path=path).first()


def media_type_of(path: str, content: bytes) -> str | None:
    """image/png or image/svg+xml when the file is one (by its bytes), else None."""
    if content.startswith(PNG_MAGIC):
        return "image/png"
    if path.lower().endswith(".svg") and b"<svg" in content[:4096].lower():
        return "image/svg+xml"
    return None


def text_of(content: bytes) -> str | None:
    """The file as text when it is UTF-8 without NUL bytes, else None."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    return text.removeprefix("\ufeff")


@dataclass(frozen=True)
class FilePreview:
    """What the file view shows of one file."""

    path: str
    size: int
    media_type: str | None  # an image the page previews through the raw URL
    is_text: bool
    too_large: bool  # text, but too large to show in the page
    language: str | None
    lines: list[SafeString]


def file_preview(row: ProviderFile) -> FilePreview:
    """The file as highlighted lines, an image, or just binary and its size."""
    content = bytes(row.content)
    text = text_of(content)
    too_large = text is not None and len(content) > MAX_SHOWN_BYTES
    language = language_for(row.path) if text is not None else None
    lines = highlight(text, language) if text is not None and not too_large else []
    return FilePreview(
        path=row.path,
        size=len(content),
        media_type=media_type_of(row.path, content),
        is_text=text is not None,
        too_large=too_large,
        language=language,
        lines=lines,
    )


# ---------------------------------------------------------------- Markdown


def is_markdown(path: str) -> bool:
    """Whether the files tab previews the file as rendered Markdown."""
    return language_for(path) == "markdown"


def markdown_html(
    provider: Provider, path: str, text: str, paths: Collection[str]
) -> SafeString:
    """`text` (the Markdown file at `path`) rendered and sanitised for the page.

    Relative images load through the raw-file view, and only the plugin's own
    files under `_assets/`; relative links to a file of the plugin open it in
    the files tab. `paths` are the provider's file paths.
    """
    # The output depends on the provider (its URLs), the file's folder, the
    # text and which files exist: a page view of a saved README renders once.
    key = hashlib.sha256(
        "\0".join([str(provider.pk), path, text, *sorted(paths)]).encode()
    ).hexdigest()
    cached = cache.get(f"markdown:v1:{key}")
    if isinstance(cached, str):
        return mark_safe(cached)  # noqa: S308 - what render_markdown returned
    raw = reverse("catalog:provider-file-raw", kwargs={"provider_id": provider.pk})
    view = reverse("catalog:provider-file", kwargs={"provider_id": provider.pk})

    def image_url(reference: str) -> str | None:
        target = relative_target(path, reference)
        if target is None:
            return None
        found = target[0]
        if not found.startswith(MARKDOWN_ASSETS) or found not in paths:
            return None
        return f"{raw}?path={quote(found, safe='/')}"

    def link_url(reference: str) -> str | None:
        target = relative_target(path, reference)
        if target is None or target[0] not in paths:
            return None
        return f"{view}?path={quote(target[0], safe='/')}"

    rendered = render_markdown(text, image_url=image_url, link_url=link_url)
    cache.set(f"markdown:v1:{key}", str(rendered), MARKDOWN_CACHE_SECONDS)
    return rendered


# ---------------------------------------------------------------- the zip

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def source_zip_name(provider: Provider) -> str:
    """`<name>-<version>-source.zip`, reduced to characters safe in a file name."""
    parts = [provider.name, provider.version, "source"]
    name = "-".join(_UNSAFE_NAME.sub("_", p) for p in parts if p)
    return f"{name}.zip"


def source_zip(provider: Provider) -> bytes:
    """Every file of the provider, byte for byte, as a zip built in memory."""
    stamp = provider.updated_at.timetuple()[:6]
    date_time = stamp if stamp[0] >= 1980 else (1980, 1, 1, 0, 0, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # Paths were validated on write (relative, no ".."); order is stable.
        rows = provider.files.order_by("path").values_list("path", "content")
        for path, content in rows.iterator(chunk_size=50):
            info = zipfile.ZipInfo(path, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            archive.writestr(info, bytes(content))
    return buffer.getvalue()


# ---------------------------------------------------------------- conflicts


@dataclass(frozen=True)
class SideBySideRow:
    """One row of a side-by-side comparison: a line of each version, or a gap."""

    kind: str  # "same", "changed", "gap" (lines left out between hunks)
    left_number: int | None
    left: str
    right_number: int | None
    right: str


def side_by_side(left: str, right: str, *, context: int = 3) -> list[SideBySideRow]:
    """The lines that differ between two texts, side by side, with `context`
    unchanged lines around each change."""
    a, b = left.splitlines(), right.splitlines()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    rows: list[SideBySideRow] = []
    for n, group in enumerate(matcher.get_grouped_opcodes(context)):
        if n or (group and (group[0][1] or group[0][3])):
            rows.append(SideBySideRow("gap", None, "", None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    rows.append(SideBySideRow("same", i + 1, a[i], j + 1, b[j]))
                continue
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                rows.append(
                    SideBySideRow(
                        "changed",
                        i + 1 if i < i2 else None,
                        a[i] if i < i2 else "",
                        j + 1 if j < j2 else None,
                        b[j] if j < j2 else "",
                    )
                )
    return rows
