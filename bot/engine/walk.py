"""Walking a flow: entering steps (messages, branches, prefilled answers, the privacy gate),
asking questions, reading answers (never the same question more than twice in a row), and
keeping the report's case up to date (`save_report`: opened early, case first; `open_case`
at the end step ends its intake)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from bot.engine import keys, prompts
from bot.engine.extract import prefill
from bot.engine.flows import FlowSpec, StepSpec
from bot.engine.match import match_choice, parse_yes_no
from bot.engine.model import Option, Reply, SaveReport
from bot.engine.parsers import (
    parse_a_number,
    parse_amount,
    parse_dob,
    parse_future_date,
    parse_location,
    parse_number,
    parse_phone,
    parse_time,
)
from bot.engine.text import NOTHING, has_content, is_skip
from bot.engine.turn import Turn
from bot.types import Priority

MAX_HOPS: Final = 100
MAX_TEXT: Final = 4000
INPUT: Final = frozenset(keys.INPUT_KINDS)
NARRATIVE: Final = ("text", "details")  # the person's own words: the first message, the story
NOTES: Final = "notes"  # answers no step could read, kept word for word for staff
ASKS: Final = 2  # a question is asked at most this many times in a row
STORY_WORDS: Final = 3  # an answer this long may carry more than the question asked
# Answers that may carry other facts ("ahorita en el 77036, se llevaron a 3"); dates of
# birth, phone and A-numbers are read for what they are and nothing else.
_MAY_SAY_MORE: Final = frozenset({"choice", "yes_no", "time", "location", "media", "number"})


@dataclass(frozen=True, slots=True)
class Parsed:
    """A readable answer: the value to save and the branch it takes."""

    value: Any
    branch: str | None = None
    skipped: bool = False


def start_flow(turn: Turn, spec: FlowSpec, answers: dict[str, Any]) -> None:
    """Begin `spec` with `answers` already known (the person's words, prefilled values)."""
    turn.update(flow=spec.id, step=spec.start, answers=answers, history=(), misses=0, pending=None)
    enter(turn, spec, spec.start)


def enter(turn: Turn, spec: FlowSpec, step_id: str | None) -> None:
    """Run from `step_id` until a question is asked or the flow ends."""
    for _ in range(MAX_HOPS):
        step = spec.steps.get(step_id or "")
        if step is None:
            break
        if _gated(turn, spec, step):
            turn.update(flow=spec.id, step=step.id, pending="privacy", misses=0)
            show_pending(turn, "privacy")
            return
        if step.kind == "message":
            for key in step.say:
                turn.say(key)
            step_id = step.next
        elif step.kind == "branch":
            step_id = (
                step.branches.get(_branch_key(turn.state.answers.get(step.on or ""))) or step.next
            )
        elif step.kind == "end":
            open_case(turn, spec, step)
            return
        elif step.kind == "done":
            for key in step.say:
                turn.say(key)
            turn.menu(keys.MENU_AGAIN)
            return
        elif _known(turn, step):
            if step.kind == "location" and ask_state(turn, step.save_as or step.id):
                turn.update(flow=spec.id, step=step.id, history=(*turn.state.history, step.id))
                return  # "la migra está en Hillsboro": which Hillsboro, before going on
            step_id = next_step(step, _branch_of(step, turn.state.answers.get(step.save_as or "")))
        elif step.kind == "appointment":
            from bot.engine import slots  # slots walks on through this module

            step_id = slots.enter(turn, spec, step)
            if step_id is None:
                return
        else:
            turn.update(flow=spec.id, step=step.id, pending=None)
            turn.replies.extend(prompts.question(turn.flows, step, turn.lang))
            return
    turn.menu()


def _gated(turn: Turn, spec: FlowSpec, step: StepSpec) -> bool:
    if turn.state.privacy_accepted:
        return False
    return step.privacy or step.kind == "end" or (spec.privacy and step.id == spec.start)


def _known(turn: Turn, step: StepSpec) -> bool:
    """True when the answer was given up front (prefilled) and the step was never asked."""
    if step.id in turn.state.history:
        return False
    answers = turn.state.answers
    return (step.save_as or "") in answers or any(answers.get(k) for k in step.skip_if)


def _branch_key(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("when")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).lower()


def _branch_of(step: StepSpec, value: Any) -> str | None:
    if step.kind == "choice":
        return value if isinstance(value, str) else None
    if step.kind in ("yes_no", "consent") and isinstance(value, bool):
        return "yes" if value else "no"
    return None


def next_step(step: StepSpec, branch: str | None) -> str | None:
    """Where an answer leads: the option's or branch's target, else the step's next."""
    if branch is not None:
        for option in step.options:
            if option.value == branch and option.next:
                return option.next
        if branch in step.branches:
            return step.branches[branch]
    return step.next


def answer(turn: Turn) -> None:
    """Read the person's message as the answer to the current step."""
    spec = turn.flows.specs.get(turn.state.flow or "")
    step = spec.steps.get(turn.state.step or "") if spec else None
    if spec is None or step is None or step.kind not in INPUT:
        turn.menu()
        return
    if step.kind == "appointment":
        from bot.engine import slots

        slots.read(turn, spec, step)
        return
    parsed = parse(turn, spec, step)
    if parsed is None and step.reroute:
        step = spec.steps[step.reroute]
        parsed = parse(turn, spec, step)
        if parsed is None or parsed.skipped:
            step = spec.steps[turn.state.step or ""]
    if parsed is None or (parsed.skipped and not step.optional and step.kind != "media"):
        step_miss(turn, spec, step, skipped=parsed is not None)
        return
    if len(turn.text.split()) >= STORY_WORDS and not _verbatim(step, parsed):
        keep_note(turn, step.id)  # "es mi hermano, lo agarraron saliendo del trabajo"
    answers = {**turn.state.answers, step.save_as or step.id: parsed.value}
    if len(turn.text.split()) >= STORY_WORDS and step.kind in _MAY_SAY_MORE:
        # Several facts in one message ("fue ahorita en el 77036, se llevaron a 3"): later
        # questions already answered are not asked.
        found = prefill(turn.flows, spec, turn.text, {}, turn.ctx.now)
        answers = {**found, **answers}
    turn.update(answers=answers, history=(*turn.state.history, step.id), misses=0)
    if step.kind == "location" and ask_state(turn, step.save_as or step.id):
        return
    enter(turn, spec, next_step(step, parsed.branch))


PLACE_STATE: Final = "place_state"
"""The pending question "which state?" after a town several states have."""


def ask_state(turn: Turn, key: str) -> bool:
    """The place just saved under `key` is a town of several states and nothing said which:
    ask which (the states become its options) and return True; the flow goes on after."""
    place = turn.state.answers.get(key)
    places = turn.ctx.places
    if places is None or not isinstance(place, dict) or set(place) != {"raw"}:
        return False  # a ZIP, a shared point, or nothing
    states = [list(pair) for pair in places(str(place["raw"]))]
    if len(states) < 2:
        return False
    answers = {**turn.state.answers, key: {**place, "states": states}}
    turn.update(answers=answers, pending=f"{PLACE_STATE}:{key}", misses=0)
    show_pending(turn, turn.state.pending or "")
    return True


def state_options(turn: Turn, key: str) -> tuple[Option, ...]:
    """The states offered for the place saved under `key`, as options."""
    place = turn.state.answers.get(key)
    states = place.get("states", ()) if isinstance(place, dict) else ()
    return tuple(Option(str(name), str(code)) for code, name in states)


def step_miss(turn: Turn, spec: FlowSpec, step: StepSpec, *, skipped: bool) -> None:
    """An answer the step cannot read. Keep the words; ask once more, never a third time:
    the second time the words stay as a note and the flow moves on (a required question
    also offers a person)."""
    if has_content(turn.text) and (not skipped or len(turn.text.split()) >= STORY_WORDS):
        keep_note(turn, step.id)
    if turn.state.misses + 1 < ASKS:
        turn.update(misses=turn.state.misses + 1)
        turn.replies.append(prompts.retry(turn.flows, step, turn.lang, skipped))
        return
    if not step.optional:
        turn.say(keys.OFFER_HUMAN)
    turn.update(history=(*turn.state.history, step.id), misses=0)
    enter(turn, spec, next_step(step, None))


def _verbatim(step: StepSpec, parsed: Parsed) -> bool:
    """True when the answer was saved word for word (a story, a description)."""
    return step.kind == "text" or (step.kind == "media" and not parsed.skipped)


def keep_note(turn: Turn, step_id: str) -> None:
    """Keep an answer no step could read, word for word, for the case."""
    notes = [*turn.state.answers.get(NOTES, ()), {"step": step_id, "text": turn.text[:MAX_TEXT]}]
    turn.update(answers={**turn.state.answers, NOTES: notes})


def exact_option(turn: Turn) -> bool:
    """True when the message is exactly an option of the current choice (over a command)."""
    step = turn.flows.step(turn.state.flow, turn.state.step)
    if step is None or step.kind != "choice" or turn.state.pending:
        return False
    choices = turn.flows.choices[(turn.state.flow or "", step.id)]
    return any(turn.norm in c.phrases for c in choices)


def parse(turn: Turn, spec: FlowSpec, step: StepSpec) -> Parsed | None:
    """The answer `step` reads in the message, a skip, or None when it does not fit."""
    text, norm, kind = turn.text, turn.norm, step.kind
    if kind == "media":
        if turn.inbound.media:
            return Parsed([{"ref": m.ref, "type": m.content_type} for m in turn.inbound.media])
        if not has_content(text):
            return None
        short = len(norm.split()) < STORY_WORDS
        if short and (is_skip(norm) or norm in NOTHING or parse_yes_no(norm) is not None):
            return Parsed(None, skipped=True)
        # No photo but words ("no tengo fotos, se llevaron a dos"): they describe what happened.
        return Parsed([{"description": text[:MAX_TEXT]}])
    if kind in ("yes_no", "consent"):
        said = parse_yes_no(norm)
        if said is None:
            return None
        return Parsed(None, skipped=True) if said == "skip" else Parsed(said == "yes", said)
    if kind == "location" and turn.inbound.location is not None:
        return Parsed(parse_location(text, norm, turn.inbound.location))
    if not has_content(text):
        return None
    if kind == "choice":
        value = match_choice(turn.flows.choices[(spec.id, step.id)], norm) or _in_range(step, norm)
        if value is not None:
            return Parsed(value, value)
    if is_skip(norm) or (kind == "text" and step.optional and norm in NOTHING):
        return Parsed(None, skipped=True)
    return _typed(turn, step)


def _in_range(step: StepSpec, norm: str) -> str | None:
    """The option whose range holds the number said ("llevo como 15 años" → more than 10)."""
    if not any(o.range for o in step.options):
        return None
    said = parse_number(norm)
    for option in step.options:
        if said is not None and option.range and option.range[0] <= said <= option.range[1]:
            return option.value
    return None


def _typed(turn: Turn, step: StepSpec) -> Parsed | None:
    text, norm, now = turn.text, turn.norm, turn.ctx.now
    value: Any
    if step.kind == "text":
        value = text[:MAX_TEXT]
    elif step.kind == "number":
        value = parse_number(norm, step.low, step.high)
        if value is None:
            value = parse_amount(text, norm)
    elif step.kind == "location":
        value = parse_location(text, norm, None)
    elif step.kind == "time":
        value = parse_time(text, norm, now, day_first=turn.lang == "es")
    elif step.kind == "phone":
        value = parse_phone(text, norm)
    elif step.kind == "dob":
        value = parse_dob(text, norm, now, turn.lang)
    elif step.kind == "a_number":
        value = parse_a_number(text, norm)
    elif step.kind == "date":
        value = parse_future_date(text, norm, now, day_first=turn.lang == "es")
    else:
        value = None
    return None if value is None else Parsed(value)


def pending_miss(turn: Turn, retry: Reply) -> bool:
    """An unreadable answer to a pending question: ask once more and return True, or
    return False when it was already asked twice (the caller then moves on)."""
    if turn.state.misses + 1 < ASKS:
        turn.update(misses=turn.state.misses + 1)
        turn.replies.append(retry)
        return True
    turn.update(misses=0, pending=None)
    return False


def open_case(turn: Turn, spec: FlowSpec, step: StepSpec) -> None:
    """Finish a report: its case leaves intake (or opens now), the closing words, idle."""
    ref = save_report(turn, spec, done=True)
    for key in step.say:
        turn.say(key)
    turn.say(keys.CASE_OPENED, ref=ref)
    turn.go_idle()
    turn.update(last_ref=ref, case_ref=None, critical=False)


def save_report(
    turn: Turn,
    spec: FlowSpec,
    *,
    done: bool = False,
    floor: Priority | None = None,
    withdrawn: bool = False,
) -> str:
    """Emit the report as it stands (opening its case the first time); return its ref."""
    state = turn.state
    ref = state.case_ref or turn.ctx.new_ref
    answers = {**state.answers, "flow": spec.id, "lang": turn.lang}
    turn.emit(
        SaveReport(
            ref=ref,
            flow=spec.id,
            intent=spec.intent,
            answers=answers,
            text=report_text(answers),
            step=None if done else state.step,
            done=done,
            anonymous=not state.privacy_accepted,
            floor=floor or ("critical" if state.answers.get("danger_now") is True else None),
            withdrawn=withdrawn,
        )
    )
    turn.update(case_ref=ref, last_ref=ref)
    return ref


def stop_report(turn: Turn) -> bool:
    """The person leaves a report half-way (cancel, menu, a new topic). Its case, if open,
    leaves intake: with what they said when they said something, withdrawn when they said
    nothing. True when the case keeps their words."""
    state = turn.state
    spec = turn.flows.specs.get(state.flow or "")
    if spec is None or not spec.case_first or state.case_ref is None:
        return False
    told = {k for k, v in state.answers.items() if v not in (None, "", [], {})}
    kept = bool(told - {"safe"})
    save_report(turn, spec, done=True, withdrawn=not kept)
    return kept


def report_text(answers: Mapping[str, Any]) -> str:
    """Everything the person said in their own words: the story and the kept notes."""
    said = [x for x in (answers.get(k) for k in NARRATIVE) if isinstance(x, str) and x]
    said += [n["text"] for n in answers.get(NOTES, ()) if isinstance(n, dict) and n.get("text")]
    for item in answers.get("evidence_media") or ():
        if isinstance(item, dict) and item.get("description"):
            said.append(str(item["description"]))
    return "\n".join(dict.fromkeys(said))


def resume(turn: Turn) -> None:
    """Ask again whatever the conversation is waiting for."""
    step = turn.flows.step(turn.state.flow, turn.state.step)
    if turn.state.pending:
        show_pending(turn, turn.state.pending)
    elif step is not None and step.kind == "appointment":
        from bot.engine import slots

        spec = turn.flows.specs[turn.state.flow or ""]
        if not slots.ask(turn, spec, step):
            turn.update(history=(*turn.state.history, step.id))
            enter(turn, spec, step.next)
    elif step is not None and step.kind in INPUT:
        turn.replies.extend(prompts.question(turn.flows, step, turn.lang))
    else:
        turn.menu()


def show_pending(turn: Turn, pending: str) -> None:
    """Show the prompt of a pending question (privacy, erase, status, language)."""
    catalog, lang = turn.flows.catalog, turn.lang
    kind = pending
    if kind.startswith("privacy"):
        turn.say(
            keys.PRIVACY_NOTICE,
            (Option(turn.t(keys.ACCEPT), "yes"), Option(turn.t(keys.DECLINE), "no")),
        )
    elif kind == "erase":
        turn.say(
            keys.ERASE_CONFIRM,
            (Option(turn.t(keys.ERASE_YES), "yes"), Option(turn.t(keys.NO), "no")),
        )
    elif kind == "status":
        turn.say(keys.STATUS_ASK)
    elif kind.startswith(PLACE_STATE):
        turn.say(keys.PLACE_STATE, state_options(turn, kind.partition(":")[2]))
    else:
        turn.say(keys.LANG_CHOOSE, prompts.options(catalog, "language", lang))
