"""Encryption at rest and keyed hashes for lookups.

Personal data (names, phone numbers and chat ids, free text, A-numbers, dates of birth)
is stored through the `EncryptedText` / `EncryptedJSON` column types: AES-256-GCM with a
random nonce, under a key derived once (HKDF-SHA256) from `HOTLINE_SECRET_KEY`. Lookups by
phone number or chat id use `lookup_hash`, an HMAC-SHA256 under a second derived key, so
equal values can be found without storing them in clear.

Stored layout: version byte (1) | nonce (12) | ciphertext + tag.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from bot.errors import BotError, DecryptError

_VERSION = b"\x01"
_NONCE_BYTES = 12


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"hotline/v1", info=purpose).derive(
        secret
    )


class Keyring:
    """The derived keys; built once per process from the secret key."""

    __slots__ = ("_aead", "_hash_key")

    def __init__(self, secret: str) -> None:
        material = secret.encode("utf-8")
        self._aead = AESGCM(_derive(material, b"encryption"))
        self._hash_key = _derive(material, b"lookup-hash")

    def encrypt(self, plaintext: bytes) -> bytes:
        """Seal bytes with a fresh nonce."""
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, _VERSION)

    def decrypt(self, sealed: bytes) -> bytes:
        """Open bytes sealed by `encrypt`, or raise DecryptError."""
        if sealed[:1] != _VERSION:
            raise DecryptError("unknown ciphertext version")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, _VERSION)
        except InvalidTag:
            raise DecryptError("stored value does not match the secret key") from None

    def lookup_hash(self, value: str) -> str:
        """A keyed, stable hash of an identifier (hex, 64 chars)."""
        return hmac.new(self._hash_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


_keyring: Keyring | None = None


def install_keyring(secret: str) -> Keyring:
    """Derive the keys from the secret and make them the process's keyring."""
    global _keyring
    _keyring = Keyring(secret)
    return _keyring


def keyring() -> Keyring:
    """The process's keyring; `install_keyring` must have run."""
    if _keyring is None:
        raise BotError("encryption keys are not installed; call install_keyring() at start")
    return _keyring


def lookup_hash(value: str) -> str:
    """Keyed hash of an identifier under the installed keyring."""
    return keyring().lookup_hash(value)


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        return None if value is None else keyring().encrypt(value.encode("utf-8"))

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring().decrypt(bytes(value)).decode("utf-8")


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value stored encrypted; reassign the whole value to save a change."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return keyring().encrypt(encoded.encode("utf-8"))

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(keyring().decrypt(bytes(value)))
