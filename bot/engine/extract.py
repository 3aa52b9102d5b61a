"""Reading free text: danger words, a fallback intent, who was affected, and prefilled answers.

The injected classifier (triage) decides the intent when it is there; these small keyword
rules keep the engine useful without it and pull out what the flows would otherwise ask.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Literal

from bot.engine.flows import Flows, FlowSpec
from bot.engine.match import NUMBER_WORDS, STOP, Choice
from bot.engine.parsers import find_time, find_zip, parse_future_date, parse_location
from bot.engine.text import normalize, words
from bot.types import Intent

Danger = Literal["crisis", "emergency"]
_NOBODY: Final = words("nadie, ninguno, nobody, no one, no se llevaron, didnt take")
_CRISIS: Final = words(
    "suicid, me quiero morir, quiero morir, quitarme la vida, matarme, kill myself,"
    "end my life, want to die, no quiero vivir"
)
_EMERGENCY: Final = words(
    "peligro, emergencia, emergency, danger, herid, hurt, injur, sangr, bleed, dispar, balace,"
    "shoot, shot, gun, pistola, armad, cuchill, knife, golpeando, me pega, beating, matar,"
    "kill, ambulancia, ambulance, auxilio, socorro, violacion, rape, secuestr, kidnap,"
    "no puedo respirar, cant breathe"
)
_INTENTS: Final[tuple[tuple[Intent, frozenset[str]], ...]] = (
    (
        "detention",
        words(
            "detuv, deten, arrest, se llevo, se llevaron, llevaron a, agarraron, took my,"
            "taken, detained, custody, deportaron, encerr, arrestaron, lo tienen, la tienen,"
            "centro de detencion, agarro la migra"
        ),
    ),
    (
        "harassment",
        words(
            "acos, discrimin, amenaz, threat, harass, extors, abus, insult, racis, bully,"
            "me pega, golpe, chantaj, me quieren reportar, report me"
        ),
    ),
    (
        "raid",
        words(
            "redada, raid, operativo, migra, ice, inmigracion, agentes, agents, checkpoint,"
            "reten, la patrulla, border patrol, camionetas"
        ),
    ),
    (
        "documents",
        words(
            "pasaporte, passport, matricula, acta, curp, cita, appointment, poder notarial,"
            "power of attorney, menaje, doble nacionalidad, dual citizenship, registrar,"
            "documento, document, regresar a mexico, return to mexico, volver a mexico,"
            "birth certificate"
        ),
    ),
    (
        "programs",
        words(
            "programa, program, ptrm, quedate en mexico, remain in mexico, mpp, h2b, h 2b,"
            "visa de trabajo, work visa, regularizacion, amnistia, amnesty"
        ),
    ),
)
_WHO: Final[tuple[tuple[str, frozenset[str]], ...]] = (
    (
        "spouse",
        words(
            "esposo, esposa, marido, mujer, pareja, novio, novia, husband, wife, partner,"
            "spouse, boyfriend, girlfriend, viejo, vieja"
        ),
    ),
    (
        "child",
        words("hijo, hija, hijos, hijas, son, daughter, child, kid, niño, niña, chamaco,chamaca"),
    ),
    ("parent", words("papa, papá, padre, mama, mamá, madre, father, mother, dad, mom")),
    ("sibling", words("hermano, hermana, brother, sister, carnal")),
    (
        "relative",
        words(
            "tio, tia, primo, prima, abuelo, abuela, sobrino, sobrina, cuñado, cuñada, suegro,"
            "suegra, nieto, nieta, uncle, aunt, cousin, grandfather, grandmother, grandpa,"
            "grandma, nephew, niece, brother in law, sister in law"
        ),
    ),
    (
        "friend",
        words(
            "amigo, amiga, vecino, vecina, compañero, compañera, compa, friend, neighbor,"
            "neighbour, coworker, roommate"
        ),
    ),
    (
        "self",
        words(
            "me detuvieron, me arrestaron, estoy detenido, estoy detenida, i was detained,"
            "i am detained, i m detained, i was arrested, me agarraron, me tienen"
        ),
    ),
)


def _mentions(padded: str, stems: frozenset[str]) -> bool:
    """True when a stem starts a word of `padded` (a normalised text with spaces around)."""
    return any(f" {stem}" in padded for stem in stems)


_SAFE: Final = words(
    "no estoy en peligro, no hay peligro, no corro peligro, not in danger, no danger,"
    "not in any danger, no emergency, no es emergencia, no es una emergencia"
)


def danger(norm: str) -> Danger | None:
    """Whether the text speaks of a crisis (self-harm) or immediate danger."""
    padded = f" {norm} "
    if _mentions(padded, _CRISIS):
        return "crisis"
    for phrase in _SAFE:  # "no estoy en peligro" is not danger, but the rest still counts
        padded = padded.replace(f" {phrase} ", " ")
    return "emergency" if _mentions(padded, _EMERGENCY) else None


# Someone asking whether they could be deported, or for legal help with their own case:
# the screening and a legal-aid consultation (stems: "abogad" is abogado/abogada/abogados).
_LEGAL: Final = words(
    "abogad, avogad, licenciad, lawyer, lawer, laywer, attorney, atorney, legal,"
    "asesoria, asesor, asesore,"
    "consulta legal, ayuda legal, consejo legal, orientacion legal,"
    "deport, depot, me pueden sacar, riesgo, at risk, risk,"
    "corte, korte, audiencia, juez, court, hearing, judge, notice to appear,"
    "orden de deportacion, orden de salida, removal, salida voluntaria, voluntary departure,"
    "cita con ice, cita de ice, check in, checkin, reportarme con ice, firmar con ice,"
    "appointment with ice, ice appointment, ice office, oficina de ice,"
    "calific, qualify, arreglar, arreglo, papeles, green card, residencia, tarjeta verde,"
    "peticion, petition, pedirla, pedirlo, perdon, waiver, asilo, asylum, daca, tps,"
    "antecedentes, record, dui, dwi, manejar tomado, manejando tomado, probation, probatoria,"
    "conviction, convicted, misdemeanor, felony, cargos, charges, grillete, ankle monitor,"
    "mis opciones, my options, pale, proteccion legal, legal protection"
)
# What is happening (or just happened) to someone: a detention, a raid, agents at a place.
# With one of these, unless the text dates it years back, the person needs a report.
_EVENT: Final = words(
    "se llevaron, se lo llevaron, se la llevaron, lo llevaron, la llevaron, agarraron,"
    "lo agarro, la agarro, detuvieron, lo detuvo, la detuvo, arrestaron, lo arresto,"
    "la arresto, levantaron, esta detenid, estan detenid, took him, took her, took my,"
    "picked up, detained, arrested, got arrested, got detained, taken, is in detention,"
    "esta en la puerta, estan en la puerta, afuera de, outside my, outside the, at the door,"
    "estan aqui, are here, redada, raid, operativo, la migra esta, ice is, ice esta,"
    "migra esta, agents are, agentes estan, centro de detencion, detention center,"
    "being held, held at, held in, jail, carcel, lo tienen, la tienen, los tienen,"
    "never came out, no salio, lo van a deportar, la van a deportar, los van a deportar,"
    "lo van a depotar, la van a depotar, lo deportan, la deportan, deporting him,"
    "deporting her, is being deported"
)
_OLD: Final = words(
    "hace anos, hace mucho, years ago, long ago, hace tiempo, back in, en el 19, en el 20,"
    "in 19, in 20, desde el, since, once, una vez, antes, before"
)
_COURT: Final = words(
    "corte, korte, audiencia, juez, court, hearing, judge, cita con ice, cita de ice,"
    "check in, checkin, appointment with ice, ice appointment"
)
_YEAR_WORD = re.compile(r"\b(19[5-9]\d|20[0-2]\d)\b")


def legal_risk(norm: str) -> bool:
    """True when the text asks about the person's own deportation risk or legal help."""
    return _mentions(f" {norm} ", _LEGAL)


