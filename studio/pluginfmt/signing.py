"""Package signatures, byte for byte as the Dify CLI signs and the daemon verifies.

Signing (`withkey.SignPluginWithPrivateKey`): every file entry is copied in
archive order, `.verification.dify.json` (`{"authorized_category":"<cat>"}`,
Go's compact JSON) is appended last, and the signed data is the raw SHA-256 of
each entry's content in that order followed by the decimal Unix time. The
signature is RSA PKCS#1 v1.5 over SHA-256 of that data; it goes, base64
encoded, into the archive comment `{"signature":"<base64>","time":<unix>}`.
Verification (`decoder.VerifyPluginWithPublicKeys`) rebuilds the same data
from the entries and the comment's time and accepts any one of the keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from studio.pluginfmt.files import UnsafeInput
from studio.pluginfmt.package import BadPackage, read_zip, write_zip

VERIFICATION_FILE = ".verification.dify.json"
CATEGORIES = ("langgenius", "partner", "community")
KEY_BITS = 4096

# The daemon's bundled key (internal/core/license/public_key/PUBLIC_KEY.pem):
# packages signed by Dify (the Marketplace) verify against it.
OFFICIAL_PUBLIC_KEY = b"""-----BEGIN RSA PUBLIC KEY-----
MIICCgKCAgEAwUY1cndCmqclHHlCn/PVB011n0m+vmXT2M/QWbViM/2oqO2S5lXl
VYwZjbN+r3xjUxnzCK6YC7fCI0CXJ69RPTpfRc9meV0TPb50g01kJI6HWL+SziZs
i+Mmul5ji7W4ebpOUNUPuBgFFfzrOv4BSO6tWVfpiqFTdfF3o2XT3FUja2rMCSQO
dsGvuhX5/YYAnOH4suxGo+nWda/QC+ohM4z8yLuM6fo7QPmkjTXN+jr7+RZ6JA7g
6XT7TdMK8oJcqMm15E0pRmgfNNLvqSeVcVM5OgmteTpSn7ekSdCMOpai3Cnc4zOa
PWSViiHTDu9AIoDbSBRQbvOaQ339eXOlHnomvg6WK6hw3hYoE+ASkv5qK9BwuWqn
xdUQ99qJ04eNTGjqCo65P9DKzpDb5BT5cxg40Utue0MbuN6pLPwhqkvnVmExuykw
aLQmTwnLODOD4gc5UU1dUeSUOxQeSoL8zSqL809ZV89B31jYOSFqcKEbyhoKaen3
dQSUFxEIca7Juj4E4tC+V1RsU2GSaVRCKEtJ4RBnDkQvB4aRBL+zpc26aIBKb3G3
0a9BWRvXRy+gr/qx8fDJgOuF23j1WXEDVsNtK6vpHGQkDUmsBsE2U+Sag9l2Vnq1
hrqLbjz2PPOHsBkg09IlM6SNr2NaEWvVJnC/szW8EQ51QBz8XJOnEmUCAwEAAQ==
-----END RSA PUBLIC KEY-----"""


class SignatureStatus(StrEnum):
    VALID = "valid"
    UNSIGNED = "unsigned"
    INVALID = "invalid"


@dataclass(frozen=True)
class SignatureResult:
    """Outcome of checking a package's signature."""

    status: SignatureStatus
    reason: str = ""
    # From `.verification.dify.json`; None when absent (old official packages).
    category: str | None = None
    signed_at: int | None = None
    # Index into the keys passed to `verify_signature` of the key that matched.
    key_index: int | None = None

    @property
    def valid(self) -> bool:
        return self.status is SignatureStatus.VALID


FINGERPRINT_PREFIX = "SHA256:"


def key_digest(public_pem: bytes) -> str:
    """SHA-256 (64 hex characters) of a public key's DER SubjectPublicKeyInfo.

    The PEM may be PKCS#1 (`RSA PUBLIC KEY`, what Dify writes) or SPKI;
    ValueError when it is no RSA public key.
    """
    key = _load_public_key(public_pem)
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def format_fingerprint(digest: str) -> str:
    """The one way a key fingerprint is shown: `SHA256:` and colon-separated
    hex pairs, the digest as `openssl dgst -sha256 -c` prints it."""
    digest = digest.lower()
    pairs = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
    return FINGERPRINT_PREFIX + pairs


