"""The conversation service: a stored message in, state, cases and outbox rows out.

People are simulated the way `hotline chat` runs them (inbox row → `Hotline.process` →
outbox), answering by what the current step asks for, read from the real flow files.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.conversations import Hotline
from bot.db import Database
from bot.inbox import NewMessage, store_inbound, store_many
from bot.models import (
    Case,
    CaseEvent,
    Contact,
    Conversation,
    InboundMessage,
    InboundStatus,
    Incident,
    IncidentState,
    OutboundMessage,
    Staff,
    utcnow,
)
from bot.terminal import TerminalChat
from bot.types import PRIORITY_RANK

from .conftest import make_settings

# What a person types for each kind of question, per language.
ANSWERS: dict[str, dict[str, str]] = {
    "es": {
        "text": "Se lo llevaron en la mañana afuera de la casa",
        "dob": "12/05/1985",
        "a_number": "A 123 456 789",
        "location": "77036",
        "time": "ayer",
        "phone": "713 555 0199",
        "media": "no",
        "yes_no": "no",
        "number": "2",
        "consent": "si",
        "choice": "1",
    },
    "en": {
        "text": "They took him this morning outside the house",
        "dob": "05/12/1985",
        "a_number": "A123456789",
        "location": "Houston, TX",
        "time": "yesterday",
        "phone": "(713) 555-0199",
        "media": "no",
        "yes_no": "no",
        "number": "2",
        "consent": "yes",
        "choice": "1",
    },
}
MAX_TURNS = 30


@pytest.fixture
def hotline(tmp_path: Path) -> Hotline:
    return Hotline.load(make_settings(tmp_path, flood_per_sender_per_minute=50))


def chat(
    hotline: Hotline,
    database: Database,
    sender: str,
    lang: str | None = None,
    render_as: str = "sms",
) -> TerminalChat:
    hotline.prepare(database)
    return TerminalChat(hotline, database, sender=sender, render_as=render_as, lang=lang)


def state_of(database: Database, person: TerminalChat) -> dict[str, Any]:
    with database.read() as session:
        contact = session.exec(select(Contact).where(Contact.channel == "terminal")).all()
        ids = [c.id for c in contact if c.address == person.sender]
        row = session.exec(select(Conversation).where(Conversation.contact_id == ids[0])).one()
        return row.state or {}


def cases_of(database: Database) -> list[Case]:
    with database.read() as session:
        return list(session.exec(select(Case).order_by(col(Case.id))).all())


def next_answer(hotline: Hotline, state: dict[str, Any], lang: str) -> str:
    """What a cooperative person answers to the question the conversation is on."""
    if state.get("pending"):
        return "1"  # privacy notice: "1) Sí, acepto"; other confirmations: first option
    step = hotline.flows.step(state.get("flow"), state.get("step"))
    kind = step.kind if step is not None else "choice"
    return ANSWERS[lang].get(kind, "1")


def report(
    hotline: Hotline, database: Database, person: TerminalChat, first: str, lang: str
) -> tuple[Case, list[str]]:
    """Talk until a new case finished intake; return it and every reply text seen."""
    seen: list[str] = []
    text, before = first, len(cases_of(database))
    for _ in range(MAX_TURNS):
        seen += [str(r["text"]) for r in person.send(text)]
        found = cases_of(database)
        if len(found) > before and found[-1].intake_step is None:
            return found[-1], seen
        text = next_answer(hotline, state_of(database, person), lang)
    last = "\n".join(seen[-6:])
    raise AssertionError(f"no case after {MAX_TURNS} turns:\n{last}")


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize(("menu", "flow"), [("1", "raid"), ("2", "detention"), ("3", "harassment")])
def test_each_report_flow_ends_in_a_stored_case(
    database: Database, hotline: Hotline, lang: str, menu: str, flow: str
) -> None:
    """From the menu, a person who answers every question reaches a case with a reference."""
    person = chat(hotline, database, f"walker-{flow}-{lang}", lang=lang)
    person.send("hola" if lang == "es" else "hello")
    case, seen = report(hotline, database, person, menu, lang)
    assert case.flow == flow and case.intent == flow
    assert case.ref in seen[-1] or any(case.ref in text for text in seen[-3:])
    assert case.answers is not None and case.answers["flow"] == flow
    assert case.desk_id and case.sla_due_at is not None and case.reasons
    assert case.lang == lang


def test_free_text_raid_is_prefilled_and_routed(database: Database, hotline: Hotline) -> None:
    """A first message with place and time starts the raid flow without asking them again."""
    person = chat(hotline, database, "free-text")
    case, seen = report(
        hotline,
        database,
        person,
        "hay una redada de ICE ahorita en mi trabajo en Houston 77036",
        "es",
    )
    assert (case.intent, case.priority, case.desk_id) == ("raid", "critical", "houston")
    assert "911" in seen[0]
    assert not any("ZIP" in text or "código postal" in text.lower() for text in seen)


def test_detention_reports_about_one_person_are_linked(
    database: Database, hotline: Hotline
) -> None:
    """Two relatives reporting the same A-number make one queue item with two reports."""
    for who in ("sister", "cousin"):
        person = chat(hotline, database, who)
        person.send("hola")
        report(hotline, database, person, "2", "es")
    first, second = cases_of(database)
    assert second.parent_id == first.id and first.report_count == 2


def test_raid_reports_from_one_place_make_one_incident_and_staff_states_hold(
    database: Database, hotline: Hotline
) -> None:
    """Three people report the same raid: one incident under the first report, which counts
    all three; staff confirm it and a fourth report leaves it confirmed; staff mark it false
    and the next report starts an incident of its own."""
    text = "hay una redada de ICE ahorita en mi trabajo en Houston 77036"
    for n in range(3):
        report(hotline, database, chat(hotline, database, f"raid-{n}"), text, "es")
    head, *others = cases_of(database)
    with database.read() as session:
        (incident,) = session.exec(select(Incident)).all()
    assert all(c.incident_id == incident.id and c.parent_id == head.id for c in others)
    assert head.parent_id is None and head.report_count == 3
    assert (incident.report_count, incident.reporter_count) == (3, 3)
    assert incident.state == "corroborated"

    for state in ("confirmed", "false"):
        with database.write() as session:
            row = session.get(Incident, incident.id)
            assert row is not None
            row.state = IncidentState(state)
        report(hotline, database, chat(hotline, database, f"raid-{state}"), text, "es")
    with database.read() as session:
        incidents = session.exec(select(Incident).order_by(col(Incident.id))).all()
    assert [(i.report_count, i.state) for i in incidents] == [(4, "false"), (1, "unverified")]
    assert cases_of(database)[0].report_count == 4


def test_a_more_urgent_raid_report_raises_the_incidents_head(
    database: Database, hotline: Hotline
) -> None:
    """The report heading an incident is at `normal` (here set so); a report of agents
    there now, folded into it, raises it to critical with its earlier target."""
    text = "hay una redada de ICE ahorita en mi trabajo en Houston 77036"
    report(hotline, database, chat(hotline, database, "first"), text, "es")
    with database.write() as session:
        first = session.exec(select(Case)).one()
        first.priority, first.priority_rank = "normal", PRIORITY_RANK["normal"]
        first.sla_due_at = None
    report(hotline, database, chat(hotline, database, "second"), text, "es")
    head, later = cases_of(database)
    assert later.parent_id == head.id and head.report_count == 2
    assert later.priority == "critical" and later.sla_due_at is not None
    assert (head.priority, head.priority_rank) == ("critical", later.priority_rank)
    assert head.sla_due_at == later.sla_due_at


def test_status_lookup_shows_only_the_persons_own_case(
    database: Database, hotline: Hotline
) -> None:
    """ESTADO with one's own reference gives its status; someone else's is 'not found'."""
    owner = chat(hotline, database, "owner")
    owner.send("hola")
    case, _ = report(hotline, database, owner, "1", "es")
    mine = owner.send(f"estado {case.ref.lower().replace('-', '')}")
    stranger = chat(hotline, database, "stranger").send(f"estado {case.ref}")
    assert case.ref in str(mine[-1]["text"])
    assert all("recibido" not in str(r["text"]).lower() for r in stranger)
    assert stranger and stranger != mine


def test_asking_for_a_human_flags_the_open_case(database: Database, hotline: Hotline) -> None:
    """'humano' after a report records the request on the person's case, no second case."""
    person = chat(hotline, database, "wants-human")
    person.send("hola")
    case, _ = report(hotline, database, person, "3", "es")
    replies = person.send("humano")
    assert any(case.ref in str(r["text"]) for r in replies)
    assert len(cases_of(database)) == 1
    with database.read() as session:
        kinds = session.exec(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert "human_requested" in kinds


def test_erase_removes_the_persons_words_and_keeps_figures(
    database: Database, hotline: Hotline
) -> None:
    """BORRAR then yes: texts, answers and state are gone; the case's figures remain."""
    person = chat(hotline, database, "eraser")
    person.send("hola")
    case, _ = report(hotline, database, person, "2", "es")
    person.send("borrar")
    confirmation = person.send("si")
    assert confirmation
    with database.read() as session:
        stored = session.get(Case, case.id)
        assert stored is not None
        assert stored.answers is None and stored.summary is None and stored.erased_at
        assert (stored.intent, stored.desk_id) == (case.intent, case.desk_id)
        texts = session.exec(select(InboundMessage.text)).all()
        assert texts and all(text == "" for text in texts)
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
        assert all(event.data is None for event in events)


def test_flood_is_stored_answered_once_and_not_run(tmp_path: Path, database: Database) -> None:
    """Past the per-minute limit, messages are kept, one notice goes out, none is an answer."""
    hotline = Hotline.load(make_settings(tmp_path, flood_per_sender_per_minute=3))
    person = chat(hotline, database, "flooder")
    for text in ("hola", "1", "1"):
        person.send(text)
    before = state_of(database, person)
    notices = [person.send("2"), person.send("2"), person.send("2")]
    assert len(notices[0]) == 1 and notices[1] == [] and notices[2] == []
    assert state_of(database, person) == before
    with database.read() as session:
        statuses = session.exec(select(InboundMessage.status)).all()
    assert statuses.count(InboundStatus.flooded) == 3


def test_bad_input_mid_flow_gets_a_short_answer_and_keeps_the_place(
    database: Database, hotline: Hotline
) -> None:
    """Empty, 10,000 characters, emoji only and control characters each get a short answer;
    the privacy notice is never asked a third time in a row, and a later yes resumes."""
    person = chat(hotline, database, "messy")
    person.send("hola")
    notice = str(person.send("2")[-1]["text"])
    place = (state_of(database, person)["flow"], state_of(database, person)["step"])
    asked = 1
    for text in ("", "a" * 10_000, "😭😭😭", "\x00\x07\x1b[31m"):
        replies = person.send(text)
        assert replies, f"no answer to {text[:10]!r}"
        assert all(len(str(r["text"])) < 1000 for r in replies)
        asked += sum(notice in str(r["text"]) for r in replies)
    assert asked <= 2
    person.send("2")  # the detention report again from the menu
    person.send("si")
    now_at = (state_of(database, person)["flow"], state_of(database, person)["step"])
    assert now_at[0] == place[0] and now_at[1] != place[1]


def test_a_restart_resumes_the_conversation(
    database: Database, hotline: Hotline, tmp_path: Path
) -> None:
    """A new process (new Hotline) continues each person exactly where they were."""
    person = chat(hotline, database, "resumer")
    person.send("hola")
    person.send("2")
    before = state_of(database, person)
    restarted = Hotline.load(make_settings(tmp_path))
    again = TerminalChat(restarted, database, sender="resumer", render_as="sms", lang=None)
    again.send("menu")
    assert before["flow"] == "detention"
    assert state_of(database, again)["flow"] is None


def test_processing_is_idempotent(database: Database, hotline: Hotline) -> None:
    """Processing the same stored message twice answers it once."""
    hotline.prepare(database)
    with database.write() as session:
        inbound_id = store_inbound(
            session, channel="sms", provider_id="SMdup", sender="+17135550111", text="hola"
        )
    assert inbound_id is not None
    first = hotline.process(database, inbound_id)
    assert first and hotline.process(database, inbound_id) == []


def test_crash_during_processing_apologises_after_retries(
    database: Database, hotline: Hotline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message whose processing keeps failing is kept and the person gets a kind answer."""
    hotline.prepare(database)
    with database.write() as session:
        inbound_id = store_inbound(
            session, channel="sms", provider_id="SMboom", sender="+17135550112", text="hola"
        )
    assert inbound_id is not None

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("engine bug")

    monkeypatch.setattr("bot.conversations.advance", broken)
    results = [hotline.process(database, inbound_id) for _ in range(3)]
    assert results[0] == [] and results[1] == [] and len(results[2]) == 1
    with database.read() as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None and row.status == InboundStatus.failed and row.attempts == 3
        reply = session.get(OutboundMessage, results[2][0])
        assert reply is not None and "Traceback" not in reply.text and reply.text


def test_pending_sweep_processes_messages_left_by_a_crash(
    database: Database, hotline: Hotline
) -> None:
    """A message stored but never processed is picked up by the sweep."""
    hotline.prepare(database)
    with database.write() as session:
        store_inbound(
            session, channel="sms", provider_id="SMleft", sender="+17135550113", text="hola"
        )
    later = utcnow() + timedelta(minutes=5)
    assert hotline.process_pending(database, now=later) == 1
    with database.read() as session:
        assert session.exec(select(InboundMessage)).one().status == InboundStatus.processed


def test_busy_notice_once_per_person_and_message_still_processed(
    database: Database, hotline: Hotline
) -> None:
    """In a surge the person hears at once that the message is saved; it is still answered."""
    hotline.prepare(database)
    ids = []
    with database.write() as session:
        for n in range(2):
            ids.append(
                store_inbound(
                    session,
                    channel="sms",
                    provider_id=f"SMbusy{n}",
                    sender="+17135550120",
                    text="redada ahorita",
                )
            )
    first = hotline.acknowledge_busy(database, ids[0])
    assert len(first) == 1 and hotline.acknowledge_busy(database, ids[1]) == []
    with database.read() as session:
        notice = session.get(OutboundMessage, first[0])
        assert notice is not None and "911" in notice.text
    assert hotline.process(database, ids[0])  # the real answer still comes, in its turn


async def test_processor_sends_busy_notices_when_the_backlog_is_deep(
    database: Database, hotline: Hotline
) -> None:
    """With more messages waiting than HOTLINE_BUSY_BACKLOG, new writers get the notice."""
    import asyncio

    from bot.channels.pipeline import Processor

    hotline.prepare(database)
    processor = Processor(database, hotline, on_replies=lambda: None, busy_backlog=2)
    with database.write() as session:
        ids = [
            store_inbound(
                session, channel="sms", provider_id=f"SMq{n}", sender=f"+1713555013{n}", text="hola"
            )
            for n in range(4)
        ]
    for n, inbound_id in enumerate(ids):  # workers not started: the queue only grows
        assert inbound_id is not None
        processor.submit(inbound_id, sender=f"+1713555013{n}")
    await asyncio.sleep(0.5)
    with database.read() as session:
        notices = session.exec(select(OutboundMessage)).all()
    assert len(notices) == 2  # the 3rd and 4th writers, when 2 were already waiting


def test_a_reply_to_staff_goes_to_the_case_and_reopens_it(
    database: Database, hotline: Hotline
) -> None:
    """After staff answer, the person's next words reach the case (not the menu) and put it
    back in the queue; a global command still works as a command."""
    from bot.models import CaseStatus, Staff
    from bot.staff.actions import reply
    from bot.staff.commands import add_staff

    person = chat(hotline, database, "answers-staff")
    person.send("hola")
    case, _ = report(hotline, database, person, "2", "es")
    staff, _token = add_staff(database, name="Lucía", desk=case.desk_id, role="agent")
    with database.write() as session:
        stored, agent = session.get(Case, case.id), session.get(Staff, staff.id)
        assert stored is not None and agent is not None
        reply(session, agent, stored, utcnow(), text="¿Sabe en qué centro está?")
    shown = person.pending()
    assert shown and "centro" in str(shown[0]["text"])
    with database.read() as session:
        waiting = session.get(Case, case.id)
        assert waiting is not None and waiting.status == CaseStatus.waiting
    answer = person.send("creo que en el de Conroe")
    assert case.ref in str(answer[0]["text"])
    with database.read() as session:
        stored = session.get(Case, case.id)
        assert stored is not None and stored.status == CaseStatus.open
        kinds = session.exec(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert "message" in kinds and "reopened" in kinds
    assert state_of(database, person)["flow"] is None
    menu = person.send("menu")
    assert len(menu[-1]["options"]) >= 5


def test_one_persons_messages_are_processed_one_at_a_time(
    database: Database, hotline: Hotline
) -> None:
    """Two workers on two messages of one person never both read the same state."""
    import threading

    hotline.prepare(database)
    person = chat(hotline, database, "twin-workers")
    person.send("hola")
    with database.write() as session:
        ids = [
            store_inbound(
                session, channel="terminal", provider_id=f"tw{n}", sender="twin-workers", text=text
            )
            for n, text in enumerate(("2", "1"))
        ]
    threads = [threading.Thread(target=hotline.process, args=(database, i)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.read() as session:
        statuses = session.exec(
            select(InboundMessage.status).where(col(InboundMessage.id).in_(ids))
        ).all()
    assert statuses == [InboundStatus.processed, InboundStatus.processed]
    state = state_of(database, person)
    # Either order is fine, but both answers must show: "2" then "1" is the detention flow
    # with its privacy notice accepted; "1" then "2" is the raid flow with its first answer.
    # A lost update would show only one of them.
    detention_then_accept = state["flow"] == "detention" and state["privacy_accepted"]
    raid_then_answer = state["flow"] == "raid" and "safe" in state["answers"]
    assert detention_then_accept or raid_then_answer, state


def test_erasing_the_first_report_keeps_the_others_in_the_queue(
    database: Database, hotline: Hotline
) -> None:
    """When the first of two linked reports is erased, the second stands in the queue."""
    for who in ("first-sister", "second-cousin"):
        person = chat(hotline, database, who)
        person.send("hola")
        report(hotline, database, person, "2", "es")
    eraser = TerminalChat(hotline, database, sender="first-sister", render_as="sms", lang=None)
    eraser.send("borrar")
    eraser.send("si")
    first, second = cases_of(database)
    assert first.erased_at is not None and first.zip is None
    assert second.parent_id is None and second.status == "open"


def test_danger_while_talking_with_staff_still_gets_911(
    database: Database, hotline: Hotline
) -> None:
    """A person whose case staff answered, writing about danger, is told 911 first."""
    from bot.staff.actions import reply
    from bot.staff.commands import add_staff

    person = chat(hotline, database, "in-danger-later")
    person.send("hola")
    case, _ = report(hotline, database, person, "3", "es")
    staff, _token = add_staff(database, name="Pilar", desk=case.desk_id, role="agent")
    with database.write() as session:
        stored, agent = (
            session.get(Case, case.id),
            session.exec(select(Staff).where(Staff.id == staff.id)).one(),
        )
        assert stored is not None
        reply(session, agent, stored, utcnow(), text="¿Cómo sigue?")
    person.pending()
    answer = person.send("me estan golpeando, estoy herido")
    assert "911" in str(answer[0]["text"])


def test_danger_words_count_even_after_saying_one_is_safe() -> None:
    """'I am not in danger but my coworker is bleeding' is still an emergency."""
    from bot.engine.extract import danger
    from bot.engine.text import normalize

    assert danger(normalize("no estoy en peligro pero mi compañero esta sangrando")) is not None
    assert danger(normalize("no estoy en peligro")) is None


def test_asking_for_a_person_mid_report_keeps_that_report(
    database: Database, hotline: Hotline
) -> None:
    """A new report cut short by 'humano' becomes its own case with what was said so far."""
    person = chat(hotline, database, "second-report")
    person.send("hola")
    report(hotline, database, person, "1", "es")  # an earlier raid case
    person.send("menu")
    person.send("2")  # a detention report this time
    for _ in range(6):
        state = state_of(database, person)
        if state.get("flow") == "detention" and state.get("answers"):
            break
        person.send(next_answer(hotline, state, "es"))
    person.send("humano")
    cases = cases_of(database)
    assert [c.flow for c in cases] == ["raid", "detention"]
    assert cases[1].answers is not None and cases[1].answers.get("human_requested")


def test_a_desk_fills_up_within_one_batch_of_the_inbox_writer(
    database: Database, hotline: Hotline
) -> None:
    """A raid wave: more critical reports for Houston than it can hold arrive together and
    are processed in one transaction — those past its capacity also go to central."""
    capacity = hotline.desks.get("houston").critical_capacity
    hotline.prepare(database)
    text = "hay una redada de ICE ahorita en mi trabajo en Houston 77036, ayuda"
    senders = [f"+1713555{n:04d}" for n in range(capacity + 3)]
    with database.write() as session:
        ids = store_many(
            session, [NewMessage("sms", f"SMwave{n}", s, text) for n, s in enumerate(senders)]
        )
        monday_noon = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # the desk is open
        hotline.process_batch(session, [i for i in ids if i is not None], now=monday_noon)
    cases = cases_of(database)
    assert len(cases) == capacity + 3
    assert all(c.desk_id == "houston" and c.priority == "critical" for c in cases)
    assert [c.also_central for c in cases] == [False] * capacity + [True] * 3


def test_a_desk_full_of_critical_cases_sends_the_next_one_to_central_too(
    database: Database, hotline: Hotline
) -> None:
    """Houston holds as many open critical cases as it can take: the next raid report there
    also goes to the central desk, saying why; critical cases open elsewhere do not count."""
    capacity = hotline.desks.get("houston").critical_capacity
    first = chat(hotline, database, "first-in-houston")
    case, _ = report(hotline, database, first, "hay una redada ahorita en Houston 77036", "es")
    assert not any("desk full" in r for r in case.reasons)
    waiting = [("houston", "HOU", capacity - 1), ("dallas", "DAL", capacity)]
    with database.write() as session:
        for desk, prefix, count in waiting:
            for n in range(count):
                critical = {"priority": "critical", "priority_rank": 0}
                session.add(
                    Case(
                        ref=f"{prefix}{n:04d}",
                        channel="sms",
                        lang="es",
                        desk_id=desk,
                        flow="raid",
                        intent="raid",
                        **critical,
                    )
                )
    second = chat(hotline, database, "second-in-houston")
    text = "hay una redada de ICE ahorita en mi trabajo en Houston 77036"
    full, _ = report(hotline, database, second, text, "es")
    assert full.desk_id == "houston" and full.also_central
    assert any(f"desk full: {capacity} open critical" in r for r in full.reasons)


def _to_the_place_question(hotline: Hotline, database: Database, person: TerminalChat) -> None:
    """From the menu into a raid report, answering until it asks where."""
    person.send("hola")
    text = "1"
    for _ in range(MAX_TURNS):
        person.send(text)
        state = state_of(database, person)
        if state.get("step") == "where" and not state.get("pending"):
            return
        text = next_answer(hotline, state, "es")
    raise AssertionError("the raid report never asked where")


@pytest.mark.parametrize(
    ("answer", "desk"),
    [
        ("Oregon", "portland"),
        ("3", "portland"),
        ("de oregon pues", "portland"),
        ("97123", "portland"),
    ],
)
def test_a_town_of_several_states_is_asked_its_state_once(
    database: Database, hotline: Hotline, answer: str, desk: str
) -> None:
    """ "Hillsboro" is in Texas, Illinois, Oregon, Georgia…: with no phone to tell (Telegram,
    web chat) the person is asked which, with the states as choices, and the case goes to
    that state's consulate."""
    person = chat(hotline, database, f"hillsboro-{answer}")
    _to_the_place_question(hotline, database, person)
    asked = "\n".join(str(r["text"]) for r in person.send("en el vivero de Hillsboro"))
    assert "estado" in asked and "Oregon" in asked and "Texas" in asked
    after = "\n".join(str(r["text"]) for r in person.send(answer))
    assert "estado" not in after  # the report goes on: the next question
    for _ in range(MAX_TURNS):
        (case,) = cases_of(database)
        if case.intake_step is None:
            break
        person.send(next_answer(hotline, state_of(database, person), "es"))
    assert case.intake_step is None and case.desk_id == desk
    assert case.answers is not None
    assert case.answers["location"]["raw"] == "en el vivero de Hillsboro"


def test_not_knowing_the_state_goes_on_and_a_wrong_answer_is_asked_once_more(
    database: Database, hotline: Hotline
) -> None:
    for sender, answers in (("nose", ["no sé"]), ("wrong", ["banana", "banana"])):
        person = chat(hotline, database, f"hillsboro-{sender}")
        _to_the_place_question(hotline, database, person)
        person.send("Hillsboro")
        asked = 1
        for said in answers:
            asked += sum("estado" in str(r["text"]) for r in person.send(said))
        assert asked <= 2  # never a third time
        state = state_of(database, person)
        assert state.get("pending") is None and state.get("step") != "where"
        assert state["answers"]["location"]["raw"] == "Hillsboro"


def test_a_settled_place_is_not_asked_its_state(database: Database, hotline: Hotline) -> None:
    person = chat(hotline, database, "houston-place")
    _to_the_place_question(hotline, database, person)
    replies = "\n".join(str(r["text"]) for r in person.send("Hillsboro, Oregon"))
    assert "Texas" not in replies
    assert state_of(database, person).get("pending") is None


def test_a_first_message_naming_a_town_of_several_states_is_asked_which_not_where(
    database: Database, hotline: Hotline
) -> None:
    person = chat(hotline, database, "first-hillsboro")
    seen: list[str] = []
    text = "la migra está en el vivero de Hillsboro ahorita, no dejan salir a nadie"
    for _ in range(MAX_TURNS):
        seen += [str(r["text"]) for r in person.send(text)]
        if str(state_of(database, person).get("pending") or "").startswith("place_state"):
            break
        text = next_answer(hotline, state_of(database, person), "es")
    else:
        raise AssertionError("never asked which state:\n" + "\n".join(seen[-4:]))
    assert not any("Dónde" in said for said in seen)  # the place was said: never "where?"
    person.send("Oregon")
    (case,) = cases_of(database)
    assert (case.desk_id, case.priority) == ("portland", "critical")
