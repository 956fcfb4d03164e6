"""Editing a provider's files as files: save a text, add, upload, rename, delete.

Every operation goes through `provider_edit_files` (one transaction with the
provider locked; the rows pages read and the verifier's findings refreshed)
and lands in the audit log in that transaction. Nothing is written unless the
result still loads as a plugin: a Python file that does not parse, a YAML file
that does not load, an unsafe SVG, a path outside the rules or files over the
packager's limits are refused with a message, and the file stays as it was.

A text save is stale when the file itself changed since the editor loaded it
(its SHA-256 differs, or it is gone); other files changing meanwhile do not
block it, since a save only writes the one file.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from studio.audit.models import AuditEvent
from studio.audit.services import audit_record
from studio.catalog.models import Provider
from studio.pluginfmt.document import DocumentError
from studio.pluginfmt.files import PluginFiles, UnsafeInput
from studio.pluginfmt.icons import icon_problems
from studio.pluginfmt.readers import (
    MAX_ENTRIES,
    MAX_FILE_SIZE,
    MAX_TOTAL_SIZE,
    check_entry_name,
    check_file_folder_conflicts,
)
from studio.pluginfmt.yamlio import YamlError, load_yaml

from . import SaveResult, provider_edit_files

MANIFEST = "manifest.yaml"
# The packager's limits (pluginfmt.readers): per file, all files, how many.
MAX_FILE_BYTES = MAX_FILE_SIZE
MAX_TOTAL_BYTES = MAX_TOTAL_SIZE
MAX_FILES = MAX_ENTRIES
MAX_PATH_LENGTH = 1024  # ProviderFile.path
# Files a plugin may have whose names start with a dot.
DOT_FILES = frozenset({".difyignore", ".gitignore", ".env.example"})
_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+@-]*")
ALLOWED_CHARACTERS = (
    "letters, digits and . _ - + @ (a name starts with a letter, digit or _)"
)


class FileRefused(ValueError):
    """A file operation refused before anything was written: why, and where."""

    def __init__(
        self,
        message: str,
        *,
        path: str = "",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f", line {self.line}"
            if self.column:
                where += f", column {self.column}"
        return f"{where}: {self.message}" if where else self.message


class FileChanged(Exception):
    """The file changed (or went) since the editor loaded it; nothing was saved."""

    def __init__(self, path: str, saved: bytes | None) -> None:
        super().__init__(f"{path} was changed by someone else")
        self.path = path
        self.saved = saved


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name as the browser sent it, and its bytes."""

    name: str
    content: bytes


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def protected_paths(provider: Provider) -> set[str]:
    """The files that make the plugin: they cannot be renamed or deleted."""
    return {MANIFEST, provider.provider_path} - {""}


# ---------------------------------------------------------------- checks


def check_new_path(path: str) -> str:
    """`path` if a new file may have it, else FileRefused saying which rule."""
    if not path:
        raise FileRefused("give the file a path, such as _assets/logo.svg")
    if "\x00" in path:
        raise FileRefused("a path cannot hold a NUL character", path=repr(path))
    if len(path) > MAX_PATH_LENGTH:
        raise FileRefused(f"a path has at most {MAX_PATH_LENGTH} characters")
    try:
        check_entry_name(path)
    except UnsafeInput as exc:
        raise FileRefused(
            f"{exc.reason}: give a path relative to the plugin folder",
            path=path,
        ) from None
    if path in DOT_FILES:
        return path
    for part in path.split("/"):
        if part.startswith("."):
            known = ", ".join(sorted(DOT_FILES))
            raise FileRefused(
                f"a name may not start with a dot (except {known})", path=path
            )
        if not _PART.fullmatch(part):
            raise FileRefused(f"use only {ALLOWED_CHARACTERS}", path=path)
    return path


