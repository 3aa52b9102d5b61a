"""Global commands, understood anywhere in both languages, and the pending confirmations.

    menú/menu/inicio/start   main menu          ayuda/help            what can I write
    atrás/back               previous question  cancelar/cancel       leave the flow
    english/español/idioma   language           estado/status [ref]   case status
    humano/agente/persona    talk to a person   borrar/delete         erase my data (confirmed)

A command must be the whole message ("help" inside a sentence is an answer, not a command).
"""

from __future__ import annotations

import re
from typing import Final

from bot.engine import keys, prompts, walk
from bot.engine.extract import prefill
from bot.engine.match import match_choice, parse_yes_no
from bot.engine.model import (
    ConversationState,
    EraseData,
    LookupStatus,
    Option,
    Reply,
    RequestHuman,
)
from bot.engine.refs import find_ref
from bot.engine.text import normalize, starts_with_any, words
from bot.engine.turn import Turn

COMMANDS: Final = {
    "menu": words(
        "menu, menú, inicio, start, principal, menu principal, main menu, volver al menu,"
        "back to menu, ir al menu, go to menu, empezar, comenzar, restart, reiniciar,"
        "opciones, options"
    ),
    "help": words(
        "ayuda, help, comandos, commands, instrucciones, que hago, what can i do,"
        "como funciona, how does this work"
    ),
    "back": words(
        "atras, atrás, back, regresar, volver, anterior, previous, go back, pregunta anterior"
    ),
    "cancel": words(
        "cancelar, cancel, salir, exit, quit, terminar, ya no, olvidalo, never mind,nevermind"
    ),
    "english": words("english, ingles, inglés, in english, en ingles, speak english"),
    "spanish": words("español, espanol, spanish, en español, en espanol, in spanish, castellano"),
    "language": words("idioma, language, lenguaje, cambiar idioma, change language"),
    "status": words(
        "estado, status, estatus, mi caso, my case, ver mi caso, check my case,"
        "estado de mi caso, case status, mi reporte, my report, estado de caso"
    ),
    "human": words(
        "humano, agente, persona, human, agent, operator, operador, representante,"
        "representative, hablar con alguien, hablar con una persona,"
        "quiero hablar con alguien, quiero hablar con una persona, talk to someone,"
        "talk to a person, talk to a human, real person, persona real, una persona,"
        "hablar con un agente, llamenme, call me"
    ),
    "erase": words(
        "borrar, delete, erase, borrar mis datos, delete my data, erase my data, eliminar,"
        "eliminar mis datos, borrar todo, delete everything, borrar datos"
    ),
}
# Something typed as a reference that is not one: "HL 12", "estado 123", "7k4m2".
_REF_ATTEMPT: Final = re.compile(r"\bhl\b|\bhl\w+|\b(?=\w*\d)\w{3,}\b")
_LOOKUP: Final = {p: name for name, phrases in COMMANDS.items() for p in phrases if p}


def detect(turn: Turn) -> str | None:
    """The command the message is, if it is one."""
    return command_in(turn.text, turn.norm)


def command_of(text: str) -> str | None:
    """The global command a message is ("menu", "status", "erase", …), or None."""
    return command_in(text, normalize(text))


def command_in(text: str, norm: str) -> str | None:
    """`command_of` for a message already normalised."""
    if text.strip() == "?":
        return "help"
    if text.lstrip().startswith("/start"):
        return "menu"  # Telegram's start button, with or without a deep-link payload
    name = _LOOKUP.get(norm)
    if name is None and len(text) <= 80 and len(norm.split()) <= 6 and find_ref(text):
        if starts_with_any(norm, COMMANDS["status"]) or len(norm.split()) <= 2:
            return "status"
    return name


def run(turn: Turn, name: str) -> None:
    """Carry out a global command."""
    state = turn.state
    if name == "menu":
        turn.menu(keys.MENU_PROMPT)
    elif name == "help":
        turn.say(keys.HELP)
        walk.resume(turn)
    elif name == "back":
        _back(turn)
    elif name == "cancel":
        turn.menu(keys.CANCELLED if state.flow or state.pending else keys.MENU_PROMPT)
    elif name in ("english", "spanish"):
        set_language(turn, "en" if name == "english" else "es")
    elif name == "language":
        turn.update(pending="language", misses=0)
        walk.show_pending(turn, "language")
    elif name == "status":
        status(turn)
    elif name == "human":
        human(turn)
    elif name == "erase":
        turn.update(pending="erase", misses=0)
        walk.show_pending(turn, "erase")


def _back(turn: Turn) -> None:
    state = turn.state
    spec = turn.flows.specs.get(state.flow or "")
    if spec is None or state.pending:
        if state.pending and spec is not None:
            turn.update(pending=None)
            walk.resume(turn)
            return
        turn.menu()
        return
    if not state.history:
        turn.say(keys.BACK_FIRST)
        walk.resume(turn)
        return
    previous = spec.steps[state.history[-1]]
    answers = {k: v for k, v in state.answers.items() if k != previous.save_as}
    turn.update(step=previous.id, history=state.history[:-1], answers=answers, misses=0)
    walk.resume(turn)


