"""The phone line in: Twilio voice webhooks, each caller turn through the same flows.

`POST /webhooks/twilio/voice` answers a call with a greeting (who we are, 911 first, and in
both languages how to choose English). From then on every answer the caller gives (keys or
speech) is one inbound message — channel "voice", sender the caller's number (an anonymous
caller gets one sender per call), provider id `CallSid:turn` so a retried webhook is stored
once — stored in the inbox, run through `Hotline.process` at once (the call waits for the
answer), and the turn's replies are said back inside the next `<Gather>`; the replies are
marked delivered through the outbox (a pulled channel). Silence or an answer the step
cannot read goes to the engine as such: it asks once more, then moves on. Asking for a
person (0, the menu's option, or saying so) rings the desk's on-duty number when the desk
is open and has one (`on_duty_phone` in data/routing/desk_settings.yaml), otherwise, or when
nobody answers, records a voicemail that is attached to the case. At the end of a report
and after a voicemail a U.S. caller is offered the case number by SMS (followup.py). Every
request is signature-checked like SMS (403 when forged, or when Twilio or the public URL is
not set).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from fastapi import APIRouter, Request, Response
from sqlmodel import Session, col, select
from starlette.datastructures import FormData
from twilio.twiml.voice_response import VoiceResponse

from bot import i18n
from bot.cases import find_case, latest_open_case
from bot.channels.common import Services, log_id, twilio_signed
from bot.channels.pipeline import Engine
from bot.channels.registry import phone_number
from bot.contacts import find_contact, sender_of
from bot.inbox import store_inbound
from bot.lifecycle import record as record_event
from bot.models import (
    Case,
    CaseEvent,
    Contact,
    Conversation,
    InboundMessage,
    OutboundMessage,
    OutboundStatus,
    utcnow,
)
from bot.outbox import mark_delivered
from bot.types import Lang, as_lang

from . import twiml
from .followup import send_reference, us_number, wants_text
from .twiml import Expect, Said

logger = logging.getLogger(__name__)

CHANNEL: Final = "voice"
BASE: Final = "/webhooks/twilio/voice"
PATHS: Final = {
    "call": BASE,
    "lang": f"{BASE}/lang",
    "turn": f"{BASE}/turn",
    "dialed": f"{BASE}/dialed",
    "recorded": f"{BASE}/recorded",
    "recording": f"{BASE}/recording",
    "status": f"{BASE}/status",
    "sms": f"{BASE}/sms",
}
_RECORDING_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")
_REF = re.compile(r"^HL-[0-9A-Z]{6}$")
ENGLISH_WORDS: Final = ("english", "inglés", "ingles", "two", "dos")


MAX_SID: Final = 64  # Twilio's ids have 34 characters; the inbox keeps 80 at most


def _plain_int(text: str) -> int | None:
    """A turn, key or duration Twilio posts as plain digits; None for anything else ("²"
    and "٣" are digits to `str.isdigit`, and 5,000 digits are too many for `int`)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def caller_of(form: FormData) -> str:
    """The caller's number, or one sender per call for "anonymous"/"unknown" callers."""
    number = str(form.get("From") or "")
    if phone_number(CHANNEL, number) is not None:
        return number
    return f"anonymous:{form.get('CallSid') or ''}"


@dataclass(frozen=True, slots=True)
class Turn:
    """What one processed caller turn left: what to say, what comes next."""

    said: tuple[Said, ...]
    lang: Lang
    expect: Expect
    person: Case | None  # the caller asked for a person: their case
    reported: Case | None = None  # this turn finished the caller's report: its case


def _case_with_event(session: Session, contact: Contact, kind: str, since: datetime) -> Case | None:
    """The caller's case that got an event of `kind` since `since` (the latest one)."""
    return session.exec(
        select(Case)
        .join(CaseEvent, col(CaseEvent.case_id) == col(Case.id))
        .where(Case.contact_id == contact.id, CaseEvent.kind == kind, col(CaseEvent.at) >= since)
        .order_by(col(CaseEvent.id).desc())
        .limit(1)
    ).first()


