"""The phone line's text-message follow-up: a U.S. caller who made a report or left a
voicemail may press 1 to get the case number by SMS (through the outbox, to the fake Twilio
API); anonymous and non-U.S. callers are not offered it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.channels.twilio_voice.twiml import spelled
from bot.conversations import Hotline
from bot.db import Database
from bot.models import Contact, OutboundMessage
from tests.fakes.twilio_caller import FakeCaller

from .support import PUBLIC_URL, TWILIO_NUMBER, settings_for, settle, wait_for
from .test_voice import Fake, cases, events, line, report_by_phone

OFFER = {"es": "mensaje de texto con su número de caso", "en": "text message with your case"}


@pytest.fixture
def hotline(tmp_path: Path) -> Hotline:
    return Hotline.load(settings_for(tmp_path))


def sms_rows(db: Database) -> list[OutboundMessage]:
    with db.read() as session:
        return list(
            session.exec(select(OutboundMessage).where(OutboundMessage.channel == "sms")).all()
        )


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_a_us_caller_gets_the_case_number_by_sms_after_a_report(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake, lang: str
) -> None:
    """The end of a report offers the text; 1 queues one SMS with the reference to the
    caller's number, which reaches Twilio; a retried webhook sends nothing more."""
    fake, _server = twilio_api
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL, caller="+17135550142")
        case = await report_by_phone(database, call, lang, "1")
        offer = call.last
        assert OFFER[lang] in offer.text and spelled(case.ref) in offer.text
        assert offer.gather is not None and offer.gather["numDigits"] == "1"
        assert offer.gather["action"].startswith(PUBLIC_URL + "/webhooks/twilio/voice/sms?")
        bye = await call.press("1")
        assert bye.hangup and bye.gather is None
        assert ("texto" if lang == "es" else "texting") in bye.text
        await wait_for(lambda: len(fake.sent) == 1, what="the SMS at Twilio")
        again = await call._follow(offer.gather["action"], call.params(Digits="1"))  # a retry
        assert again.hangup
        await settle()
    (sent,) = fake.sent
    assert sent["To"] == "+17135550142" and sent["From"] == TWILIO_NUMBER
    assert case.ref in sent["Body"]
    (row,) = sms_rows(database)
    assert row.case_id == case.id and row.status == "sent"
    with database.read() as session:
        contact = session.get(Contact, row.contact_id)
        assert contact is not None and (contact.channel, contact.lang) == ("sms", lang)
    assert [e.case_id for e in events(database, "sms_reference")] == [case.id]


@pytest.mark.parametrize("caller", ["anonymous", "+525512345678"])
async def test_an_anonymous_or_foreign_caller_is_not_offered_a_text(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake, caller: str
) -> None:
    fake, _server = twilio_api
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL, caller=caller)
        await report_by_phone(database, call, "es", "1")
        assert "mensaje de texto" not in call.last.text
        assert call.last.gather is not None and "/voice/turn?" in call.last.gather["action"]
        await call.silence()
        bye = await call.silence()
        assert bye.hangup
        await settle()
    assert fake.sent == [] and sms_rows(database) == []


async def test_after_a_voicemail_the_text_is_offered_and_declining_hangs_up_kindly(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake
) -> None:
    """After the voicemail the reference is said, then the offer; 2 (or silence) ends the
    call with the goodbye and sends nothing. Forged offer answers get 403."""
    fake, _server = twilio_api
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL, caller="+12135550177")
        await call.dial_in()
        await call.press("1")
        await call.press("0")
        await call.press("1")  # the privacy notice, then the voicemail
        heard = await call.leave_voicemail()
        (case,) = cases(database)
        assert spelled(case.ref) in heard.text and "mensaje de texto" in heard.text
        assert heard.gather is not None
        forged = await call.post(heard.gather["action"], call.params(Digits="1"), forged=True)
        assert forged.status_code == 403
        bye = await call.press("2")
        assert bye.hangup and "Gracias por llamar" in bye.text
        later = FakeCaller(client, PUBLIC_URL, caller="+12135550178")
        await later.dial_in()
        await later.press("1")
        await later.press("0")
        await later.press("1")
        heard = await later.leave_voicemail()
        bye = await later.say("sí, por favor")
        assert bye.hangup and "texto" in bye.text
        await wait_for(lambda: len(fake.sent) == 1, what="the SMS at Twilio")
    assert fake.sent[0]["To"] == "+12135550178" and cases(database)[-1].ref in fake.sent[0]["Body"]


async def test_the_offer_refuses_a_case_that_is_not_the_callers(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake
) -> None:
    """A signed answer naming someone else's case sends nothing."""
    fake, _server = twilio_api
    async with line(database, tmp_path, hotline, twilio_api) as client:
        first = FakeCaller(client, PUBLIC_URL, caller="+17135550150")
        await report_by_phone(database, first, "es", "1")
        action = first.last.gather["action"] if first.last.gather else ""
        other = FakeCaller(client, PUBLIC_URL, caller="+17135550151")
        bye = await other._follow(action, other.params(Digits="1"))
        assert bye.hangup and "Gracias por llamar" in bye.text
        await settle()
    assert fake.sent == []
