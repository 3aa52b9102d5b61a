"""Encryption at rest: round trips, tampering, keyed lookup hashes."""

from __future__ import annotations

import pytest

from bot.crypto import Keyring
from bot.errors import DecryptError


def test_encrypt_round_trip_and_fresh_nonce() -> None:
    """The same plaintext seals differently each time and opens back to itself."""
    ring = Keyring("k" * 40)
    first, second = ring.encrypt(b"+1 713 555 0100"), ring.encrypt(b"+1 713 555 0100")
    assert first != second
    assert ring.decrypt(first) == b"+1 713 555 0100"


def test_tampered_or_foreign_ciphertext_is_refused() -> None:
    """A flipped bit or another key's ciphertext raises DecryptError, never garbage."""
    ring = Keyring("k" * 40)
    sealed = bytearray(ring.encrypt(b"Maria Lopez"))
    sealed[-1] ^= 1
    with pytest.raises(DecryptError):
        ring.decrypt(bytes(sealed))
    with pytest.raises(DecryptError):
        Keyring("other" * 10).decrypt(ring.encrypt(b"Maria Lopez"))


def test_lookup_hash_is_stable_and_keyed() -> None:
    """Equal ids hash equal under one key and differently under another."""
    ring, other = Keyring("k" * 40), Keyring("j" * 40)
    assert ring.lookup_hash("sms:+17135550100") == ring.lookup_hash("sms:+17135550100")
    assert ring.lookup_hash("sms:+17135550100") != other.lookup_hash("sms:+17135550100")
    assert "7135550100" not in ring.lookup_hash("sms:+17135550100")
