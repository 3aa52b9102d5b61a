"""Table tests for triage: one line per behaviour (negation, past events, typos, answers)."""

from datetime import UTC, datetime

import pytest

from bot.triage import Triage, classify

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "intent", "priority"),
    [
        # negation
        ("nadie está detenido, solo quiero saber el horario", "other", "low"),
        ("No hay ninguna redada, quería preguntar por la matrícula", "documents", "low"),
        ("no es urgente, cuánto cuesta el pasaporte?", "documents", "low"),
        ("not urgent, what time does the consulate open?", "other", "low"),
        ("nobody was arrested but ICE was at the bus stop this morning", "raid", "high"),
        ("no se a donde se lo llevaron, fue hace rato", "detention", "critical"),
        ("no tengo pasaporte y viajo el lunes", "documents", "normal"),
        # past events
        ("hace dos años me deportaron, puedo regresar legalmente?", "other", "low"),
        ("I was deported in 2015, can I get a visa now?", "other", "low"),
        ("hace años hubo una redada en mi pueblo", "raid", "low"),
        ("la semana pasada hubo una redada en mi trabajo", "raid", "normal"),
        ("Hubo una redada esta mañana, ya se fueron", "raid", "high"),
        ("mi hermano estuvo detenido pero ya lo soltaron", "detention", "normal"),
        # typos, shorthand, caps, emoji, mixed
        ("la migrasion se yevo a mi ermano ase rato", "detention", "critical"),
        ("mi primo esta dtenido desde el lunes y no ha llamado", "detention", "high"),
        ("ise todo pero la migra se lo llevo ahorita", "detention", "critical"),
        ("q ago xq la migra esta aki", "raid", "critical"),
        ("LA MIGRA ESTA EN LA PUERTA AYUDAAAA", "raid", "critical"),
        ("🚨 migra en la pulga 🚨", "raid", "critical"),
        ("ice at the taqueria rn", "raid", "critical"),
        ("mi esposo got arrested this morning, no se donde esta", "detention", "critical"),
        # danger and removal
        ("mi vecino tiene una pistola y me quiere matar", "harassment", "critical"),
        ("me piden 2000 dolares o me reportan a la migra", "harassment", "high"),
        ("lo van a deportar mañana", "detention", "critical"),
        ("they are going to deport my dad next week", "detention", "high"),
        ("se llevaron a mi esposa y los niños están solos", "detention", "critical"),
        # low-priority topics
        ("hola", "other", "low"),
        ("", "other", "low"),
        ("tienen clases de inglés?", "programs", "low"),
        ("any update on case HL-7K4M2Q?", "status", "normal"),
    ],
)
def test_classify_table(text: str, intent: str, priority: str) -> None:
    result = classify(text)
    assert (result.intent, result.priority) == (intent, priority), result.reasons


@pytest.mark.parametrize(
    ("text", "answers", "intent", "priority"),
    [
        # the flow's answers override the text's time
        (
            "ahorita se llevaron a mi hermano",
            {"flow": "detention", "when": "days_ago"},
            "detention",
            "high",
        ),
        ("hay migra en el trabajo", {"flow": "raid", "when": "earlier_today"}, "raid", "high"),
        ("hay migra en el trabajo", {"flow": "raid", "when": "rumor"}, "raid", "normal"),
        ("quiero reportar algo", {"flow": "raid", "when": "now"}, "raid", "critical"),
        # answers raise
        ("hola", {"flow": "harassment", "safe_now": False}, "harassment", "critical"),
        ("hola", {"flow": "harassment", "danger_now": "yes"}, "harassment", "critical"),
        ("hola", {"flow": "harassment", "kind": "extortion"}, "harassment", "high"),
        ("hola", {"flow": "harassment", "kind": "work"}, "harassment", "normal"),
        (
            "ayer hubo redada",
            {"flow": "raid", "when": "days_ago", "children_alone": True},
            "raid",
            "critical",
        ),
        (
            "ayer hubo redada",
            {"flow": "raid", "when": "days_ago", "children_affected": True},
            "raid",
            "high",
        ),
        (
            "mis hijos estan solos",
            {"flow": "detention", "children_alone": False, "when": "days_ago"},
            "detention",
            "high",
        ),
        # dates need `now`
        (
            "detuvieron a mi esposo",
            {"flow": "detention", "when": "2026-03-10"},
            "detention",
            "critical",
        ),
        (
            "detuvieron a mi esposo",
            {"flow": "detention", "when": "2026-03-01"},
            "detention",
            "high",
        ),
        ("mi hermano", {"removal_date": "2026-03-11"}, "detention", "critical"),
        ("mi hermano", {"removal_date": "2026-03-15"}, "detention", "high"),
        # the human flow keeps the text's intent
        ("perdí mi pasaporte", {"flow": "human"}, "documents", "low"),
    ],
)
def test_classify_answers_override_or_raise(
    text: str, answers: dict[str, object], intent: str, priority: str
) -> None:
    result = classify(text, answers, now=NOW)
    assert (result.intent, result.priority) == (intent, priority), result.reasons


def test_classify_removal_date_without_now_is_high() -> None:
    result = classify("mi hermano", {"flow": "detention", "removal_date": "2026-03-11"})
    assert result.priority == "high"
    assert any("no reference time" in r for r in result.reasons)


def test_classify_reasons_name_the_cue() -> None:
    result = classify("la migra está aquí ahorita")
    assert isinstance(result, Triage)
    assert "cue 'ahorita' → happening now" in result.reasons
    assert result.reasons[-1] == "raid happening now → critical"


def test_classify_reports_negated_cues() -> None:
    result = classify("nadie está detenido")
    assert any("negated" in r for r in result.reasons)


def test_triage_is_frozen() -> None:
    result = classify("hola")
    with pytest.raises(AttributeError):
        result.intent = "raid"  # type: ignore[misc]
