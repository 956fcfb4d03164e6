from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from studio.builds import keys, services
from studio.builds.models import SigningKey
from studio.pluginfmt import signing
from tests.builds.conftest import Personas


class TestEncryptionAtRest:
    def test_a_private_key_round_trips_and_is_not_stored_in_clear(
        self, settings: Any, keypair: tuple[bytes, bytes]
    ) -> None:
        settings.SIGNING_KEY_ENCRYPTION_KEY = Fernet.generate_key().decode()
        token = keys.encrypt_private_key(keypair[0])
        assert "PRIVATE" not in token and keypair[0].decode() not in token
        assert keys.decrypt_private_key(token) == keypair[0]

    def test_without_a_setting_the_key_derives_from_secret_key(
        self, settings: Any
    ) -> None:
        settings.SIGNING_KEY_ENCRYPTION_KEY = ""
        token = keys.encrypt_private_key(b"pem")
        assert Fernet(keys.derived_key(settings.SECRET_KEY)).decrypt(token) == b"pem"
        settings.SECRET_KEY = "another secret entirely"
        with pytest.raises(keys.KeyUnreadable):
            keys.decrypt_private_key(token)

    def test_an_old_encryption_key_still_decrypts_after_rotation(
        self, settings: Any
    ) -> None:
        old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        settings.SIGNING_KEY_ENCRYPTION_KEY = old
        token = keys.encrypt_private_key(b"pem")
        settings.SIGNING_KEY_ENCRYPTION_KEY = f"{new},{old}"
        assert keys.decrypt_private_key(token) == b"pem"
        assert Fernet(new.encode()).decrypt(keys.encrypt_private_key(b"x")) == b"x"


class TestUploadedKeys:
    def test_a_pkcs8_key_is_stored_as_the_pkcs1_blocks_dify_writes(
        self, keypair: tuple[bytes, bytes]
    ) -> None:
        key = serialization.load_pem_private_key(keypair[0], password=None)
        pkcs8 = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        private_pem, public_pem, bits = keys.read_uploaded_private_key(pkcs8)
        assert (private_pem, public_pem, bits) == (keypair[0], keypair[1], 2048)

    def test_a_passphrase_protected_key_is_refused(
        self, keypair: tuple[bytes, bytes]
    ) -> None:
        key = serialization.load_pem_private_key(keypair[0], password=None)
        locked = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
        with pytest.raises(keys.BadKey, match="passphrase"):
            keys.read_uploaded_private_key(locked)

    def test_a_non_rsa_key_is_refused(self) -> None:
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with pytest.raises(keys.BadKey, match="RSA"):
            keys.read_uploaded_private_key(pem)

    def test_a_short_key_is_refused(self) -> None:
        pem = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
        data = pem.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        with pytest.raises(keys.BadKey, match="1024 bits"):
            keys.read_uploaded_private_key(data)


@pytest.mark.django_db
class TestSigningKeyServices:
    def test_a_generated_key_is_rsa_4096_active_and_signs_verifiably(
        self, personas: Personas
    ) -> None:
        key = services.signing_key_generate(team=personas.team, user=personas.alice)
        assert key.key_bits == 4096 and key.is_active
        assert key.name.startswith("acme-")
        private_pem = keys.decrypt_private_key(key.private_key_encrypted)
        package = signing.sign(_tiny_package(), private_pem, category="community")
        assert signing.verify_signature(package, [key.public_pem.encode()]).valid
        assert key.fingerprint == keys.public_fingerprint(key.public_pem.encode())

    def test_a_new_key_deactivates_the_previous_one(
        self, personas: Personas, keypair: tuple[bytes, bytes]
    ) -> None:
        first = services.signing_key_upload(
            team=personas.team, user=None, private_pem=keypair[0], name="one"
        )
        second = services.signing_key_upload(
            team=personas.team, user=None, private_pem=keypair[0], name="two"
        )
        first.refresh_from_db()
        assert not first.is_active and first.deactivated_at
        assert second.is_active
        assert (
            SigningKey.objects.filter(team=personas.team, is_active=True).count() == 1
        )

    def test_keys_of_other_teams_are_untouched(
        self, personas: Personas, keypair: tuple[bytes, bytes]
    ) -> None:
        other = services.signing_key_upload(
            team=personas.other_team, user=None, private_pem=keypair[0]
        )
        services.signing_key_upload(
            team=personas.team, user=None, private_pem=keypair[0]
        )
        other.refresh_from_db()
        assert other.is_active

    def test_the_daemon_settings_list_every_key_file(
        self, personas: Personas, keypair: tuple[bytes, bytes]
    ) -> None:
        a = services.signing_key_upload(
            team=personas.team, user=None, private_pem=keypair[0], name="a"
        )
        b = services.signing_key_upload(
            team=personas.team, user=None, private_pem=keypair[0], name="b"
        )
        assert services.daemon_settings([b, a], directory="/keys/") == (
            "THIRD_PARTY_SIGNATURE_VERIFICATION_ENABLED=true\n"
            "THIRD_PARTY_SIGNATURE_VERIFICATION_PUBLIC_KEYS="
            "/keys/b.public.pem,/keys/a.public.pem\n"
        )


def _tiny_package() -> bytes:
    from studio.pluginfmt.package import write_zip

    return write_zip([("manifest.yaml", b"name: x\n")])
