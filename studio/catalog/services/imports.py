"""Import an existing plugin into a team (exporting it back: `exports`).

An import stores every file of the plugin byte for byte (through
`provider_create_from_files` / `provider_replace_files`), so an export with no
edit in between gives the very same files. Imports are atomic: input that is
refused (unsafe archive, unreadable YAML, no manifest…) or an import that
fails leaves no provider, model, file or job row and nothing in storage.
An SVG the icon checker refuses (`pluginfmt.icons`: scripts, event handlers,
references outside the icon…) refuses the whole import: nothing unsafe is
stored, not even in a plugin that is otherwise broken.
Oddities Dify accepts, and even verifier errors, do not refuse an import: the
plugin may already be broken and the author fixes it in the studio; they are
listed in the import report. A folder's files read through symlinks are stored
as ordinary files holding their targets' bytes, and a package's directory
entries (which the daemon cannot decode) are dropped: the report's notes say
so, and the stored findings, made from the stored files, mention neither.

A plugin whose author/name the team already has is never overwritten
silently: `import_plugin` raises ImportConflict unless the caller chose
`new-version` or `copy`. Browser uploads and their jobs: `import_jobs`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import IO, Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from studio.catalog.models import ImportJob, Provider, Runtime, Team
from studio.catalog.services import (
    DuplicatePlugin,
    SaveResult,
    StaleEdit,
    provider_create_from_files,
    provider_replace_files,
)
from studio.pluginfmt.document import (
    DocumentError,
    PluginDocument,
    dump_document,
    load_document,
)
from studio.pluginfmt.files import PluginFiles, ReadFiles, UnsafeInput
from studio.pluginfmt.icons import icon_problems
from studio.pluginfmt.readers import read_any, read_package, read_zip
from studio.pluginfmt.verify import verify

from .import_report import ImportReport, build_report

logger = logging.getLogger(__name__)

# The daemon's MAX_PLUGIN_PACKAGE_SIZE; no valid plugin upload is larger.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
UPLOAD_SUFFIXES = (".difypkg", ".zip")
COPY_SUFFIX = "-copy"
MODES = tuple(ImportJob.Mode.values)
# Columns the manifest's identity is stored in (Provider.author / .name).
MAX_AUTHOR, MAX_NAME = 64, 128


# ------------------------------------------------------------------ errors


class ImportFailed(Exception):
    """The import did not happen; nothing was saved."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ImportRefused(ImportFailed):
    """Unreadable or unsafe input, refused before anything was saved.

    `entry` (archive entry or file), `line` and `rules` (verifier rule ids
    about that file) say where and why.
    """

    def __init__(
        self,
        message: str,
        *,
        entry: str | None = None,
        line: int | None = None,
        rules: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.entry = entry
        self.line = line
        self.rules = rules or []

    def __str__(self) -> str:
        where = self.entry or ""
        if where and self.line:
            where = f"{where}:{self.line}"
        text = f"{where}: {self.message}" if where else self.message
        if self.rules:
            text += f" [{', '.join(self.rules)}]"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": str(self),
            "message": self.message,
            "entry": self.entry,
            "line": self.line,
            "rules": self.rules,
        }


class ImportConflict(ImportFailed):
    """The team already has a plugin with this author/name: choose
    `new-version` or `copy`."""

    def __init__(self, provider: Provider) -> None:
        super().__init__(
            f"{provider.plugin_id} already exists in this team: import it as a new "
            "version of that provider or as a separate copy"
        )
        self.provider = provider


# ------------------------------------------------------------------ report


def report_of(job: ImportJob) -> ImportReport | None:
    """The report of a finished import job, if it has one."""
    if not job.report:
        return None
    return ImportReport.model_validate(job.report)


# ------------------------------------------------------------------ import


