"""Global commands, understood anywhere in both languages, and the pending confirmations.

    menú/menu/inicio/start   main menu          ayuda/help            what can I write
    atrás/back               previous question  cancelar/cancel       leave the flow
    english/español/idioma   language           estado/status [ref]   case status
    humano/agente/persona    talk to a person   borrar/delete         erase my data (confirmed)
    derechos/rights          what to do if agents come (then the current question again)
    alerta/pánico/sos        panic alert: 911 first, a critical case at once with the last place
    cita/appointment         the booked legal consultation (cambiar cita / cancelar cita)
    riesgo/abogado/lawyer    the deportation-risk screening and a consultation

A command must be the whole message ("help" inside a sentence is an answer, not a command).
"""

from __future__ import annotations

import re
from typing import Final

from bot.engine import keys, prompts, slots, walk
from bot.engine.extract import prefill
from bot.engine.match import build_choice, match_choice, parse_yes_no
from bot.engine.model import (
    ConversationState,
    EraseData,
    LookupStatus,
    Option,
    Reply,
    RequestHuman,
    SaveReport,
)
from bot.engine.parsers import find_zip
from bot.engine.refs import find_ref
from bot.engine.text import is_skip, normalize, starts_with_any, words
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
    "rights": words(
        "derechos, mis derechos, sus derechos, rights, my rights, know your rights,"
        "conozca sus derechos, que derechos tengo, what are my rights"
    ),
    "panic": words(
        "alerta, panico, pánico, sos, s o s, panic, alert, boton de alerta, mayday, auxilio,socorro"
    ),
    "appointment": words(
        "cita, mi cita, citas, appointment, my appointment, consulta, mi consulta, ver mi cita,"
        "ver cita, cita legal, cita con abogado, consultation, my consultation"
    ),
    "move_appointment": words(
        "cambiar cita, cambiar mi cita, mover cita, mover mi cita, reprogramar, reprogramar cita,"
        "otra cita, change appointment, change my appointment, reschedule, move appointment,"
        "move my appointment, new appointment, nueva cita"
    ),
    "cancel_appointment": words(
        "cancelar cita, cancelar mi cita, cancelar la cita, cancel appointment,"
        "cancel my appointment, cancel the appointment, cancelar consulta, cancel consultation"
    ),
    "screening": words(
        "riesgo, estoy en riesgo, am i at risk, at risk, abogado, un abogado, lawyer, a lawyer,"
        "attorney, necesito un abogado, i need a lawyer, consulta legal, legal advice,"
        "asesoria legal, me pueden deportar, can they deport me, pale"
    ),
}
# Something typed as a reference that is not one: "HL 12", "estado 123", "7k4m2".
_REF_ATTEMPT: Final = re.compile(r"\bhl\b|\bhl\w+|\b(?=\w*\d)\w{3,}\b")
# The pending state after the privacy notice was asked twice or declined: a "sí" next resumes
# (the report, or the hand-over to a person: "privacy_later_human"); anything else is new.
PRIVACY_LATER: Final = "privacy_later"
_ALERT_WORDS: Final = 3  # "SOS" and up to two more words is still the alert
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
    words_said = norm.split()
    if name is None and 1 < len(words_said) <= _ALERT_WORDS and words_said[0] in COMMANDS["panic"]:
        return "panic"  # "SOS ayuda", "alerta migra", "auxilio auxilio"
    if name is None and len(text) <= 80 and len(norm.split()) <= 6 and find_ref(text):
        if starts_with_any(norm, COMMANDS["status"]) or len(norm.split()) <= 2:
            return "status"
    return name


def run(turn: Turn, name: str) -> None:
    """Carry out a global command."""
    state = turn.state
    if name in ("menu", "cancel") and walk.stop_report(turn):
        turn.say(keys.CANCEL_KEPT, ref=state.case_ref)
        turn.menu(keys.MENU_PROMPT)
    elif name == "menu":
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
    elif name == "rights":
        for key in keys.RIGHTS:
            turn.say(key)
        walk.resume(turn)
    elif name == "panic":
        panic(turn)
    elif name == "appointment":
        slots.show(turn)
    elif name == "move_appointment":
        slots.move(turn)
    elif name == "cancel_appointment":
        slots.cancel(turn)
    elif name == "screening":
        slots.screen(turn)


