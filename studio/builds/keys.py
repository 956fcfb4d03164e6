"""Private signing keys encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The encryption key comes from `settings.SIGNING_KEY_ENCRYPTION_KEY`: one or
more Fernet keys separated by commas, the first encrypting and all of them
decrypting, so a key can be rotated without losing stored keys. When unset,
a key is derived from SECRET_KEY; then rotating SECRET_KEY makes stored
private keys unreadable, so production sets its own.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from studio.pluginfmt import signing

MIN_KEY_BITS = 2048


class KeyUnreadable(Exception):
    """A stored private key cannot be decrypted with the configured keys."""


class BadKey(ValueError):
    """An uploaded key is not a usable RSA private key."""


def derived_key(secret: str) -> bytes:
    """A Fernet key derived from `secret` (SECRET_KEY) with HKDF-SHA256."""
    raw = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"dify-plugin-studio signing-key encryption",
    ).derive(secret.encode())
    return base64.urlsafe_b64encode(raw)


def _fernet() -> MultiFernet:
    configured = [
        k.strip() for k in settings.SIGNING_KEY_ENCRYPTION_KEY.split(",") if k.strip()
    ]
    keys = [k.encode() for k in configured] or [derived_key(settings.SECRET_KEY)]
    return MultiFernet([Fernet(k) for k in keys])


def encrypt_private_key(private_pem: bytes) -> str:
    """The private key as a Fernet token (text, safe to store)."""
    return _fernet().encrypt(private_pem).decode("ascii")


def decrypt_private_key(token: str) -> bytes:
    """The PEM of a stored private key; KeyUnreadable if the keys do not match."""
    try:
        return _fernet().decrypt(token.encode("ascii"))
    except (InvalidToken, ValueError) as exc:
        raise KeyUnreadable(
            "the signing key cannot be decrypted: SIGNING_KEY_ENCRYPTION_KEY "
            "(or SECRET_KEY) changed since it was stored"
        ) from exc


def public_fingerprint(public_pem: bytes) -> str:
    """SHA-256 (hex) of the public key's DER SubjectPublicKeyInfo, as stored;
    shown through `signing.format_fingerprint`."""
    return signing.key_digest(public_pem)


def read_uploaded_private_key(pem: bytes) -> tuple[bytes, bytes, int]:
    """(private PEM, public PEM, bits) of an uploaded unencrypted RSA private key.

    The private key is re-serialised as PKCS#1 and the public one as PKCS#1
    too, the blocks `dify signature generate` writes and the daemon reads.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError as exc:
        raise BadKey("the key is protected by a passphrase; upload it without") from exc
    except ValueError as exc:
        raise BadKey("not a PEM private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise BadKey("Dify verifies RSA signatures only: upload an RSA key")
    if key.key_size < MIN_KEY_BITS:
        raise BadKey(f"the key has {key.key_size} bits; use at least {MIN_KEY_BITS}")
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    )
    return private_pem, public_pem, key.key_size
