"""The one orchestrator: a stored inbound message in, replies in the outbox out.

`Hotline.process` runs one inbox row through the pure engine and applies what it decided —
state, cases, replies — in a single write transaction, so a crash leaves either all of it
or none of it (and the inbox sweep runs the message again). Flows, catalogs and desks are
loaded once, in `Hotline.load`.
"""

from __future__ import annotations

import logging
import re
import traceback
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot import i18n, lifecycle
from bot.appointments import ConsultationDesk
from bot.cases import (
    Report,
    case_in_conversation,
    find_case,
    latest_open_case,
    reopen_on_message,
    save_report,
    sync_desks,
    unused_ref,
    withdraw_report,
)
from bot.channels.registry import phone_number, reachable_by_writing
from bot.config import PROJECT_ROOT, Settings
from bot.contacts import get_or_create_contact
from bot.db import Database
from bot.engine import advance, load_flows
from bot.engine.commands import command_of
from bot.engine.extract import danger
from bot.engine.flows import Flows
from bot.engine.model import (
    AttachEvidence,
    Context,
    ConversationState,
    EraseData,
    Hints,
    Inbound,
    LookupStatus,
    Media,
    Reply,
    RequestHuman,
    SaveReport,
)
from bot.engine.refs import new_ref
from bot.engine.text import normalize
from bot.engine.walk import report_text
from bot.erasure import erase_contact
from bot.lifecycle import record as record_event
from bot.marks import claim_mark
from bot.models import (
    Case,
    CaseStatus,
    Contact,
    Conversation,
    InboundMessage,
    InboundStatus,
    utcnow,
)
from bot.outgoing import queue_replies
from bot.routing import DeskDirectory, extract_location, load_desks
from bot.sla import SlaTargets
from bot.triage import classify
from bot.types import Lang, as_channel, as_lang

logger = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
MAX_ATTEMPTS = 3
BUSY_NOTICE_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """How many messages one sender may have processed per minute."""

    per_sender_per_minute: int = 20


