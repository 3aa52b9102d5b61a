"""The deportation-risk screening ("¿Estoy en riesgo? / Am I at risk?") as people answer it,
through the real service on SQLite and PostgreSQL.

Each answering style reaches a complete screening case; a person who skips every question
is still offered a consultation and books it; a desk with no free time offers central's by
phone; CITA / CAMBIAR CITA / CANCELAR CITA show, move and free the booking, each in one
message; the case's priority follows what was said; the answers are not in the database in
clear. Consultation times are added with `bot.appointments.add_slot` before anyone talks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from itertools import cycle, pairwise
from typing import Any, Final

import pytest
from sqlalchemy import text

from bot import appointments
from bot.db import Database
from bot.models import Case, utcnow
from bot.render import SMS_MAX_SEGMENTS, fold_for_sms, segments

from . import sayings
from .conftest import MakePerson
from .simulator import (
    STYLES,
    Exchange,
    Person,
    Said,
    check_report,
    naming_a_time,
    shown_options,
    transcript,
)

FLOW: Final = "screening"
LANGS: Final = ("es", "en")
CHANNELS: Final = ("sms", "telegram")
STARTS: Final = ("free", "menu")
DESKS: Final = ("houston", "dallas", "central")  # where the simulator's answers can lead
QUESTIONS: Final = ("years", "removal", "arrest", "court", "children", "status", "where")
ACCEPT: Final = {"es": "si", "en": "yes"}
SKIPS: Final = {"es": ("saltar", "no sé", "SALTAR", "nose"), "en": ("skip", "I don't know", "SKIP")}
COMMANDS: Final = {
    "es": ("CITA", "CAMBIAR CITA", "CANCELAR CITA"),
    "en": ("APPOINTMENT", "CHANGE APPOINTMENT", "CANCEL APPOINTMENT"),
}
BY_PHONE: Final = {"es": "por teléfono", "en": "by phone"}
_PLACEHOLDER: Final = re.compile(r"\{[a-z_]*\}")
_CATALOG_KEY: Final = re.compile(r"\b(?:appointment|screening|menu|retry|slot)\.[a-z_]+\b")


# -- setting up and walking ------------------------------------------------------------
def add_slots(database: Database, desk: str, count: int, *, days: int = 3) -> None:
    """`count` consultation times at the desk, an hour apart from 9:00 local, `days` ahead."""
    now = utcnow()
    day = (now + timedelta(days=days)).date()
    with database.write() as session:
        for n in range(count):
            local = datetime.combine(day, time(9 + n))  # the desk's wall clock
            appointments.add_slot(session, desk_id=desk, local=local, now=now)


def slots_of(database: Database, desk: str) -> list[dict[str, Any]]:
    """`hotline slots list` for the desk: each time ahead, booked or not, with its case."""
    with database.read() as session:
        return appointments.list_slots(session, desk_id=desk, now=utcnow())


def walk(
    someone: Person,
    opening: str,
    answers: Mapping[str, str],
    skips: Sequence[str],
    *,
    until: str | None = None,
) -> list[str]:
    """Open with `opening`, accept the notice, answer each screening question by its step
    id from `answers` (the rest with the skips, in turn) until the person is back at the
    menu, or is asked step `until`; returns the steps asked, in order."""
    asked: list[str] = []
    skipping = cycle(skips)
    someone.send(Said(opening, free=len(opening.split()) >= 3))
    for _ in range(25):
        question = someone.question()
        if question.pending and question.pending.startswith("privacy"):
            someone.send(ACCEPT[someone.lang])
            continue
        if question.flow is None or question.step is None:
            return asked
        asked.append(question.step.id)
        if question.step.id == until:
            return asked
        someone.send(answers.get(question.step.id) or next(skipping))
    raise AssertionError("the screening did not end\n" + transcript(someone.exchanges, 30))


def last_case(someone: Person) -> Case:
    """The person's screening case as the database holds it, complete."""
    case = someone.case()
    assert case is not None, "no case\n" + transcript(someone.exchanges)
    assert case.flow == FLOW and case.intake_step is None, (case.flow, case.intake_step)
    return case


def offered(exchange: Exchange) -> list[str]:
    """The consultation times a turn offered ("None of these work" left out)."""
    return list(shown_options(exchange)[:-1])


