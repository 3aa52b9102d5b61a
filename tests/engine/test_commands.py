"""Global commands work anywhere, in both languages, and only as a whole message."""

from __future__ import annotations

import pytest

from bot.engine import ConversationState, EraseData, LookupStatus, RequestHuman, SaveReport
from bot.i18n import t
from bot.types import Lang
from tests.engine.support import NOW, REF, Talk, accepted, flows, send, texts, values


def at(flow: str, step: str, lang: str = "es", **answers: object) -> ConversationState:
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


@pytest.mark.parametrize("word", ["menú", "menu", "MENU", "inicio", "start", "/start", "Menu."])
def test_menu_leaves_the_flow(word: str) -> None:
    result = send(at("raid", "when", place="home"), word)
    assert result.state.flow is None and result.state.answers == {}
    assert values(result.replies[-1])[0] == "raid"


@pytest.mark.parametrize(("word", "lang"), [("ayuda", "es"), ("help", "en"), ("?", "es")])
def test_help_explains_and_asks_again(word: str, lang: Lang) -> None:
    result = send(at("raid", "when", lang), word)
    assert result.replies[0].text == t("help.text", lang)
    assert result.replies[-1].text == t("raid.ask_when", lang)
    assert result.state.step == "when"


def test_help_inside_a_sentence_is_an_answer_not_a_command() -> None:
    result = send(at("harassment", "details"), "necesito ayuda, mi jefe no me paga")
    assert result.state.answers["details"] == "necesito ayuda, mi jefe no me paga"


@pytest.mark.parametrize("word", ["atrás", "atras", "back", "regresar"])
def test_back_returns_to_the_previous_question_and_forgets_its_answer(word: str) -> None:
    talk = Talk(state=accepted())
    talk.run(["1", "si", "77036"])  # raid: safe = yes, where = 77036; now at "when"
    assert talk.state.step == "when"
    back = talk.say(word)
    assert back.state.step == "where" and "location" not in back.state.answers
    assert back.replies[-1].text == t("raid.ask_where", "es")
    again = talk.say(word)
    assert again.state.step == "safe"
    first = talk.say(word)
    assert first.replies[0].text == t("back.first", "es") and first.state.step == "safe"


@pytest.mark.parametrize("word", ["cancelar", "cancel", "salir", "menu"])
def test_cancel_mid_report_keeps_what_was_said_on_the_case(word: str) -> None:
    result = send(at("raid", "when", location={"zip": "77036", "raw": "77036"}), word)
    assert result.state.flow is None
    (report,) = result.effects
    assert isinstance(report, SaveReport) and report.done and not report.withdrawn
    assert report.answers["location"]["zip"] == "77036"
    assert t("cancel.kept", "es", ref=REF) in texts(result.replies)


@pytest.mark.parametrize("word", ["cancelar", "cancel", "salir"])
def test_cancel_before_saying_anything_withdraws_the_report(word: str) -> None:
    result = send(at("raid", "where", safe=True), word)
    assert result.state.flow is None
    (report,) = result.effects
    assert isinstance(report, SaveReport) and report.withdrawn
    assert result.replies[-1].text == t("cancel.done", "es")


@pytest.mark.parametrize(
    ("word", "lang"), [("english", "en"), ("inglés", "en"), ("español", "es"), ("spanish", "es")]
)
def test_language_switch_repeats_the_question(word: str, lang: Lang) -> None:
    start = "es" if lang == "en" else "en"
    result = send(at("raid", "when", start), word)
    assert result.state.lang == lang and result.state.lang_chosen
    assert result.replies[0].text == t("language.set", lang)
    assert result.replies[-1].text == t("raid.ask_when", lang)


def test_idioma_offers_both_languages() -> None:
    talk = Talk(state=at("raid", "when"))
    choose = talk.say("idioma")
    assert values(choose.replies[-1]) == ["es", "en"]
    done = talk.say("2")
    assert done.state.lang == "en" and done.state.pending is None
    assert done.replies[-1].text == t("raid.ask_when", "en")


