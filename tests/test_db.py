"""Storage: migrations, SQLite settings, encryption in the file, inbox uniqueness."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlmodel import func, select

from bot import db as db_module
from bot.db import Database, make_engine
from bot.inbox import sender_key, store_inbound
from bot.migrate import current_revision, upgrade
from bot.models import Case, Contact, InboundMessage

EXPECTED_TABLES = {
    "contact",
    "conversation",
    "inboundmessage",
    "outboundmessage",
    "case",
    "caseevent",
    "desk",
    "staff",
    "incident",
    "auditentry",
    "sweepmark",
}


def test_migrations_run_from_empty(database_url: str) -> None:
    """An empty database upgrades to head with every table, and a second run is a no-op."""
    assert current_revision(database_url) is None
    upgrade(database_url)
    upgrade(database_url)
    db = Database(database_url)
    try:
        assert EXPECTED_TABLES <= set(inspect(db.engine).get_table_names())
        assert current_revision(database_url) is not None
    finally:
        db.dispose()


def test_sqlite_uses_wal_and_busy_timeout(tmp_path: Path) -> None:
    """Every SQLite connection is in WAL mode with a busy timeout and foreign keys on."""
    db = Database(f"sqlite:///{tmp_path / 'h.db'}")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_personal_data_is_not_in_the_sqlite_file(tmp_path: Path) -> None:
    """A stored phone number, name and free text cannot be found in the raw database file."""
    url = f"sqlite:///{tmp_path / 'raw.db'}"
    upgrade(url)
    db = Database(url)
    phone, name, story = "+17135550143", "Guadalupe Esperanza Ramírez", "se llevaron a mi hermano"
    with db.write() as session:
        contact = Contact(
            channel="sms", address_hash=sender_key("sms", phone), address=phone, display_name=name
        )
        session.add(contact)
        store_inbound(session, channel="sms", provider_id="SM1", sender=phone, text=story)
    with db.read() as session:
        stored = session.exec(select(Contact)).one()
        assert (stored.address, stored.display_name) == (phone, name)
    db.dispose()
    connection = sqlite3.connect(tmp_path / "raw.db")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    raw = (tmp_path / "raw.db").read_bytes()
    for secret in (phone, "7135550143", name, "Guadalupe", story, "hermano"):
        assert secret.encode() not in raw
        assert secret.encode("utf-16-le") not in raw


def test_inbox_stores_a_provider_id_once(database: Database) -> None:
    """The same provider message id stored twice yields one row, and the second call says so."""
    with database.write() as session:
        first = store_inbound(
            session, channel="telegram", provider_id="1001", sender="42", text="hola"
        )
    with database.write() as session:
        again = store_inbound(
            session, channel="telegram", provider_id="1001", sender="42", text="hola"
        )
        other_channel = store_inbound(
            session, channel="sms", provider_id="1001", sender="+15550001", text="hola"
        )
    assert first is not None and again is None and other_channel is not None
    with database.read() as session:
        count = session.exec(select(func.count()).select_from(InboundMessage)).one()
    assert count == 2


def test_inbox_cuts_oversized_text_and_records_the_cut(database: Database) -> None:
    """A 10,000-character message is stored cut to the limit with its original length."""
    with database.write() as session:
        row_id = store_inbound(
            session,
            channel="sms",
            provider_id="SMbig",
            sender="+15550002",
            text="a" * 10_000,
            max_chars=2000,
        )
    with database.read() as session:
        row = session.get(InboundMessage, row_id)
        assert row is not None
        assert len(row.text) == 2000 and row.truncated_from == 10_000


def test_inbox_stores_a_lone_surrogate_from_any_channel(database: Database) -> None:
    """Text no database can hold (an unpaired "\\ud800" escape) is stored with U+FFFD in its
    place, whatever channel brought it, instead of failing the writer's batch."""
    with database.write() as session:
        row_id = store_inbound(
            session, channel="sms", provider_id="SMsur", sender="+15550003", text="hola \ud800 ya"
        )
    with database.read() as session:
        row = session.get(InboundMessage, row_id)
        assert row is not None and row.text == "hola \ufffd ya"


def test_case_table_round_trips_encrypted_answers(database: Database) -> None:
    """Structured answers are stored encrypted and read back intact on both databases."""
    from bot.models import Desk

    with database.write() as session:
        session.add(
            Desk(
                id="houston",
                name_es="Consulado",
                name_en="Consulate",
                city="Houston",
                state="TX",
                timezone="America/Chicago",
            )
        )
        session.flush()
        session.add(
            Case(
                ref="HL-7K4M2Q",
                channel="sms",
                desk_id="houston",
                flow="detention",
                intent="detention",
                priority="high",
                answers={"name": "José", "a_number": "012345678"},
            )
        )
    with database.read() as session:
        case = session.exec(select(Case)).one()
        assert case.answers == {"name": "José", "a_number": "012345678"}


def test_models_and_migrations_agree(database_url: str) -> None:
    """After all migrations, the schema matches the models: no change lacks its migration."""
    import warnings

    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    upgrade(database_url)
    db = Database(database_url)
    try:
        with db.engine.connect() as connection, warnings.catch_warnings():
            # Expression indexes (lower(name)) cannot be reflected for comparison; say so
            # quietly rather than fail on the warning.
            warnings.filterwarnings("ignore", message=".*expression-based index.*")
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        db.dispose()
    assert differences == []


def test_a_postgresql_connection_killed_while_idle_is_replaced_unnoticed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server dropped a pooled connection (a restart, a failover): the next transaction
    gets a fresh one instead of an error."""
    if database.is_sqlite:
        pytest.skip("PostgreSQL's pool only")
    with database.read() as session:
        first = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    outside = make_engine(database.url)  # another pool: another server process
    with outside.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        other.commit()
    outside.dispose()
    monkeypatch.setattr(db_module, "PING_IDLE_AFTER_S", 0.0)  # as after a quiet minute
    with database.write() as session:
        again = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert again != first
