"""The text message a caller may ask for at the end of a report or after a voicemail.

Only a U.S. number (+1, not an anonymous caller) is offered it. On "1" one SMS with the
case's reference is queued for that number through `bot.outgoing.queue_replies` (channel
"sms", the number's own SMS contact), so it is paced, rendered and opt-out checked like
every other SMS; the case notes that it was sent (without the number).
"""

from __future__ import annotations

import re
from typing import Final

from sqlmodel import select

from bot import i18n
from bot.cases import find_case
from bot.contacts import find_contact, get_or_create_contact
from bot.db import Database
from bot.engine.model import Reply
from bot.lifecycle import record as record_event
from bot.models import CaseEvent, utcnow
from bot.outgoing import queue_replies
from bot.types import Lang

CHANNEL: Final = "voice"
_US_NUMBER: Final = re.compile(r"^\+1[2-9][0-9]{9}$")
KIND: Final = "sms_reference"  # the case event noting the text went out
YES_WORDS: Final = ("1", "uno", "one", "sí", "si", "yes")


def us_number(caller: str) -> str | None:
    """The caller's number when it is a U.S. (+1) number that can take a text, else None."""
    return caller if _US_NUMBER.match(caller) else None


def wants_text(digits: str, speech: str) -> bool:
    """True for 1 on the keypad, or a spoken "sí"/"uno"/"yes"/"one"."""
    if digits:
        return digits.strip().rstrip("#") == "1"
    words = re.findall(r"[\wí]+", speech.lower())
    return bool(words) and words[0] in YES_WORDS


def send_reference(db: Database, caller: str, call_sid: str, ref: str, lang: Lang) -> bool:
    """Queue the SMS with `ref` to the caller's U.S. number (once per call, should Twilio
    retry); False when the number cannot take one or the case is not this caller's."""
    number = us_number(caller)
    if number is None:
        return False
    now = utcnow()
    with db.write() as session:
        voice = find_contact(session, CHANNEL, caller)
        case = find_case(session, ref)
        if voice is None or case is None or case.contact_id != voice.id:
            return False
        sent = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == KIND)
        ).all()
        if any((e.data or {}).get("call") == call_sid for e in sent):
            return True
        contact = get_or_create_contact(session, "sms", number, now, lang)
        assert contact.id is not None
        text = i18n.t("channel.voice.sms_ref", lang, ref=case.ref)
        queue_replies(
            session,
            contact_id=contact.id,
            channel="sms",
            replies=[Reply(text)],
            now=now,
            case_id=case.id,
        )
        record_event(session, case, KIND, "system", now, {"call": call_sid})
        return True
