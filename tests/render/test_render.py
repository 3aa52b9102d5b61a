"""SMS segment counting and the channel renderers; every bot message fits 2 SMS segments."""

from __future__ import annotations

import pytest

from bot.channels.registry import CHANNEL_TYPES, channel_type, phone_number, reachable_by_writing
from bot.engine import Option, Reply, keys as engine_keys, prompts
from bot.render import (
    fold_for_sms,
    numbered,
    render,
    render_sms,
    render_whatsapp,
    segments,
)
from bot.types import LANGS
from tests.engine.support import flows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("GSM-7", 0)),
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("€" * 80, ("GSM-7", 1)),  # extension characters count two
        ("€" * 81, ("GSM-7", 2)),
        ("[" * 76 + "a" * 2, ("GSM-7", 1)),
        ("a" * 152 + "€" + "a" * 10, ("GSM-7", 2)),  # the escape pair is not split
        ("ñÑüÜéÉ¿¡àèìòù", ("GSM-7", 1)),  # these Spanish letters are GSM-7
        ("á", ("UCS-2", 1)),
        ("í", ("UCS-2", 1)),
        ("ó", ("UCS-2", 1)),
        ("ú", ("UCS-2", 1)),
        ("a" * 69 + "á", ("UCS-2", 1)),
        ("a" * 70 + "á", ("UCS-2", 2)),
        ("á" * 134, ("UCS-2", 2)),
        ("á" * 135, ("UCS-2", 3)),
        ("😀" * 35, ("UCS-2", 1)),  # one emoji is two UTF-16 units
        ("😀" * 36, ("UCS-2", 2)),
    ],
)
def test_segments(text: str, expected: tuple[str, int]) -> None:
    assert segments(text) == expected


def test_fold_for_sms_only_when_it_makes_gsm7() -> None:
    assert fold_for_sms("Información, días, aquí, según") == "Informacion, dias, aqui, segun"
    assert fold_for_sms("¿Dónde? Niño, México") == "¿Donde? Niño, México"
    assert fold_for_sms("“hola” — sí…") == '"hola" - si...'
    assert fold_for_sms("José 李") == "José 李"  # still UCS-2: keep the accents


def test_render_sms_numbers_options_and_folds() -> None:
    reply = Reply("¿Cuándo pasó?", (Option("Ahora mismo", "now"), Option("Otro día", "days")))
    assert render_sms(reply) == ["¿Cuando paso?\n1) Ahora mismo\n2) Otro dia"]
    assert render_sms(reply, fold_accents=False) == ["¿Cuándo pasó?\n1) Ahora mismo\n2) Otro día"]


def test_render_sms_splits_long_text_at_sentence_ends() -> None:
    sentence = "Esta es una oración de prueba bastante larga para el mensaje. "
    reply = Reply(sentence * 12, (Option("Sí", "yes"), Option("No", "no")))
    parts = render_sms(reply)
    assert len(parts) > 1
    assert all(segments(p)[1] <= 2 for p in parts)
    assert all(p.rstrip().endswith((".", "No")) for p in parts)
    assert parts[-1].endswith("1) Si\n2) No")
    one_word = render_sms(Reply("x" * 700))
    assert all(segments(p)[1] <= 2 for p in one_word)


# A value for every placeholder code fills (engine_keys.RUNTIME_PLACEHOLDERS), as long as real.
SAMPLE_VALUES = {
    "ref": "HL-7K4M2Q",
    "minutes": "15",
    "seconds": "45",
    "count": "12",
    "refs": "HL-7K4M2Q, HL-2QW9RT",
    "desk": "san-bernardino",
    "open": "14",
    "breached": "3",
    "resolved": "9",
    "step": "ask_where",
    "when": "mié 16 dic, 10:30 (consulado en San Bernardino)",
    "weekday": "mié",
    "day": "16",
    "month": "dic",
    "time": "10:30",
    "place": "consulado en San Bernardino",
}


def test_sample_values_cover_every_runtime_placeholder() -> None:
    assert set(SAMPLE_VALUES) == engine_keys.RUNTIME_PLACEHOLDERS


