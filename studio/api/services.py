"""Workflows of API tokens: create, authenticate, touch, revoke; and API imports.

A token is `dps_` followed by 43 base62 characters (32 random bytes). Only its
SHA-256 is stored, with its first 12 characters as the lookup key; the hash
is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from studio.catalog.models import ImportJob, Membership, Role, Team
from studio.catalog.services import import_jobs, imports

from .models import ApiToken

TOKEN_PREFIX = "dps_"  # noqa: S105 (a marker, not a secret)
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
SECRET_BYTES = 32
SECRET_CHARS = 43  # 62**43 > 2**256
# last_used_at is written at most this often per token (not once per request).
TOUCH_INTERVAL = timedelta(seconds=60)
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class TokenRefused(Exception):
    """The request's token cannot be used; `code` is the API error code."""

    code = "unauthenticated"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TokenInvalid(TokenRefused):
    """No token, a malformed one, or one the studio never issued."""


class TokenExpired(TokenRefused):
    """A real token past its expiry."""

    code = "token_expired"


class TokenRevoked(TokenRefused):
    """A real token that was revoked (or whose user left the team)."""

    code = "token_revoked"


class TokenNotAllowed(Exception):
    """The user may not create or revoke this token."""


@dataclass(frozen=True)
class IssuedToken:
    """A new token row and its secret, which is never shown again."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class Actor:
    """Who a request acts as: the token, its team, the role it has there."""

    token: ApiToken
    team: Team
    role: str
    user: User | None

    @property
    def can_edit(self) -> bool:
        return self.role in (Role.OWNER, Role.AUTHOR)


def _base62(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big")
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 62)
        chars.append(_BASE62[rest])
    return "".join(reversed(chars))


def token_hash(secret: str) -> str:
    """The SHA-256 (hex) a token is stored as."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret() -> str:
    return TOKEN_PREFIX + _base62(secrets.token_bytes(SECRET_BYTES), SECRET_CHARS)


def token_create(
    *,
    team: Team,
    created_by: User,
    kind: str,
    name: str,
    role: str = "",
    expires_at: datetime | None = None,
) -> IssuedToken:
    """Issue a personal token (any member) or a team token (owners only)."""
    membership = Membership.objects.filter(team=team, user=created_by).first()
    if membership is None:
        raise TokenNotAllowed("you are not in this team")
    if kind == ApiToken.Kind.TEAM:
        if membership.role != Role.OWNER:
            raise TokenNotAllowed("only an owner of the team creates team tokens")
        if role not in ApiToken.TEAM_ROLES:
            raise TokenNotAllowed("a team token reads (viewer) or writes (author)")
        user = None
    elif kind == ApiToken.Kind.PERSONAL:
        user, role = created_by, ""
    else:
        raise TokenNotAllowed(f"unknown token kind {kind!r}")
    for _ in range(5):
        secret = _new_secret()
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    team=team,
                    kind=kind,
                    user=user,
                    role=role,
                    name=name.strip()[:100] or "token",
                    prefix=secret[:PREFIX_LENGTH],
                    secret_hash=token_hash(secret),
                    created_by=created_by,
                    expires_at=expires_at,
                )
        except IntegrityError:  # a prefix collision: draw again
            continue
        return IssuedToken(token=token, secret=secret)
    raise RuntimeError("could not draw a unique token prefix")


def token_authenticate(secret: str, *, now: datetime | None = None) -> Actor:
    """The actor of a presented token, or TokenInvalid/TokenExpired/TokenRevoked."""
    now = now or timezone.now()
    if (
        not secret.startswith(TOKEN_PREFIX)
        or len(secret) != len(TOKEN_PREFIX) + SECRET_CHARS
        or not secret.isascii()
        or not secret[len(TOKEN_PREFIX) :].isalnum()
    ):
        raise TokenInvalid("the token is malformed")
    token = (
        ApiToken.objects.select_related("team", "user")
        .filter(prefix=secret[:PREFIX_LENGTH])
        .first()
    )
    # Compare even when no row matched, so timing says nothing either way.
    expected = token.secret_hash if token else "0" * 64
    if not hmac.compare_digest(expected, token_hash(secret)) or token is None:
        raise TokenInvalid("the token is not valid")
    # Only a holder of the real secret learns why it stopped working.
    if token.is_revoked:
        raise TokenRevoked("the token was revoked")
    if token.is_expired(now):
        raise TokenExpired("the token expired")
    user = token.user
    if token.kind == ApiToken.Kind.PERSONAL:
        membership = Membership.objects.filter(team=token.team, user=user).first()
        if membership is None or user is None or not user.is_active:
            raise TokenRevoked("the token's user is no longer in its team")
        role = membership.role
    else:
        role = token.role
    token_touch(token=token, now=now)
    return Actor(token=token, team=token.team, role=role, user=user)