def import_plugin(
    *,
    team: Team,
    user: User | None,
    files: PluginFiles,
    mode: str = ImportJob.Mode.NEW,
    target: Provider | None = None,
    lock_version: int | None = None,
    source: str = "",
    job: ImportJob | None = None,
) -> ImportReport:
    """Import `files` into `team` as a new provider, a new version of `target`
    (default: the provider with the same author/name) or a renamed copy.

    Records the import as a finished ImportJob (`job`, or a new one) in the
    same transaction. Raises ImportRefused for unreadable input or an unsafe
    SVG,
    ImportConflict when mode "new" meets an existing author/name, ImportFailed
    otherwise; nothing is saved then.
    """
    if mode not in MODES:
        raise ImportFailed(f"unknown import mode {mode!r}")
    notes = _reading_notes(files)
    # Stored as plain files: the links and directory entries the reader saw
    # are gone, so the provider's findings do not mention them.
    files = dict(files)
    doc = _load(files)
    _refuse_unsafe_icons(files)
    author, name = _identity(doc, files)
    renamed_from = None
    try:
        with transaction.atomic():
            existing = Provider.objects.filter(team=team, author=author, name=name)
            if mode == ImportJob.Mode.NEW:
                conflict = existing.first()
                if conflict is not None:
                    raise ImportConflict(conflict)
                result = provider_create_from_files(
                    team=team,
                    user=user,
                    files=files,
                    runtime=Runtime.IMPORTED,
                    doc=doc,
                )
            elif mode == ImportJob.Mode.COPY:
                copy_name = _copy_name(team, author, name)
                renamed_from = f"{author}/{name}"
                doc.manifest.spec.name = copy_name
                files = dump_document(doc)
                result = provider_create_from_files(
                    team=team, user=user, files=files, runtime=Runtime.IMPORTED
                )
                notes.append(
                    f"Imported as a separate copy: the manifest name {name!r} became "
                    f"{copy_name!r}, so Dify sees a different plugin "
                    f"({author}/{copy_name}). Nothing else was changed: the provider "
                    "YAML (its `provider` key and file name), the models and the "
                    "Python code are as imported, so both plugins keep the same "
                    "provider name inside Dify."
                )
            else:
                result = _import_new_version(
                    team=team,
                    author=author,
                    name=name,
                    files=files,
                    target=target or existing.first(),
                    lock_version=lock_version,
                )
                notes.append(
                    f"Imported as a new version of {author}/{name}: "
                    f"{len(result.changed_paths)} file"
                    f"{'s' * (len(result.changed_paths) != 1)} changed. The change "
                    "will show in the provider's review."
                )
            if result.provider.runtime != Runtime.IMPORTED:
                result.provider.runtime = Runtime.IMPORTED
                result.provider.save(update_fields=["runtime"])
            report = build_report(
                doc=doc,
                files=files,
                result=result,
                mode=mode,
                source=source,
                renamed_from=renamed_from,
                notes=notes,
            )
            if job is None:
                job = ImportJob(
                    team=team,
                    user=user,
                    mode=mode,
                    source_name=source[:1024],
                    source_size=report.total_bytes,
                )
            job.mode = mode
            job.plugin_id = f"{author}/{name}"[:255]
            job.save()
            report.job_id = job.pk
            job.mark_done(provider=result.provider, report=report.as_dict())
            job.save()
    except DuplicatePlugin:
        # Another import of the same plugin committed first.
        conflict = Provider.objects.filter(team=team, author=author, name=name).first()
        if conflict is None:
            raise ImportFailed(f"{author}/{name} could not be created") from None
        raise ImportConflict(conflict) from None
    except IntegrityError as exc:
        raise ImportFailed(f"the plugin could not be saved ({exc})") from None
    return report


def _reading_notes(files: PluginFiles) -> list[str]:
    """What the import changed about the input as read: links, directory entries."""
    if not isinstance(files, ReadFiles):
        return []
    notes: list[str] = []
    links = sorted(files.links.items())
    if len(links) == 1:
        [(path, target)] = links
        notes.append(
            f"{path} was a symbolic link to {target}. The studio stored the "
            "target's bytes as an ordinary file, as the Dify CLI packages it."
        )
    elif links:
        shown = ", ".join(f"{path} → {target}" for path, target in links[:10])
        more = f" and {len(links) - 10} more" if len(links) > 10 else ""
        notes.append(
            f"{len(links)} files of the folder were symbolic links ({shown}{more}). "
            "The studio stored each target's bytes as an ordinary file, as the "
            "Dify CLI packages them."
        )
    entries = files.directory_entries
    if entries:
        n = len(entries)
        shown = ", ".join(entries[:5]) + (", …" if n > 5 else "")
        notes.append(
            f"The package held {n} directory entr{'y' if n == 1 else 'ies'} "
            f'({shown}), which the daemon cannot decode ("package decode '
            f'failed"). The studio stored the files without '
            f"{'it' if n == 1 else 'them'}, and its builds package none."
        )
    return notes


def _import_new_version(
    *,
    team: Team,
    author: str,
    name: str,
    files: PluginFiles,
    target: Provider | None,
    lock_version: int | None,
) -> SaveResult:
    if target is None:
        raise ImportFailed(
            f"{author}/{name} does not exist in this team yet: import it as new"
        )
    if target.team_id != team.pk or (target.author, target.name) != (author, name):
        raise ImportFailed(
            f"the plugin is {author}/{name}; it cannot become a new version "
            f"of {target.plugin_id}"
        )
    try:
        return provider_replace_files(
            provider=target, files=files, lock_version=lock_version
        )
    except StaleEdit as exc:
        raise ImportFailed(
            f"{target.plugin_id} was changed while you chose; look again and retry"
        ) from exc


