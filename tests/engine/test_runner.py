"""The runner, table by table: each step kind, first contact, privacy, misses, expiry, media."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.conversations import hints_for
from bot.engine import (
    AttachEvidence,
    ConversationState,
    Media,
    SaveReport,
)
from bot.i18n import t
from tests.engine.support import NOW, REF, Talk, accepted, flows, send, texts, values


def at(flow: str, step: str, lang: str = "es", **answers: Any) -> ConversationState:
    """A state waiting at `step` of `flow`, privacy accepted."""
    return ConversationState(
        lang=lang,
        flow=flow,
        step=step,
        answers=answers,  # type: ignore[arg-type]
        privacy_accepted=True,
        last_activity=NOW.isoformat(),
        # a report's case opened when the notice was accepted (case first)
        case_ref=REF if flows().specs[flow].case_first else None,
    )


# --- one table per step kind: (flow, step, what the person writes, the saved value) ---
GOOD = [
    ("harassment", "kind", "1", "work"),
    ("harassment", "kind", "en el trabajo", "work"),
    ("harassment", "kind", "no sé", None),
    ("detention", "name", "Juan Pérez García", "Juan Pérez García"),
    ("detention", "where", "no se", None),
    ("raid", "safe", "si", True),
    ("raid", "safe", "NO", False),
    ("raid", "safe", "no sé", None),
    ("raid", "taken", "unos 3", 3),
    ("raid", "taken", "como veinte", 20),
    ("raid", "taken", "a lot", {"approx": "many", "raw": "a lot"}),
    ("raid", "taken", "unos cuantos", {"approx": "some", "raw": "unos cuantos"}),
    (
        "raid",
        "details",
        "no tengo fotos, se llevaron a dos compañeros",
        [{"description": "no tengo fotos, se llevaron a dos compañeros"}],
    ),
    ("raid", "where", "77036", {"zip": "77036", "raw": "77036"}),
    ("raid", "where", "Houston, TX", {"raw": "Houston, TX"}),
    ("raid", "when", "hace 2 horas", {"when": "earlier_today", "raw": "hace 2 horas"}),
    ("raid", "when", "1", {"when": "now", "raw": "1"}),
    ("detention", "phone", "(713) 555-0123", "+17135550123"),
    ("detention", "phone", "mismo", "same"),
    ("detention", "dob", "25/12/1985", "1985-12-25"),
    ("detention", "a_number", "A12345678", "012345678"),
    ("detention", "a_number", "no tengo", None),
    ("detention", "country", "mexico", "MX"),
    ("raid", "details", "no", None),
]


@pytest.mark.parametrize(("flow", "step", "text", "saved"), GOOD)
def test_advance_saves_a_readable_answer_and_moves_on(
    flow: str, step: str, text: str, saved: object
) -> None:
    spec = flows().specs[flow]
    result = send(at(flow, step), text)
    key = spec.steps[step].save_as
    assert key is not None
    case = next((e for e in result.effects if isinstance(e, SaveReport)), None)
    answers = case.answers if case else result.state.answers
    assert answers[key] == saved
    assert result.state.misses == 0
    if case is None:
        assert result.state.step != step
        assert result.state.history[-1:] == (step,)


BAD = [
    ("harassment", "kind", "9"),
    ("harassment", "kind", "🙂"),
    ("raid", "safe", "tal vez"),
    ("raid", "taken", "ya se fueron"),
    ("raid", "where", "😢"),
    ("raid", "when", "mañana"),
    ("detention", "phone", "123"),
    ("detention", "dob", "ayer"),
    ("detention", "a_number", "123"),
    ("detention", "who", "el de la tienda"),
    ("documents", "topic", "no sé"),
]


@pytest.mark.parametrize(("flow", "step", "text"), BAD)
def test_advance_repeats_question_on_unrecognised_answer(flow: str, step: str, text: str) -> None:
    result = send(at(flow, step), text)
    assert result.state.step == step and result.state.flow == flow
    assert result.state.misses == 1
    assert len(result.replies) == 1
    assert len(result.replies[0].text) < 200
    # Nothing said is dropped: words that answer nothing are kept as a note on the case.
    notes = result.state.answers.get("notes", [])
    if any(c.isalnum() for c in text) and text != "no sé":  # "no sé" skips, it is no note
        assert notes == [{"step": step, "text": text}]
        assert all(isinstance(e, SaveReport) and not e.done for e in result.effects)
    else:
        assert notes == [] and not result.effects


def test_yes_no_branches_and_options() -> None:
    result = send(at("raid", "safe"), "no")
    assert t("raid.danger", "es") in texts(result.replies)
    assert result.state.step == "where"
    asked = send(at("raid", "safe"), "1").replies[-1]
    assert values(asked) == []  # location: typed, no options
    safe = send(at("raid", "intro"), "x")  # an unknown step position falls back to the menu
    assert safe.state.flow is None


def test_media_step_stores_refs() -> None:
    media = (Media("photo-1", "image/jpeg"), Media("voice-1", "audio/ogg"))
    result = send(at("raid", "details"), "", media=media)
    assert result.effects[-1].answers["evidence_media"] == [  # type: ignore[union-attr]
        {"ref": "photo-1", "type": "image/jpeg"},
        {"ref": "voice-1", "type": "audio/ogg"},
    ]


def test_location_share_is_a_location_answer() -> None:
    result = send(at("raid", "where"), "", location=(29.76, -95.37), channel="telegram")
    assert result.state.answers["location"]["lat"] == 29.76


def test_an_optional_question_is_asked_twice_then_the_words_become_a_note() -> None:
    talk = Talk(state=at("raid", "when"))
    first = talk.say("qwerty")
    assert first.state.step == "when" and first.state.misses == 1
    second = talk.say("they are checking papers")
    assert second.state.step != "when" and second.state.misses == 0
    assert t("retry.offer_human", "es") not in texts(second.replies)  # optional: just go on
    notes = second.state.answers["notes"]
    assert notes == [
        {"step": "when", "text": "qwerty"},
        {"step": "when", "text": "they are checking papers"},
    ]
    asked = [r.text for s in talk.steps for r in s.replies]
    assert asked.count(t("raid.ask_when", "es")) <= 1  # the first ask was before the talk


def test_a_required_question_asked_twice_offers_a_person_and_moves_on() -> None:
    talk = Talk(state=at("documents", "topic"))
    talk.say("??")
    moved = talk.say("👍 ok ok")
    assert moved.state.step != "topic"
    assert t("retry.offer_human", "es") in texts(moved.replies)
    asked = [r.text for s in talk.steps for r in s.replies]
    assert asked.count(t("documents.ask_topic", "es")) <= 1


def test_a_real_answer_after_one_miss_is_taken() -> None:
    talk = Talk(state=at("raid", "when"))
    talk.say("qq")
    assert talk.say("ayer").state.step == "taken"


def test_first_contact_greets_with_the_menu_in_spanish_by_default() -> None:
    result = send(ConversationState(), "hola")
    assert result.replies[0].text == t("menu.greeting", "es")
    assert values(result.replies[0]) == [
        "raid",
        "detention",
        "harassment",
        "documents",
        "programs",
        "screening",
        "status",
        "human",
    ]
    assert result.state.last_activity == NOW.isoformat()


@pytest.mark.parametrize(
    ("text", "hint", "lang"),
    [
        ("hello", None, "en"),
        ("hola", "en", "es"),
        ("", "en-US", "en"),
        ("ok", "en", "en"),
        ("/start", "es", "es"),
        ("help me please", None, "en"),
    ],
)
def test_first_contact_detects_language(text: str, hint: str | None, lang: str) -> None:
    assert send(ConversationState(), text, lang_hint=hint).state.lang == lang


def test_privacy_notice_before_a_report_and_decline_stores_nothing() -> None:
    talk = Talk()
    notice = talk.say("2")
    assert notice.state.pending == "privacy" and notice.state.flow == "detention"
    assert "90" in notice.replies[-1].text and "BORRAR" in notice.replies[-1].text
    declined = talk.say("no")
    assert t("privacy.declined", "es") in texts(declined.replies)
    assert values(declined.replies[-1])[0] == "raid"  # the menu, to choose anything else
    assert not declined.state.privacy_accepted and not talk.effects()
    # A "sí" right after still resumes the report; anything else is a new message.
    again = Talk(state=declined.state).say("sí")
    assert again.state.privacy_accepted and again.state.step == "who"
    other = Talk(state=declined.state).say("3")
    assert other.state.flow == "harassment" and not other.state.privacy_accepted


def test_a_bare_yes_or_no_at_the_menu_starts_no_report() -> None:
    for word in ("si", "no", "ok", "sí claro"):
        result = send(accepted(), word, classify=hints_for)
        assert result.state.flow is None, word
        assert values(result.replies[-1])[0] == "raid", word


def test_safety_question_comes_before_the_privacy_notice() -> None:
    talk = Talk()
    safe = talk.say("1")
    assert safe.replies[-1].text == t("raid.ask_safe", "es") and safe.state.pending is None
    notice = talk.say("no")
    assert [r.text for r in notice.replies] == [t("raid.danger", "es"), t("privacy.notice", "es")]
    assert notice.state.answers == {"safe": False}
    go = talk.say("si")
    assert go.replies[-1].text == t("raid.ask_where", "es")


def test_privacy_accepted_once_is_not_asked_again() -> None:
    talk = Talk(state=accepted())
    first = talk.say("2")
    assert first.state.pending is None and first.state.step == "who"


def test_expired_conversation_restarts_kindly() -> None:
    old = at("raid", "when")
    later = NOW + timedelta(hours=25)
    result = send(old, "2", now=later)
    assert result.replies[0].text == t("expired.restart", "es")
    assert result.state.flow is None and result.state.privacy_accepted
    fresh = send(old, "2", now=NOW + timedelta(hours=23))
    assert fresh.state.answers["when"]["when"] == "earlier_today"


def test_expired_then_a_new_report_goes_straight_in() -> None:
    result = send(at("raid", "when"), "detuvieron a mi hermano", now=NOW + timedelta(days=2))
    assert result.replies[0].text == t("expired.restart", "es")
    assert result.state.flow == "detention"
    assert result.state.answers["who"] == "sibling"


def test_danger_words_say_911_first() -> None:
    result = send(ConversationState(), "hay un hombre con pistola afuera de mi casa")
    assert result.replies[0].text == t("safety.emergency", "es")
    crisis = send(at("harassment", "details"), "ya no quiero vivir")
    assert crisis.replies[0].text == t("safety.crisis", "es")
    calm = send(at("harassment", "details"), "no estoy en peligro, solo me insultan")
    assert t("safety.emergency", "es") not in texts(calm.replies)


def test_media_outside_a_media_step_is_kept_or_attached() -> None:
    media = (Media("p1", "image/jpeg"),)
    in_flow = send(at("raid", "when"), "", media=media)
    assert in_flow.state.answers["evidence"] == [{"ref": "p1", "type": "image/jpeg"}]
    assert in_flow.state.step == "when" and in_flow.state.misses == 0
    after_case = send(
        ConversationState(last_ref=REF, last_activity=NOW.isoformat()), "", media=media
    )
    assert after_case.effects == (AttachEvidence(REF, media),)


def test_opened_case_returns_to_idle_with_the_reference() -> None:
    result = send(at("raid", "details", safe=True), "tres camionetas")
    case = result.effects[0]
    assert isinstance(case, SaveReport) and case.done
    assert case.ref == REF and case.intent == "raid" and case.flow == "raid"
    assert case.answers["flow"] == "raid" and case.answers["safe"] is True
    assert case.answers["evidence_media"] == [{"description": "tres camionetas"}]
    assert case.text == "tres camionetas"
    assert REF in result.replies[-1].text
    assert result.state.flow is None and result.state.last_ref == REF


def test_state_round_trips_through_json() -> None:
    state = Talk(state=accepted()).run(["2", "1", "Ana"]).state
    again = ConversationState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state
    assert (
        ConversationState.from_dict({"lang": "fr", "history": "x", "misses": None})
        == ConversationState()
    )


def test_a_removed_flow_in_stored_state_falls_back_to_the_menu() -> None:
    state = ConversationState(flow="gone", step="nowhere", last_activity=NOW.isoformat())
    result = send(state, "1")
    assert result.state.flow is None
    assert values(result.replies[-1])[:1] == ["raid"]
