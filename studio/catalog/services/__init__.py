"""Workflows of the catalog: teams, providers, their files and models.

Every change to a plugin goes the same way: read the provider's files into a
`pluginfmt` document, change the document, dump it (untouched files keep their
bytes), write the files that changed, and refresh the denormalised rows pages
read — all in one transaction, refused when the caller's `lock_version` is
stale.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from studio.catalog.models import (
    Membership,
    Provider,
    ProviderBaseline,
    ProviderFile,
    ProviderModel,
    Role,
    Team,
)
from studio.pluginfmt.checksum import digests_checksum, files_checksum
from studio.pluginfmt.document import (
    PluginDocument,
    dump_document,
    load_document,
    model_type_of,
)
from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.package import write_zip
from studio.pluginfmt.scaffold import NewPlugin, scaffold
from studio.pluginfmt.verify import (
    Finding,
    findings_to_json,
    severity_counts,
    verify,
)


class StaleEdit(Exception):
    """The provider changed since the form was loaded; nothing was saved."""

    def __init__(self, provider: Provider) -> None:
        super().__init__(f"{provider.plugin_id} was changed by someone else")
        self.provider = provider


class DuplicatePlugin(Exception):
    """The team already has a plugin with this author/name."""


def team_create(*, name: str, owner: User, slug: str = "") -> Team:
    """Create a team with `owner` as its owner."""
    with transaction.atomic():
        team = Team.objects.create(name=name, slug=slug or _unique_slug(name))
        Membership.objects.create(team=team, user=owner, role=Role.OWNER)
    return team


def _unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "team"
    slug, n = base, 1
    while Team.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


# ---------------------------------------------------------------- files


def provider_files(provider: Provider) -> PluginFiles:
    """Every file of the provider's plugin, by path."""
    return {
        path: bytes(content)
        for path, content in provider.files.order_by("path").values_list(
            "path", "content"
        )
    }


def draft_checksum(provider: Provider) -> str:
    """The daemon-style checksum of the provider's files, from the digests
    stored on their rows (one query, no content read): equal to
    `files_checksum(provider_files(provider))`."""
    return digests_checksum(dict(provider.files.values_list("path", "sha256")))


def provider_document(provider: Provider) -> PluginDocument:
    """The provider's plugin as an editable document."""
    return load_document(provider_files(provider))


@dataclass(frozen=True)
class SaveResult:
    provider: Provider
    changed_paths: list[str]
    findings: list[Finding]


def provider_create(*, team: Team, user: User | None, plugin: NewPlugin) -> Provider:
    """Create a provider from the new-provider form: generated files, rows and
    its baseline (kind created)."""
    runtime = plugin.runtime
    with transaction.atomic():
        if Provider.objects.filter(
            team=team, author=plugin.author, name=plugin.name
        ).exists():
            raise DuplicatePlugin(f"{plugin.author}/{plugin.name} already exists")
        provider = Provider.objects.create(
            team=team,
            author=plugin.author,
            name=plugin.name,
            runtime=runtime,
            created_by=user,
        )
        files = scaffold(plugin)
        _write_files(provider, files)
        _record_baseline(provider, files, ProviderBaseline.Kind.CREATED, user)
    return provider


def provider_create_from_files(
    *,
    team: Team,
    user: User | None,
    files: PluginFiles,
    runtime: str,
    doc: PluginDocument | None = None,
) -> SaveResult:
    """Create a provider holding exactly `files` (import), with `files` as its
    baseline (kind imported); `doc` if already loaded."""
    doc = doc or load_document(files)
    author = str(doc.manifest.spec.author or "")
    name = str(doc.manifest.spec.name or "")
    with transaction.atomic():
        if Provider.objects.filter(team=team, author=author, name=name).exists():
            raise DuplicatePlugin(f"{author}/{name} already exists")
        provider = Provider.objects.create(
            team=team, author=author, name=name, runtime=runtime, created_by=user
        )
        result = _write_files(provider, files, doc=doc)
        _record_baseline(provider, files, ProviderBaseline.Kind.IMPORTED, user)
    return result


