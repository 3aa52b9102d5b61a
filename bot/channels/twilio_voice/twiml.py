"""The call's words for the ear, as TwiML built with twilio's `VoiceResponse`.

One turn of the chat becomes one `<Gather>`: the replies are said, the options read as
"oprima 1 para …" (digits always work; speech too, with the option labels as hints), a
number step asks for the keypad and "#", a place step for the city or a 5-digit ZIP code,
anything else is answered by speaking. A reply holding a case reference is followed by the
reference again, letter by letter, slowly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from twilio.twiml.voice_response import Gather, VoiceResponse

from bot import i18n
from bot.types import Lang

Expect = Literal["choice", "number", "place", "speech"]

VOICES: Final[dict[Lang, tuple[str, str]]] = {
    "es": ("Polly.Mia-Neural", "es-MX"),
    "en": ("Polly.Joanna-Neural", "en-US"),
}
GATHER_TIMEOUT: Final = 6  # seconds of silence before the Gather gives up
PERSON_DIGIT: Final = "0"  # "0 for a person", as on most phone lines
VOICEMAIL_SECONDS: Final = 120
DIAL_TIMEOUT: Final = 20
_REF = re.compile(r"\bHL-?([0-9A-Z]{6})\b")
# Said digit by digit: 911 and 988, and phone numbers (seven digits or more, dashes too).
_DIGITS = re.compile(r"\b(?:911|988)\b|\b\d[\d-]{5,}\d\b")
# Written-channel verbs the ear should not hear ("Escriba qué pasó" on a phone line).
_FOR_THE_EAR: Final[dict[Lang, tuple[tuple[str, str], ...]]] = {
    "es": (("Escriba", "Diga"), ("escriba", "diga"), ("Escríbanos", "Díganos")),
    "en": (("Write", "Say"), ("write", "say"), ("Type", "Say"), ("type", "say")),
}


@dataclass(frozen=True, slots=True)
class Said:
    """One reply as the call hears it: its text and its options (label, value)."""

    text: str
    options: tuple[tuple[str, str], ...] = ()


def spelled(ref: str) -> str:
    """A reference read one character at a time, a pause after each: "H. L. 7. K. 4. M. 2. Q"."""
    return ". ".join(ref.replace("-", ""))


def for_the_ear(text: str, lang: Lang) -> str:
    """The text a voice reads: digits of phone numbers one by one, references spelled,
    written-channel verbs spoken, options and stray markup out."""
    for written, spoken in _FOR_THE_EAR[lang]:
        text = text.replace(written, spoken)
    text = _REF.sub(lambda m: spelled("HL" + m.group(1)), text)
    text = _DIGITS.sub(lambda m: " ".join(c for c in m.group(0) if c.isdigit()), text)
    text = re.sub(r"https?://\S+", "", text)
    return re.sub(r"[*_#>]+", " ", text).replace("\n", " ").strip()


def say(node: VoiceResponse | Gather, text: str, lang: Lang) -> None:
    """Say `text` for the ear, in the caller's language and voice."""
    voice, language = VOICES[lang]
    node.say(for_the_ear(text, lang), voice=voice, language=language)


def gather(
    response: VoiceResponse,
    *,
    action: str,
    lang: Lang,
    expect: Expect,
    hints: Sequence[str] = (),
    options: int = 0,
) -> Gather:
    """A `<Gather>` that takes keys and speech and always posts back (also when silent)."""
    _voice, language = VOICES[lang]
    settings: dict[str, object] = {
        "input": "dtmf speech",
        "action": action,
        "method": "POST",
        "language": language,
        "timeout": GATHER_TIMEOUT,
        "speech_timeout": "auto",
        "action_on_empty_result": True,
    }
    if expect == "choice" and options <= 9:
        settings["num_digits"] = 1
    elif expect == "place":
        settings["num_digits"] = 5
    else:
        settings["finish_on_key"] = "#"
    if hints:
        settings["hints"] = ", ".join(h.replace(",", " ") for h in hints)[:900]
    return response.gather(**settings)


def turn(replies: Sequence[Said], *, lang: Lang, expect: Expect, action: str) -> VoiceResponse:
    """The TwiML for one turn: the replies said inside a Gather that waits for the answer."""
    response = VoiceResponse()
    options = replies[-1].options if replies else ()
    node = gather(
        response,
        action=action,
        lang=lang,
        expect="choice" if options else expect,
        hints=[label for label, _ in options],
        options=len(options),
    )
    _say_replies(node, replies, lang)
    for number, (label, _value) in enumerate(options, start=1):
        say(node, f"{i18n.t('channel.voice.press', lang, count=number)} {label}.", lang)
    if not options and expect == "number":
        say(node, i18n.t("channel.voice.keypad_number", lang), lang)
    elif not options and expect == "place":
        say(node, i18n.t("channel.voice.keypad_zip", lang), lang)
    return response


def _say_replies(node: Gather, replies: Sequence[Said], lang: Lang) -> None:
    """The replies, each reference in them said again letter by letter."""
    for reply in replies:
        if reply.text:
            say(node, reply.text, lang)
        for ref in _REF.findall(reply.text):
            say(node, i18n.t("channel.voice.ref_again", lang, ref=spelled("HL" + ref)), lang)


def sms_offer(replies: Sequence[Said], *, lang: Lang, action: str) -> VoiceResponse:
    """The replies, then "press 1 for a text message with your case number" (1 or "sí");
    any other answer, or none, ends the call kindly at the action."""
    response = VoiceResponse()
    hints = ["sí", "uno"] if lang == "es" else ["yes", "one"]
    node = gather(response, action=action, lang=lang, expect="choice", hints=hints, options=1)
    _say_replies(node, replies, lang)
    say(node, i18n.t("channel.voice.sms_offer", lang), lang)
    return response


def greeting(action: str) -> VoiceResponse:
    """Who we are, 911 first, then the language choice said in both languages."""
    response = VoiceResponse()
    node = gather(
        response,
        action=action,
        lang="es",
        expect="choice",
        hints=["español", "english", "inglés"],
        options=2,
    )
    say(node, i18n.t("channel.voice.welcome", "es"), "es")
    say(node, i18n.t("channel.voice.choose_lang", "es"), "es")
    return response


def connect(
    number: str, *, lang: Lang, action: str, response: VoiceResponse | None = None
) -> VoiceResponse:
    """Ring the desk's on-duty phone; the action hears how it went."""
    response = response or VoiceResponse()
    say(response, i18n.t("channel.voice.connecting", lang), lang)
    dial = response.dial(timeout=DIAL_TIMEOUT, action=action, method="POST")
    dial.number(number)
    return response


def voicemail(
    *, lang: Lang, action: str, recorded: str, response: VoiceResponse | None = None
) -> VoiceResponse:
    """Record a message of at most VOICEMAIL_SECONDS for the case."""
    response = response or VoiceResponse()
    minutes = VOICEMAIL_SECONDS // 60
    say(response, i18n.t("channel.voice.voicemail", lang, minutes=minutes), lang)
    response.record(
        max_length=VOICEMAIL_SECONDS,
        timeout=10,
        play_beep=True,
        action=action,
        method="POST",
        recording_status_callback=recorded,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
    )
    response.hangup()
    return response


def goodbye(key: str, lang: Lang, **values: object) -> VoiceResponse:
    """A last word, then hang up."""
    response = VoiceResponse()
    say(response, i18n.t(key, lang, **values), lang)
    response.hangup()
    return response
