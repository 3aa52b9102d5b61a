"""What the hotline keeps about a person, read the way an attacker with a copy of the
database would read it: the raw SQLite files (or every clear column on PostgreSQL), not
the application's view. People talk through `TerminalChat` (inbox → engine → outbox)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select, update

from bot import crypto
from bot.cases import person_hash_of
from bot.cli import _setup_logging
from bot.contacts import find_contact
from bot.conversations import Hotline
from bot.db import Database
from bot.erasure import ERASED_HASH_PREFIX
from bot.inbox import sender_key
from bot.models import (
    Case,
    CaseStatus,
    Contact,
    Conversation,
    InboundMessage,
    Incident,
    utcnow,
)
from bot.staff.retention import purge_expired
from bot.terminal import CHANNEL, TerminalChat
from tests.channels.support import (
    WEBHOOK_SECRET,
    fast_app,
    outbound_rows,
    post_update,
    running,
    settings_for,
    tg_message,
    wait_for,
)
from tests.conftest import make_settings
from tests.fakes.engine import EchoEngine
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI

SENDER = "+13235550147"
NAME = "Joaquin Benavides Ortiz"
A_NUMBER = "208114567"
ZIP = "91101"
OPENING = (
    f"se llevaron a mi esposo {NAME} frente a la lavanderia Esperanza de Pasadena {ZIP}, "
    f"su numero A es {A_NUMBER}"
)
# What a cooperative person types for each kind of question (all of it theirs to erase).
ANSWERS = {
    "text": "traian chalecos verdes y una camioneta blanca sin placas",
    "dob": "14/03/1987",
    "a_number": f"A {A_NUMBER}",
    "location": f"Pasadena {ZIP}",
    "time": "ayer",
    "phone": "323 555 0147",
    "media": "no",
    "yes_no": "no",
    "number": "2",
    "consent": "si",
    "choice": "1",
}
MAX_TURNS = 30


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory) -> Hotline:
    settings = make_settings(tmp_path_factory.mktemp("kept"), flood_per_sender_per_minute=100)
    return Hotline.load(settings)


def person(hotline: Hotline, database: Database, sender: str = SENDER) -> TerminalChat:
    hotline.prepare(database)
    return TerminalChat(hotline, database, sender=sender, render_as="sms", lang=None)


def the_case(database: Database, sender: str = SENDER) -> Case | None:
    with database.read() as session:
        contact = find_contact(session, CHANNEL, sender)
        if contact is None:
            return None
        return session.exec(
            select(Case).where(Case.contact_id == contact.id).order_by(col(Case.id).desc())
        ).first()


def answer(hotline: Hotline, database: Database, sender: str) -> str:
    """What the person types to the question they are on."""
    with database.read() as session:
        contact = find_contact(session, CHANNEL, sender)
        assert contact is not None
        row = session.exec(select(Conversation).where(Conversation.contact_id == contact.id))
        state = (row.one().state or {}) if contact else {}
    if state.get("pending"):
        return "1"  # the privacy notice: "1) Sí, acepto"
    step = hotline.flows.step(state.get("flow"), state.get("step"))
    return ANSWERS.get(step.kind if step is not None else "choice", "1")


def report(hotline: Hotline, database: Database, opening: str) -> tuple[Case, list[str]]:
    """Tell the hotline about it and answer until the case is complete; return it and
    everything the person typed."""
    chat, said = person(hotline, database), [opening]
    for _ in range(MAX_TURNS):
        chat.send(said[-1])
        case = the_case(database)
        if case is not None and case.intake_step is None:
            return case, said
        said.append(answer(hotline, database, SENDER))
    raise AssertionError(f"no complete case after {MAX_TURNS} turns: {said}")


def compact(database: Database) -> None:
    """VACUUM, and on SQLite fold the write-ahead log into the file and empty it."""
    connection = database.engine.raw_connection()  # outside any transaction
    try:
        if not database.is_sqlite:
            connection.driver_connection.autocommit = True  # type: ignore[union-attr]
        cursor = connection.cursor()
        cursor.execute("VACUUM")
        if database.is_sqlite:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        connection.close()


def stored(database: Database) -> str:
    """Everything a copy of the database shows without the key. SQLite: the raw bytes of
    the database file and its write-ahead log (free pages included). PostgreSQL: every
    column that is not a sealed binary value, as text."""
    if database.is_sqlite:
        path = Path(str(database.engine.url.database))
        files = [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
        return "".join(p.read_bytes().decode("latin-1") for p in files)
    with database.read() as session:
        columns = session.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND data_type <> 'bytea'"
            )
        ).all()
        return "\n".join(
            str(value)
            for table, column in columns
            for value in session.execute(
                text(f'SELECT CAST("{column}" AS TEXT) FROM "{table}"')
            ).scalars()
            if value is not None
        )


def distinctive(said: list[str]) -> set[str]:
    """The words (6 letters or more) and numbers (5 digits or more) the person typed."""
    words = {w for line in said for w in re.findall(r"[A-Za-z]{6,}|\d{5,}", line)}
    return words | {SENDER.removeprefix("+1"), A_NUMBER, ZIP}


def found(needles: set[str], haystack: str) -> list[str]:
    return sorted(n for n in needles if n in haystack or n.lower() in haystack)


def test_borrar_leaves_no_word_number_place_or_hash_in_the_files(
    database: Database, hotline: Hotline
) -> None:
    """After a detention report and BORRAR, the database files hold none of what the person
    typed (names, A-number, places, ZIP), nor their number, nor a keyed hash that would let
    someone holding the key show that this number or this person was reported."""
    hotline.prepare(database)
    before = stored(database)
    case, said = report(hotline, database, OPENING)
    assert case.answers and NAME in str(case.summary)  # kept, encrypted, while it is needed
    hashes = {sender_key(CHANNEL, SENDER), person_hash_of(case.answers) or ""}
    assert case.person_hash in hashes and found(hashes, stored(database))
    chat = person(hotline, database)
    chat.send("borrar")
    assert chat.send("1"), "the erasure is confirmed to the person"
    compact(database)
    after = stored(database)
    needles = {w for w in distinctive(said) if w not in before and w.lower() not in before}
    assert len(needles) >= 8, needles
    assert found(needles, after) == []
    assert found(hashes, after) == []
    erased = the_case(database)
    assert erased is None  # no hash finds the person any more
    with database.read() as session:
        kept = session.exec(select(Case)).one()
    assert (kept.status, kept.intent, kept.zip, kept.lat) == (
        CaseStatus.erased,
        "detention",
        None,
        None,
    )
    if database.is_sqlite:
        with database.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_the_outbox_keeps_the_options_offered_sealed(database: Database, hotline: Hotline) -> None:
    """The choices offered with a message (they tell which question the person reached) are
    stored sealed; the application still reads them."""
    chat = person(hotline, database)
    replies = chat.send("hola")
    labels = {str(label) for reply in replies for label in list(reply["options"])}  # type: ignore[call-overload]
    assert len(labels) >= 5
    with database.read() as session:
        raw = (
            session.connection()
            .exec_driver_sql("SELECT CAST(options AS TEXT) FROM outboundmessage")
            .scalars()
        )
        assert [r for r in raw if any(label in r for label in labels)] == []
    shown = {o["label"] for row in outbound_rows(database) for o in row.options}
    assert labels <= shown


def test_case_reasons_name_rules_and_cues_never_the_words(
    database: Database, hotline: Hotline
) -> None:
    """The reasons staff see say which rules and cues fired and how the place was found,
    never the person's words, the place's name or its ZIP code; and they are sealed."""
    person(hotline, database).send(
        f"la migra esta ahorita en la lavanderia Esperanza, Pasadena CA {ZIP}; se llevaron a tres"
    )
    with database.read() as session:
        case = session.exec(select(Case)).one()  # anonymous until the notice is accepted
    assert case.reasons
    joined = " | ".join(case.reasons)
    assert "cue " in joined and "the place →" in joined, joined
    for word in ("migra", "ahorita", "lavanderia", "Esperanza", "Pasadena", ZIP, "'"):
        assert word not in joined.replace("immigration", ""), joined
    with database.read() as session:  # and sealed all the same
        raw = session.connection().exec_driver_sql('SELECT CAST(reasons AS TEXT) FROM "case"')
        assert "cue" not in raw.scalar_one()


def _make_old(database: Database, days: int) -> None:
    """Everything the person did happened `days` ago, and their case was resolved then."""
    long_ago = utcnow() - timedelta(days=days)
    with database.write() as session:
        session.exec(
            update(Case).values(
                status=CaseStatus.resolved,
                resolved_at=long_ago,
                outcome="helped",
                created_at=long_ago,
                updated_at=long_ago,
            )
        )
        session.exec(update(Incident).values(first_report_at=long_ago, last_report_at=long_ago))
        session.exec(update(Contact).values(created_at=long_ago, last_inbound_at=long_ago))
        session.exec(update(Conversation).values(updated_at=long_ago))
        session.exec(update(InboundMessage).values(received_at=long_ago))


def test_retention_keeps_only_a_coarse_place(database: Database, hotline: Hotline) -> None:
    """After the retention period a raid report keeps its ZIP3 and nothing finer: no ZIP,
    no coordinates, no place name, on the case and on its incident; a day later the
    address and its keyed hash are gone too."""
    case, _said = report(
        hotline, database, f"hay una redada ahorita en la lavanderia Esperanza, Pasadena CA {ZIP}"
    )
    assert (case.intent, case.zip) == ("raid", ZIP) and case.lat is not None
    _make_old(database, days=120)
    now = utcnow()
    with database.write() as session:  # an old incident whose reports staff still hold
        session.add(
            Incident(
                desk_id=case.desk_id,
                zip="91106",
                lat=34.14,
                lon=-118.13,
                label="Lake Ave, Pasadena",
                first_report_at=now - timedelta(days=100),
                last_report_at=now - timedelta(days=100),
            )
        )
    counts = purge_expired(database, now=now, retention_days=90)
    assert counts["cases"] == 1 and counts["incidents"] == 1
    with database.read() as session:
        kept = session.exec(select(Case)).one()
        incidents = session.exec(select(Incident).order_by(col(Incident.id))).all()
    assert (kept.zip, kept.lat, kept.lon, kept.location_label) == (ZIP[:3], None, None, None)
    places = [(i.zip, i.lat, i.lon, i.label) for i in incidents]
    assert places == [(ZIP[:3], None, None, None), ("911", None, None, None)]
    purge_expired(database, now=now + timedelta(days=2), retention_days=90)
    with database.read() as session:
        contact = session.exec(select(Contact)).one()
    assert contact.address is None and contact.address_hash.startswith(ERASED_HASH_PREFIX)
    compact(database)
    after = stored(database)
    assert found({ZIP, "91106", "Pasadena", "Esperanza", sender_key(CHANNEL, SENDER)}, after) == []


def test_retention_unlinks_people_an_earlier_version_erased(database: Database) -> None:
    """A contact erased before erasure replaced the keyed hash (it kept the real one) gets
    a random one from the retention sweep, and so do the messages it sent."""
    now = utcnow()
    real = sender_key("sms", SENDER)
    with database.write() as session:
        contact = Contact(channel="sms", address_hash=real, erased_at=now - timedelta(days=3))
        session.add(contact)
        session.flush()
        session.add(
            InboundMessage(
                channel="sms",
                provider_id="SM0001",
                sender_hash=real,
                sender="",
                contact_id=contact.id,
            )
        )
    counts = purge_expired(database, now=now, retention_days=90)
    assert counts["hashes"] == 1
    with database.read() as session:
        hashes = set(session.exec(select(Contact.address_hash)).all())
        hashes |= set(session.exec(select(InboundMessage.sender_hash)).all())
    assert len(hashes) == 1 and hashes.pop().startswith(ERASED_HASH_PREFIX)
    assert purge_expired(database, now=now, retention_days=90)["hashes"] == 0


@pytest.fixture
def debug_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The service's own logging set-up at DEBUG (restored afterwards), every library's
    debug records included (httpx and httpcore too, which it keeps at WARNING)."""
    factory = logging.getLogRecordFactory()
    names = ("httpx", "httpcore", "telegram", "twilio.http_client", "alembic")
    levels = {name: logging.getLogger(name).level for name in names}
    caplog.set_level(logging.DEBUG)
    yield caplog
    logging.setLogRecordFactory(factory)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_debug_logs_of_a_telegram_update_hold_no_text_chat_id_or_token(
    database: Database, tmp_path: Path, debug_logging: pytest.LogCaptureFixture
) -> None:
    """With HOTLINE_LOG_LEVEL=DEBUG, a Telegram message handled by the real app (the
    webhook, python-telegram-bot's Bot calls, httpx) logs neither its text, nor the chat
    id, nor the bot token or webhook secret — while the libraries' debug records do flow."""
    fake = FakeBotAPI()
    server = LiveServer(fake.app()).start()
    try:
        settings = settings_for(tmp_path, bot_api=server.url, log_level="DEBUG")
        _setup_logging(settings)
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.DEBUG)
        chat_id, words = 584930271, f"me llamo {NAME}, mi numero A es {A_NUMBER}"
        app = fast_app(settings, database, EchoEngine())
        async with running(app) as client:
            assert (await post_update(client, tg_message(9001, chat_id, words))).status_code == 200
            await wait_for(lambda: bool(fake.sent), what="the echo")
    finally:
        server.stop()
    logged = debug_logging.text
    assert "sendMessage" in logged and "Bot API" in logged  # the library spoke at DEBUG
    secrets: list[Any] = [FakeBotAPI.token, WEBHOOK_SECRET, str(chat_id), A_NUMBER]
    secrets += ["Benavides", "Joaquin", "me llamo"]
    assert [s for s in secrets if s in logged] == []
    # The sender is named in logs by a key of its own: no prefix of the lookup hash the
    # database keeps, so a log file cannot be joined to the contact rows.
    stored = sender_key("telegram", str(chat_id))
    assert stored[:8] not in logged and crypto.log_id(f"telegram:{chat_id}") in logged
