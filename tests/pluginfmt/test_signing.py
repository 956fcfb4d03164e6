from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from studio.pluginfmt.checksum import checksum
from studio.pluginfmt.package import package, read_zip, write_zip
from studio.pluginfmt.signing import (
    OFFICIAL_PUBLIC_KEY,
    VERIFICATION_FILE,
    SignatureStatus,
    format_fingerprint,
    generate_keypair,
    key_digest,
    key_fingerprint,
    sign,
    verify_signature,
)

DATA = Path(__file__).parent / "data" / "signing"
GO_PRIVATE_1 = (DATA / "go_test_key_pair_1.private.pem").read_bytes()
GO_PUBLIC_1 = (DATA / "go_test_key_pair_1.public.pem").read_bytes()
GO_PUBLIC_2 = (DATA / "go_test_key_pair_2.public.pem").read_bytes()
FILES = {
    "manifest.yaml": b"author: studio\nname: echo\nversion: 0.0.1\n",
    "provider/echo.yaml": b"provider: echo\n",
    "_assets/icon.svg": b"<svg/>",
}
NOW = 1735689600


@pytest.fixture(scope="module")
def keypair() -> tuple[bytes, bytes]:
    return generate_keypair()


@pytest.fixture(scope="module")
def signed() -> bytes:
    return sign(package(FILES), GO_PRIVATE_1, now=NOW)


def comment_of(data: bytes) -> dict:
    return json.loads(zipfile.ZipFile(io.BytesIO(data)).comment)


def with_comment(data: bytes, comment: bytes) -> bytes:
    entries, _ = read_zip(data)
    return write_zip(entries, comment=comment)


class TestKeys:
    def test_generated_keys_are_pkcs1_pem_rsa_4096(
        self, keypair: tuple[bytes, bytes]
    ) -> None:
        private_pem, public_pem = keypair
        assert private_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
        assert public_pem.startswith(b"-----BEGIN RSA PUBLIC KEY-----\n")
        key = serialization.load_pem_private_key(private_pem, password=None)
        assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 4096

    def test_the_official_key_is_the_daemons_4096_bit_key(self) -> None:
        assert OFFICIAL_PUBLIC_KEY.strip() == (
            (DATA / "official_public_key.pem").read_bytes().strip()
        )
        key = serialization.load_pem_public_key(OFFICIAL_PUBLIC_KEY)
        assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 4096


class TestFingerprints:
    # `openssl rsa -RSAPublicKey_in -in PUBLIC.pem -pubout -outform DER
    #  | openssl dgst -sha256 -c` on the daemon's key (OpenSSL 3.0).
    OFFICIAL = (
        "SHA256:3b:40:a6:f3:c1:7a:a8:42:30:53:dd:26:e7:f0:54:74:"
        "36:51:00:f2:66:fb:74:19:87:52:26:81:21:77:d6:8e"
    )

    def test_it_is_what_openssl_prints_for_the_keys_der_form(self) -> None:
        assert key_fingerprint(OFFICIAL_PUBLIC_KEY) == self.OFFICIAL

    def test_pkcs1_and_spki_pem_of_one_key_share_it(self) -> None:
        key = serialization.load_pem_public_key(GO_PUBLIC_1)
        spki = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        pkcs1 = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        )
        assert key_fingerprint(spki) == key_fingerprint(pkcs1)
        assert key_fingerprint(GO_PUBLIC_1) != key_fingerprint(GO_PUBLIC_2)

    def test_the_format_is_sha256_and_32_colon_separated_pairs(self) -> None:
        digest = key_digest(GO_PUBLIC_1)
        assert re.fullmatch(r"[0-9a-f]{64}", digest)
        shown = format_fingerprint(digest.upper())
        assert re.fullmatch(r"SHA256:[0-9a-f]{2}(:[0-9a-f]{2}){31}", shown)
        assert shown.removeprefix("SHA256:").replace(":", "") == digest

    def test_a_non_key_is_refused(self) -> None:
        with pytest.raises(ValueError, match="not a PEM public key"):
            key_fingerprint(b"not a key")