def _record_baseline(
    provider: Provider, files: PluginFiles, kind: str, user: User | None
) -> ProviderBaseline:
    """Freeze `files` as what the provider was when it entered the studio."""
    order = sorted(files, key=lambda p: p.encode("utf-8", "surrogateescape"))
    return ProviderBaseline.objects.create(
        provider=provider,
        kind=kind,
        sha256=files_checksum(files),
        archive=write_zip((path, files[path]) for path in order),
        file_count=len(files),
        size=sum(len(c) for c in files.values()),
        plugin_version=provider.version,
        created_by=user,
    )


def provider_edit(
    *,
    provider: Provider,
    lock_version: int | None,
    change: Callable[[PluginDocument], None],
) -> SaveResult:
    """Apply `change` to the provider's document and save what it changed.

    `lock_version` is the version the editor saw; None skips the check (bulk
    jobs that re-read first). A stale version raises StaleEdit.
    """

    def edited(locked: Provider) -> tuple[PluginFiles, PluginDocument]:
        doc = provider_document(locked)
        change(doc)
        # The edited document indexes what its dump holds: no second parse.
        return dump_document(doc), doc

    return _edit(provider, lock_version, edited)


def provider_edit_files(
    *,
    provider: Provider,
    lock_version: int | None,
    change: Callable[[PluginFiles], PluginFiles],
) -> SaveResult:
    """Apply `change` to the provider's files (path -> bytes) and save the result.

    The file editor's way through `provider_edit`'s transaction, lock and
    refresh: `change` sees the locked provider's files and may refuse (its
    exception rolls everything back, StaleEdit included); the files it returns
    must still load as a plugin document (DocumentError otherwise).
    """

    def edited(locked: Provider) -> tuple[PluginFiles, PluginDocument]:
        files = change(provider_files(locked))
        return files, load_document(files)

    return _edit(provider, lock_version, edited)


def _edit(
    provider: Provider,
    lock_version: int | None,
    edited: Callable[[Provider], tuple[PluginFiles, PluginDocument]],
) -> SaveResult:
    """Lock the provider, refuse a stale version, write what `edited` gives."""
    with transaction.atomic():
        locked = Provider.objects.select_for_update().get(pk=provider.pk)
        if lock_version is not None and locked.lock_version != lock_version:
            raise StaleEdit(locked)
        files, doc = edited(locked)
        result = _write_files(locked, files, doc=doc)
    provider.refresh_from_db()
    return result


def provider_replace_files(
    *, provider: Provider, files: PluginFiles, lock_version: int | None = None
) -> SaveResult:
    """Replace every file of the provider with `files` (re-import as new version)."""
    doc = load_document(files)  # refuse what cannot be read before touching anything
    with transaction.atomic():
        locked = Provider.objects.select_for_update().get(pk=provider.pk)
        if lock_version is not None and locked.lock_version != lock_version:
            raise StaleEdit(locked)
        result = _write_files(locked, files, doc=doc)
    provider.refresh_from_db()
    return result


def provider_reverify(*, provider: Provider) -> list[Finding]:
    """Re-run the verifier on the provider's files and store its findings.

    Saves refresh findings already; this is for a newer verifier (or the
    passing of time, for date rules) on providers nobody edited since.
    """
    files = provider_files(provider)
    findings = verify(files)
    counts = severity_counts(findings)
    Provider.objects.filter(pk=provider.pk).update(
        error_count=counts["error"],
        warning_count=counts["warning"],
        findings=findings_to_json(findings),
    )
    provider.refresh_from_db()
    return findings