def set_language(turn: Turn, lang: str) -> None:
    """Switch language, say so, and ask the current question again in it."""
    pending = turn.state.pending if turn.state.pending != "language" else None
    turn.update(lang="en" if lang == "en" else "es", lang_chosen=True, pending=pending)
    turn.say(keys.LANG_SET)
    walk.resume(turn)


def status(turn: Turn) -> None:
    """Look up a case: the reference in the message, else the last one, else ask for it."""
    attempt = _REF_ATTEMPT.search(turn.norm) is not None
    ref = find_ref(turn.text) or (None if attempt else turn.state.last_ref)
    if ref:
        turn.update(pending=None, misses=0)
        turn.emit(LookupStatus(ref))
        return
    turn.update(pending="status", misses=0)
    turn.say(keys.STATUS_INVALID if attempt else keys.STATUS_ASK)


def human(turn: Turn) -> None:
    """Hand over to a person (after the privacy notice, which must be accepted first)."""
    state = turn.state
    if not state.privacy_accepted:
        turn.update(pending="privacy_human", misses=0)
        walk.show_pending(turn, "privacy_human")
        return
    turn.emit(RequestHuman("asked", state.flow, dict(state.answers)))
    turn.go_idle()


def pending(turn: Turn) -> None:
    """Read the answer to a pending question."""
    kind, _, before = (turn.state.pending or "").partition(":")
    if kind.startswith("privacy"):
        _privacy(turn, kind)
    elif kind == "erase":
        _erase(turn)
    elif kind == "status":
        if find_ref(turn.text):
            status(turn)
        else:
            walk.miss(turn, Reply(turn.t(keys.STATUS_INVALID)))
    elif kind == "language":
        chosen = match_choice(prompts.choices(turn.flows.catalog, "language"), turn.norm)
        if chosen:
            set_language(turn, chosen)
        else:
            walk.miss(turn, _prompt_of(turn, "language"))
    else:
        _stuck(turn, before)


def _prompt_of(turn: Turn, kind: str) -> Reply:
    saved = len(turn.replies)
    walk.show_pending(turn, kind)
    return turn.replies.pop(saved)


def _privacy(turn: Turn, kind: str) -> None:
    said = parse_yes_no(turn.norm)
    if said == "yes":
        turn.update(privacy_accepted=True, pending=None, misses=0)
        if kind == "privacy_human":
            human(turn)
            return
        spec = turn.flows.specs.get(turn.state.flow or "")
        if spec is None:
            turn.menu()
        else:
            walk.enter(turn, spec, turn.state.step)
    elif said == "no":
        turn.say(keys.PRIVACY_DECLINED)
        turn.menu(keys.MENU_AGAIN)
    else:
        if len(turn.norm.split()) >= 3:  # they told their story instead: keep it
            said_before = turn.state.answers.get("text")
            text = "\n".join(x for x in (said_before, turn.text) if x)
            spec = turn.flows.specs.get(turn.state.flow or "")
            found = prefill(turn.flows, spec, turn.text, {}, turn.ctx.now) if spec else {}
            turn.update(answers={**found, **turn.state.answers, "text": text})
        options = (Option(turn.t(keys.ACCEPT), "yes"), Option(turn.t(keys.DECLINE), "no"))
        walk.miss(turn, Reply(turn.t(keys.RETRY["consent"]), options))


def _erase(turn: Turn) -> None:
    said = parse_yes_no(turn.norm)
    if said == "yes":
        turn.emit(EraseData())
        turn.state = ConversationState(lang=turn.lang, lang_chosen=turn.state.lang_chosen)
        turn.say(keys.ERASE_DONE)
    elif said in ("no", "skip"):
        turn.update(pending=None, misses=0)
        turn.say(keys.ERASE_KEPT)
        walk.resume(turn)
    else:
        walk.miss(turn, _prompt_of(turn, "erase"))


def _stuck(turn: Turn, before: str) -> None:
    chosen = match_choice(prompts.choices(turn.flows.catalog, "stuck"), turn.norm)
    if chosen == "retry":
        turn.update(pending=before or None, misses=0)
        walk.resume(turn)
    elif chosen == "human":
        turn.update(pending=None)
        human(turn)
    elif chosen == "menu":
        turn.menu()
    elif not before and _answers_step(turn):
        turn.update(pending=None)
        walk.answer(turn)
    else:
        walk.show_pending(turn, "stuck")


def _answers_step(turn: Turn) -> bool:
    """True when the message, though not a stuck option, answers the current step after all."""
    spec = turn.flows.specs.get(turn.state.flow or "")
    step = turn.flows.step(turn.state.flow, turn.state.step)
    if spec is None or step is None or step.kind not in walk.INPUT:
        return False
    parsed = walk.parse(turn, spec, step)
    return parsed is not None and (not parsed.skipped or step.optional)
