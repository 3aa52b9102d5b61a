"""Free text as a first message: the right flow, with what was said already filled in."""

from __future__ import annotations

from bot.engine import Hints, SaveReport
from bot.i18n import t
from bot.render import render
from tests.engine.support import REF, Talk, accepted, texts


def classify(text: str) -> Hints:
    """A tiny stand-in for triage, written for these tests."""
    lower = text.lower()
    prefill: dict[str, object] = {"location": "Houston"} if "houston" in lower else {}
    if "se llevó" in lower or "took" in lower:
        return Hints("detention", "high", prefill)
    if "raid" in lower or "redada" in lower:
        return Hints("raid", "critical" if "now" in lower else "high", prefill)
    return Hints("other", "normal", prefill)


def test_detention_free_text_is_prefilled_and_not_asked_again() -> None:
    talk = Talk(classify=classify)
    first = talk.say("ICE se llevó a mi esposo hoy en Houston")
    assert first.state.flow == "detention" and first.state.pending == "privacy"
    assert first.replies[-1].text == t("privacy.notice", "es")
    answers = first.state.answers
    assert answers["text"] == "ICE se llevó a mi esposo hoy en Houston"
    assert answers["who"] == "spouse"
    assert answers["location"] == {"raw": "Houston"}
    assert answers["when"]["when"] == "earlier_today"
    go = talk.say("sí")
    assert go.replies[-1].text == t("detention.ask_name", "es")  # "who" is not asked again
    talk.run(["Juan Pérez", "no sé", "1", "no se", "no se", "mismo"])
    case = talk.opened()
    assert isinstance(case, SaveReport)
    assert case.intent == "detention" and case.answers["who"] == "spouse"
    assert case.answers["location"] == {"raw": "Houston"}
    assert case.text.startswith("ICE se llevó a mi esposo")
    asked = [s.replies[-1].text for s in talk.steps]
    assert t("detention.ask_where", "es") not in asked
    assert t("detention.ask_when", "es") not in asked


def test_raid_free_text_in_english_says_911_first_when_critical() -> None:
    talk = Talk(classify=classify)
    first = talk.say("there's a raid at my job right now")
    assert first.state.lang == "en" and first.state.flow == "raid"
    assert first.replies[0].text == t("safety.emergency", "en")
    assert first.state.answers["when"]["when"] == "now"
    # case first: the critical report has its reference in the first reply, and the whole
    # turn (911, reference, question) is one message on every channel
    assert first.state.case_ref == REF and REF in texts(first.replies)
    for channel in ("telegram", "sms", "whatsapp", "web"):
        sent = render(channel, first.replies)
        assert len(sent) == 1, channel
        assert sent[0].text.index("911") < sent[0].text.index(REF)


def test_free_text_without_a_classifier_uses_keywords() -> None:
    talk = Talk(state=accepted())
    first = talk.say("me están acosando en el trabajo")
    assert first.state.flow == "harassment"
    assert first.state.answers["kind"] == "work"


def test_unclear_free_text_is_kept_until_a_flow_starts() -> None:
    talk = Talk(state=accepted())
    first = talk.say("necesito hablar de algo que pasó con mi patrón")
    assert first.state.flow is None
    assert first.state.answers == {"text": "necesito hablar de algo que pasó con mi patrón"}
    chose = talk.say("3")
    assert chose.state.flow == "harassment"
    assert chose.state.answers["text"].startswith("necesito hablar")
    assert chose.state.answers["kind"] == "work"  # "patrón" read from the kept words


def test_a_menu_number_is_a_pick_not_free_text() -> None:
    talk = Talk(state=accepted())
    pick = talk.say("4")
    assert pick.state.flow == "documents" and "text" not in pick.state.answers
    assert pick.replies[-1].text == t("documents.ask_topic", "es")


def test_documents_free_text_jumps_to_the_checklist() -> None:
    talk = Talk(state=accepted())
    result = talk.say("quiero sacar la matrícula consular")
    assert t("documents.matricula", "es") in [r.text for r in result.replies]
    assert not result.effects  # information only, no case


def test_anything_else_accepts_a_new_topic_directly() -> None:
    talk = Talk(state=accepted())
    talk.run(["documentos", "2"])
    assert talk.state.step == "more"
    jump = talk.say("menaje")
    assert t("documents.goods", "es") in [r.text for r in jump.replies]
    assert jump.state.step == "more" and jump.state.answers["topic"] == "goods"


def test_ayuda_at_a_step_offering_help_is_that_option() -> None:
    talk = Talk(state=accepted())
    talk.run(["programas", "1"])
    helped = talk.say("ayuda")
    assert helped.state.step == "help_what"


def test_a_story_told_instead_of_accepting_privacy_is_kept() -> None:
    talk = Talk()
    talk.say("2")
    again = talk.say("se llevaron a mi hermano esta mañana")
    assert again.state.pending == "privacy"
    assert again.replies[-1].text == t("retry.consent", "es")
    assert again.state.answers["text"] == "se llevaron a mi hermano esta mañana"
    assert again.state.answers["who"] == "sibling"
    go = talk.say("si")
    assert go.replies[-1].text == t("detention.ask_name", "es")