class VoiceLine:
    """The call's turns against the database and the engine (runs in a worker thread)."""

    def __init__(self, services: Services, engine: Engine) -> None:
        self.services = services
        self.engine = engine

    def language_of(self, caller: str) -> Lang | None:
        """The language a known caller last used."""
        with self.services.db.read() as session:
            contact = find_contact(session, CHANNEL, caller)
            return as_lang(contact.lang) if contact is not None else None

    def run(self, call_sid: str, caller: str, n: int, text: str, lang: Lang) -> Turn:
        """Store turn `n` once, process it now, and collect what to say."""
        started = utcnow()
        db = self.services.db
        with db.write() as session:
            inbound_id = store_inbound(
                session,
                channel=CHANNEL,
                provider_id=f"{call_sid}:{n}",
                sender=caller,
                text=text,
                payload={"lang_hint": lang, "call": call_sid, "turn": n},
                max_chars=self.services.settings.max_message_chars,
            )
            fresh = inbound_id is not None
            if inbound_id is None:  # Twilio retried this webhook: say the same again
                inbound_id = session.exec(
                    select(InboundMessage.id).where(
                        InboundMessage.channel == CHANNEL,
                        InboundMessage.provider_id == f"{call_sid}:{n}",
                    )
                ).one()
        assert inbound_id is not None
        outcome = "stored" if fresh else "duplicate"
        self.services.metrics.inbound.labels(channel=CHANNEL, outcome=outcome).inc()
        try:
            self.engine.process(db, inbound_id)
        except Exception as exc:  # stays pending: the inbox sweep runs it again
            logger.warning("voice: processing failed (%s)", type(exc).__name__)
        with db.write() as session:
            contact = sender_of(session, inbound_id, CHANNEL, caller)  # BORRAR: still found
            if contact is None:
                return Turn((Said(i18n.t("channel.voice.error", lang)),), lang, "speech", None)
            rows = self._rows(session, contact, inbound_id)
            mark_delivered(session, [r.id for r in rows if r.id is not None], now=utcnow())
            said = tuple(
                Said(r.text, tuple((o["label"], o["value"]) for o in r.options or [])) for r in rows
            )
            lang = as_lang(contact.lang)
            return Turn(
                said,
                lang,
                self._expect(session, contact),
                self._person(session, contact, started),
                self._reported(session, contact, started),
            )

    def last_said(self, caller: str) -> tuple[Said, Lang, Expect, bool]:
        """The last prompt the caller heard (to repeat it), and whether a flow is running."""
        with self.services.db.read() as session:
            contact = find_contact(session, CHANNEL, caller)
            if contact is None:
                return Said(""), "es", "speech", False
            row = session.exec(
                select(OutboundMessage)
                .where(OutboundMessage.contact_id == contact.id)
                .order_by(col(OutboundMessage.id).desc())
                .limit(1)
            ).first()
            said = Said("")
            if row is not None:
                said = Said(row.text, tuple((o["label"], o["value"]) for o in row.options or []))
            conversation = self._conversation(session, contact)
            running = conversation is not None and conversation.flow is not None
            return said, as_lang(contact.lang), self._expect(session, contact), running

    def attach(self, ref: str, kind: str, data: dict[str, Any]) -> bool:
        """Record a call event (voicemail, call end) on the case."""
        now = utcnow()
        with self.services.db.write() as session:
            case = find_case(session, ref)
            if case is None:
                return False
            record_event(session, case, kind, "person", now, data)
            case.updated_at = now
            return True

    def call_ended(self, caller: str, data: dict[str, Any]) -> str | None:
        """Note the call's end on the caller's open case, if any; return its reference."""
        now = utcnow()
        with self.services.db.write() as session:
            contact = find_contact(session, CHANNEL, caller)
            if contact is None or contact.id is None:
                return None
            case = latest_open_case(session, contact.id)
            if case is None:
                return None
            record_event(session, case, "call_ended", "system", now, data)
            return case.ref

    def _rows(self, session: Session, contact: Contact, inbound_id: int) -> list[OutboundMessage]:
        """This turn's replies (again, for a retried webhook) and anything still waiting
        for the caller (a staff reply since the last call)."""
        return list(
            session.exec(
                select(OutboundMessage)
                .where(
                    OutboundMessage.contact_id == contact.id,
                    (col(OutboundMessage.inbound_id) == inbound_id)
                    | (col(OutboundMessage.status) == OutboundStatus.pending),
                )
                .order_by(col(OutboundMessage.id))
            ).all()
        )

    @staticmethod
    def _conversation(session: Session, contact: Contact) -> Conversation | None:
        return session.exec(
            select(Conversation).where(Conversation.contact_id == contact.id)
        ).first()

    def _expect(self, session: Session, contact: Contact) -> Expect:
        """What the step waiting for the caller takes: a number, a place, or words."""
        conversation = self._conversation(session, contact)
        flows = getattr(self.engine, "flows", None)
        if conversation is None or flows is None:
            return "speech"
        step = flows.step(conversation.flow, conversation.step)
        kind = getattr(step, "kind", "")
        return "number" if kind == "number" else "place" if kind == "location" else "speech"

    @staticmethod
    def _person(session: Session, contact: Contact, since: datetime) -> Case | None:
        """The case whose person asked, during this turn, to talk to someone."""
        return _case_with_event(session, contact, "human_requested", since)

    def _reported(self, session: Session, contact: Contact, since: datetime) -> Case | None:
        """The case whose report the caller finished during this turn (no flow running)."""
        conversation = self._conversation(session, contact)
        if conversation is not None and conversation.flow is not None:
            return None
        return _case_with_event(session, contact, "intake_done", since)

    def number_for(self, case: Case) -> str | None:
        """The desk's on-duty phone (the desk directory's `on_duty_phone`, from
        data/routing/desk_settings.yaml) when the desk is open now and has one."""
        desks = getattr(self.engine, "desks", None)
        if desks is None or case.desk_id not in desks:
            return None
        desk = desks.get(case.desk_id)
        number = getattr(desk, "on_duty_phone", None)
        return number if number and desk.is_open(utcnow()) else None


