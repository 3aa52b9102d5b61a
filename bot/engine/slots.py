"""Consultation appointments in a conversation: the `appointment` step (offer the next free
slots, read the person's pick, book it — a slot taken a moment ago is answered with the next
ones) and the commands `cita`, `cambiar cita`, `cancelar cita`.

The slots themselves come through `Context.appointments` (the service's port over the
database); without one (a flow test with no service) the step says no slot is free and moves
on, as it does when a desk has none: staff then call the person to set a time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from bot.engine import keys, walk
from bot.engine.flows import FlowSpec, StepSpec
from bot.engine.match import option_number
from bot.engine.model import Booking, Option, Reply, SlotOffer
from bot.engine.parsers import WEEKDAYS
from bot.engine.text import has_content, is_skip, normalize, words
from bot.engine.turn import Turn
from bot.i18n import Catalog
from bot.types import Lang

OFFERED: Final = "_offered"  # the slots last shown, so "2" means the second of them
MOVE_FLOW: Final = "appointment"  # the small flow that picks a new time for a booked case
SCREENING_FLOW: Final = "screening"
NONE_FIT: Final = words(
    "ninguno, ninguna, ninguno me sirve, no puedo, otro horario, otra hora, otro dia, none,"
    "none of them, no, other time, another time, cant, can't, no me sirve, ninguno sirve,"
    "none of these work, none of these, ninguno me queda, no me queda"
)
_NONE_STARTS: Final = words(
    "ninguno, ninguna, none of, no puedo, no me sirve, no me queda, i cant, i can t, cannot"
)


def format_slot(catalog: Catalog, lang: Lang, slot: SlotOffer) -> str:
    """ "mar 1 dic, 10:30 (consulado en Houston)" / "Tue Dec 1, 10:30 am (by phone)"."""
    at = slot.at
    if lang == "es":
        clock = f"{at.hour}:{at.minute:02d}"
    else:
        clock = f"{(at.hour - 1) % 12 + 1}:{at.minute:02d} {'am' if at.hour < 12 else 'pm'}"
    place = (
        catalog.t(keys.SLOT_BY_PHONE, lang)
        if slot.remote
        else catalog.t(keys.SLOT_AT_CONSULATE, lang, desk=slot.place)
    )
    return catalog.t(
        keys.SLOT_LABEL,
        lang,
        weekday=catalog.t(f"weekday.{at.weekday()}", lang),
        day=at.day,
        month=catalog.t(f"month.{at.month}", lang),
        time=clock,
        place=place,
    )


def slot_label(turn: Turn, slot: SlotOffer) -> str:
    """A slot in the person's language."""
    return format_slot(turn.flows.catalog, turn.lang, slot)


def ask(turn: Turn, spec: FlowSpec, step: StepSpec, lead: Sequence[str] = ()) -> bool:
    """Offer the next free slots; False (after saying so) when there are none."""
    port = turn.ctx.appointments
    offers = port.offer(turn.state.case_ref, turn.state.answers) if port else ()
    if not offers:
        for key in lead:
            turn.say(key)
        turn.say(keys.SLOT_NONE)
        return False
    shown = [{"id": o.id, "label": slot_label(turn, o), "at": o.at.isoformat()} for o in offers]
    options = (
        *(Option(str(s["label"]), f"slot_{s['id']}") for s in shown),
        Option(turn.t(keys.SLOT_NONE_FIT), "none"),
    )
    turn.update(
        flow=spec.id,
        step=step.id,
        pending=None,
        answers={**turn.state.answers, OFFERED: shown},
    )
    for key in lead:
        turn.say(key)
    texts = [turn.t(k) for k in step.say]
    turn.replies.append(Reply("\n".join(texts), options))
    return True


def read(turn: Turn, spec: FlowSpec, step: StepSpec) -> None:
    """The person's pick among the offered slots: book it, or offer the next ones."""
    shown: list[Mapping[str, Any]] = list(turn.state.answers.get(OFFERED) or ())
    picked = pick(shown, turn.norm) if has_content(turn.text) else None
    if picked is None and is_skip(turn.norm):
        picked = "none"
    if picked is not None and len(turn.text.split()) >= walk.STORY_WORDS:
        walk.keep_note(turn, step.id)  # "el jueves a las 10, tengo miedo de que me deporten"
    if picked is None:
        _miss(turn, spec, step, shown)
        return
    if picked == "none":
        turn.say(keys.SLOT_LATER)
        _moved_on(turn, spec, step, {"wanted": True, "booked": False})
        return
    slot_id = int(picked.removeprefix("slot_"))
    label = next(str(s["label"]) for s in shown if s["id"] == slot_id)
    port, ref = turn.ctx.appointments, turn.state.case_ref
    if port is None or ref is None or not port.book(ref, slot_id):
        # Someone took it a moment ago: the next free ones, without counting a miss.
        if not ask(turn, spec, step, lead=(keys.SLOT_TAKEN,)):
            turn.say(keys.SLOT_LATER)
            _moved_on(turn, spec, step, {"wanted": True, "booked": False})
        return
    turn.say(keys.SLOT_BOOKED, when=label)
    _moved_on(turn, spec, step, {"wanted": True, "booked": True, "slot": slot_id, "at": label})


_TIME = re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a m|p m)?\b")