def _load(files: PluginFiles) -> PluginDocument:
    """The document of `files`, or ImportRefused naming file, line and rules."""
    try:
        return load_document(files)
    except DocumentError as exc:
        raise ImportRefused(
            exc.message,
            entry=exc.file,
            line=exc.line,
            rules=_rules_about(files, exc.file),
        ) from None


def _refuse_unsafe_icons(files: PluginFiles) -> None:
    """ImportRefused naming the first SVG that is no safe icon, if any."""
    unsafe = icon_problems(files)
    if not unsafe:
        return
    path, problems = next(iter(unsafe.items()))
    first = problems[0]
    others = sum(len(p) for p in unsafe.values()) - 1
    message = first.message
    if others:
        message += f" (and {others} more problem{'s' * (others != 1)}"
        if len(unsafe) > 1:
            message += f" in {len(unsafe)} SVG files"
        message += ")"
    raise ImportRefused(
        f"{message}; replace it with a plain SVG (shapes, gradients, text) and "
        "import again",
        entry=path,
        line=first.line,
    )


def _rules_about(files: PluginFiles, path: str) -> list[str]:
    """Ids of the verifier's errors about one file, to name the rule refused."""
    try:
        findings = verify(files)
    except Exception:  # the refusal must be reported even if the verifier trips
        logger.exception("verifier failed on refused input")
        return []
    rules = [f.rule for f in findings if f.severity == "error" and f.file == path]
    return list(dict.fromkeys(rules))[:5]


def _identity(doc: PluginDocument, files: PluginFiles) -> tuple[str, str]:
    manifest = doc.manifest
    author = manifest.spec.author or ""
    name = manifest.spec.name or ""
    for key, value, limit in (("author", author, MAX_AUTHOR), ("name", name, MAX_NAME)):
        if not value.strip() or len(value) > limit:
            raise ImportRefused(
                f"`{key}` must be a text of 1 to {limit} characters; the studio "
                "files plugins by author/name",
                entry="manifest.yaml",
                line=manifest.line_of(key),
                rules=[
                    r
                    for r in _rules_about(files, "manifest.yaml")
                    if r == "manifest.required" or r.startswith(f"manifest.{key}.")
                ],
            )
    return author, name


def _copy_name(team: Team, author: str, name: str) -> str:
    taken = set(
        Provider.objects.filter(
            team=team, author=author, name__startswith=f"{name[: MAX_NAME - 10]}"
        ).values_list("name", flat=True)
    )
    n = 1
    while True:
        suffix = COPY_SUFFIX if n == 1 else f"{COPY_SUFFIX}-{n}"
        candidate = name[: MAX_NAME - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


# ------------------------------------------------------------------ sources


def read_upload(name: str, stream: IO[bytes]) -> PluginFiles:
    """The files of an uploaded `.difypkg` (taken as is) or `.zip` (a folder)."""
    suffix = upload_suffix(name)
    try:
        if suffix == ".difypkg":
            return read_package(stream)
        return read_zip(stream)
    except UnsafeInput as exc:
        raise ImportRefused(exc.reason, entry=exc.entry or name) from None


def upload_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise ImportRefused(
            "upload a .difypkg package or a .zip of a plugin folder", entry=name
        )
    return suffix


def check_upload(name: str, size: int) -> None:
    """Refuse an upload by its name and size, before reading it."""
    upload_suffix(name)
    if size > MAX_UPLOAD_BYTES:
        raise ImportRefused(
            f"the file is {size / 1024 / 1024:.1f} MiB; Dify takes plugins of at "
            f"most {MAX_UPLOAD_BYTES // 1024 // 1024} MiB",
            entry=name,
        )
    if size == 0:
        raise ImportRefused("the file is empty", entry=name)


def import_path(
    *,
    path: str | os.PathLike[str],
    team_slug: str | None,
    user: User | None = None,
    mode: str = ImportJob.Mode.NEW,
) -> ImportReport:
    """Import a plugin folder, zip or .difypkg on the server (command line)."""
    team = team_by_slug(team_slug)
    try:
        files = read_any(path)
    except UnsafeInput as exc:
        raise ImportRefused(exc.reason, entry=exc.entry) from None
    except OSError as exc:
        raise ImportRefused(
            f"cannot read: {exc.strerror or exc}", entry=str(path)
        ) from None
    return import_plugin(team=team, user=user, files=files, mode=mode, source=str(path))


def team_by_slug(slug: str | None) -> Team:
    """The team named by `slug`, or the only team there is."""
    if slug:
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            raise ImportFailed(f"no team with the slug {slug!r}")
        return team
    teams = list(Team.objects.order_by("slug")[:2])
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise ImportFailed(
            "there is no team yet: create one with "
            "`manage.py team create NAME --owner USERNAME`"
        )
    raise ImportFailed("there are several teams: name one with --team SLUG")