def token_touch(*, token: ApiToken, now: datetime) -> bool:
    """Record use, writing at most once per TOUCH_INTERVAL; whether it wrote."""
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_INTERVAL:
        return False
    updated = ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_INTERVAL),
        pk=token.pk,
    ).update(last_used_at=now)
    if updated:
        token.last_used_at = now
    return bool(updated)


def token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    """Revoke a token at once: its holder, its team's owners."""
    if not can_manage(token, by):
        raise TokenNotAllowed("you cannot revoke this token")
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if not locked.is_revoked:
            locked.revoke(by=by)
            locked.save(update_fields=["revoked_at", "revoked_by"])
    return locked


def can_manage(token: ApiToken, user: User) -> bool:
    """Whether `user` sees and may revoke `token`: its own, or as team owner."""
    if token.kind == ApiToken.Kind.PERSONAL and token.user_id == user.pk:
        return True
    return Membership.objects.filter(
        team_id=token.team_id, user=user, role=Role.OWNER
    ).exists()


def tokens_for_user(user: User) -> list[ApiToken]:
    """The tokens a user manages: their personal ones, and all of teams they own."""
    owned = Membership.objects.filter(user=user, role=Role.OWNER).values("team_id")
    return list(
        ApiToken.objects.filter(
            Q(kind=ApiToken.Kind.PERSONAL, user=user) | Q(team_id__in=owned)
        )
        .select_related("team", "user", "created_by")
        .order_by("revoked_at", "-created_at", "-id")
    )


def tokens_purge(*, now: datetime | None = None) -> int:
    """Delete tokens revoked or expired more than EXPIRED_KEEP_DAYS ago; how many.

    Until then the tokens page lists them and the API answers their holder
    `token_revoked` / `token_expired`; after, the token is simply unknown. One
    DELETE statement: two runs at once delete each row once.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.EXPIRED_KEEP_DAYS)
    _, deleted = ApiToken.objects.filter(
        Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff)
    ).delete()
    return deleted.get(ApiToken._meta.label, 0)


# ------------------------------------------------------------------ imports


def api_import(
    *, team: Team, user: User | None, upload: UploadedFile, mode: str
) -> ImportJob:
    """Import an uploaded plugin with a chosen mode (new, new-version, copy).

    `new` is the browser's import (`import_jobs.import_upload`): an existing
    author/name leaves the job waiting for a choice. `new-version` and `copy`
    import small uploads now and hand large ones to a worker with that mode,
    so a script updates a provider in one call. Raises ImportRefused,
    ImportFailed and QueueUnavailable like the catalog's services.
    """
    name = Path(upload.name or "upload").name
    size = upload.size or 0
    imports.check_upload(name, size)
    if mode not in imports.MODES:
        raise imports.ImportFailed(f"unknown import mode {mode!r}")
    if mode == ImportJob.Mode.NEW:
        return import_jobs.import_upload(team=team, user=user, upload=upload)
    if size <= import_jobs.INLINE_IMPORT_MAX_BYTES:
        upload.seek(0)
        files = imports.read_upload(name, upload)
        report = imports.import_plugin(
            team=team, user=user, files=files, mode=mode, source=name
        )
        assert report.job_id is not None  # import_plugin records the job it saved
        return ImportJob.objects.get(pk=report.job_id)
    return import_jobs.store_and_queue(
        team=team, user=user, upload=upload, name=name, mode=mode
    )
