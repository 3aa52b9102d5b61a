"""Keys: one derived key per purpose, key ids in every sealed value, a generated key kept
apart from the data, and `hotline keys rotate` under a running service: every record stays
readable, people keep their conversations, and the old key can then be removed."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, LargeBinary, literal, type_coerce
from sqlmodel import SQLModel, col, select, update
from typer.testing import CliRunner

from bot.cases import person_hash_of
from bot.channels.web.session import Sessions
from bot.cli import app as cli
from bot.config import get_settings, load_secret_keys
from bot.conversations import Hotline
from bot.crypto import Keyring, derived_key, derived_keys, install_keyring, keyring
from bot.db import Database
from bot.errors import ConfigError, DecryptError
from bot.keys import rotate, sealed_columns, sealed_counts
from bot.models import Case, Contact, OutboundMessage, utcnow
from bot.staff.session import SessionLimits, SessionSigner
from bot.terminal import CHANNEL, TerminalChat
from tests.conftest import TEST_SECRET, make_settings
from tests.test_conversations import report

OLD = TEST_SECRET  # what the test database is sealed under
NEW = "the-new-secret-key-after-rotation-0123456789abcdef"


def _v1(secret: str, plaintext: bytes) -> bytes:
    """A value sealed the way versions before key ids did: 0x01 | nonce | ciphertext."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"hotline/v1", info=b"encryption").derive(
        secret.encode()
    )
    nonce = os.urandom(12)
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, plaintext, b"\x01")


def test_sealed_values_carry_the_key_id_and_every_keyring_secret_opens_them() -> None:
    """A value names the key that sealed it; a keyring opens what any of its secrets sealed
    (format 1 without an id included), seals under its first secret only, and refuses a
    value of a key it does not hold, naming that key."""
    old, rotated = Keyring(OLD), Keyring(NEW, OLD)
    sealed = old.encrypt(b"Maria Lopez, A 208114567")
    assert sealed[:1] == b"\x02" and sealed[1:5].hex() == old.key_id
    assert rotated.decrypt(sealed) == b"Maria Lopez, A 208114567"
    assert rotated.decrypt(_v1(OLD, b"+17135550100")) == b"+17135550100"
    assert rotated.sealed_key_id(rotated.encrypt(b"x")) == rotated.key_id != old.key_id
    assert rotated.key_ids == (rotated.key_id, old.key_id)
    with pytest.raises(DecryptError, match=old.key_id):
        Keyring(NEW).decrypt(sealed)
    assert rotated.lookup_hashes("sms:+17135550100") == (
        Keyring(NEW).lookup_hash("sms:+17135550100"),
        old.lookup_hash("sms:+17135550100"),
    )


def test_each_purpose_has_its_own_key_and_cookies_keep_their_key() -> None:
    """Cookie and log keys are derived per purpose from the current secret: all different,
    the old secrets' keys listed after (to accept what was signed before a rotation), and the
    staff-session key the same HKDF derivation the dashboard has always used."""
    install_keyring(NEW, OLD)
    purposes = ("staff-session", "staff-device", "web-chat-session", "log-id")
    keys = {derived_key(p) for p in purposes}  # type: ignore[arg-type]
    assert len(keys) == len(purposes) and all(len(k) == 32 for k in keys)
    legacy = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"hotline/v1", info=b"staff-session"
    ).derive(NEW.encode())
    assert derived_key("staff-session") == legacy
    assert derived_keys("staff-session") == (legacy, Keyring(OLD).derived_key("staff-session"))


def test_a_generated_key_goes_outside_the_data_directory_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without HOTLINE_SECRET_KEY the key is generated once into the user's configuration
    directory (not next to the data a backup copies), readable by the owner only, with a
    warning to back it up."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    settings = make_settings(tmp_path / "data", secret_key=None)
    with caplog.at_level(logging.WARNING):
        (key,) = load_secret_keys(settings)
    path = tmp_path / "config" / "hotline" / "secret.key"
    assert path.read_text().strip() == key and path.stat().st_mode & 0o077 == 0
    assert not (tmp_path / "data" / "secret.key").exists()
    assert "Back it up" in caplog.text and str(path) in caplog.text
    assert load_secret_keys(settings) == (key,)


def test_a_key_left_in_the_data_directory_is_still_used_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An install from before keeps working: its data/secret.key is read (nothing new is
    generated), with a warning to move it out of the data directory."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret.key").write_text(OLD + "\n")
    (tmp_path / "data" / "secret.key").chmod(0o600)
    with caplog.at_level(logging.WARNING):
        keys = load_secret_keys(make_settings(tmp_path / "data", secret_key=None))
    assert keys == (OLD,)
    assert not (tmp_path / "config").exists()
    assert "inside the data directory" in caplog.text


