"""The API's request and response bodies, as pydantic models.

These are the contract: views build their answers from them and openapi.py
describes the API from them.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from studio.catalog.services.import_report import ImportReport

from .errors import ErrorCode


def jsonable(value: Any) -> Any:
    """Plain JSON data: YAML may hold .inf/.nan or dates, JSON holds neither."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)


class Out(BaseModel):
    """A response body."""

    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ errors


class ErrorDetail(Out):
    loc: list[str] = Field(description="Where: `body`, `query` or `form`, then keys.")
    message: str
    type: str


class ErrorBody(Out):
    code: ErrorCode = Field(description="Stable: branch on this, not the message.")
    message: str
    details: list[ErrorDetail] | None = Field(
        default=None, description="Validation errors, one per field."
    )
    context: dict[str, Any] | None = Field(
        default=None, description="Ids that help, e.g. the build in the way."
    )


class ErrorResponse(Out):
    error: ErrorBody


# ------------------------------------------------------------------ me


class TeamRef(Out):
    id: int
    slug: str
    name: str


class TokenInfo(Out):
    id: int
    name: str
    kind: Literal["personal", "team"]
    prefix: str = Field(description="The first characters of the token.")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class RateLimitInfo(Out):
    limit: int = Field(description="Requests per window.")
    window_seconds: int


class Me(Out):
    token: TokenInfo
    team: TeamRef
    role: Literal["owner", "author", "reviewer", "viewer"]
    can_write: bool
    user: str | None = Field(description="Username a personal token acts as.")
    rate_limit: RateLimitInfo


# ------------------------------------------------------------------ pages


class PageMeta(Out):
    total: int = Field(description="Items in the whole list.")
    limit: int
    page: int | None = Field(description="This page's number (page mode).")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    next: str | None = Field(description="Path of the next page, if any.")


# ------------------------------------------------------------------ providers


class ProviderOut(Out):
    id: int
    plugin_id: str = Field(description="author/name")
    author: str
    name: str
    version: str
    label: str
    provider_key: str = Field(description="`provider` of the provider YAML.")
    runtime: str
    model_types: list[str]
    configurate_methods: list[str]
    error_count: int = Field(description="Verifier errors of the current files.")
    warning_count: int
    lock_version: int
    created_at: datetime
    updated_at: datetime


class ProviderPage(PageMeta):
    items: list[ProviderOut]


class ModelOut(Out):
    id: int
    model_type: str = Field(description="Hyphenated: llm, text-embedding…")
    model: str
    label: str
    path: str
    position: int
    deprecated: bool
    spec: dict[str, Any] = Field(description="The model YAML's data.")


class ModelPage(PageMeta):
    items: list[ModelOut]


class DocumentPart(Out):
    path: str
    data: dict[str, Any]


class DocumentModel(Out):
    path: str
    type_key: str = Field(description="The provider's `models:` key: llm, tts…")
    model_type: str
    data: dict[str, Any]


class DocumentPosition(Out):
    path: str
    type_key: str
    items: list[str]


class DocumentOut(Out):
    """The provider as the plugin format sees it (studio.pluginfmt.document)."""

    provider_id: int
    plugin_id: str
    manifest: DocumentPart
    provider: DocumentPart
    models: list[DocumentModel]
    positions: list[DocumentPosition]
    files: list[str] = Field(description="Paths of the other files (code, icons…).")
    orphans: list[str] = Field(description="YAML under models/ no glob loads.")


class FindingOut(Out):
    rule: str
    severity: Literal["error", "warning", "info"]
    layer: str
    file: str
    line: int | None
    message: str
    value: Any = None
    fix: str


class VerifyOut(Out):
    provider_id: int
    plugin_id: str
    ok: bool = Field(description="No error finding.")
    errors: int
    warnings: int
    findings: list[FindingOut]


# ------------------------------------------------------------------ builds


class BuildCreate(BaseModel):
    """Start a build of the provider's current files (a dev build)."""

    model_config = ConfigDict(extra="forbid")

    smoke: bool = Field(default=True, description="Run the smoke test.")


class StepOut(Out):
    name: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None


class ArtifactOut(Out):
    name: str = Field(
        description="File name of the download: "
        "<name>-<version>-b<build>-signed.difypkg (or -unsigned)."
    )
    size: int | None
    sha256: str = Field(description="SHA-256 of the .difypkg file (hex).")
    checksum: str = Field(description="The daemon's checksum of the files.")
    identifier: str = Field(description="author/name:version@checksum")
    signed: bool
    key_fingerprint: str = Field(
        description="The signing key's fingerprint, SHA256: and colon-separated "
        "hex pairs; empty when unsigned."
    )
    download: str = Field(description="Path of the download endpoint.")


class BuildOut(Out):
    id: int
    provider_id: int
    kind: Literal["dev", "release"]
    revision_label: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    finished: bool
    run_smoke: bool
    attempt: int
    plugin_version: str
    error: str
    steps: list[StepOut]
    findings: list[FindingOut]
    log_tail: str
    artifact: ArtifactOut | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class BuildPage(PageMeta):
    items: list[BuildOut]


# ------------------------------------------------------------------ imports


class ImportForm(BaseModel):
    """Form fields of an import upload (the file goes in `file`)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["new", "new-version", "copy"] = Field(
        default="new",
        description=(
            "`new` refuses a plugin the team has (409); `new-version` replaces "
            "its files (or creates it); `copy` imports it under a new name."
        ),
    )


class ImportChoice(BaseModel):
    """Go on with an import waiting for a choice, or drop it."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["new-version", "copy", "cancel"]


