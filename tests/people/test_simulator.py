"""The simulator's own checks, on made-up turns (no database): they must catch what they
are meant to catch, or the people tests prove nothing."""

from __future__ import annotations

import random

from bot.models import Case

from .simulator import Exchange, Said, lost_words, question_line, repeated_questions, typo


def turn(said: str, *texts: str, step: str = "when", accepted: bool = True) -> Exchange:
    state = {"flow": "raid", "step": step, "privacy_accepted": accepted}
    return Exchange(
        Said(said, free=len(said.split()) >= 3), [{"text": t} for t in texts], state, accepted
    )


def test_question_line_is_the_last_question_of_a_merged_reply() -> None:
    """Options and leading messages do not count; the question sentence does."""
    sms = "Gracias. Lo guardamos.\n¿Cuándo pasó? Si no sabe, escriba NO SÉ.\n1) Ahora\n2) Hoy"
    assert question_line([sms]) == "¿Cuándo pasó?"
    assert question_line(["If anyone is in danger, call 911.", "Are you safe right now?"]) == (
        "Are you safe right now?"
    )
    assert question_line(["Responda con el número de una opción.\n1) Sí"]) == (
        "Responda con el número de una opción."
    )
    assert question_line([]) is None


def test_a_question_three_turns_in_a_row_is_caught() -> None:
    ask = "Gracias.\n¿Cuándo pasó?\n1) Ahora"
    turns = [turn("ayer?", ask), turn("???", "Otra vez: " + ask), turn("😭", ask)]
    assert repeated_questions(turns)
    assert not repeated_questions(turns[:2])


def test_standing_at_one_step_after_three_answers_is_caught() -> None:
    """Even when each re-ask is worded differently."""
    turns = [turn("a", "¿Cuándo pasó?"), turn("b", "Elija un número."), turn("c", "¿Cuándo?")]
    assert repeated_questions(turns)


def test_words_missing_from_the_case_are_named() -> None:
    case = Case(
        ref="HL-ABC123",
        channel="sms",
        desk_id="houston",
        flow="raid",
        intent="raid",
        priority="normal",
        summary="se llevaron a dos compañeros",
        answers={"notes": [{"text": "Hay  niños solos"}]},
    )
    turns = [
        turn("se llevaron a dos compañeros", "ok"),
        turn("hay niños solos", "ok"),
        turn("my phone is dying", "ok"),
    ]
    problems = lost_words(turns, case)
    assert len(problems) == 1 and "my phone is dying" in problems[0]
    assert "se llevaron" not in problems[0].split("case summary")[0]


def test_typo_swaps_two_letters_of_a_long_word() -> None:
    typed = typo("en el trabajo", random.Random(1))
    assert typed != "en el trabajo" and sorted(typed) == sorted("en el trabajo")