def test_the_keyring_reads_old_keys_from_the_environment_or_the_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The current key comes first, then the old ones: HOTLINE_OLD_SECRET_KEYS (commas) and
    the key file's further lines. A short old key is refused, naming the variable."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOTLINE_SECRET_KEY", NEW)
    monkeypatch.setenv("HOTLINE_OLD_SECRET_KEYS", f"{OLD}, {'o' * 40}")
    assert load_secret_keys(get_settings()) == (NEW, OLD, "o" * 40)
    key_file = tmp_path / "keys"
    key_file.write_text(f"# current first\n{NEW}\n{OLD}\n")
    key_file.chmod(0o600)
    monkeypatch.delenv("HOTLINE_SECRET_KEY")
    monkeypatch.delenv("HOTLINE_OLD_SECRET_KEYS")
    monkeypatch.setenv("HOTLINE_SECRET_KEY_FILE", str(key_file))
    assert load_secret_keys(get_settings()) == (NEW, OLD)
    monkeypatch.setenv("HOTLINE_OLD_SECRET_KEYS", "too-short")
    with pytest.raises(ConfigError, match="HOTLINE_OLD_SECRET_KEYS"):
        get_settings()


# -- rotation ---------------------------------------------------------------------------


@pytest.fixture
def hotline(tmp_path: Path) -> Hotline:
    return Hotline.load(make_settings(tmp_path, flood_per_sender_per_minute=100))


def person(hotline: Hotline, database: Database, sender: str) -> TerminalChat:
    hotline.prepare(database)
    return TerminalChat(hotline, database, sender=sender, render_as="sms", lang=None)


def sealed_values(database: Database) -> dict[tuple[str, str, Any], Any]:
    """Every encrypted value, opened: (table, column, row id) → value."""
    values: dict[tuple[str, str, Any], Any] = {}
    with database.read() as session:
        for table, columns in sealed_columns().items():
            for row in session.execute(select(table.c.id, *columns)).all():
                for column in columns:
                    values[(table.name, column.name, row.id)] = row._mapping[column.name]
    return values


def every_row_opens(database: Database) -> int:
    """Read every row of every table through the models' types; the number read."""
    with database.read() as session:
        return sum(len(session.execute(select(t)).all()) for t in SQLModel.metadata.sorted_tables)


def contacts(database: Database) -> list[Contact]:
    with database.read() as session:
        return list(session.exec(select(Contact).order_by(col(Contact.id))).all())


def legacy_rows(database: Database) -> None:
    """Rows as earlier versions left them: a value sealed without key id, outbox options
    and case reasons (quoting the person) in clear."""
    contact, outbound = Contact.__table__, OutboundMessage.__table__  # type: ignore[attr-defined]
    with database.write() as session:
        first = session.exec(select(Contact).order_by(col(Contact.id))).first()
        assert first is not None
        session.execute(
            update(contact)
            .where(contact.c.id == first.id)
            .values({contact.c.display_name: literal(_v1(OLD, b"Rosa Maria"), LargeBinary)})
        )
        row_id = session.exec(select(OutboundMessage.id).order_by(col(OutboundMessage.id))).first()
        clear = [{"label": "Si, acepto", "value": "yes"}]
        session.execute(
            update(outbound)
            .where(outbound.c.id == row_id)
            .values({outbound.c.options: type_coerce(clear, JSON)})
        )
        reasons = [
            "cue 'ahorita' → happening now",
            "model: intent detention 91% ('esposo', 'detuvieron')",
            "Pasadena, CA 91101 → los-angeles (by zip, high confidence)",
        ]
        case = Case.__table__  # type: ignore[attr-defined]
        session.execute(update(case).values({case.c.reasons: type_coerce(reasons, JSON)}))


