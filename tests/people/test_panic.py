"""The alert button without an app: "ALERTA" / "SOS", or a Telegram location with no words.

Each opens a critical case at once; the reply leads with 911 and gives the reference.
Messages go in the way each channel's webhook stores them (an inbox row), then through
`Hotline.process`, and the replies are read from the outbox.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import col, select

from bot.conversations import Hotline
from bot.db import Database
from bot.inbox import store_inbound
from bot.models import Case, OutboundMessage

from .conftest import MakePerson
from .simulator import REF, Said, transcript


def deliver(
    hotline: Hotline,
    database: Database,
    *,
    channel: str,
    sender: str,
    text: str,
    payload: dict[str, Any] | None = None,
) -> list[str]:
    """Store one inbound message as the channel does, process it, return the reply texts."""
    hotline.prepare(database)
    with database.write() as session:
        inbound_id = store_inbound(
            session,
            channel=channel,
            provider_id=uuid.uuid4().hex,
            sender=sender,
            text=text,
            payload=payload,
        )
    assert inbound_id is not None
    ids = hotline.process(database, inbound_id)
    with database.read() as session:
        rows = session.exec(
            select(OutboundMessage)
            .where(col(OutboundMessage.id).in_(ids))
            .order_by(col(OutboundMessage.id))
        ).all()
        return [row.text for row in rows]


def assert_alert_case(database: Database, texts: list[str]) -> Case:
    """911 first, a reference, and a critical case with that reference."""
    assert texts, "no reply to the alert"
    joined = "\n".join(texts)
    refs = REF.findall(joined)
    assert refs, f"no case reference in the reply: {texts!r}"
    assert joined.index("911") < joined.index(refs[0]), f"911 does not come first: {texts!r}"
    first_line = next(line for line in texts[0].splitlines() if line.strip())
    assert "911" in first_line, f"the reply does not lead with 911: {texts!r}"
    with database.read() as session:
        case = session.exec(select(Case).where(Case.ref == refs[0])).first()
    assert case is not None, f"the reply gives {refs[0]} but no such case exists"
    assert case.priority == "critical", (case.ref, case.priority, case.reasons)
    return case


@pytest.mark.parametrize(
    ("channel", "sender", "word", "payload"),
    [
        ("sms", "+17135550101", "ALERTA", {}),
        ("sms", "+12145550102", "SOS", {}),
        ("whatsapp", "whatsapp:+17135550103", "SOS", {}),
        ("telegram", "880001", "ALERTA", {"chat_type": "private", "lang_hint": "es"}),
        ("telegram", "880002", "sos", {"chat_type": "private", "lang_hint": "en"}),
        ("web", "web-session-1", "Alerta", {}),
        ("terminal", "panic-terminal", "SOS", {"render_as": "telegram"}),
    ],
    ids=[
        "sms-ALERTA",
        "sms-SOS",
        "whatsapp-SOS",
        "telegram-ALERTA",
        "telegram-sos",
        "web",
        "terminal",
    ],
)
def test_alert_word_opens_a_critical_case_at_once(
    hotline: Hotline,
    database: Database,
    channel: str,
    sender: str,
    word: str,
    payload: dict[str, Any],
) -> None:
    """The first and only message is the alert word: 911 first, a reference, a case."""
    texts = deliver(hotline, database, channel=channel, sender=sender, text=word, payload=payload)
    assert_alert_case(database, texts)


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_alert_in_the_middle_of_a_report_marks_that_report_critical(
    person: MakePerson, database: Database, channel: str
) -> None:
    """'SOS' while answering a harassment report: 911 first, and the report's case is
    critical (one case, not a second one)."""
    someone = person("harassment", "words", lang="es", channel=channel)
    someone.send(Said("mi patrón me amenaza con llamar a inmigración", free=True))
    for _ in range(3):
        someone.send(someone.answer(someone.question()))
    turn = someone.send("SOS")
    case = assert_alert_case(database, turn.texts)
    assert case.flow == "harassment", (case.flow, transcript(someone.exchanges))
    assert len(someone.cases()) == 1, [c.ref for c in someone.cases()]


@pytest.mark.parametrize(
    ("lat", "lon", "desk"),
    [(29.7030, -95.5462, "houston"), (32.7767, -96.7970, "dallas")],
    ids=["houston", "dallas"],
)
def test_a_telegram_location_with_no_words_is_an_alert(
    hotline: Hotline, database: Database, lat: float, lon: float, desk: str
) -> None:
    """A shared location and nothing else, from idle: 911 first, a critical case at the
    desk of that place."""
    payload = {"chat_type": "private", "lang_hint": "es", "location": {"lat": lat, "lon": lon}}
    texts = deliver(
        hotline, database, channel="telegram", sender=f"loc-{desk}", text="", payload=payload
    )
    case = assert_alert_case(database, texts)
    assert case.desk_id == desk, (case.desk_id, case.reasons)