def every_reply(lang: str) -> dict[str, Reply]:
    """Every message the bot can send, as the person would get it."""
    catalog, found = flows().catalog, {}
    for spec in flows().specs.values():
        for step in spec.steps.values():
            if step.kind in engine_keys.INPUT_KINDS:
                for i, reply in enumerate(prompts.question(flows(), step, lang)):
                    found[f"{spec.id}.{step.id}.ask{i}"] = reply
                found[f"{spec.id}.{step.id}.retry"] = prompts.retry(flows(), step, lang)
    for key in catalog.keys(lang):  # type: ignore[arg-type]
        found.setdefault(key, Reply(catalog.t(key, lang, **SAMPLE_VALUES)))  # type: ignore[arg-type]
    for key in (engine_keys.MENU_GREETING, engine_keys.MENU_UNCLEAR, engine_keys.EXPIRED):
        found[f"menu:{key}"] = prompts.menu(catalog, lang, key)  # type: ignore[arg-type]
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_every_sms_fits_two_segments(lang: str) -> None:
    over = {
        name: len(render_sms(r)) for name, r in every_reply(lang).items() if len(render_sms(r)) > 1
    }
    assert not over, f"SMS needing more than one 2-segment message: {over}"


@pytest.mark.parametrize("lang", LANGS)
def test_report_sms_over_two_segments_without_accent_folding(lang: str) -> None:
    """Without folding á í ó ú, these go out as UCS-2 over 2 segments (printed with -s)."""
    over = {}
    for name, reply in every_reply(lang).items():
        encoding, count = segments(numbered(reply))
        if count > 2:
            over[name] = (encoding, count)
    print(f"\n{lang}: {len(over)} replies over 2 segments unfolded: {sorted(over)}")
    assert all(encoding == "UCS-2" for encoding, _ in over.values())
    assert all(segments(render_sms(r)[0])[1] <= 2 for r in every_reply(lang).values())


def test_whatsapp_terminal_and_render() -> None:
    reply = Reply("¿Está a salvo?", (Option("Sí", "yes"), Option("No", "no")))
    assert render_whatsapp(reply) == ["¿Está a salvo?\n1) Sí\n2) No"]
    sms = render("sms", [reply, Reply("Gracias.")])
    assert [r.text for r in sms] == ["¿Esta a salvo?\n1) Si\n2) No", "Gracias."]
    assert sms[0].options == reply.options
    assert render("telegram", [reply]) == [reply]
    assert render("web", [reply]) == [reply]
    assert render("terminal", [reply])[0].text == "¿Está a salvo?\n1) Sí\n2) No"
    long = Reply("Una frase. " * 80, reply.options)
    parts = render("sms", [long])
    assert len(parts) > 1 and parts[-1].options == reply.options
    assert all(not p.options for p in parts[:-1])


def test_a_long_telegram_reply_becomes_whole_messages_with_buttons_on_the_last() -> None:
    """Nothing is cut off: a 9,000-character reply is three messages, buttons on the last."""
    from bot.engine.model import Option
    from bot.render import render

    text = " ".join(f"palabra{n}" for n in range(1000))  # about 9,000 characters
    parts = render("telegram", [Reply(text, (Option("Sí", "yes"),))])
    assert len(parts) == 3 and all(len(p.text) <= 4096 for p in parts)
    assert " ".join(p.text for p in parts) == text
    assert [bool(p.options) for p in parts] == [False, False, True]


def test_every_channel_type_says_what_it_is() -> None:
    """The registry is the one place that knows a channel's nature."""
    assert {n for n, k in CHANNEL_TYPES.items() if k.pushed} == {"telegram", "sms", "whatsapp"}
    assert not reachable_by_writing("sms") and not reachable_by_writing("whatsapp")
    assert all(reachable_by_writing(n) for n in ("telegram", "web", "terminal", "voice"))
    assert "BAJA" in channel_type("sms").stop_words and not channel_type("telegram").stop_words
    assert phone_number("sms", "+17135550101") == "+17135550101"
    assert phone_number("voice", "+17135550101") == "+17135550101"
    assert phone_number("voice", "anonymous:CA123") is None
    assert phone_number("telegram", "12345678") is None
    assert render("nonsense", [Reply("x")]) == [Reply("x")]  # unknown: as written