class ImportOut(Out):
    id: int
    status: Literal["queued", "running", "needs-choice", "done", "failed", "cancelled"]
    mode: Literal["new", "new-version", "copy"]
    finished: bool
    source_name: str
    source_size: int
    plugin_id: str
    progress: int
    progress_text: str
    error: str
    provider_id: int | None
    report: ImportReport | None
    created_at: datetime
    finished_at: datetime | None


# ------------------------------------------------------------------ reviews


class RevisionOut(Out):
    number: int
    label: str = Field(description="r<number>: what a release build names.")
    status: Literal["pending", "changes-requested", "approved", "superseded"]
    version: str = Field(description="The manifest version of the frozen files.")
    message: str
    submitted_by: str | None
    submitted_at: datetime
    decided_at: datetime | None
    required_approvals: int
    approvers: list[str]
    error_count: int
    warning_count: int


class RevisionPage(PageMeta):
    items: list[RevisionOut]


class DiffQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base: Annotated[int, Field(ge=1, le=10**9)] | Literal["baseline", "none"] | None = (
        Field(
            default=None,
            description="Revision number to compare with, `baseline` (the files "
            "the provider had when it was created or imported) or `none` "
            "(everything is new). Default: the last approved revision before it, "
            "else the one before it; for a first revision the baseline, else none.",
        )
    )


class RevisionRef(BaseModel):
    model_config = ConfigDict(extra="allow")

    number: int
    label: str
    version: str
    status: str


class BaselineRef(BaseModel):
    """What the provider was when it entered the studio."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["created", "imported"]
    version: str
    created_at: datetime
    created_by: str | None


class ChangeOut(BaseModel):
    """One change, classified."""

    model_config = ConfigDict(extra="allow")

    section: str = Field(description="manifest, provider, credentials, models, files")
    subject: list[str]
    subject_label: str
    anchor: list[str]
    field: str
    kind: str = Field(description="added, removed, changed, renamed, reordered…")
    level: Literal["breaking", "notable", "cosmetic"]
    message: str
    old: Any = None
    new: Any = None


class DiffOut(BaseModel):
    """The schema-aware diff of two revisions (studio.reviews)."""

    model_config = ConfigDict(extra="allow")

    provider: str
    base: RevisionRef | None = Field(description="The revision compared with.")
    baseline: BaselineRef | None = Field(
        default=None, description="The baseline compared with (then `base` is null)."
    )
    head: RevisionRef
    initial: bool = Field(description="No base: everything is new.")
    level: Literal["breaking", "notable", "cosmetic"] | None
    suggestion: Literal["major", "minor", "patch", "none"]
    base_version: str | None
    head_version: str
    version_bump: Literal["major", "minor", "patch", "none"] | None
    suggested_version: str | None
    warnings: list[str]
    counts: dict[str, int]
    changes: list[ChangeOut]


class ReleaseCreate(BaseModel):
    """Start a release build of an approved revision."""

    model_config = ConfigDict(extra="forbid")

    revision: int = Field(ge=1, le=10**9, description="The revision number.")
    smoke: bool = Field(default=True, description="Run the smoke test.")
    release_notes: (
        Annotated[str, Field(min_length=1, max_length=20_000, pattern=r"\S")] | None
    ) = Field(
        default=None,
        description="The release notes (Markdown, without the `## Release Notes` "
        "heading). Default: the notes generated from the changes since the "
        "previous release (`GET …/revisions/{n}/release-notes`).",
    )


class ReleaseOut(Out):
    build: BuildOut
    revision: int | None = Field(description="The approved revision's number.")
    revision_label: str
    version: str
    approvers: list[str]
    release_notes: str = Field(
        description="The notes stored with the release (Markdown, without the "
        "`## Release Notes` heading; empty for releases made before notes)."
    )
    submission_kit: str | None = Field(
        description="Path of the Marketplace submission kit (a succeeded release)."
    )


class NotesComparedWith(BaseModel):
    """What generated release notes compare with."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["release", "baseline", "none"] = Field(
        description="`release`: the previous release; `baseline`: the files the "
        "provider entered the studio with (no earlier release); `none`: a first "
        "release without a baseline."
    )
    revision: int | None = Field(description="The previous release's revision.")
    version: str | None


class ReleaseNotesOut(Out):
    """Release notes generated for a revision, to edit and send with the release."""

    revision: int
    version: str
    compared_with: NotesComparedWith
    release_notes: str = Field(
        description="Markdown, without the `## Release Notes` heading."
    )


class ReleasePage(PageMeta):
    items: list[ReleaseOut]


# ------------------------------------------------------------------ members

RoleName = Literal["owner", "author", "reviewer", "viewer"]


class MemberOut(Out):
    username: str
    name: str = Field(description="Full name, or empty.")
    email: str
    role: RoleName
    joined_at: datetime
    last_active_at: datetime | None = Field(
        description="Last request in the browser (recorded every few minutes)."
    )


class MemberPage(PageMeta):
    items: list[MemberOut]


class InvitationCreate(BaseModel):
    """Invite an email address to the token's team with a role."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    role: RoleName
    mail: bool = Field(default=True, description="Mail the link to `email`.")


class InvitationRevoke(BaseModel):
    """No fields: send `{}` or no body."""

    model_config = ConfigDict(extra="forbid")


class InvitationOut(Out):
    id: int
    email: str
    role: RoleName
    state: Literal["pending", "accepted", "revoked", "expired"]
    invited_by: str | None = Field(description="Username; null from the command line.")
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    accepted_by: str | None
    revoked_at: datetime | None


class InvitationCreated(InvitationOut):
    url: str = Field(
        description="The link that joins the team: returned only now, never again."
    )


class InvitationPage(PageMeta):
    items: list[InvitationOut]


class OpenApiDocument(BaseModel):
    """This document (OpenAPI 3.1)."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