def _xml(response: VoiceResponse) -> Response:
    return Response(str(response), media_type="text/xml")


def _answer(form: FormData, said: Said) -> str | None:
    """The caller's answer as text: an option's value for its digit, the digits, the words."""
    digits = str(form.get("Digits") or "").strip().rstrip("#")
    speech = str(form.get("SpeechResult") or "").strip()
    if digits:
        chosen = _plain_int(digits)
        if chosen is not None and 1 <= chosen <= len(said.options):
            return said.options[chosen - 1][1]
        return digits
    return speech or None


def router(services: Services, engine: Engine) -> APIRouter:
    """The call's webhooks, every one signature-checked."""
    routes = APIRouter()
    line = VoiceLine(services, engine)
    metrics = services.metrics
    public = services.settings.public_url or ""

    def url(name: str, **query: object) -> str:
        tail = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{public}{PATHS[name]}" + (f"?{tail}" if tail else "")

    async def signed_form(request: Request) -> FormData | None:
        form = await request.form()
        if not twilio_signed(services, request, form):
            metrics.webhook_rejected.labels(channel="voice", reason="signature").inc()
            return None
        return form

    async def next_turn(form: FormData, n: int, text: str, lang: Lang) -> Response:
        call_sid, caller = str(form.get("CallSid") or ""), caller_of(form)
        if len(call_sid) > MAX_SID:  # the turn's inbox id is "<CallSid>:<n>"
            return Response(status_code=400)
        try:
            turn = await asyncio.to_thread(line.run, call_sid, caller, n, text, lang)
        except Exception as exc:
            logger.error("voice: could not store a turn (%s)", type(exc).__name__)
            return Response(status_code=503)
        if turn.person is not None:
            return _xml(_to_person(turn.person, turn.lang, turn.said))
        if turn.reported is not None and us_number(caller):
            action = url("sms", c=turn.reported.ref, l=turn.lang, n=n + 1)
            return _xml(twiml.sms_offer(turn.said, lang=turn.lang, action=action))
        action = url("turn", n=n + 1)
        return _xml(twiml.turn(turn.said, lang=turn.lang, expect=turn.expect, action=action))

    def _to_person(case: Case, lang: Lang, said: tuple[Said, ...]) -> VoiceResponse:
        """What the engine answered (the reference), then the desk's phone or a voicemail."""
        response = VoiceResponse()
        for reply in said:
            twiml.say(response, reply.text, lang)
        number = line.number_for(case)
        if number is not None:
            action = url("dialed", c=case.ref, l=lang)
            return twiml.connect(number, lang=lang, action=action, response=response)
        return twiml.voicemail(
            lang=lang,
            action=url("recorded", c=case.ref, l=lang),
            recorded=url("recording", c=case.ref),
            response=response,
        )

    @routes.post(PATHS["call"], include_in_schema=False)
    async def voice_call(request: Request) -> Response:
        """A call comes in: the greeting and the language choice."""
        form = await signed_form(request)
        if form is None:
            return Response(status_code=403)
        logger.info("voice: call from %s", log_id(CHANNEL, caller_of(form)))
        return _xml(twiml.greeting(url("lang", r=0)))

    @routes.post(PATHS["lang"], include_in_schema=False)
    async def voice_lang(request: Request) -> Response:
        """1 or "español", 2 or "English"; silence hears the choice once more, then Spanish."""
        form = await signed_form(request)
        if form is None:
            return Response(status_code=403)
        digits = str(form.get("Digits") or "")
        speech = str(form.get("SpeechResult") or "").lower()
        if not digits and not speech and request.query_params.get("r") == "0":
            return _xml(twiml.greeting(url("lang", r=1)))
        lang: Lang = "en" if digits == "2" or any(w in speech for w in ENGLISH_WORDS) else "es"
        known = await asyncio.to_thread(line.language_of, caller_of(form))
        if known is not None and known != lang:
            first = "english" if lang == "en" else "español"  # the engine's own switch
        else:
            first = "menu" if lang == "en" else "menú"
        return await next_turn(form, 1, first, lang)

    @routes.post(PATHS["turn"], include_in_schema=False)
    async def voice_turn(request: Request) -> Response:
        """One answer from the caller: keys or words, or nothing."""
        form = await signed_form(request)
        if form is None:
            return Response(status_code=403)
        n = _plain_int(request.query_params.get("n", ""))
        if n is None:
            return Response(status_code=400)
        caller = caller_of(form)
        said, lang, expect, running = await asyncio.to_thread(line.last_said, caller)
        if str(form.get("Digits") or "") == twiml.PERSON_DIGIT:
            text: str | None = "human" if lang == "en" else "humano"
        else:
            text = _answer(form, said)
        if text is None and not running:
            # Silence at the menu: hear it once more, then goodbye.
            if request.query_params.get("r") == "1":
                return _xml(twiml.goodbye("channel.voice.goodbye", lang))
            return _xml(twiml.turn([said], lang=lang, expect=expect, action=url("turn", n=n, r=1)))
        return await next_turn(form, n, text or i18n.t("channel.voice.no_answer", lang), lang)

    @routes.post(PATHS["dialed"], include_in_schema=False)
    async def voice_dialed(request: Request) -> Response:
        """After ringing the desk: done if someone answered, else a voicemail."""
        form = await signed_form(request)
        if form is None:
            return Response(status_code=403)
        ref, lang = request.query_params.get("c", ""), as_lang(request.query_params.get("l"))
        if not _REF.match(ref):
            return Response(status_code=400)
        if str(form.get("DialCallStatus") or "") == "completed":
            return _xml(twiml.goodbye("channel.voice.goodbye", lang))
        return _xml(
            twiml.voicemail(
                lang=lang,
                action=url("recorded", c=ref, l=lang),
                recorded=url("recording", c=ref),
            )
        )

    @routes.post(PATHS["recorded"], include_in_schema=False)
    async def voice_recorded(request: Request) -> Response:
        """The voicemail ended: thank the caller (the recording arrives by its callback)."""
        form = await signed_form(request)
        if form is None:
            return Response(status_code=403)
        ref, lang = request.query_params.get("c", ""), as_lang(request.query_params.get("l"))
        if not _REF.match(ref):
            return Response(status_code=400)
        if us_number(caller_of(form)):
            kept = i18n.t("channel.voice.voicemail_kept", lang, ref=twiml.spelled(ref))
            action = url("sms", c=ref, l=lang)
            return _xml(twiml.sms_offer([Said(kept)], lang=lang, action=action))
        return _xml(twiml.goodbye("channel.voice.voicemail_saved", lang, ref=twiml.spelled(ref)))

    @routes.post(PATHS["sms"], include_in_schema=False)
    async def voice_sms(request: Request) -> Response:
        """The answer to the text-message offer: 1 queues the SMS with the reference; 0
        (after a report) asks for a person; anything else ends the call kindly."""
        form = await signed_form(request)
        if form is None:
            return Response(status_code=403)
        ref, lang = request.query_params.get("c", ""), as_lang(request.query_params.get("l"))
        n = _plain_int(request.query_params.get("n", ""))
        if not _REF.match(ref):
            return Response(status_code=400)
        digits, speech = str(form.get("Digits") or ""), str(form.get("SpeechResult") or "")
        if digits == twiml.PERSON_DIGIT and n is not None:
            return await next_turn(form, n, "human" if lang == "en" else "humano", lang)
        if not wants_text(digits, speech):
            return _xml(twiml.goodbye("channel.voice.goodbye", lang))
        call_sid, caller = str(form.get("CallSid") or ""), caller_of(form)
        try:
            sent = await asyncio.to_thread(send_reference, services.db, caller, call_sid, ref, lang)
        except Exception as exc:
            logger.error("voice: could not queue the text message (%s)", type(exc).__name__)
            sent = False
        if not sent:
            return _xml(twiml.goodbye("channel.voice.goodbye", lang))
        services.sender.wake()
        return _xml(twiml.goodbye("channel.voice.sms_sent", lang))

    @routes.post(PATHS["recording"], include_in_schema=False)
    async def voice_recording(request: Request) -> Response:
        """A finished recording: attached to the case by its sid (never its URL)."""
        form = await signed_form(request)
        if form is None:
            return Response(status_code=403)
        ref, sid = request.query_params.get("c", ""), str(form.get("RecordingSid") or "")
        if not _REF.match(ref) or not _RECORDING_SID.match(sid):
            return Response(status_code=400)
        if str(form.get("RecordingStatus") or "completed") != "completed":
            return Response(status_code=204)
        duration = str(form.get("RecordingDuration") or "0")
        data = {"recording": sid, "seconds": _plain_int(duration) or 0}
        try:
            await asyncio.to_thread(line.attach, ref, "voicemail", data)
        except Exception as exc:
            logger.error("voice: could not attach a recording (%s)", type(exc).__name__)
            return Response(status_code=503)
        return Response(status_code=204)

    @routes.post(PATHS["status"], include_in_schema=False)
    async def voice_status(request: Request) -> Response:
        """The call's end: noted on the caller's open case."""
        form = await signed_form(request)
        if form is None:
            return Response(status_code=403)
        status = str(form.get("CallStatus") or "")
        if status in ("completed", "busy", "failed", "no-answer", "canceled"):
            duration = str(form.get("CallDuration") or "0")
            data = {"status": status, "seconds": _plain_int(duration) or 0}
            try:
                await asyncio.to_thread(line.call_ended, caller_of(form), data)
            except Exception as exc:
                logger.error("voice: could not record the call's end (%s)", type(exc).__name__)
                return Response(status_code=503)
        return Response(status_code=204)

    return routes