class TestSign:
    def test_it_appends_the_verification_file_last(self, signed: bytes) -> None:
        entries, _ = read_zip(signed)
        assert [name for name, _ in entries] == [
            "_assets/icon.svg",
            "manifest.yaml",
            "provider/echo.yaml",
            VERIFICATION_FILE,
        ]
        assert entries[-1][1] == b'{"authorized_category":"langgenius"}'

    def test_the_category_goes_into_the_verification_file(self) -> None:
        data = sign(package(FILES), GO_PRIVATE_1, category="partner", now=NOW)
        assert dict(read_zip(data)[0])[VERIFICATION_FILE] == (
            b'{"authorized_category":"partner"}'
        )

    def test_the_comment_is_go_compact_json(self, signed: bytes) -> None:
        comment = zipfile.ZipFile(io.BytesIO(signed)).comment
        assert re.fullmatch(
            rb'\{"signature":"[A-Za-z0-9+/]+=*","time":1735689600\}', comment
        )

    def test_it_signs_raw_content_digests_then_the_decimal_time(
        self, signed: bytes
    ) -> None:
        entries, _ = read_zip(signed)
        data = b"".join(hashlib.sha256(c).digest() for _, c in entries) + b"1735689600"
        signature = base64.b64decode(comment_of(signed)["signature"])
        public = serialization.load_pem_public_key(GO_PUBLIC_1)
        assert isinstance(public, rsa.RSAPublicKey)
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())

    def test_pkcs1_v15_makes_a_fixed_signature_for_fixed_input(
        self, signed: bytes
    ) -> None:
        assert comment_of(signed)["signature"] == (
            (DATA / "expected_signature_go_key_1.txt").read_text().strip()
        )

    def test_signing_changes_the_checksum(self, signed: bytes) -> None:
        assert checksum(signed) != checksum(package(FILES))

    def test_re_signing_keeps_a_single_verification_file(self, signed: bytes) -> None:
        again = sign(signed, GO_PRIVATE_1, category="community", now=NOW + 1)
        names = [name for name, _ in read_zip(again)[0]]
        assert names.count(VERIFICATION_FILE) == 1
        assert verify_signature(again, [GO_PUBLIC_1]).category == "community"

    def test_an_unknown_category_is_refused(self) -> None:
        with pytest.raises(ValueError, match="category"):
            sign(package(FILES), GO_PRIVATE_1, category="official")


class TestVerify:
    def test_a_signed_package_verifies_with_its_key(
        self, keypair: tuple[bytes, bytes]
    ) -> None:
        private_pem, public_pem = keypair
        result = verify_signature(
            sign(package(FILES), private_pem, now=NOW), [public_pem]
        )
        assert (result.status, result.category, result.signed_at, result.key_index) == (
            SignatureStatus.VALID,
            "langgenius",
            NOW,
            0,
        )

    def test_any_of_several_keys_may_match(self, signed: bytes) -> None:
        result = verify_signature(
            signed, [GO_PUBLIC_2, OFFICIAL_PUBLIC_KEY, GO_PUBLIC_1]
        )
        assert result.valid and result.key_index == 2

    def test_a_wrong_key_fails(self, signed: bytes) -> None:
        result = verify_signature(signed, [GO_PUBLIC_2, OFFICIAL_PUBLIC_KEY])
        assert result.status is SignatureStatus.INVALID

    def test_no_key_fails(self, signed: bytes) -> None:
        assert verify_signature(signed, []).status is SignatureStatus.INVALID

    def test_an_unsigned_package_reports_unsigned(self) -> None:
        result = verify_signature(package(FILES), [GO_PUBLIC_1])
        assert result.status is SignatureStatus.UNSIGNED

    @pytest.mark.parametrize("name", [*sorted(FILES), VERIFICATION_FILE])
    def test_changing_any_entry_fails(self, signed: bytes, name: str) -> None:
        entries, comment = read_zip(signed)
        tampered = [(n, c + b" " if n == name else c) for n, c in entries]
        result = verify_signature(write_zip(tampered, comment=comment), [GO_PUBLIC_1])
        assert result.status is SignatureStatus.INVALID

    def test_changing_a_compressed_byte_fails(self, signed: bytes) -> None:
        tampered = bytearray(signed)
        tampered[30 + len("_assets/icon.svg") + 1] ^= 0xFF  # first entry's data
        result = verify_signature(bytes(tampered), [GO_PUBLIC_1])
        assert result.status is SignatureStatus.INVALID

    def test_dropping_or_adding_an_entry_fails(self, signed: bytes) -> None:
        entries, comment = read_zip(signed)
        for changed in (entries[1:], [*entries, ("extra.txt", b"x")]):
            result = verify_signature(
                write_zip(changed, comment=comment), [GO_PUBLIC_1]
            )
            assert result.status is SignatureStatus.INVALID

    def test_changing_the_signature_fails(self, signed: bytes) -> None:
        fields = comment_of(signed)
        sig = bytearray(base64.b64decode(fields["signature"]))
        sig[0] ^= 1
        fields["signature"] = base64.b64encode(bytes(sig)).decode()
        tampered = with_comment(signed, json.dumps(fields).encode())
        assert (
            verify_signature(tampered, [GO_PUBLIC_1]).status is SignatureStatus.INVALID
        )

    def test_changing_the_time_fails(self, signed: bytes) -> None:
        fields = comment_of(signed)
        fields["time"] += 1
        tampered = with_comment(signed, json.dumps(fields).encode())
        assert (
            verify_signature(tampered, [GO_PUBLIC_1]).status is SignatureStatus.INVALID
        )

    def test_a_comment_that_is_no_signature_fails(self, signed: bytes) -> None:
        for comment in (b"hello", b'{"signature":"!!","time":1}', b'{"time":1}'):
            result = verify_signature(with_comment(signed, comment), [GO_PUBLIC_1])
            assert result.status is SignatureStatus.INVALID

    def test_our_own_signature_does_not_pass_as_official(self, signed: bytes) -> None:
        assert not verify_signature(signed, [OFFICIAL_PUBLIC_KEY]).valid