def clean_text(text: str) -> str:
    """Normalise and strip control characters (newlines and tabs stay)."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def hints_for(text: str) -> Hints:
    """What free text says: intent and priority from triage, a place from routing."""
    triage = classify(text)
    prefill: dict[str, object] = {}
    location = extract_location(text)
    if location is not None:
        prefill["location"] = location.label
    return Hints(
        intent=triage.intent,
        priority=triage.priority,
        prefill=prefill,
        sure=not triage.needs_review,
    )


class Hotline:
    """Flows, catalogs and desks loaded once; processes stored inbound messages."""

    def __init__(self, *, flows: Flows, desks: DeskDirectory, settings: Settings) -> None:
        self.flows = flows
        self.desks = desks
        self.settings = settings
        self.expire_after = timedelta(hours=settings.conversation_timeout_hours)
        self.flood = FloodLimits(settings.flood_per_sender_per_minute)
        self.sla = SlaTargets(
            critical_minutes=settings.sla_critical_minutes,
            high_minutes=settings.sla_high_minutes,
            normal_business_days=settings.sla_normal_business_days,
            low_business_days=settings.sla_low_business_days,
        )

    @classmethod
    def load(cls, settings: Settings) -> Hotline:
        """Load and validate flows, catalogs and desks (raises with file and reason)."""
        i18n.catalog()
        hints_for("77036 Houston")  # load the ZIP data now, not on the first person's message
        return cls(flows=load_flows(PROJECT_ROOT / "flows"), desks=load_desks(), settings=settings)

    def prepare(self, db: Database) -> None:
        """Bring the desk table in line with the routing data (run once at start)."""
        with db.write() as session:
            sync_desks(session, self.desks)

    def process(self, db: Database, inbound_id: int, *, now: datetime | None = None) -> list[int]:
        """Run one stored message; return the ids of the replies put in the outbox."""
        now = now or utcnow()
        try:
            with db.write() as session:
                return self._process(session, inbound_id, now)
        except Exception as exc:
            logger.error(
                "processing inbound %s failed: %s\n%s",
                inbound_id,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            with db.write() as session:
                return self._record_failure(session, inbound_id, type(exc).__name__, now)

    def process_pending(
        self,
        db: Database,
        *,
        now: datetime | None = None,
        older_than: timedelta = timedelta(seconds=30),
        limit: int = 200,
    ) -> int:
        """Process stored messages still pending after `older_than` (crash recovery)."""
        now = now or utcnow()
        with db.read() as session:
            ids = session.exec(
                select(InboundMessage.id)
                .where(
                    InboundMessage.status == InboundStatus.pending,
                    col(InboundMessage.received_at) <= now - older_than,
                )
                .order_by(col(InboundMessage.received_at))
                .limit(limit)
            ).all()
        for inbound_id in ids:
            assert inbound_id is not None
            self.process(db, inbound_id, now=now)
        return len(ids)

    def _process(self, session: Session, inbound_id: int, now: datetime) -> list[int]:
        # Lock the row: a worker and the sweep (or two processes) never both run a message.
        message = session.exec(
            select(InboundMessage)
            .where(InboundMessage.id == inbound_id)
            .with_for_update(skip_locked=True)
        ).first()
        if message is None or message.status != InboundStatus.pending:
            return []
        payload = message.payload or {}
        with session.no_autoflush:  # read everything first, write once at the end
            contact = get_or_create_contact(
                session, message.channel, message.sender, now, as_lang(payload.get("lang_hint"))
            )
            # One message per person at a time, across processes: wait for any other worker
            # on this person, then read their state fresh. (NO KEY UPDATE: outbox inserts
            # still take their foreign-key share lock, so staff replies never deadlock here.)
            session.refresh(contact, with_for_update={"key_share": True})
            message.contact_id, message.processed_at = contact.id, now
            if contact.opted_out and reachable_by_writing(contact.channel):
                contact.opted_out = False  # e.g. unblocked the Telegram bot and wrote again
            burst = self._count_burst(contact, now)
            contact.last_inbound_at = now
            if burst > self.flood.per_sender_per_minute:
                message.status = InboundStatus.flooded
                if burst > self.flood.per_sender_per_minute + 1:
                    return []  # one notice per flood is enough
                notice = Reply(i18n.t("common.too_fast", as_lang(contact.lang)))
                return self._enqueue(session, contact, [notice], now, inbound_id=message.id)
            conversation = session.exec(
                select(Conversation).where(Conversation.contact_id == contact.id)
            ).first()
            if conversation is None:
                assert contact.id is not None
                conversation = Conversation(contact_id=contact.id, updated_at=now)
                session.add(conversation)
            state = ConversationState.from_dict(conversation.state or {"lang": contact.lang})
            talking = self._talking_with_staff(session, contact, state, message, now)
            if talking is not None:  # a reply to staff: it goes to the case, not the menu
                reopen_on_message(session, contact.id or 0, now)
                record_event(session, talking, "message", "person", now, {"inbound_id": message.id})
                conversation.updated_at = now
                message.status = InboundStatus.processed
                forwarded = Reply(i18n.t("case.forwarded", state.lang, ref=talking.ref))
                return self._enqueue(
                    session,
                    contact,
                    [forwarded],
                    now,
                    inbound_id=message.id,
                    render_as=payload.get("render_as"),
                )
            step = advance(
                self.flows,
                state,
                _inbound(message, payload),
                Context(
                    now=now,
                    new_ref=unused_ref(session),
                    classify=hints_for,
                    expire_after=self.expire_after,
                    appointments=ConsultationDesk(session, contact.id or 0, now),
                ),
            )
            replies = list(step.replies)
            for effect in step.effects:
                replies.extend(self._apply(session, effect, contact, message, step.state, now))
            if contact.erased_at is not None and contact.erased_at >= now:
                conversation.state, conversation.flow, conversation.step = None, None, None
            else:
                conversation.state = step.state.to_dict()
                conversation.flow, conversation.step = step.state.flow, step.state.step
            conversation.updated_at = now
            contact.lang = step.state.lang
            message.status = InboundStatus.processed
            return self._enqueue(
                session,
                contact,
                replies,
                now,
                inbound_id=message.id,
                render_as=payload.get("render_as"),
                critical=step.state.critical,  # 911 first, and sent before other replies
            )

    def acknowledge_busy(
        self, db: Database, inbound_id: int, *, now: datetime | None = None
    ) -> list[int]:
        """In a surge: tell the person at once that their message is safe and in line.

        Sent at most once per person per ten minutes, before their message is processed;
        the message itself stays in the inbox and is processed in its turn.
        """
        now = now or utcnow()
        with db.write() as session:
            message = session.get(InboundMessage, inbound_id)
            if message is None or message.status != InboundStatus.pending:
                return []
            window = int(now.timestamp() // BUSY_NOTICE_WINDOW.total_seconds())
            key = f"{message.channel}:{message.sender_hash}:{window}"
            if not claim_mark(session, "busy_notice", key, now):
                return []
            payload = message.payload or {}
            contact = get_or_create_contact(
                session, message.channel, message.sender, now, as_lang(payload.get("lang_hint"))
            )
            lang = as_lang(contact.lang)
            return self._enqueue(
                session,
                contact,
                [Reply(i18n.t("common.busy", lang))],
                now,
                render_as=payload.get("render_as"),
            )

    def _talking_with_staff(
        self,
        session: Session,
        contact: Contact,
        state: ConversationState,
        message: InboundMessage,
        now: datetime,
    ) -> Case | None:
        """The case this message continues, when the person is answering staff."""
        text = clean_text(message.text)
        if state.flow is not None or state.pending is not None or contact.id is None:
            return None
        if not (text or message.payload) or command_of(text) is not None:
            return None
        if danger(normalize(text)) is not None:
            return None  # danger goes through the engine: 911 first, then a report
        case = case_in_conversation(session, contact.id, now)
        if case is not None and case.status == CaseStatus.resolved:
            # After resolution, only what is not a new report reopens the old case.
            if hints_for(text).intent not in ("other", "status"):
                return None
        return case

    def _count_burst(self, contact: Contact, now: datetime) -> int:
        """Count this message in the sender's current one-minute window; return the count."""
        started = contact.burst_started_at
        if started is None or now - started >= timedelta(minutes=1):
            contact.burst_started_at, contact.burst_count = now, 1
        else:
            contact.burst_count += 1
        return contact.burst_count

    def _apply(
        self,
        session: Session,
        effect: object,
        contact: Contact,
        message: InboundMessage,
        state: ConversationState,
        now: datetime,
    ) -> list[Reply]:
        """Carry out one effect; return any replies the service itself owes the person."""
        assert contact.id is not None
        lang = state.lang
        if isinstance(effect, SaveReport):
            report = Report(
                ref=effect.ref,
                contact_id=contact.id,
                channel=contact.channel,
                lang=lang,
                flow=effect.flow,
                intent=effect.intent,
                answers=effect.answers,
                text=effect.text,
                sender_phone=phone_number(contact.channel, message.sender),
                step=None if effect.done else (effect.step or ""),
                anonymous=effect.anonymous,
                floor=effect.floor,
            )
            if effect.withdrawn:
                withdraw_report(session, effect.ref, now)
            else:
                save_report(session, report=report, desks=self.desks, targets=self.sla, now=now)
            return []
        if isinstance(effect, RequestHuman):
            return [self._request_human(session, effect, contact, message, lang, now)]
        if isinstance(effect, LookupStatus):
            case = find_case(session, effect.ref)
            mine = case is not None and (case.contact_id == contact.id or effect.own)
            if case is None or not mine or case.status == CaseStatus.erased:
                return [Reply(i18n.t("status.not_found", lang, ref=effect.ref))]
            return [Reply(i18n.t(f"status.{case.status}", lang, ref=case.ref))]
        if isinstance(effect, AttachEvidence):
            case = find_case(session, effect.ref)
            if case is not None and case.contact_id == contact.id:
                record_event(
                    session,
                    case,
                    "evidence",
                    "person",
                    now,
                    {"media": [_media_dict(m) for m in effect.media]},
                )
            return []
        if isinstance(effect, EraseData):
            erase_contact(session, contact, now)
            return []
        raise TypeError(f"unknown effect {type(effect).__name__}")

    def _request_human(
        self,
        session: Session,
        effect: RequestHuman,
        contact: Contact,
        message: InboundMessage,
        lang: Lang,
        now: datetime,
    ) -> Reply:
        """Flag the person's case for a human, or open one. A report in progress keeps its
        case (opened at its first message) or becomes one now, with everything said so far;
        either way intake ends there and staff take it from the queue."""
        assert contact.id is not None
        in_progress = bool(effect.flow and effect.answers)
        case = find_case(session, effect.ref) if effect.ref else None
        if case is None and not in_progress:
            case = latest_open_case(session, contact.id)
        if case is None or in_progress:
            text = report_text(effect.answers) or clean_text(message.text)
            report = Report(
                ref=case.ref if case is not None else new_ref(),
                contact_id=contact.id,
                channel=contact.channel,
                lang=lang,
                flow=effect.flow or "human",
                intent=None if case is not None else classify(text, effect.answers).intent,
                answers={**effect.answers, "human_requested": True, "reason": effect.reason},
                text=text,
                sender_phone=phone_number(contact.channel, message.sender),
            )
            case = save_report(session, report=report, desks=self.desks, targets=self.sla, now=now)
        elif case.status == CaseStatus.waiting:
            lifecycle.move(session, case, CaseStatus.open, actor="person", now=now)
        case.updated_at = now
        record_event(session, case, "human_requested", "person", now, {"reason": effect.reason})
        return Reply(i18n.t("human.requested", lang, ref=case.ref))

    def _record_failure(
        self, session: Session, inbound_id: int, error: str, now: datetime
    ) -> list[int]:
        """Count the failed attempt; after the last one, apologise and keep the message."""
        message = session.get(InboundMessage, inbound_id)
        if message is None or message.status != InboundStatus.pending:
            return []
        message.attempts += 1
        message.error = error[:200]
        if message.attempts < MAX_ATTEMPTS:
            return []
        message.status = InboundStatus.failed
        contact = get_or_create_contact(session, message.channel, message.sender, now)
        message.contact_id = contact.id
        apology = Reply(i18n.t("common.error", as_lang(contact.lang)))
        return self._enqueue(session, contact, [apology], now, inbound_id=message.id)

    def _enqueue(
        self,
        session: Session,
        contact: Contact,
        replies: Sequence[Reply],
        now: datetime,
        *,
        inbound_id: int | None = None,
        case_id: int | None = None,
        render_as: object = None,
        critical: bool = False,
    ) -> list[int]:
        """Render the replies for the contact's channel and store them in the outbox."""
        assert contact.id is not None
        return queue_replies(
            session,
            contact_id=contact.id,
            channel=contact.channel,
            replies=replies,
            now=now,
            inbound_id=inbound_id,
            case_id=case_id,
            render_as=str(render_as) if render_as else None,
            priority="critical" if critical else "normal",
        )


def _inbound(message: InboundMessage, payload: dict[str, Any]) -> Inbound:
    media = tuple(
        Media(ref=str(m.get("ref", "")), content_type=str(m.get("content_type", "")))
        for m in payload.get("media") or []
        if isinstance(m, dict)
    )
    location = payload.get("location")
    where = None
    if isinstance(location, dict) and {"lat", "lon"} <= location.keys():
        where = (float(location["lat"]), float(location["lon"]))
    return Inbound(
        text=clean_text(message.text),
        channel=as_channel(message.channel),
        media=media,
        location=where,
        lang_hint=payload.get("lang_hint"),
    )


def _media_dict(media: Media) -> dict[str, str]:
    return {"ref": media.ref, "content_type": media.content_type}
