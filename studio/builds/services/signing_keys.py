"""Team signing keys: generate, upload, deactivate, and the daemon settings."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from studio.catalog.models import Team
from studio.pluginfmt import signing

from ..keys import encrypt_private_key, public_fingerprint, read_uploaded_private_key
from ..models import SigningKey

# Where the daemon settings text says the public key file lives; the page
# tells the reader to put the file there (or change the path).
KEY_DIRECTORY = "/path/to"


def signing_key_generate(
    *, team: Team, user: User | None, name: str = ""
) -> SigningKey:
    """A new RSA-4096 key pair for `team`, replacing its active key."""
    private_pem, public_pem = signing.generate_keypair()
    return _store(
        team=team,
        user=user,
        name=name,
        private_pem=private_pem,
        public_pem=public_pem,
        bits=signing.KEY_BITS,
        origin=SigningKey.Origin.GENERATED,
    )


def signing_key_upload(
    *, team: Team, user: User | None, private_pem: bytes, name: str = ""
) -> SigningKey:
    """Store an uploaded RSA private key for `team` (keys.BadKey if unusable)."""
    private_pem, public_pem, bits = read_uploaded_private_key(private_pem)
    return _store(
        team=team,
        user=user,
        name=name,
        private_pem=private_pem,
        public_pem=public_pem,
        bits=bits,
        origin=SigningKey.Origin.UPLOADED,
    )


def _store(
    *,
    team: Team,
    user: User | None,
    name: str,
    private_pem: bytes,
    public_pem: bytes,
    bits: int,
    origin: str,
) -> SigningKey:
    now = timezone.now()
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=team.pk).first()
        for old in SigningKey.objects.filter(team=team, is_active=True):
            old.deactivate(now)
            old.save(update_fields=["is_active", "deactivated_at"])
        return SigningKey.objects.create(
            team=team,
            name=key_name(team, name, now),
            public_pem=public_pem.decode("ascii"),
            private_key_encrypted=encrypt_private_key(private_pem),
            fingerprint=public_fingerprint(public_pem),
            key_bits=bits,
            origin=origin,
            created_by=user,
            created_at=now,
        )


def key_name(team: Team, name: str, now: object) -> str:
    """A file-name-safe key name; by default `<team>-<date>`."""
    cleaned = slugify(name)[:64]
    return cleaned or f"{team.slug}-{now:%Y%m%d%H%M%S}"[:64]


def signing_key_deactivate(*, key: SigningKey) -> SigningKey:
    """Stop signing with `key` (builds from now on are unsigned until a new key)."""
    with transaction.atomic():
        locked = SigningKey.objects.select_for_update().get(pk=key.pk)
        if locked.is_active:
            locked.deactivate()
            locked.save(update_fields=["is_active", "deactivated_at"])
    return locked


def daemon_settings(keys: list[SigningKey], directory: str = KEY_DIRECTORY) -> str:
    """The plugin daemon's environment lines that make it trust `keys`."""
    paths = ",".join(f"{directory.rstrip('/')}/{k.public_filename}" for k in keys)
    return (
        "THIRD_PARTY_SIGNATURE_VERIFICATION_ENABLED=true\n"
        f"THIRD_PARTY_SIGNATURE_VERIFICATION_PUBLIC_KEYS={paths}\n"
    )