def decode_text(content: bytes) -> str | None:
    """The file as text (UTF-8, a BOM dropped), or None when it is not text."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    return text.removeprefix("\ufeff")


def text_to_bytes(text: str, *, like: bytes) -> bytes:
    """The edited text as bytes in the original's style.

    Browsers send a textarea's line breaks as CRLF: keep CRLF only when the
    original had it, and keep its byte-order mark.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if b"\r\n" in like and like.count(b"\r\n") * 2 >= like.count(b"\n"):
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    if like.startswith(b"\xef\xbb\xbf"):
        data = b"\xef\xbb\xbf" + data
    return data


def check_content(path: str, content: bytes) -> None:
    """Refuse content that would not build: Python that does not parse, YAML
    that does not load, an unsafe SVG, a file over the size limit."""
    if len(content) > MAX_FILE_BYTES:
        raise FileRefused(
            f"the file has {len(content)} bytes; a plugin file has at most "
            f"{MAX_FILE_BYTES} bytes",
            path=path,
        )
    lower = path.lower()
    if lower.endswith(".py"):
        _check_python(path, content)
    elif lower.endswith((".yaml", ".yml")):
        try:
            load_yaml(content)
        except YamlError as exc:
            raise FileRefused(
                f"not valid YAML: {exc.message}", path=path, line=exc.line
            ) from None
    problems = icon_problems({path: content}).get(path)
    if problems:
        first = problems[0]
        raise FileRefused(
            f"not a safe SVG: {first.message}", path=path, line=first.line
        )


def _check_python(path: str, content: bytes) -> None:
    try:
        # Parsing only: nothing of the plugin's code runs in the studio.
        ast.parse(content, filename=path)
    except SyntaxError as exc:
        raise FileRefused(
            f"Python syntax error: {exc.msg}",
            path=path,
            line=exc.lineno,
            column=exc.offset,
        ) from None
    except ValueError as exc:  # e.g. NUL bytes in the source
        raise FileRefused(f"not Python source: {exc}", path=path) from None


def _check_limits(files: PluginFiles) -> None:
    if len(files) > MAX_FILES:
        raise FileRefused(f"a plugin has at most {MAX_FILES} files")
    total = sum(len(content) for content in files.values())
    if total > MAX_TOTAL_BYTES:
        raise FileRefused(
            f"the files would add up to {total} bytes; a plugin has at most "
            f"{MAX_TOTAL_BYTES} bytes"
        )
    try:
        check_file_folder_conflicts(list(files))
    except UnsafeInput as exc:
        raise FileRefused(exc.reason, path=exc.entry or "") from None


def _edit(
    provider: Provider,
    user: User | None,
    action: str,
    summary: str,
    change: Callable[[PluginFiles], PluginFiles],
) -> SaveResult:
    """Write through provider_edit_files and log the operation, in one transaction."""

    def checked(files: PluginFiles) -> PluginFiles:
        result: PluginFiles = change(files)
        _check_limits(result)
        return result

    with transaction.atomic():
        try:
            result = provider_edit_files(
                provider=provider, lock_version=None, change=checked
            )
        except DocumentError as exc:
            raise FileRefused(
                f"the plugin would not load: {exc.message}",
                path=exc.file,
                line=exc.line,
            ) from None
        if result.changed_paths:
            audit_record(
                action=action,
                actor=user,
                team=provider.team,
                provider=provider,
                summary=summary,
            )
    return result


# ---------------------------------------------------------------- operations


def file_save(
    *, provider: Provider, user: User | None, path: str, text: str, base_sha256: str
) -> SaveResult:
    """Save the editor's text of an existing text file.

    `base_sha256` is the file as the editor loaded it: FileChanged when the
    saved file is another by now.
    """

    def change(files: PluginFiles) -> PluginFiles:
        current = files.get(path)
        if current is None or sha256_of(current) != base_sha256:
            raise FileChanged(path, current)
        if decode_text(current) is None:
            raise FileRefused(
                "a binary file cannot be edited as text; upload a new one", path=path
            )
        content = text_to_bytes(text, like=current)
        check_content(path, content)
        return {**files, path: content}

    return _edit(provider, user, AuditEvent.Action.FILE_EDIT, f"edited {path}", change)