def _write_files(
    provider: Provider, files: PluginFiles, *, doc: PluginDocument | None = None
) -> SaveResult:
    """Make the provider's file rows equal `files`, then refresh its rows."""
    existing = {f.path: f for f in provider.files.only("id", "path", "sha256")}
    changed: list[str] = []
    to_create: list[ProviderFile] = []
    to_update: list[ProviderFile] = []
    for path, content in files.items():
        digest = hashlib.sha256(content).hexdigest()
        row = existing.pop(path, None)
        if row is not None and row.sha256 == digest:
            continue
        if row is None:
            row = ProviderFile(provider=provider, path=path)
            to_create.append(row)
        else:
            to_update.append(row)
        row.set_content(content)
        changed.append(path)
    if existing:
        ProviderFile.objects.filter(pk__in=[f.pk for f in existing.values()]).delete()
        changed.extend(existing)
    ProviderFile.objects.bulk_create(to_create, batch_size=200)
    ProviderFile.objects.bulk_update(
        to_update, ["content", "size", "sha256", "updated_at"], batch_size=200
    )
    findings = _reindex(provider, files, doc=doc or load_document(files))
    if changed:
        provider.touch()
    provider.save()
    return SaveResult(
        provider=provider, changed_paths=sorted(changed), findings=findings
    )


def _reindex(provider: Provider, files: PluginFiles, *, doc: PluginDocument) -> list:
    """Refresh the rows pages read from the document, and the verifier's findings."""
    manifest = doc.manifest.spec.to_data()
    declaration = doc.provider.spec.to_data()
    provider.manifest = manifest
    provider.declaration = declaration
    provider.version = str(manifest.get("version") or "")[:64]
    provider.provider_key = str(declaration.get("provider") or "")[:255]
    label = manifest.get("label")
    provider.label = str(label.get("en_US", "") if isinstance(label, dict) else "")[
        :1024
    ]
    provider.provider_path = doc.provider.path
    types = declaration.get("supported_model_types")
    provider.model_types = (
        [t for t in types if isinstance(t, str)] if isinstance(types, list) else []
    )
    methods = declaration.get("configurate_methods")
    provider.configurate_methods = (
        [m for m in methods if isinstance(m, str)] if isinstance(methods, list) else []
    )
    provider.kinds = ",".join(
        ["", *provider.model_types, *provider.configurate_methods, ""]
    )[:512]

    now = timezone.now()
    rows = {m.path: m for m in provider.models.all()}
    keep: set[str] = set()
    create: list[ProviderModel] = []
    update: list[ProviderModel] = []
    order: dict[tuple[str, str], int] = {}
    for key in {m.type_key for m in doc.models}:
        position_file = doc.position_of(key)
        for i, name in enumerate(position_file.names if position_file else []):
            order.setdefault((key, name), i)
    for index, entry in enumerate(doc.models):
        spec = entry.spec.to_data()
        model_id = str(spec.get("model") or "")[:255]
        model_type = model_type_of(entry.type_key)
        label_data = spec.get("label")
        label_text = (
            str(label_data.get("en_US") or model_id)
            if isinstance(label_data, dict)
            else model_id
        )
        position = order.get((entry.type_key, model_id), 10_000 + index)
        values = {
            "model_type": model_type,
            "model": model_id,
            "label": label_text[:1024],
            "position": position,
            "deprecated": spec.get("deprecated") is True,
            "spec": spec,
        }
        keep.add(entry.path)
        row = rows.get(entry.path)
        if row is None:
            create.append(ProviderModel(provider=provider, path=entry.path, **values))
            continue
        if any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.lock_version += 1
            row.updated_at = now
            update.append(row)
    stale = [row.pk for path, row in rows.items() if path not in keep]
    if stale:
        ProviderModel.objects.filter(pk__in=stale).delete()
    ProviderModel.objects.bulk_create(create, batch_size=200)
    ProviderModel.objects.bulk_update(
        update,
        [
            "model_type",
            "model",
            "label",
            "position",
            "deprecated",
            "spec",
            "lock_version",
            "updated_at",
        ],
        batch_size=200,
    )
    findings = verify(files)
    counts = severity_counts(findings)
    provider.error_count = counts["error"]
    provider.warning_count = counts["warning"]
    provider.findings = findings_to_json(findings)
    return findings