def key_fingerprint(public_pem: bytes) -> str:
    """The shown fingerprint of a public key (`format_fingerprint` of its digest)."""
    return format_fingerprint(key_digest(public_pem))


def generate_keypair(*, bits: int = KEY_BITS) -> tuple[bytes, bytes]:
    """A new RSA key pair as PEM, like `dify signature generate` (PKCS#1 blocks)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    )
    return private_pem, public_pem


def verification_bytes(category: str) -> bytes:
    """Content of `.verification.dify.json` for `category`, as Go marshals it."""
    return json.dumps({"authorized_category": category}, separators=(",", ":")).encode()


def sign(
    package_bytes: bytes,
    private_pem: bytes,
    *,
    category: str = "langgenius",
    now: int | None = None,
) -> bytes:
    """A signed copy of a package, as `dify signature sign -c <category>` writes it.

    An existing `.verification.dify.json` is dropped first, so re-signing
    does not duplicate it (the Go CLI would append a second one).
    """
    if category not in CATEGORIES:
        raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
    key = _load_private_key(private_pem)
    entries, _ = read_zip(package_bytes)
    entries = [(name, data) for name, data in entries if name != VERIFICATION_FILE]
    entries.append((VERIFICATION_FILE, verification_bytes(category)))
    signed_at = int(time.time()) if now is None else int(now)
    signature = key.sign(
        _signed_data(entries, signed_at), padding.PKCS1v15(), hashes.SHA256()
    )
    comment = json.dumps(
        {"signature": base64.b64encode(signature).decode(), "time": signed_at},
        separators=(",", ":"),
    ).encode()
    return write_zip(entries, comment=comment)


def verify_signature(package_bytes: bytes, public_pems: list[bytes]) -> SignatureResult:
    """Check a package's signature against any of `public_pems` (PKCS#1 or SPKI PEM)."""
    keys = [_load_public_key(pem) for pem in public_pems]
    try:
        entries, comment = read_zip(package_bytes)
    except (BadPackage, UnsafeInput) as exc:
        return SignatureResult(SignatureStatus.INVALID, f"unreadable package: {exc}")
    if not comment:
        return SignatureResult(SignatureStatus.UNSIGNED, "the package has no signature")
    try:
        fields = json.loads(comment)
        encoded, signed_at = fields["signature"], fields["time"]
        if not isinstance(encoded, str) or not encoded:
            raise TypeError("signature")
        if not isinstance(signed_at, int) or isinstance(signed_at, bool):
            raise TypeError("time")
        signature = base64.b64decode(encoded, validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        return SignatureResult(
            SignatureStatus.INVALID, f"the archive comment is not a signature ({exc})"
        )
    category = _category(entries)
    data = _signed_data(entries, signed_at)
    for index, key in enumerate(keys):
        try:
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            continue
        return SignatureResult(
            SignatureStatus.VALID,
            category=category,
            signed_at=signed_at,
            key_index=index,
        )
    reason = "no key given" if not keys else "the signature matches none of the keys"
    return SignatureResult(
        SignatureStatus.INVALID, reason, category=category, signed_at=signed_at
    )


def _signed_data(entries: list[tuple[str, bytes]], signed_at: int) -> bytes:
    data = b"".join(hashlib.sha256(content).digest() for _, content in entries)
    return data + str(signed_at).encode()


def _category(entries: list[tuple[str, bytes]]) -> str | None:
    for name, content in entries:
        if name == VERIFICATION_FILE:
            try:
                value = json.loads(content).get("authorized_category")
            except (ValueError, AttributeError):
                return None
            return value if isinstance(value, str) else None
    return None


def _load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a PEM private key: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the private key is not an RSA key")
    return key


def _load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the public key is not an RSA key")
    return key