def first_offer(someone: Person) -> list[str]:
    """The times offered when the person first reached the time question."""
    turn = next((e for e in someone.exchanges if e.state.get("step") == "slot"), None)
    assert turn is not None, "never asked to choose a time\n" + transcript(someone.exchanges)
    return offered(turn)


def problems_of_a_reply(exchange: Exchange, channel: str) -> list[str]:
    """What is wrong with a command's reply for a person: more than one message (on SMS:
    split where it did not need to be), a traceback, a "{placeholder}", a catalog key."""
    texts = exchange.texts
    found = []
    if not texts:
        found.append("no reply")
    elif channel == "sms":
        # One message per turn; SMS splits only what would pass the segment limit.
        for first, second in pairwise(texts):
            if segments(f"{first}\n{second}")[1] <= SMS_MAX_SEGMENTS:
                found.append(f"two SMS that fit in one: {first!r} / {second!r}")
    elif len(texts) != 1:
        found.append(f"{len(texts)} messages in one turn")
    for reply in texts:
        if "Traceback" in reply or 'File "' in reply:
            found.append(f"an error shown: {reply!r}")
        if _PLACEHOLDER.search(reply) or _CATALOG_KEY.search(reply):
            found.append(f"an unfilled text: {reply!r}")
    return [f"{exchange.said.text!r}: {p}" for p in found]


@pytest.fixture
def open_desks(person: MakePerson, database: Database) -> None:
    """Three free consultation times at every desk the simulated people can reach."""
    for desk in DESKS:
        add_slots(database, desk, 3)


# -- every answering style ---------------------------------------------------------------
STYLE_CASES = [
    pytest.param(style, lang, id=f"{style}-{lang}") for style in STYLES for lang in LANGS
]