def panic(turn: Turn) -> None:
    """The alert button without an app: 911 first, then a critical case at once with the
    last place we know, and its reference. Works before the privacy notice (no words kept)."""
    state = turn.state
    if not any(r.text == turn.t(keys.EMERGENCY) for r in turn.replies):
        turn.say(keys.EMERGENCY)
    answers: dict[str, object] = {**state.answers, "danger_now": True}
    if turn.inbound.location is not None:
        lat, lon = turn.inbound.location
        answers["location"] = {"lat": lat, "lon": lon, "raw": f"{lat:.5f},{lon:.5f}"}
    turn.update(answers=answers, critical=True)
    spec = turn.flows.specs.get(state.flow or "")
    if spec is not None and spec.case_first:
        ref = walk.save_report(turn, spec, floor="critical")
        turn.say(keys.PANIC_OPENED, ref=ref)
        walk.resume(turn)
        return
    ref = state.case_ref or turn.ctx.new_ref
    place = {"location": answers["location"]} if "location" in answers else {}
    turn.emit(
        SaveReport(
            ref=ref,
            flow="panic",
            intent=None,
            answers={"flow": "panic", "lang": turn.lang, "danger_now": True, **place},
            text="",
            done=True,
            anonymous=not state.privacy_accepted,
            floor="critical",
        )
    )
    # What they say next (what is happening, where) goes on the same case.
    turn.update(last_ref=ref, case_ref=ref)
    turn.say(keys.PANIC_OPENED, ref=ref)
    if state.flow or state.pending:
        walk.resume(turn)


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
        turn.emit(LookupStatus(ref, own=ref in (turn.state.last_ref, turn.state.case_ref)))
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
    turn.emit(RequestHuman("asked", state.flow, dict(state.answers), state.case_ref))
    turn.go_idle()


def pending(turn: Turn) -> bool:
    """Read the answer to a pending question; False when the message is not an answer to
    it after all and should be read as a new message (the caller does that)."""
    kind = turn.state.pending or ""
    if kind.startswith(PRIVACY_LATER):
        if parse_yes_no(turn.norm) != "yes":
            turn.go_idle(keep_text=True)
            return False
        _privacy(turn, kind.replace(PRIVACY_LATER, "privacy"))
    elif kind.startswith("privacy"):
        _privacy(turn, kind)
    elif kind == "erase":
        _erase(turn)
    elif kind == "status":
        if find_ref(turn.text):
            status(turn)
        elif not walk.pending_miss(turn, Reply(turn.t(keys.STATUS_INVALID))):
            turn.menu(keys.STATUS_GIVE_UP)
    elif kind.startswith(walk.PLACE_STATE):
        _place_state(turn, kind.partition(":")[2])
    elif kind == "language":
        chosen = match_choice(prompts.choices(turn.flows.catalog, "language"), turn.norm)
        if chosen:
            set_language(turn, chosen)
        elif not walk.pending_miss(turn, _prompt_of(turn, "language")):
            walk.resume(turn)  # keep the language they have
    else:
        turn.update(pending=None)
        return False
    return True


def _place_state(turn: Turn, key: str) -> None:
    """The answer to "which state?": the place becomes "Hillsboro, OR" and the report goes
    on. "No sé", or a second answer that names none of them, goes on without a state (the
    place stays as written; staff see it)."""
    place = dict(turn.state.answers.get(key) or {})
    states = place.get("states", ())  # kept: the question is never asked again
    choices = [build_choice(str(code), [str(name)]) for code, name in states]
    chosen = match_choice(choices, turn.norm)
    zip_code = find_zip(turn.text)
    if chosen is None and zip_code is None and not is_skip(turn.norm):
        if len(turn.text.split()) >= walk.STORY_WORDS:
            walk.keep_note(turn, key)  # they said more than a state: keep it for the case
        if walk.pending_miss(turn, _prompt_of(turn, turn.state.pending or "")):
            return
    settled = zip_code or chosen
    if settled is not None:
        place["text"] = f"{place.get('raw', '')}, {settled}"
    turn.update(answers={**turn.state.answers, key: place}, pending=None, misses=0)
    spec = turn.flows.specs.get(turn.state.flow or "")
    step = turn.flows.step(turn.state.flow, turn.state.step)
    if spec is None or step is None:
        turn.menu()
        return
    walk.enter(turn, spec, walk.next_step(step, None))


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
        turn.replies.append(prompts.menu(turn.flows.catalog, turn.lang, keys.MENU_AGAIN))
        # Nothing of theirs is kept; a "sí" next still resumes the report, anything else
        # is read as a new message (see PRIVACY_LATER).
        if kind == "privacy" and turn.state.flow:
            turn.update(pending=PRIVACY_LATER, misses=0)
        else:
            turn.go_idle()
    else:
        if len(turn.norm.split()) >= 3:  # they told their story instead: keep it
            said_before = turn.state.answers.get("text")
            text = "\n".join(x for x in (said_before, turn.text) if x)
            spec = turn.flows.specs.get(turn.state.flow or "")
            found = prefill(turn.flows, spec, turn.text, {}, turn.ctx.now) if spec else {}
            turn.update(answers={**found, **turn.state.answers, "text": text})
        options = (Option(turn.t(keys.ACCEPT), "yes"), Option(turn.t(keys.DECLINE), "no"))
        if not walk.pending_miss(turn, Reply(turn.t(keys.RETRY["consent"]), options)):
            # Asked twice: stop asking. Their words stay out of any case until they say yes.
            turn.update(pending=kind.replace("privacy", PRIVACY_LATER))
            turn.say(keys.PRIVACY_LATER)


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
    elif not walk.pending_miss(turn, _prompt_of(turn, "erase")):
        turn.say(keys.ERASE_KEPT)  # nothing is erased without a clear yes
        walk.resume(turn)