def urgent_event(norm: str) -> bool:
    """True when the text tells of a detention, a raid or agents at a place that is not
    dated years back ("lo arrestaron en 2009" is history; "lo arrestaron" is now)."""
    padded = f" {norm} "
    if not _mentions(padded, _EVENT):
        return False
    return not (_YEAR_WORD.search(norm) or _mentions(padded, _OLD))


def guess_intent(norm: str) -> Intent | None:
    """A rough intent from keywords, used when no classifier is injected or it says "other"."""
    padded = f" {norm} "
    for intent, stems in _INTENTS:
        if _mentions(padded, stems):
            return intent
    return None


def extract_who(norm: str) -> str | None:
    """Who was affected ("mi esposo" → "spouse"), if the text says so."""
    padded = f" {norm} "
    for multiword in (True, False):
        for value, names in _WHO:
            if any(f" {n} " in padded for n in names if (" " in n) == multiword):
                return value
    return None


def find_choice(choices: tuple[Choice, ...], norm: str) -> str | None:
    """The one option whose words appear in a longer text (strict: no typos, no guessing)."""
    tokens = {w for w in norm.split() if w not in STOP}
    padded = f" {norm} "
    hits = [
        c.value
        for c in choices
        if tokens & c.keywords or any(" " in p and f" {p} " in padded for p in c.phrases)
    ]
    return hits[0] if len(hits) == 1 else None