def file_add(
    *, provider: Provider, user: User | None, path: str, content: bytes = b""
) -> SaveResult:
    """Add a new file at `path` (refused when one is there)."""
    check_new_path(path)
    check_content(path, content)

    def change(files: PluginFiles) -> PluginFiles:
        if path in files:
            raise FileRefused("a file with this path exists already", path=path)
        return {**files, path: content}

    return _edit(provider, user, AuditEvent.Action.FILE_ADD, f"added {path}", change)


def upload_path(folder: str, name: str) -> str:
    """Where an upload named `name` goes in `folder` (a browser's name may carry
    a client-side folder: only its last part counts)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    folder = folder.strip().strip("/")
    return f"{folder}/{base}" if folder else base


def file_upload(
    *,
    provider: Provider,
    user: User | None,
    folder: str,
    uploads: list[Upload],
    replace: bool = False,
) -> SaveResult:
    """Put uploaded files into `folder`; existing files only when `replace`."""
    if not uploads:
        raise FileRefused("choose at least one file to upload")
    placed: dict[str, bytes] = {}
    for upload in uploads:
        path = check_new_path(upload_path(folder, upload.name))
        if path in placed:
            raise FileRefused("two uploads have the same name", path=path)
        check_content(path, upload.content)
        placed[path] = upload.content
    protected = protected_paths(provider)

    def change(files: PluginFiles) -> PluginFiles:
        for path in placed:
            if path in files and not replace:
                raise FileRefused(
                    "a file with this path exists already (tick “Replace files "
                    "that exist” to overwrite it)",
                    path=path,
                )
            if path in protected and path in files:
                raise FileRefused(
                    "the manifest and the provider YAML are edited as text, "
                    "not replaced by an upload",
                    path=path,
                )
        return {**files, **placed}

    names = ", ".join(sorted(placed))
    return _edit(
        provider,
        user,
        AuditEvent.Action.FILE_UPLOAD,
        f"uploaded {names}",
        change,
    )


def file_rename(
    *, provider: Provider, user: User | None, path: str, new_path: str
) -> SaveResult:
    """Move a file to `new_path` (not the manifest or the provider YAML)."""
    if path in protected_paths(provider):
        raise FileRefused(_protected_reason(provider, path, "renamed"), path=path)
    check_new_path(new_path)
    if new_path == path:
        raise FileRefused("the new path is the same as the old one", path=path)

    def change(files: PluginFiles) -> PluginFiles:
        if path not in files:
            raise FileRefused("no such file (renamed or deleted meanwhile?)", path=path)
        if new_path in files:
            raise FileRefused("a file with this path exists already", path=new_path)
        check_content(new_path, files[path])
        moved = {p: c for p, c in files.items() if p != path}
        moved[new_path] = files[path]
        return moved

    return _edit(
        provider,
        user,
        AuditEvent.Action.FILE_RENAME,
        f"renamed {path} to {new_path}",
        change,
    )


def file_delete(*, provider: Provider, user: User | None, path: str) -> SaveResult:
    """Delete a file (not the manifest or the provider YAML)."""
    if path in protected_paths(provider):
        raise FileRefused(_protected_reason(provider, path, "deleted"), path=path)

    def change(files: PluginFiles) -> PluginFiles:
        if path not in files:
            raise FileRefused("no such file (renamed or deleted meanwhile?)", path=path)
        return {p: c for p, c in files.items() if p != path}

    return _edit(
        provider, user, AuditEvent.Action.FILE_DELETE, f"deleted {path}", change
    )


def _protected_reason(provider: Provider, path: str, done: str) -> str:
    what = "the plugin's manifest" if path == MANIFEST else "the provider YAML"
    return f"{path} is {what}: it cannot be {done} (edit it instead)"