def test_rotation_under_a_running_service_keeps_every_record_and_conversation(
    database: Database,
    hotline: Hotline,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Data sealed under the old key (and in older formats); the new key put first; people
    keep writing during the rotation (found by their old hash); `hotline keys rotate` then
    finds nothing left, every value carries the new key id, every lookup hash is under the
    new key, and with the old key removed every record opens, equal to what it was, and
    every conversation carries on."""
    install_keyring(OLD)
    ana, luis = person(hotline, database, "ana-7135550100"), person(hotline, database, "luis")
    ana.send("hola")
    report(hotline, database, ana, "2", "es")  # a detention report: a person hash
    luis.send("hay una redada ahorita en el 77036")
    legacy_rows(database)
    before = sealed_values(database)
    people = len(contacts(database))

    install_keyring(NEW, OLD)  # every process restarted with the new key first
    ana.send("hola otra vez")  # found by the hash under the old key
    assert len(contacts(database)) == people

    writes: list[Callable[[], object]] = [lambda: luis.send("1"), lambda: ana.send("menu")]

    def meanwhile(_line: str) -> None:  # between the rotation's batches, people write
        if writes:
            writes.pop(0)()

    first = rotate(database, batch=2, progress=meanwhile)
    assert first.done, first
    assert writes == [], "people wrote while the rotation ran"
    assert sum(first.resealed.values()) >= len(before) // 2 and first.rehashed
    new_id = keyring().key_id

    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("HOTLINE_SECRET_KEY", NEW)
    monkeypatch.setenv("HOTLINE_OLD_SECRET_KEYS", OLD)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database.url)
    runner = CliRunner()
    again = runner.invoke(cli, ["keys", "rotate", "--batch", "3"])
    assert again.exit_code == 0, again.output
    assert "done" in again.output and "remove them" in again.output
    status = runner.invoke(cli, ["keys", "status"])
    assert status.exit_code == 0 and f"under {new_id} (current)" in status.output
    assert set(sealed_counts(database)) == {new_id}

    rotated = sealed_values(database)
    install_keyring(NEW)  # the old key removed
    assert every_row_opens(database) > 0
    after = sealed_values(database)
    assert after == rotated
    # What nobody wrote to during the rotation is as it was (the inbox, the outbox, case
    # histories and contacts are never rewritten; conversations and cases moved on).
    unchanged = {"contact", "inboundmessage", "outboundmessage", "caseevent"}
    kept = {k: v for k, v in before.items() if k[0] in unchanged}
    assert {k: after[k] for k in kept} == kept and len(kept) > 20
    assert "Rosa Maria" in kept.values()
    new = Keyring(NEW)
    for contact in contacts(database):
        assert contact.address_hash == new.lookup_hash(f"{CHANNEL}:{contact.address}")
    with database.read() as session:
        cases = session.exec(select(Case)).all()
    hashed = [c for c in cases if c.person_hash]
    assert hashed and all(c.person_hash == person_hash_of(c.answers or {}) for c in hashed)
    assert any("Pasadena, CA 91101 → los-angeles" in r for c in cases for r in c.reasons)
    with database.read() as session:  # written in clear by an earlier version: now sealed
        raw = session.connection().exec_driver_sql('SELECT CAST(reasons AS TEXT) FROM "case"')
        assert [r for r in raw.scalars() if "Pasadena" in r or "ahorita" in r] == []
    assert ana.send("hola") and luis.send("hola")  # both carry on, as the same people
    assert len(contacts(database)) == people


def test_cookies_signed_before_a_rotation_stay_valid_until_the_old_key_is_removed(
    tmp_path: Path,
) -> None:
    """A web chat opened and a staff member logged in under the old key are still recognised
    once the new key is put first (nobody loses a conversation or is logged out mid-surge);
    new cookies are signed under the new key; with the old key removed, the old ones end."""
    settings = make_settings(tmp_path, public_url="https://hotline.example.org")
    now = utcnow()
    limits = SessionLimits(timedelta(hours=12), timedelta(hours=1))
    install_keyring(OLD)
    chat_id, chat_cookie = Sessions.from_settings(settings).issue(now.timestamp())
    staff = SessionSigner.from_keyring()
    staff_cookie = staff.dump(staff.new(7, "es", now))
    device_cookie = staff.new_device(7, now)

    install_keyring(NEW, OLD)
    chats, signer = Sessions.from_settings(settings), SessionSigner.from_keyring()
    assert chats.verify(chat_cookie, now.timestamp()) == chat_id
    kept = signer.load(staff_cookie, now, limits)
    assert kept is not None and kept.staff_id == 7
    device = signer.load_device(device_cookie, now)
    assert device is not None and device.staff_id == 7
    new_id, new_cookie = chats.issue(now.timestamp())
    fresh = signer.dump(signer.new(7, "es", now))

    install_keyring(NEW)
    chats, signer = Sessions.from_settings(settings), SessionSigner.from_keyring()
    assert chats.verify(chat_cookie, now.timestamp()) is None
    assert signer.load(staff_cookie, now, limits) is None
    assert signer.load_device(device_cookie, now) is None
    assert chats.verify(new_cookie, now.timestamp()) == new_id
    assert signer.load(fresh, now, limits) is not None