def pick(shown: Sequence[Mapping[str, Any]], norm: str) -> str | None:
    """Which offered slot a message means: its number ("2", "la 2 porfa", "number 1
    please"), its label, or its weekday and time ("el jueves a las 10"); "none" for none
    of them. None when it is not clear."""
    values = [f"slot_{s['id']}" for s in shown]
    number = option_number(norm)
    if number is not None:
        return [*values, "none"][number - 1] if 1 <= number <= len(values) + 1 else None
    if norm in NONE_FIT or any(norm.startswith(f"{p} ") for p in _NONE_STARTS):
        return "none"
    for value, slot in zip(values, shown, strict=True):
        if norm == normalize(str(slot["label"])):
            return value
    tokens = norm.split()
    days = {WEEKDAYS[t] for t in tokens if t in WEEKDAYS}
    hours = set()
    for found in _TIME.finditer(norm):
        hour = int(found.group(1))
        if found.group(3) and found.group(3).replace(" ", "") == "pm" and hour < 12:
            hour += 12
        hours.add(hour)
    if days:
        fits = [
            v
            for v, s in zip(values, shown, strict=True)
            if _local(s).weekday() in days
            and (not hours or _local(s).hour in hours or _local(s).hour - 12 in hours)
        ]
        if len(fits) == 1:
            return fits[0]
    small = {int(t) for t in tokens if t.isdigit() and 1 <= int(t) <= len(values)}
    if len(small) == 1 and not days:
        return values[small.pop() - 1]
    return None


def _local(slot: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(slot["at"]))


def _miss(turn: Turn, spec: FlowSpec, step: StepSpec, shown: Sequence[Mapping[str, Any]]) -> None:
    """Not one of the times: ask once more with the same times, then leave it to staff."""
    if has_content(turn.text):
        walk.keep_note(turn, step.id)
    if turn.state.misses + 1 < walk.ASKS:
        turn.update(misses=turn.state.misses + 1)
        options = (
            *(Option(str(s["label"]), f"slot_{s['id']}") for s in shown),
            Option(turn.t(keys.SLOT_NONE_FIT), "none"),
        )
        turn.replies.append(Reply(turn.t(keys.RETRY["appointment"]), options))
        return
    turn.say(keys.SLOT_LATER)
    _moved_on(turn, spec, step, {"wanted": True, "booked": False})


def _moved_on(turn: Turn, spec: FlowSpec, step: StepSpec, value: Mapping[str, Any]) -> None:
    answers = {k: v for k, v in turn.state.answers.items() if k != OFFERED}
    answers[step.save_as or step.id] = dict(value)
    turn.update(answers=answers, history=(*turn.state.history, step.id), misses=0)
    walk.enter(turn, spec, step.next)


def enter(turn: Turn, spec: FlowSpec, step: StepSpec) -> str | None:
    """Entering the step: offer slots, or (none free) record that and return the next step."""
    if ask(turn, spec, step):
        return None
    turn.say(keys.SLOT_LATER)
    answers = {**turn.state.answers, step.save_as or step.id: {"wanted": True, "booked": False}}
    turn.update(answers=answers, history=(*turn.state.history, step.id))
    return step.next


def show(turn: Turn) -> None:
    """`cita`: the booked consultation, or the way to get one."""
    port = turn.ctx.appointments
    booking = port.current() if port else None
    if booking is None:  # none booked: choose a time for the last one, or begin
        _start(turn, port.last() if port else None)
        return
    turn.say(keys.APPOINTMENT_SHOW, when=slot_label(turn, booking.slot), ref=booking.ref)
    _resume(turn)


def move(turn: Turn) -> None:
    """`cambiar cita`: pick another time for the booked (or last) consultation."""
    port = turn.ctx.appointments
    _start(turn, (port.current() or port.last()) if port else None)


def cancel(turn: Turn) -> None:
    """`cancelar cita`: cancel the booked consultation (the case stays with staff)."""
    port = turn.ctx.appointments
    booking = port.cancel() if port else None
    if booking is None:
        turn.say(keys.APPOINTMENT_NONE)
        if turn.state.flow == MOVE_FLOW:  # choosing a new time, then "cancel": stop here
            turn.menu(keys.MENU_PROMPT)
            return
    else:
        turn.say(keys.APPOINTMENT_CANCELLED, when=slot_label(turn, booking.slot), ref=booking.ref)
    _resume(turn)


def _resume(turn: Turn) -> None:
    """Back to the question the person was answering, if any."""
    if turn.state.flow or turn.state.pending:
        walk.resume(turn)


def screen(turn: Turn) -> None:
    """`riesgo` / `abogado` / "me pueden deportar?": begin the screening (leaving any
    report, its words kept); a question of three words or more stays on the case."""
    said = turn.text if len(turn.text.split()) >= walk.STORY_WORDS else None
    _start(turn, None)
    if said and turn.state.flow == SCREENING_FLOW:
        turn.update(answers={**turn.state.answers, "text": said})


def _start(turn: Turn, booking: Booking | None) -> None:
    """Choose a time for an existing case, or (no case yet) begin the screening; in the
    middle of the screening, go on with it (it ends by offering the times)."""
    if booking is None and turn.state.flow == SCREENING_FLOW:
        walk.resume(turn)
        return
    walk.stop_report(turn)
    turn.go_idle()
    if booking is None:
        spec = turn.flows.specs[SCREENING_FLOW]
        walk.start_flow(turn, spec, {})
        return
    spec = turn.flows.specs[MOVE_FLOW]
    turn.update(case_ref=booking.ref)
    walk.start_flow(turn, spec, {})
