"""The pure conversation runner: `advance(flows, state, inbound, ctx) -> Step`.

Order of reading a message: expiry (a kind restart after `ctx.expire_after` of silence),
danger (911 / 988 before anything else), a shared location with no words (an alert), media,
global commands, a pending confirmation,
the current flow step, and finally the idle main menu or free text, which the injected
classifier (or a keyword fallback) turns into a flow with what was said already filled in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from bot.engine import commands, keys, prompts, walk
from bot.engine.extract import danger, guess_intent, legal_risk, prefill, urgent_event
from bot.engine.flows import Flows
from bot.engine.match import match_choice, option_number, parse_yes_no
from bot.engine.model import (
    AttachEvidence,
    Context,
    ConversationState,
    Hints,
    Inbound,
    Reply,
    SaveReport,
    Step,
)
from bot.engine.text import has_content, words
from bot.engine.turn import KEPT, Turn
from bot.i18n import detect_language

FLOW_FOR: Final[dict[str, str]] = {
    "raid": "raid",
    "detention": "detention",
    "harassment": "harassment",
    "documents": "documents",
    "programs": "programs",
    "screening": "screening",
}
GREETINGS: Final = words(
    "hola, ola, holi, hi, hello, hey, buenas, buenos dias, buenas tardes, buenas noches,"
    "good morning, good afternoon, saludos, que tal, hola buenas, buen dia, alo, bueno"
)
THANKS: Final = words(
    "gracias, muchas gracias, thanks, thank you, ok gracias, gracias ok, mil gracias,"
    "thank you so much, ty, grax, dios le bendiga, god bless"
)
NOT_SCREENING: Final = frozenset({"harassment", "status"})
_MENU_WORDS: Final = 4  # longer messages are read as free text, not as a menu pick
_SHORT: Final = 2  # a message this short is a word or two, rarely a report


def advance(flows: Flows, state: ConversationState, inbound: Inbound, ctx: Context) -> Step:
    """Move the conversation one message forward (pure: no I/O, no clock)."""
    turn = Turn(flows, ctx, inbound, state)
    first = state.last_activity is None
    if first and not state.lang_chosen:
        turn.update(lang=detect_language(turn.text, inbound.lang_hint))
    expired = _expired(state, ctx)
    if expired:
        turn.go_idle()
    _safety(turn)
    if _alert_by_location(turn):
        return turn.finish()
    if _media(turn):
        return turn.finish()
    name = commands.detect(turn)
    if name is not None and walk.exact_option(turn):
        name = None  # "ayuda" at a step offering "Necesito ayuda" is that option
    if name is not None:
        if expired:
            turn.say(keys.EXPIRED)
        if name == "menu" and first:
            turn.menu(keys.MENU_GREETING)
        else:
            commands.run(turn, name)
    elif not (turn.state.pending and commands.pending(turn)):
        # not a pending question's answer (or it gave the message back as a new one)
        if turn.state.flow:
            walk.answer(turn)
        else:
            _idle(turn, first, expired)
    _sync_case(turn, state)
    return turn.finish()


def _sync_case(turn: Turn, before: ConversationState) -> None:
    """Case first: a report's case opens with the first message that tells it and follows
    every answer. Before the privacy notice is accepted only a critical report opens one,
    and it holds no words (the service keeps intent, priority, desk and a coarse place)."""
    state = turn.state
    spec = turn.flows.specs.get(state.flow or "")
    if spec is None or not spec.case_first or state.pending == commands.PRIVACY_LATER:
        return
    if any(isinstance(e, SaveReport) for e in turn.effects):
        return  # the report was finished or alerted this turn
    if not (state.privacy_accepted or state.critical):
        return
    moved = (state.answers, state.step) != (before.answers, before.step)
    if state.case_ref and not moved and before.privacy_accepted == state.privacy_accepted:
        return  # nothing new to store
    fresh = state.case_ref is None
    ref = walk.save_report(turn, spec)
    if fresh and state.critical:
        # Before the question, so the turn stays one message (options close a message).
        asking = next((i for i, r in enumerate(turn.replies) if r.options), len(turn.replies))
        turn.replies.insert(asking, Reply(turn.t(keys.CASE_STARTED, ref=ref)))


def _expired(state: ConversationState, ctx: Context) -> bool:
    if not state.last_activity or not (state.flow or state.pending or state.answers):
        return False
    try:
        last = datetime.fromisoformat(state.last_activity)
    except ValueError:
        return True
    return ctx.now - last > ctx.expire_after


def _safety(turn: Turn) -> None:
    found = danger(turn.norm)
    if found == "crisis":
        turn.say(keys.CRISIS)
    elif found == "emergency":
        turn.say(keys.EMERGENCY)
        turn.update(critical=True)


def _alert_by_location(turn: Turn) -> bool:
    """A shared location with no words, where no question asks for a place, is an alert."""
    if turn.inbound.location is None or has_content(turn.text) or turn.inbound.media:
        return False
    step = turn.flows.step(turn.state.flow, turn.state.step)
    if step is not None and step.kind == "location" and not turn.state.pending:
        return False
    commands.panic(turn)
    return True


def _media(turn: Turn) -> bool:
    """Keep photos and voice notes that arrive outside a media step; True when fully handled."""
    media = turn.inbound.media
    state = turn.state
    step = turn.flows.step(state.flow, state.step)
    if not media or (step is not None and step.kind == "media" and not state.pending):
        return False
    content = has_content(turn.text)
    if state.flow is None and state.last_ref:
        turn.emit(AttachEvidence(state.last_ref, media))
        turn.say(keys.MEDIA_ATTACHED, ref=state.last_ref)
    else:
        kept = [
            *state.answers.get("evidence", ()),
            *({"ref": m.ref, "type": m.content_type} for m in media),
        ]
        turn.update(answers={**state.answers, "evidence": kept})
        turn.say(keys.MEDIA_KEPT)
    # No words: the question stays open without being asked again (an album of three photos
    # would otherwise ask it three times in a row).
    return not content


def _idle(turn: Turn, first: bool, expired: bool) -> None:
    norm, catalog = turn.norm, turn.flows.catalog
    if not has_content(turn.text):
        turn.menu(keys.MENU_GREETING if first else keys.EXPIRED if expired else keys.MENU_UNCLEAR)
        return
    count = len(norm.split())
    menu = prompts.choices(catalog, "menu")
    chosen = match_choice(menu, norm) if count <= _MENU_WORDS else None
    explicit = chosen is not None and (
        option_number(norm) is not None or any(norm in c.phrases for c in menu)
    )
    if norm in THANKS and not expired:
        turn.say(keys.BYE)
        return
    if chosen is None and (norm in GREETINGS or (count == 1 and expired)):
        turn.menu(keys.MENU_GREETING if first or not expired else keys.EXPIRED)
        return
    if chosen is None and count <= _SHORT and parse_yes_no(norm) is not None:
        # "sí", "no", "ok" with nothing to answer: no report starts from a bare yes or no
        turn.menu(keys.MENU_GREETING if first else keys.MENU_UNCLEAR)
        return
    hints = None if explicit else _classify(turn)
    if hints is not None and not hints.sure and count <= _SHORT:
        hints = None  # a word or two the classifier is unsure of: let the person choose
    screening = not explicit and _screening(turn, hints)
    critical = hints is not None and hints.priority == "critical" and not screening
    if critical and not turn.replies:
        turn.say(keys.EMERGENCY)
    turn.update(critical=critical or turn.state.critical)  # danger words count too
    if explicit:
        intent = chosen
    elif screening:
        intent = "screening"
    else:
        said = hints.intent if hints and hints.intent != "other" else None
        intent = said or guess_intent(norm) or chosen
    if expired:
        if intent is None or explicit:
            turn.menu(keys.EXPIRED)
            return
        turn.say(keys.EXPIRED)
    _open(turn, intent, not explicit and count >= 2, hints, first)


def _screening(turn: Turn, hints: Hints | None) -> bool:
    """A question about the person's own deportation risk or legal help, with nothing
    happening now: the screening and a consultation. Someone taken, agents at a place (not
    dated years back), danger words, a threat or a follow-up go to their own report or
    command (the detention report also tells of legal aid). The classifier's priority is
    not asked: it reads "tengo cita con ICE el 20" as an enforcement under way."""
    if turn.state.critical or not legal_risk(turn.norm) or urgent_event(turn.norm):
        return False
    return hints is None or hints.intent not in NOT_SCREENING


def _classify(turn: Turn) -> Hints | None:
    if not turn.state.lang_chosen and len(turn.norm.split()) >= 3:
        turn.update(lang=detect_language(turn.text, turn.inbound.lang_hint))
    return turn.ctx.classify(turn.text) if turn.ctx.classify else None


def _open(turn: Turn, intent: str | None, free: bool, hints: Hints | None, first: bool) -> None:
    """Start what the person asked for; keep their words when nothing fits."""
    spec = turn.flows.specs.get(FLOW_FOR.get(intent or "", ""))
    if spec is not None:
        answers: dict[str, Any] = {k: v for k, v in turn.state.answers.items() if k in KEPT}
        if free:
            answers["text"] = "\n".join(x for x in (answers.get("text"), turn.text) if x)
        words_said = answers.get("text") or turn.text
        found = prefill(turn.flows, spec, words_said, hints.prefill if hints else {}, turn.ctx.now)
        walk.start_flow(turn, spec, {**found, **answers})
    elif intent == "status":
        commands.status(turn)
    elif intent == "human":
        commands.human(turn)
    else:
        if free and len(turn.norm.split()) >= 3:
            turn.update(answers={**turn.state.answers, "text": turn.text})
        key = keys.MENU_GREETING if first else keys.MENU_UNCLEAR
        turn.replies.append(prompts.menu(turn.flows.catalog, turn.lang, key))