def prefill(
    flows: Flows, spec: FlowSpec, text: str, hints: Mapping[str, object], now: datetime
) -> dict[str, Any]:
    """Answers a first message already gives for `spec` (location, time, who, choices)."""
    norm = normalize(text)
    found: dict[str, Any] = {}
    for step in spec.steps.values():
        key = step.save_as
        if key is None or key in found:
            continue
        value = _value_for(flows, spec, step.kind, step.id, key, text, norm, hints, now)
        if value is not None:
            found[key] = value
    return found


def _value_for(
    flows: Flows,
    spec: FlowSpec,
    kind: str,
    step_id: str,
    key: str,
    text: str,
    norm: str,
    hints: Mapping[str, object],
    now: datetime,
) -> Any:
    hinted = hints.get(key)
    if kind == "location":
        place = hints.get("location") if hinted is None else hinted
        if isinstance(place, str) and place.strip():
            return parse_location(place, normalize(place), None)
        zip_code = find_zip(text)
        return {"zip": zip_code, "raw": zip_code} if zip_code else None
    if kind == "time":
        when = find_time(norm, now)
        return {**when, "raw": text[:200]} if when else None
    if kind == "date":  # a coming date, when the text says what it is for
        if not _mentions(f" {norm} ", _COURT):
            return None
        return parse_future_date(text[:200], norm, now)
    if kind == "choice":
        options = flows.choices[(spec.id, step_id)]
        values = {c.value for c in options}
        if isinstance(hinted, str) and hinted in values:
            return hinted
        who = extract_who(norm) if key == "who" else None
        if who in values:
            return who
        step = spec.steps[step_id]
        return find_choice(options, norm) if step.prefill_from_text else None
    if isinstance(hinted, str | int | bool) and kind in ("text", "number", "yes_no"):
        return hinted
    phrases = spec.steps[step_id].prefill_yes
    if kind in ("yes_no", "number") and phrases:
        padded = f" {norm} "
        said = next((p for p in phrases if f" {p} " in padded), None)
        if said is None or _mentions(padded, _NOBODY):
            return None
        if kind == "yes_no":
            return True
        # "se llevaron a 3" → 3; "se llevaron a mi hermano" → some, count unknown
        after = padded.split(f" {said} ", 1)[1].split()[:3]
        counts = [int(w) if w.isdigit() else NUMBER_WORDS.get(w) for w in after]
        step = spec.steps[step_id]
        count = next((c for c in counts if c is not None and step.low <= c <= step.high), None)
        return count if count else {"approx": "some", "raw": text[:200]}
    return None
