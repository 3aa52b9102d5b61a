"""Encryption at rest, keyed hashes for lookups, and the keys behind them.

Keys. The keyring holds the current secret (`HOTLINE_SECRET_KEY`, or the first line of the
key file) and the old secrets a rotation still needs (`HOTLINE_OLD_SECRET_KEYS`, or the
key file's other lines): see `bot.config.load_secret_keys`. From each secret, one key per
purpose is derived (HKDF-SHA256): encryption, lookup hashes, each signed cookie
(`derived_key`), the key id. Nothing uses the secret itself, so a key leaked for one purpose
(a cookie key in a debugger) opens nothing else.

Encryption. Personal data (names, phone numbers and chat ids, free text, A-numbers, dates of
birth, the options offered to the person) is stored through the `EncryptedText` /
`EncryptedJSON` / `SealedJSON` column types: AES-256-GCM with a random nonce, always under
the current secret; a value sealed under any secret of the keyring opens.

    version 2 (0x02) | key id (4) | nonce (12) | ciphertext + tag    (header = associated data)
    version 1 (0x01) | nonce (12) | ciphertext + tag                  (before key ids; still read)

The key id (4 bytes derived from the secret: it says nothing about the secret) names the
secret a value was sealed under, so `hotline keys rotate` (bot.keys) finds what the current
secret did not seal, and an old secret can be removed once nothing uses it.

Lookups. Phone numbers, chat ids and person keys are found by `lookup_hash`: an HMAC-SHA256
under the current secret's lookup key, so equal values match without being stored in clear.
`lookup_hashes` gives the hashes under every secret of the keyring, for finding rows a
rotation has not rehashed yet.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any, Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from bot.errors import BotError, DecryptError

_V1: Final = b"\x01"
_V2: Final = b"\x02"
_KEY_ID_BYTES: Final = 4
_NONCE_BYTES: Final = 12
HEADER_BYTES: Final = 1 + _KEY_ID_BYTES  # version and key id: what `Keyring.header` is

# What each derived key is for, as the HKDF `info` it is derived with. The signing purposes
# keep the labels the dashboard and the web chat derived their keys with before this module
# offered them, so switching to `derived_key` keeps every cookie valid.
Purpose = Literal["staff-session", "staff-device", "web-chat-session", "log-id"]
_ENCRYPTION: Final = b"encryption"
_LOOKUP: Final = b"lookup-hash"
_KEY_ID: Final = b"key-id"


def _derive(secret: bytes, purpose: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"hotline/v1", info=purpose).derive(
        secret
    )


@dataclass(frozen=True, slots=True)
class _Secret:
    """One secret of the keyring: its id and the keys derived from it."""

    material: bytes
    id: bytes
    aead: AESGCM
    lookup_key: bytes

    @classmethod
    def derive(cls, secret: str) -> _Secret:
        material = secret.encode("utf-8")
        return cls(
            material,
            _derive(material, _KEY_ID, _KEY_ID_BYTES),
            AESGCM(_derive(material, _ENCRYPTION)),
            _derive(material, _LOOKUP),
        )

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self.lookup_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


class Keyring:
    """The current secret and the old ones, with their derived keys; built once per process."""

    __slots__ = ("_by_id", "_log_key", "_secrets")

    def __init__(self, secret: str, *old: str) -> None:
        unique = list(dict.fromkeys((secret, *old)))  # the same secret twice counts once
        self._secrets = tuple(_Secret.derive(s) for s in unique)
        self._by_id = {s.id: s for s in reversed(self._secrets)}  # the current one wins
        self._log_key = self.derived_key("log-id")

    @property
    def key_id(self) -> str:
        """The current secret's id (hex), as the values it seals carry it."""
        return self._secrets[0].id.hex()

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every secret's id (hex), the current one first."""
        return tuple(s.id.hex() for s in self._secrets)

    @property
    def header(self) -> bytes:
        """The first bytes of every value sealed now: version 2 and the current key id."""
        return _V2 + self._secrets[0].id

    def encrypt(self, plaintext: bytes) -> bytes:
        """Seal bytes under the current secret, with a fresh nonce."""
        header = self.header
        nonce = os.urandom(_NONCE_BYTES)
        return header + nonce + self._secrets[0].aead.encrypt(nonce, plaintext, header)

    def decrypt(self, sealed: bytes) -> bytes:
        """Open bytes sealed under any secret of the keyring, or raise DecryptError."""
        version = sealed[:1]
        if version == _V2:
            header, rest = sealed[:HEADER_BYTES], sealed[HEADER_BYTES:]
            secret = self._by_id.get(header[1:])
            if secret is None:
                raise DecryptError(
                    f"stored value sealed under key {header[1:].hex()}, which is not in the "
                    "keyring (HOTLINE_SECRET_KEY / HOTLINE_OLD_SECRET_KEYS)"
                )
            return self._open(secret, rest, header)
        if version == _V1:  # no key id: whichever secret opens it
            for secret in self._secrets:
                try:
                    return self._open(secret, sealed[1:], _V1)
                except DecryptError:
                    continue
        raise DecryptError("stored value does not match any secret key of the keyring")

    @staticmethod
    def _open(secret: _Secret, rest: bytes, header: bytes) -> bytes:
        nonce, body = rest[:_NONCE_BYTES], rest[_NONCE_BYTES:]
        try:
            return secret.aead.decrypt(nonce, body, header)
        except InvalidTag:
            raise DecryptError("stored value does not match the secret key") from None

    def sealed_key_id(self, sealed: bytes) -> str | None:
        """The id of the key a value was sealed under; None for version 1 (no id)."""
        return sealed[1:HEADER_BYTES].hex() if sealed[:1] == _V2 else None

    def lookup_hash(self, value: str) -> str:
        """A keyed, stable hash of an identifier under the current secret (hex, 64 chars)."""
        return self._secrets[0].lookup_hash(value)

    def lookup_hashes(self, value: str) -> tuple[str, ...]:
        """The hash under every secret, the current one first (rows not yet rehashed)."""
        return tuple(s.lookup_hash(value) for s in self._secrets)

    def log_id(self, value: str) -> str:
        """A short keyed hash of an identifier for log lines (12 hex chars) under the log key:
        it tells one sender's lines apart and matches no lookup hash stored in the database."""
        return hmac.new(self._log_key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:12]

    def derived_key(self, purpose: Purpose) -> bytes:
        """The current secret's key for one purpose (32 bytes)."""
        return _derive(self._secrets[0].material, purpose.encode("ascii"))

    def derived_keys(self, purpose: Purpose) -> tuple[bytes, ...]:
        """The key for one purpose under every secret, the current one first: sign with the
        first, accept any (a cookie signed before a rotation stays valid until it expires)."""
        return tuple(_derive(s.material, purpose.encode("ascii")) for s in self._secrets)