@pytest.mark.usefixtures("open_desks")
@pytest.mark.parametrize(("style", "lang"), STYLE_CASES)
def test_each_style_reaches_a_screening_case(person: MakePerson, style: str, lang: str) -> None:
    """Someone answering in one style reaches a complete screening case within the
    simulator's turn limit, no question three times in a row, every sentence they wrote on
    the case; opened with free text or from the menu, on SMS or Telegram (taking turns)."""
    s, lg = STYLES.index(style), LANGS.index(lang)
    channel, start = CHANNELS[(s + lg) % 2], STARTS[(s // 2 + lg) % 2]
    someone = person(FLOW, style, lang=lang, channel=channel)
    outcome = someone.talk(someone.first_message(start))
    problems = check_report(someone, outcome)
    assert not problems, f"(opening: {start})\n" + "\n\n".join(problems)


# -- first messages ----------------------------------------------------------------------
OPENINGS = [
    *((lang, t) for lang in LANGS for flow, _, t in sayings.FIRST[lang] if flow == FLOW),
    ("es", "me pueden deportar?"),
    ("es", "me pueden depotar"),
    ("es", "necesito un abogado"),
    ("en", "can they deport me?"),
    ("en", "i need a lawyer"),
]


def test_what_people_write_first_reaches_the_screening(person: MakePerson) -> None:
    """The ways people ask (misspelled too), and menu option 6 or its words after a
    greeting, each start the screening."""
    wrong = []
    for lang, first in OPENINGS:
        someone = person(FLOW, "words", lang=lang)
        if someone.send(first).state.get("flow") != FLOW:
            wrong.append(transcript(someone.exchanges))
    for lang in LANGS:
        for word in ("6", *sayings.MENU_WORDS[lang][FLOW]):
            someone = person(FLOW, "words", lang=lang, channel="telegram")
            someone.send(sayings.GREETING[lang][0])
            if someone.send(word).state.get("flow") != FLOW:
                wrong.append(transcript(someone.exchanges))
    assert not wrong, "\n\n".join(wrong)


def test_a_misspelled_lawyer_reaches_the_screening(person: MakePerson) -> None:
    someone = person(FLOW, "words", lang="en")
    turn = someone.send("i need a lawer")
    assert turn.state.get("flow") == FLOW, transcript(someone.exchanges)


# -- skipping everything -------------------------------------------------------------------
@pytest.mark.usefixtures("open_desks")
@pytest.mark.parametrize(("lang", "channel"), [("es", "sms"), ("en", "telegram")])
def test_skipping_every_question_still_offers_a_consultation(
    person: MakePerson, database: Database, lang: str, channel: str
) -> None:
    """SALTAR / "no sé" to every question: each is asked once, then the consultation is
    offered; yes → the next free times; "1" books the first, with the case's reference."""
    someone = person(FLOW, "dont_know", lang=lang, channel=channel)
    opening = sayings.MENU_WORDS[lang][FLOW][0]
    asked = walk(someone, opening, {"want": ACCEPT[lang], "slot": "1"}, SKIPS[lang])
    assert asked == [*QUESTIONS, "want", "slot"], transcript(someone.exchanges, 14)
    times = first_offer(someone)
    assert times, "no consultation times offered\n" + transcript(someone.exchanges)
    first = fold_for_sms(times[0]) if channel == "sms" else times[0]  # SMS: no accents
    assert any(first in t for t in someone.exchanges[-1].texts), (
        f"the booking does not name {first!r}\n" + transcript(someone.exchanges, 3)
    )
    case = last_case(someone)
    rows = [r for r in slots_of(database, case.desk_id) if r["booked"]]
    assert [r["ref"] for r in rows] == [case.ref], (case.desk_id, rows)


# -- no time free at the person's consulate ------------------------------------------------
def test_no_time_free_at_the_desk_offers_centrals_by_phone(
    person: MakePerson, database: Database
) -> None:
    """Houston's only time is booked by a first person; the next one from Houston (77036) is
    offered central's times by phone and books one; their case stays Houston's."""
    add_slots(database, "houston", 1)
    add_slots(database, "central", 2)
    answers = {"where": "77036", "slot": "1"}
    first = person(FLOW, "words", lang="es", channel="telegram")
    walk(first, "necesito un abogado", {**answers, "want": "si"}, SKIPS["es"])
    second = person(FLOW, "words", lang="en", channel="sms")
    walk(second, "can I get a lawyer?", {**answers, "want": "yes"}, SKIPS["en"])
    first_case, second_case = last_case(first), last_case(second)
    assert (first_case.desk_id, second_case.desk_id) == ("houston", "houston")
    assert all("Houston" in t for t in first_offer(first)), first_offer(first)
    times = first_offer(second)
    assert times and all(BY_PHONE["en"] in t for t in times), (
        "not offered central's times by phone\n" + transcript(second.exchanges, 3)
    )
    assert [(r["booked"], r["ref"]) for r in slots_of(database, "houston")] == [
        (True, first_case.ref)
    ]
    central = [r["ref"] for r in slots_of(database, "central") if r["booked"]]
    assert central == [second_case.ref], central


# -- CITA / CAMBIAR CITA / CANCELAR CITA ---------------------------------------------------
@pytest.mark.parametrize(("lang", "channel"), [("es", "sms"), ("en", "telegram")])
def test_appointment_commands_show_move_and_cancel(
    person: MakePerson, database: Database, lang: str, channel: str
) -> None:
    """CITA names the booking and the case; CAMBIAR CITA offers the other times and "2"
    moves it (the old time free again); CANCELAR CITA frees it. Each reply is one message,
    with no error and no unfilled text."""
    add_slots(database, "houston", 3)
    someone = person(FLOW, "digits", lang=lang, channel=channel)
    opening = "necesito un abogado" if lang == "es" else "can I get a lawyer?"
    walk(someone, opening, {"where": "77036", "want": "1", "slot": "1"}, SKIPS[lang])
    ref = last_case(someone).ref
    assert [(r["booked"], r["ref"]) for r in slots_of(database, "houston")] == [
        (True, ref),
        (False, None),
        (False, None),
    ]
    show_word, move_word, cancel_word = COMMANDS[lang]
    show = someone.send(show_word)
    assert any(ref in t for t in show.texts), transcript(someone.exchanges, 1)
    move = someone.send(move_word)
    assert len(offered(move)) == 2, "not offered the two other times\n" + transcript(
        someone.exchanges, 1
    )
    moved = someone.send("2")
    assert [r["booked"] for r in slots_of(database, "houston")] == [False, False, True], (
        "not moved to the third time\n" + transcript(someone.exchanges, 3)
    )
    assert slots_of(database, "houston")[2]["ref"] == ref
    cancel = someone.send(cancel_word)
    assert not any(r["booked"] for r in slots_of(database, "houston")), (
        "not cancelled\n" + transcript(someone.exchanges, 1)
    )
    problems = [p for e in (show, move, moved, cancel) for p in problems_of_a_reply(e, channel)]
    assert not problems, "\n".join(problems) + "\n" + transcript(someone.exchanges, 4)


# -- priority ------------------------------------------------------------------------------
PRIORITIES = [
    pytest.param(
        "es", {"court": "si", "court_date": "la proxima semana"}, "high", id="es-court-next-week"
    ),
    pytest.param("en", {"court": "yes", "court_date": "in two weeks"}, "high", id="en-court-14d"),
    pytest.param("es", {"removal": "si, me deportaron"}, "high", id="es-removal-order"),
    pytest.param("en", {"arrest": "yes, a case is open now"}, "high", id="en-open-criminal-case"),
    pytest.param(
        "es",
        {
            "years": "mas de 10",
            "removal": "no",
            "arrest": "hace años",
            "court": "si",
            "court_date": "en 3 semanas",
            "children": "si",
            "status": "daca",
            "where": "77036",
        },
        "normal",
        id="es-court-in-3-weeks",
    ),
    pytest.param("en", {"removal": "no", "arrest": "no", "court": "no"}, "normal", id="en-none"),
]


@pytest.mark.parametrize(("lang", "answers", "priority"), PRIORITIES)
def test_the_case_priority_follows_the_answers(
    person: MakePerson, lang: str, answers: dict[str, str], priority: str
) -> None:
    """A court date within two weeks, a removal order or an open criminal case → high;
    otherwise normal (as stored in the database)."""
    someone = person(FLOW, "words", lang=lang, channel="telegram")
    opening = sayings.MENU_WORDS[lang][FLOW][0]
    walk(someone, opening, {**answers, "want": "no"}, SKIPS[lang])
    case = last_case(someone)
    assert case.priority == priority, (case.priority, case.reasons, case.answers)


# -- encryption at rest ------------------------------------------------------------------------
SENSITIVE = {
    "years": "llevo 15 años aqui en Texas",
    "removal": "si, me deportaron en 2015 por Laredo",
    "arrest": "tengo un caso abierto en Harris",
    "court": "si tengo corte",
    "court_date": "la proxima semana",
    "children": "si, dos niños nacidos aqui",
    "status": "meti mi asilo hace tres años",
    "where": "Houston 77036",
    "want": "no",
}


def raw_case_row(database: Database, ref: str) -> dict[str, str]:
    """The case's row as the database holds it (no ORM types): each column as text."""
    with database.read() as session:
        row = (
            session.connection()
            .execute(text('SELECT * FROM "case" WHERE ref = :ref'), {"ref": ref})
            .mappings()
            .one()
        )
    return {name: _as_text(value) for name, value in row.items()}


def _as_text(value: object) -> str:
    if isinstance(value, memoryview):
        value = bytes(value)
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def clear_in(row: Mapping[str, str], needles: Sequence[str]) -> list[str]:
    return [
        f"{name} holds {needle!r}: {value[:300]!r}"
        for name, value in row.items()
        for needle in needles
        if needle.lower() in value.lower()
    ]


def answered_screening(person: MakePerson) -> tuple[Person, Case]:
    someone = person(FLOW, "words", lang="es", channel="telegram")
    walk(someone, "necesito un abogado", SENSITIVE, SKIPS["es"])
    return someone, last_case(someone)


def test_screening_words_are_not_stored_in_clear(person: MakePerson, database: Database) -> None:
    """The raw row of the case holds none of the person's words, nor the court date."""
    _, case = answered_screening(person)
    said = [t for t in SENSITIVE.values() if len(t.split()) >= 3]
    court = (case.answers or {}).get("court_date") or {}
    kept = [t for t in said if t in (case.summary or "")]
    assert court.get("date") and kept == said, (case.summary, case.answers)  # on the case
    needles = [*said, "deportaron", "asilo", "caso abierto", "Laredo", court["date"]]
    found = clear_in(raw_case_row(database, case.ref), needles)
    assert not found, "\n".join(found)


def test_what_the_person_answered_is_not_told_in_clear(
    person: MakePerson, database: Database
) -> None:
    """Nor does the row tell what they answered: no screening answer (a removal order, an
    arrest, a court date, …) named in any column."""
    _, case = answered_screening(person)
    needles = [
        *("years_in_us", "removal_order", "arrest", "court_date", "us_children"),
        *("removal order", "criminal case", "court date"),
    ]
    found = clear_in(raw_case_row(database, case.ref), needles)
    assert not found, "\n".join(found)


# -- answers said in a sentence ---------------------------------------------------------------
_READ: Final = (
    ("es", "removal", "no, nunca me han deportado, siempre he estado aqui", "no"),
    ("es", "removal", "si, me deportaron en 2015 y me regrese", "yes"),
    ("es", "arrest", "una vez me pararon manejando sin licencia hace años", "past"),
    ("es", "arrest", "prefiero no decir eso por mensaje, disculpe", "private"),
    ("es", "court", "si tengo corte, me llego una carta de la corte", "yes"),
    ("es", "children", "no, mis hijos estan en Mexico con mi mama", False),
    ("es", "status", "meti mi asilo hace tres años y sigo esperando", "pending"),
    ("es", "status", "no tengo nada de papeles, ni permiso de trabajo", "none"),
    ("en", "years", "I only have one year here, I came with my kids", "lt2"),
    ("en", "removal", "no, I was never deported, I have always been here", "no"),
    ("en", "arrest", "once they stopped me driving without a license years ago", "past"),
    ("en", "children", "yes I have two kids who were born here in Texas", True),
    ("en", "status", "I applied for asylum and I am still waiting", "pending"),
    ("es", "years", "ya llevo como 15 años aqui", "gt10"),
    ("es", "years", "apenas tengo un año aqui", "lt2"),
    ("en", "years", "I have been here about 15 years", "gt10"),
    ("es", "court", "no tengo ninguna cita, nunca me han llamado", "no"),
    ("en", "court", "yes I have court, I got a letter from immigration court", "yes"),
    ("en", "court", "no I have no hearing, nobody ever called me", "no"),
    ("en", "status", "I have no papers at all, not even a work permit", "none"),
)
READINGS = [pytest.param(*row, id=f"{row[0]}-{row[1]}-{n}") for n, row in enumerate(_READ)]


@pytest.mark.parametrize(("lang", "step", "said", "meant"), READINGS)
def test_an_answer_in_a_sentence_is_read_as_meant(
    person: MakePerson, lang: str, step: str, said: str, meant: object
) -> None:
    """What the screening saves from a sentence is what the person said: a misread
    removal order or arrest changes the case's priority."""
    someone = person(FLOW, "story", lang=lang, channel="telegram")
    walk(someone, sayings.MENU_WORDS[lang][FLOW][0], {}, SKIPS[lang], until=step)
    question = someone.question()
    assert question.step is not None
    turn = someone.send(Said(said, free=True))
    saved = turn.state.get("answers", {}).get(question.step.save_as, "(not saved)")
    assert saved == meant, transcript(someone.exchanges, 2)


# -- naming a time in one's own words --------------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "template"),
    [
        pytest.param("es", "la {n} porfa", id="es-number"),
        pytest.param("es", "el {weekday} a las {time}", id="es-weekday"),
        pytest.param("en", "the {n} please", id="en-number"),
    ],
)
def test_a_person_who_names_the_time_gets_it(
    person: MakePerson, database: Database, lang: str, template: str
) -> None:
    """ "la 2 porfa", "el jueves a las 10": the time named is booked."""
    add_slots(database, "houston", 3)
    someone = person(FLOW, "story", lang=lang, channel="telegram")
    opening = sayings.MENU_WORDS[lang][FLOW][0]
    walk(someone, opening, {"where": "77036", "want": ACCEPT[lang]}, SKIPS[lang], until="slot")
    labels = someone.question().labels
    someone.send(Said(naming_a_time(template, labels[1], 2, lang), free=True))
    rows = slots_of(database, "houston")
    assert [r["booked"] for r in rows] == [False, True, False], transcript(someone.exchanges, 2)