@pytest.mark.parametrize(
    "text", ["estado HL-7K4M2Q", "status hl7k4m2q", "HL-7k4m2q", "Estado: hl 7k4m2q"]
)
def test_status_with_a_reference(text: str) -> None:
    result = send(at("raid", "when"), text)
    assert result.effects == (LookupStatus(REF, own=True),)
    assert result.replies == ()  # the service answers with the status


def test_status_without_a_reference_uses_the_last_case_or_asks() -> None:
    known = send(ConversationState(last_ref=REF, last_activity=NOW.isoformat()), "estado")
    assert known.effects == (LookupStatus(REF, own=True),)
    talk = Talk(state=accepted())
    ask = talk.say("estado")
    assert ask.replies[0].text == t("status.ask", "es") and ask.state.pending == "status"
    bad = talk.say("123")
    assert bad.replies[0].text == t("status.invalid", "es")
    good = talk.say("hl-7k4m2q")
    assert good.effects == (LookupStatus(REF),) and good.state.pending is None


def test_status_from_the_menu() -> None:
    assert send(accepted(), "7").replies[0].text == t("status.ask", "es")


@pytest.mark.parametrize(
    "word", ["humano", "agente", "persona", "human", "quiero hablar con una persona"]
)
def test_human_after_privacy(word: str) -> None:
    talk = Talk()
    notice = talk.say(word)
    assert notice.state.pending == "privacy_human"
    handed = talk.say("sí")
    assert handed.effects == (RequestHuman("asked", None, {}),)
    assert handed.state.privacy_accepted and handed.state.pending is None


def test_human_mid_flow_carries_the_answers() -> None:
    result = send(at("raid", "when", place="home"), "agente")
    assert result.effects == (RequestHuman("asked", "raid", {"place": "home"}, REF),)


def test_erase_needs_a_yes() -> None:
    talk = Talk(state=at("raid", "when", place="home"))
    ask = talk.say("borrar")
    assert ask.state.pending == "erase" and values(ask.replies[-1]) == ["yes", "no"]
    kept = talk.say("no")
    assert kept.replies[0].text == t("erase.kept", "es")
    assert kept.state.step == "when" and kept.state.answers == {"place": "home"}
    talk.say("delete")
    erased = talk.say("si")
    assert erased.effects == (EraseData(),)
    assert erased.state.flow is None and not erased.state.privacy_accepted
    assert erased.state.answers == {} and erased.state.last_ref is None


def test_commands_work_while_privacy_is_pending() -> None:
    talk = Talk()
    talk.say("2")
    assert talk.say("menu").state.pending is None
    talk.say("2")
    assert talk.say("english").replies[-1].text == t("privacy.notice", "en")


def test_unclear_privacy_answer_reprompts() -> None:
    talk = Talk()
    talk.say("2")
    again = talk.say("¿qué es eso?")
    assert again.state.pending == "privacy" and again.state.misses == 1
    assert values(again.replies[-1]) == ["yes", "no"]
    assert t("safety.emergency", "es") not in texts(again.replies)


def test_status_attempts_and_free_text() -> None:
    idle = ConversationState(last_ref=REF, last_activity=NOW.isoformat())
    assert send(idle, "estado 123").replies[0].text == t("status.invalid", "es")
    assert send(idle, "mi caso HL-7K4M2Q").effects == (LookupStatus(REF, own=True),)
    assert send(idle, "ver mi caso").effects == (LookupStatus(REF, own=True),)


def test_telegram_start_with_a_payload_is_the_menu() -> None:
    result = send(ConversationState(), "/start campaign42", channel="telegram")
    assert result.replies[0].text == t("menu.greeting", "es")


def test_thanks_gets_a_kind_word_not_a_menu() -> None:
    result = send(accepted(), "Muchas gracias!")
    assert [r.text for r in result.replies] == [t("flow.bye", "es")]