_keyring: Keyring | None = None


def install_keyring(secret: str, *old: str) -> Keyring:
    """Derive the keys from the secrets and make them the process's keyring."""
    global _keyring
    _keyring = Keyring(secret, *old)
    return _keyring


def keyring() -> Keyring:
    """The process's keyring; `install_keyring` must have run."""
    if _keyring is None:
        raise BotError("encryption keys are not installed; call install_keyring() at start")
    return _keyring


def lookup_hash(value: str) -> str:
    """Keyed hash of an identifier under the installed keyring's current secret."""
    return keyring().lookup_hash(value)


def lookup_hashes(value: str) -> tuple[str, ...]:
    """Keyed hashes of an identifier under every secret of the keyring, current first."""
    return keyring().lookup_hashes(value)


def log_id(value: str) -> str:
    """A short keyed hash of an identifier for log lines, under the installed keyring."""
    return keyring().log_id(value)


def derived_key(purpose: Purpose) -> bytes:
    """The installed keyring's key for one purpose (signing cookies, hashing log ids)."""
    return keyring().derived_key(purpose)


def derived_keys(purpose: Purpose) -> tuple[bytes, ...]:
    """The keys for one purpose under every secret of the keyring, current first."""
    return keyring().derived_keys(purpose)


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        return None if value is None else keyring().encrypt(value.encode("utf-8"))

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring().decrypt(bytes(value)).decode("utf-8")


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value stored encrypted; reassign the whole value to save a change."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else keyring().encrypt(_dump(value))

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(keyring().decrypt(bytes(value)))


class SealedJSON(TypeDecorator[Any]):
    """A JSON value stored encrypted in a column that is JSON in the database (it held the
    value in clear once): the sealed bytes as a base64 string. A value an earlier version
    wrote in clear (anything but a string) reads as it is; `hotline keys rotate` seals it."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return base64.b64encode(keyring().encrypt(_dump(value))).decode("ascii")

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return unseal_json(value)


def unseal_json(value: Any) -> Any:
    """The value a `SealedJSON` column holds, from the JSON the database gave back."""
    if not isinstance(value, str):
        return value  # None, or written in clear before the column was sealed
    return json.loads(keyring().decrypt(unseal_text(value)))


def unseal_text(value: str) -> bytes:
    """The sealed bytes a `SealedJSON` string holds (DecryptError when it is not one)."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DecryptError("stored value is not a sealed value") from None
