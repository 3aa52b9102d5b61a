"""Fuzzing with Hypothesis: every answer parser and text reader, the conversation engine as a
whole, and the webhooks of the real app.

- Parsers and readers (engine, routing, triage) take any text — control characters, NULs,
  RTL marks, emoji, 10,000 characters, runs of one fragment built to make a regex backtrack
  — and never raise, return what they promise, and finish each call within a generous bound
  (a guard against catastrophic backtracking or worse-than-linear work, not a benchmark).
- The real `Hotline` answers every message of a generated conversation, with no failure
  recorded on the message and no leak of a traceback or a `{placeholder}`.
- The Telegram, Twilio (SMS and voice) and web chat endpoints never answer 5xx to any body a
  client can send (with the right secret or signature, or without), a forged Twilio post is
  always 403, and nothing stored fails in the engine afterwards.

HOTLINE_FUZZ_SCALE=20 runs twenty times as many examples (a deeper run, by hand).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import math
import os
import random
import re
import string
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from sqlmodel import col, select

from bot.conversations import Hotline
from bot.db import Database
from bot.engine import load_flows
from bot.engine.commands import COMMANDS, command_in, command_of
from bot.engine.extract import danger, extract_who, guess_intent, legal_risk, urgent_event
from bot.engine.match import match_choice, option_number, parse_yes_no
from bot.engine.parsers import (
    find_time,
    find_zip,
    parse_a_number,
    parse_amount,
    parse_dob,
    parse_future_date,
    parse_location,
    parse_number,
    parse_phone,
    parse_time,
)
from bot.engine.refs import REF_ALPHABET, find_ref, normalize_ref
from bot.engine.text import clean, has_content, is_skip, normalize
from bot.models import InboundMessage, InboundStatus, OutboundMessage, OutboundStatus
from bot.routing.lexicon import load_lexicon
from bot.routing.mentions import find_mentions
from bot.routing.places import Location, extract_location, resolve_location
from bot.terminal import TerminalChat
from bot.triage.classify import Triage, classify
from bot.types import INTENTS, PRIORITIES
from tests.channels.support import (
    PUBLIC_URL,
    WEBHOOK_SECRET,
    fast_app,
    running,
    settings_for,
    sign,
    sms,
    tg_button,
    tg_message,
    wait_for,
)
from tests.channels.webpage import page_client, serving
from tests.conftest import make_settings
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import ACCOUNT_SID, FakeTwilio

T = TypeVar("T")
pytestmark = [
    # A failing example of 10,000 characters is still worth its (long) report.
    pytest.mark.filterwarnings(
        "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
    ),
    # While Hypothesis draws in one thread the app's workers run in another, and their use
    # of the `random` module (retry jitter) looks to Hypothesis like a strategy using it.
    pytest.mark.filterwarnings(
        "ignore:Do not use the `random` module:hypothesis.errors.HypothesisDeprecationWarning"
    ),
]
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
LIMIT = 1.0  # seconds for one call on 10,000 characters: catastrophic time only
SCALE = int(os.environ.get("HOTLINE_FUZZ_SCALE", "1"))  # more examples for a deeper run
FAST = settings(
    max_examples=150 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SLOW = settings(FAST, max_examples=60 * SCALE)

# --- text strategies -----------------------------------------------------------------------

SPECIAL = (
    "\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x7f\x85\xa0\u00ad\u0301\u200b\u200c\u200d\u200e"
    "\u200f\u202a\u202e\u2028\u2029\u2066\u2069\ufeff\ufffd\U0001f600\U0001f1f2\U0001f1fd"
    "\U0001f44d\U0001f3fd ñÑáéíóúüÁÉÍÓÚçß İı ǆ ﬁ ７٧৭²½ \\\"'{}%$#@+-/.,;:!?¿¡()[]<>&="
)
WORDS = (
    "hace 2 horas ayer anoche hoy ahorita ahora mismo dicen que me dijeron semana pasada "
    "de del el la en mi mis a y o no sí si sé se ok claro nel nunca skip omitir paso "
    "esposo esposa hijo hija mamá hermano tío amigo vecino self se llevaron detuvieron migra "
    "redada ICE agentes peligro emergencia sangre pistola suicidio quiero morir abogado corte "
    "audiencia cita pasaporte matrícula uno dos tres cuatro veinte cien ninguno nadie muchos "
    "varios unos cuantos a lot menu menú ayuda help atrás back cancelar borrar humano alerta "
    "sos estado status english español idioma derechos riesgo HL-7K4M2Q hl 7k4m2q HL7K4M2Q "
    "A123456789 A-123-456-789 77036 77036-1234 90210 (713) 555-0199 +52 55 1234 5678 "
    "+1-713-555-0199 12/05/1985 1985-05-12 5 de mayo de 1985 15 de marzo marzo martes "
    "mañana pasado mañana en 2 semanas next week 3/12 Houston, TX Los Ángeles Hiouston "
    "Springfield, IL Mesa AZ Chicago Nueva York en Immokalee cerca de Phoenix Tijuana Oaxaca "
    "Mexico, MO St. Louis L.A. CDMX"
).split()
FRAGMENTS = (
    "a-",
    "1-",
    "1/",
    "12/12/",
    "1 ",
    "1.",
    "1,",
    " ",
    ".",
    ",",
    "-",
    "\n",
    "de ",
    "de de ",
    "hace ",
    "hace 1 ",
    "hl-",
    "HL",
    "hl 7",
    "7135550199",
    "713 555 0199 ",
    "+",
    "+52",
    "77036",
    "77036-",
    "00000-1234 ",
    "12345 ",
    "a1",
    "A1",
    "12 de marzo de ",
    "marzo ",
    "en ",
    "en Houston ",
    "Houston, ",
    "Springfield, ",
    "st. ",
    "L.A. ",
    "mi esposo ",
    "no se ",
    "si ",
    "sí, ",
    "ñ",
    "é",
    "\u200f",
    "\u0301",
    "😀",
    "\x00",
    "ab",
    "aaaa ",
    "en Hiouston ",
    "Mexico, MO ",
    "opcion 1 ",
    "#",
    "( ",
    "!?",
)


def repeat(fragment: str, length: int) -> str:
    """`fragment` over and over, cut at `length` characters."""
    return (fragment * (length // max(len(fragment), 1) + 1))[:length]


def random_word(seed: int, length: int) -> str:
    """A word of `length` letters with no repetition to collapse (for edit-distance work)."""
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(length))


SURROGATES = "\ud800\udbff\udc00\udfff"  # lone: a JSON body can carry them ("\\ud800")
any_char = st.one_of(st.characters(), st.sampled_from(SPECIAL + SURROGATES))
unicode_text = st.text(any_char, max_size=200)
# What a form post can carry: any character that has a UTF-8 encoding.
form_char = st.one_of(st.characters(codec="utf-8"), st.sampled_from(SPECIAL))
word_salad = st.lists(
    st.one_of(st.sampled_from(WORDS), st.text(any_char, max_size=6)), max_size=40
).map(" ".join)
repeated = st.builds(
    repeat,
    st.one_of(
        st.sampled_from(FRAGMENTS),
        st.lists(st.sampled_from(FRAGMENTS), min_size=2, max_size=4).map("".join),
        st.text(any_char, min_size=1, max_size=8),
    ),
    st.integers(1, 10_000),
)
DIGITS = "0123456789" * 4 + "٠١٢٣٤٥٦٧٨٩０１２３４５６７８９"  # ASCII mostly; Arabic, fullwidth
digit_runs = st.lists(
    st.tuples(st.text(DIGITS, min_size=1, max_size=12), st.sampled_from(" -./,()+\n")),
    max_size=300,
).map(lambda parts: "".join(a + b for a, b in parts))
long_word = st.builds(
    lambda before, seed, length, after: before + random_word(seed, length) + after,
    st.sampled_from(["", "en ", "in ", "near ", "vivo en ", "cerca de ", "Houston ", "HL-"]),
    st.integers(0, 2**32),
    st.integers(5, 5_000),
    st.sampled_from(["", " TX", ", IL", " 77036"]),
)
texts = st.one_of(unicode_text, word_salad, repeated, digit_runs, long_word)
# What `normalize` gives (lower-case ASCII letters, digits, ñ, single spaces), long: the
# readers that take a normalised text get it this long only from a caller that does not
# normalise, but they are public helpers and must stay linear on it too.
norm_words = st.one_of(
    st.sampled_from([normalize(w) for w in WORDS if normalize(w)]),
    st.text("abcdefghijklmnopqrstuvwxyzñ0123456789", min_size=1, max_size=12),
)
long_norms = st.one_of(
    st.lists(norm_words, max_size=2_000).map(" ".join),
    st.builds(repeat, norm_words.map(lambda w: w + " "), st.integers(1, 10_000)).map(str.strip),
)


@pytest.fixture(scope="module", autouse=True)
def _loaded() -> None:
    """Load once, before anything is timed: the place lexicon, ZIP and area-code tables,
    the triage model and the flows (seconds, the first time)."""
    classify("hola")
    extract_location("Houston, TX 77036")
    resolve_location(zip="77036", lat=29.7, lon=-95.4, phone="+17135550199")
    resolve_location(lat=29.7, lon=-95.4)
    resolve_location(phone="7135550199")
    _choice_sets()


def timed(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `function`, failing when one call takes more than LIMIT seconds."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    took = time.perf_counter() - started
    size = max((len(a) for a in (*args, *kwargs.values()) if isinstance(a, str)), default=0)
    name = getattr(function, "__name__", repr(function))
    assert took < LIMIT, f"{name} took {took:.2f}s on {size} characters"
    return result


# --- the text helpers and answer parsers -------------------------------------------------

_NORMALISED = re.compile(r"(?:[a-z0-9ñ]+(?: [a-z0-9ñ]+)*)?")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


@FAST
@given(texts)
def test_the_text_helpers_take_any_text(text: str) -> None:
    """clean drops every control and invisible character (line breaks and tabs stay) and is
    idempotent; normalize gives lower-case words of a-z, 0-9 and ñ and is idempotent."""
    cleaned = timed(clean, text)
    assert isinstance(cleaned, str) and _CONTROL.search(cleaned) is None
    assert clean(cleaned) == cleaned
    norm = timed(normalize, text)
    assert _NORMALISED.fullmatch(norm), norm
    assert normalize(norm) == norm
    assert isinstance(timed(has_content, text), bool)
    assert isinstance(timed(is_skip, norm), bool)
    command = timed(command_of, text)
    assert command is None or command in COMMANDS
    assert command_in(text, norm) == command


@FAST
@given(texts)
@example("７１３ ５５５ ０１９９")  # fullwidth digits: the number was "+1７１３５５５０１９９"
@example("vivo en el ٧٧٠٣٦")  # Arabic-Indic digits: the ZIP was "٧٧٠٣٦"
def test_the_answer_parsers_take_any_text(text: str) -> None:
    """Each parser of a typed answer returns its documented value or None, in time."""
    norm = normalize(text)
    digits = re.compile(r"[0-9]+")

    when = timed(parse_time, text, norm, NOW)
    if when is not None:
        assert when["when"] in ("now", "earlier_today", "days_ago", "rumor") and when["raw"] == text
        if "date" in when:
            assert date.fromisoformat(when["date"]) <= NOW.date()
    found = timed(find_time, norm, NOW)
    assert found is None or found["when"] in ("now", "earlier_today", "days_ago", "rumor")

    for lang in ("es", "en"):
        dob = timed(parse_dob, text, norm, NOW, lang)
        if dob is not None:
            year = int(dob[:4])
            assert NOW.year - 120 <= year <= NOW.year
            assert len(dob) == 4 or date.fromisoformat(dob) <= NOW.date()

    phone = timed(parse_phone, text, norm)
    assert phone is None or phone == "same" or re.fullmatch(r"\+[0-9]{8,15}", phone), phone

    a_number = timed(parse_a_number, text, norm)
    assert a_number is None or re.fullmatch(r"[0-9]{9}", a_number), a_number

    amount = timed(parse_amount, text, norm)
    assert amount is None or (amount["approx"] in ("many", "some") and amount["raw"] == text[:200])

    for low, high in ((0, 999), (1, 20)):
        number = timed(parse_number, norm, low, high)
        assert number is None or (type(number) is int and low <= number <= high)

    place = timed(parse_location, text, norm, None)
    if place is not None:
        assert place["raw"] == text.strip() and 0 < len(place["raw"]) <= 160
        assert "zip" not in place or (digits.fullmatch(place["zip"]) and len(place["zip"]) == 5)

    zip_code = timed(find_zip, text)
    assert zip_code is None or (digits.fullmatch(zip_code) and len(zip_code) == 5), zip_code

    for day_first in (True, False):
        coming = timed(parse_future_date, text, norm, NOW, day_first)
        if coming is not None:
            assert coming["raw"] == text and isinstance(coming["approx"], bool)
            # in the past only when a year was written ("el 3/4/25")
            day = date.fromisoformat(coming["date"])
            assert day >= NOW.date() or re.search(r"[0-9]{2}", norm), (text, day)


MONTHS = (
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
).split()
WRITTEN = (
    "{d}/{m}/{yy}",
    "{d}/{m}/{y}",
    "{dd}-{mm}-{y}",
    "{d}.{m}.{yy}",
    "el {d} de {month} de {y}",
    "{month} {d} {y}",
    "{y}-{mm}-{dd}",
)


def written(day: date, form: str) -> str:
    return form.format(
        d=day.day,
        dd=f"{day.day:02d}",
        m=day.month,
        mm=f"{day.month:02d}",
        y=day.year,
        yy=f"{day.year % 100:02d}",
        month=MONTHS[day.month - 1],
    )


@FAST
@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)), st.sampled_from(WRITTEN))
@example(date(2027, 4, 15), "{d}/{m}/{yy}")  # was 1928-04-15
@example(date(2025, 4, 1), "{d}/{m}/{yy}")  # was 2026-04-01: a missed court date ahead
def test_a_coming_date_keeps_the_year_it_was_written_with(day: date, form: str) -> None:
    """A court date with its year, past or coming, two digits or four, is that date (a date
    that has passed is not moved to next year, "27" is 2027, not 1928)."""
    text = written(day, form)
    coming = parse_future_date(text, normalize(text), NOW, day_first=True)
    assert coming is not None and coming["date"] == day.isoformat(), text


@FAST
@given(
    st.dates(date(2026, 1, 1), date(2026, 12, 31)), st.sampled_from(["{d}/{m}", "{d} de {month}"])
)
def test_a_coming_date_without_a_year_is_the_next_one(day: date, form: str) -> None:
    """Without a year, a day that has passed this year is next year's."""
    text = written(day, form)
    coming = parse_future_date(text, normalize(text), NOW, day_first=True)
    expected = day if day >= NOW.date() else day.replace(year=day.year + 1)
    assert coming is not None and coming["date"] == expected.isoformat(), text


@FAST
@given(st.one_of(st.tuples(st.floats(), st.floats()), st.none()), texts)
def test_a_shared_location_never_breaks_the_place_parser(
    geo: tuple[float, float] | None, text: str
) -> None:
    """A point (any floats: NaN, infinities) is kept as the point; without one, the text."""
    place = parse_location(text, normalize(text), geo)
    if geo is not None:
        assert place is not None and place["raw"]
        for got, given_ in ((place["lat"], geo[0]), (place["lon"], geo[1])):
            assert got == given_ or math.isnan(given_)
    else:
        assert place is None or "raw" in place


@functools.cache
def _choice_sets() -> list[tuple[Any, ...]]:
    return list(load_flows().choices.values())


@FAST
@given(texts, long_norms, st.data())
def test_the_readers_of_a_normalised_text_take_any_text(
    text: str, long_norm: str, data: st.DataObject
) -> None:
    """Choice, yes/no and keyword readers: their documented values or None, in time, on the
    normalised text and on a 10,000-character text of words."""
    choices = data.draw(st.sampled_from(_choice_sets()))
    values = {c.value for c in choices}
    for norm in (normalize(text), long_norm):
        number = timed(option_number, norm)
        assert number is None or (type(number) is int and 0 <= number <= 99)
        picked = timed(match_choice, choices, norm)
        assert picked is None or picked in values
        assert timed(parse_yes_no, norm) in (None, "yes", "no", "skip")
        assert timed(danger, norm) in (None, "crisis", "emergency")
        assert isinstance(timed(legal_risk, norm), bool)
        assert isinstance(timed(urgent_event, norm), bool)
        assert timed(guess_intent, norm) in (None, *INTENTS)
        assert timed(extract_who, norm) in (
            None,
            "spouse",
            "child",
            "parent",
            "sibling",
            "relative",
            "friend",
            "self",
        )
        assert isinstance(timed(is_skip, norm), bool)
        assert isinstance(timed(command_in, norm, norm), str | None)
        for lang in ("es", "en"):
            timed(parse_dob, norm, norm, NOW, lang)
        timed(find_time, norm, NOW)
        timed(parse_future_date, norm, norm, NOW)
        timed(parse_a_number, norm, norm)
        timed(parse_number, norm)
        timed(parse_amount, norm, norm)


_REF = re.compile(f"HL-[{REF_ALPHABET}]{{6}}")
ref_like = st.builds(
    lambda before, sep, body, after: before + "hl" + sep + body + after,
    st.text(any_char, max_size=20),
    st.sampled_from(["", "-", " ", "_", ".", "--", "\u00a0"]),
    st.text(string.ascii_letters + string.digits + "ñ٧", min_size=5, max_size=7),
    st.text(any_char, max_size=20),
)


@FAST
@given(st.one_of(texts, ref_like))
def test_case_references_in_any_text(text: str) -> None:
    """A reference found or normalised is always canonical, and is in the text (up to case,
    the dash and Crockford's O/I/L)."""
    whole = timed(normalize_ref, text)
    first = timed(find_ref, text)
    for ref in (whole, first):
        assert ref is None or _REF.fullmatch(ref), ref
    if whole is not None:
        assert first == whole
    if first is not None:
        folded = re.sub(r"[^0-9A-Z]", "", text.upper().translate(str.maketrans("OIL", "011")))
        assert first[3:] in folded


# --- routing and triage ------------------------------------------------------------------


@SLOW
@given(texts)
@example("en " + random_word(1, 1_200))  # a misspelling's deletions: O(length³), was seconds
def test_place_names_are_read_from_any_text(text: str) -> None:
    """Every place mentioned, and the best of them, from any text: no error, in time."""
    mentions = timed(find_mentions, text, load_lexicon())
    assert isinstance(mentions, list)
    assert all(0 <= m.start <= m.end for m in mentions)
    found = timed(extract_location, text)
    assert found is None or isinstance(found, Location)


@SLOW
@given(
    st.one_of(st.none(), texts),
    st.one_of(st.none(), st.text("0123456789-  ٧７", max_size=12), unicode_text),
    st.one_of(st.none(), st.floats()),
    st.one_of(st.none(), st.floats()),
    st.one_of(st.none(), st.text("+0123456789 ()-", max_size=20), unicode_text),
)
def test_a_location_is_resolved_from_any_parts(
    text: str | None, zip_code: str | None, lat: float | None, lon: float | None, phone: str | None
) -> None:
    """ZIP, point (NaN and infinities too), text and caller's phone: a Location or None."""
    found = timed(resolve_location, text, zip=zip_code, lat=lat, lon=lon, phone=phone)
    assert found is None or isinstance(found, Location)


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), unicode_text
)


def nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Lists and objects of `inner` values (one level more of a JSON value)."""
    return st.lists(inner, max_size=4) | st.dictionaries(unicode_text, inner, max_size=4)


json_values = st.recursive(json_scalars, nested, max_leaves=12)
ANSWER_KEYS = (
    "flow",
    "intent",
    "when",
    "removal_date",
    "court_date",
    "removal_order",
    "arrest",
    "taken_count",
    "taken",
    "anyone_taken",
    "children",
    "children_alone",
    "children_affected",
    "danger_now",
    "safe",
    "safe_now",
    "kind",
)
answer_values = st.one_of(
    json_values,
    st.sampled_from(["yes", "no", "sí", "1", "0", "now", "rumor", "screening", "raid", "open"]),
    st.dates().map(date.isoformat),
    st.datetimes().map(datetime.isoformat),
    st.fixed_dictionaries({"date": st.dates().map(date.isoformat)}),
    st.fixed_dictionaries({"when": st.sampled_from(["now", "earlier_today", "rumor", "x"])}),
)


@SLOW
@given(
    texts,
    st.one_of(st.none(), st.dictionaries(st.sampled_from(ANSWER_KEYS), answer_values)),
    st.one_of(st.none(), st.datetimes(timezones=st.just(UTC)), st.dates()),
)
def test_triage_classifies_any_text_with_any_answers(
    text: str, answers: dict[str, Any] | None, now: datetime | date | None
) -> None:
    """An intent and a priority of the known sets, reasons as text, a confidence in 0..1."""
    verdict = timed(classify, text, answers, now=now)
    assert isinstance(verdict, Triage)
    assert verdict.intent in INTENTS and verdict.priority in PRIORITIES
    assert all(isinstance(r, str) for r in verdict.reasons)
    assert 0.0 <= verdict.confidence <= 1.0 and isinstance(verdict.needs_review, bool)


# --- the conversation engine -------------------------------------------------------------

ANSWERS = (
    "1",
    "2",
    "3",
    "0",
    "99",
    "si",
    "no",
    "no sé",
    "ayer",
    "77036",
    "Houston, TX",
    "12/05/1985",
    "A 123 456 789",
    "713 555 0199",
    "menu",
    "atrás",
    "cancelar",
    "borrar",
    "humano",
    "english",
    "español",
    "estado HL-7K4M2Q",
    "alerta",
    "cita",
    "/start",
    "?",
    "",
    " ",
    "\x00",
    "😀",
)
messages = st.one_of(
    st.sampled_from(ANSWERS),
    st.text(form_char, max_size=200),  # the webhooks turn lone surrogates into U+FFFD
    word_salad.map(lambda s: s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")),
    st.builds(repeat, st.sampled_from(FRAGMENTS), st.integers(1, 3_000)),
    long_word.map(lambda w: w[:2_500]),
)
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def _unfinished(database: Database) -> list[tuple[str, str | None]]:
    with database.read() as session:
        rows = session.exec(
            select(InboundMessage).where(
                (col(InboundMessage.status) != InboundStatus.processed)
                | col(InboundMessage.error).is_not(None)
            )
        ).all()
        return [(str(r.status), r.error) for r in rows]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_engine_answers_every_message(database: Database, tmp_path: Path) -> None:
    """A person writing anything, message after message, gets an answer to each; nothing
    fails in the engine (no failure is recorded on a message) and no reply leaks a
    traceback or an unfilled `{placeholder}`."""
    hotline = Hotline.load(make_settings(tmp_path, flood_per_sender_per_minute=10_000))
    hotline.prepare(database)
    people = itertools.count()

    @settings(SLOW, max_examples=40 * SCALE)
    @given(
        st.lists(messages, min_size=1, max_size=6),
        st.sampled_from([None, "es", "en", "fr", ""]),
        st.sampled_from(["sms", "whatsapp", "telegram", "web", "voice"]),
    )
    def conversation(said: list[str], lang: str | None, render_as: str) -> None:
        person = TerminalChat(
            hotline, database, sender=f"fuzz-{next(people)}", render_as=render_as, lang=lang
        )
        for text in said:
            replies = person.send(text)
            assert _unfinished(database) == [], text
            assert replies, f"no reply to {text!r}"
            for reply in replies:
                body = str(reply["text"])
                assert body.strip(), f"an empty reply to {text!r}"
                assert "Traceback" not in body and "Exception" not in body
                leaked = set(_PLACEHOLDER.findall(body)) - set(_PLACEHOLDER.findall(text))
                assert not leaked, f"{leaked} in {body!r}"

    conversation()


# --- the webhooks --------------------------------------------------------------------------


def fuzz(
    check: Callable[..., None],
    *strategies: Any,
    examples: int = 80,
    known: Sequence[tuple[Any, ...]] = (),
) -> Callable[[], None]:
    """`check` as a Hypothesis test of its own (run inside a test that holds the app), tried
    first on the `known` inputs: what the fuzzing found once, kept as regressions."""
    test = given(*strategies)(check)
    for args in known:
        test = example(*args)(test)
    return settings(SLOW, max_examples=examples * SCALE)(test)


async def in_thread(
    client: httpx.AsyncClient, run: Callable[[Callable[..., httpx.Response]], None]
) -> None:
    """Run the (synchronous) Hypothesis loop in a thread; its requests go to `client` on
    this event loop, where the app runs."""
    loop = asyncio.get_running_loop()

    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        future = asyncio.run_coroutine_threadsafe(client.request(method, url, **kwargs), loop)
        return future.result(timeout=60)

    await asyncio.to_thread(run, request)


_CRASH = re.compile(r"[A-Z][A-Za-z]*(?:Error|Exception)")  # what an unexpected error leaves


def _unsent(database: Database) -> tuple[bool, list[tuple[str, str | None]]]:
    """Whether a pushed reply still waits for its first attempt, and the replies whose
    sending failed with an unexpected exception (a bug, not the provider's refusal)."""
    with database.read() as session:
        rows = session.exec(
            select(OutboundMessage).where(
                col(OutboundMessage.channel).in_(["telegram", "sms", "whatsapp"])
            )
        ).all()
    waiting = any(
        r.status in (OutboundStatus.pending, OutboundStatus.sending) and r.last_error is None
        for r in rows
    )
    return waiting, [
        (str(r.status), r.last_error) for r in rows if _CRASH.fullmatch(r.last_error or "")
    ]


async def failures(database: Database) -> list[tuple[str, str | None]]:
    """The stored messages whose processing failed and the replies whose sending failed
    unexpectedly, once the rest is done (a failed message stays pending, with its error,
    for the inbox sweep to retry; a reply, with its error, for the next attempt)."""
    await wait_for(
        lambda: all(e is not None for s, e in _unfinished(database) if s == "pending"),
        within=30,
        what="the inbox processed",
    )
    await wait_for(lambda: not _unsent(database)[0], within=30, what="the replies sent")
    inbox = [(s, e) for s, e in _unfinished(database) if e is not None or s == "failed"]
    return inbox + _unsent(database)[1]


# Telegram: a valid update's fields, each one sometimes replaced by any JSON value.
def _merged(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """`base` with the fields of `change` put in, nested objects merged (None replaces)."""
    out = dict(base)
    for key, value in change.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merged(out[key], value) if both else value
    return out


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(valid, valid, valid, json_values)


tg_text = st.one_of(
    unicode_text, word_salad, st.builds(repeat, unicode_text, st.integers(0, 70_000))
)
tg_user = st.fixed_dictionaries(
    {"id": maybe(st.integers(-(2**60), 2**60)), "is_bot": maybe(st.booleans())},
    optional={
        "first_name": maybe(unicode_text),
        "language_code": maybe(st.sampled_from(["es", "en", "pt-br", "", "zz"]) | unicode_text),
    },
)
tg_chat = st.fixed_dictionaries(
    {
        "id": maybe(st.integers(-(2**60), 2**60)),
        "type": maybe(st.sampled_from(["private", "group", "supergroup", "channel"])),
    },
    optional={"first_name": maybe(unicode_text)},
)
tg_file = st.fixed_dictionaries(
    {"file_id": maybe(unicode_text), "file_unique_id": maybe(unicode_text)},
    optional={
        "width": maybe(st.integers()),
        "height": maybe(st.integers()),
        "duration": maybe(st.integers()),
        "mime_type": maybe(unicode_text),
        "file_size": maybe(st.integers()),
    },
)
tg_point = st.fixed_dictionaries({"latitude": maybe(st.floats()), "longitude": maybe(st.floats())})
tg_message_body = st.fixed_dictionaries(
    {"message_id": maybe(st.integers()), "date": maybe(st.integers()), "chat": maybe(tg_chat)},
    optional={
        "from": maybe(tg_user),
        "text": maybe(tg_text),
        "caption": maybe(tg_text),
        "photo": maybe(st.lists(tg_file, max_size=3)),
        "voice": maybe(tg_file),
        "audio": maybe(tg_file),
        "video": maybe(tg_file),
        "video_note": maybe(tg_file),
        "document": maybe(tg_file),
        "location": maybe(tg_point),
        "entities": json_values,
        "edit_date": maybe(st.integers()),
    },
)
tg_query = st.fixed_dictionaries(
    {"id": maybe(unicode_text), "chat_instance": maybe(unicode_text), "from": maybe(tg_user)},
    optional={"data": maybe(unicode_text), "message": maybe(tg_message_body)},
)
tg_update = st.one_of(
    st.fixed_dictionaries(
        {"update_id": maybe(st.integers(0, 2**63))},
        optional={
            "message": maybe(tg_message_body),
            "edited_message": maybe(tg_message_body),
            "callback_query": maybe(tg_query),
            "my_chat_member": json_values,
        },
    ),
    st.builds(tg_message, st.integers(0, 2**31), st.integers(-(2**40), 2**40), tg_text),
    st.builds(tg_button, st.integers(0, 2**31), st.integers(1, 2**40), unicode_text),
)
json_bodies = st.one_of(
    tg_update.map(lambda u: json.dumps(u).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    unicode_text.map(lambda s: s.encode("utf-8", "surrogatepass")),
)


async def test_telegram_webhook_bodies(
    database: Database, tmp_path: Path, bot_api: tuple[FakeBotAPI, LiveServer]
) -> None:
    """With the right secret, any body — updates with fields of any type, any JSON, bytes
    that are not JSON — gets 200 or 400 (413 when too big), never 5xx; without it, 403; and
    no stored update fails in the engine."""
    settings_ = settings_for(tmp_path, bot_api=bot_api[1].url, flood_per_sender_per_minute=10_000)
    app = fast_app(settings_, database, Hotline.load(settings_))
    async with running(app) as client:
        await wait_for(lambda: bool(bot_api[0].method_calls("setWebhook")), what="webhook set")

        def run(request: Callable[..., httpx.Response]) -> None:
            def check(body: bytes, secret: str | None) -> None:
                headers = {"Content-Type": "application/json"}
                if secret is not None:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = secret
                response = request("POST", "/webhooks/telegram", content=body, headers=headers)
                # 413: over HOTLINE_MAX_BODY_BYTES, refused before the secret is looked at
                allowed = (200, 400, 413) if secret == WEBHOOK_SECRET else (403, 413)
                assert response.status_code in allowed, (response.status_code, body[:300])

            secrets_ = st.one_of(
                st.just(WEBHOOK_SECRET),
                st.just(WEBHOOK_SECRET),
                st.just(WEBHOOK_SECRET),
                st.none(),
                st.text(string.printable.strip(), max_size=40),
            )
            found = [
                {"message": {"chat": None}},  # no chat: was 503, for ever
                {
                    "message": {"chat": {"id": "abc", "type": "private"}, "text": "hola"}
                },  # sent to int()
                {"message": {"from": {"id": 1, "is_bot": False, "language_code": 5}}},  # engine
                {"message": {"location": {"latitude": "x", "longitude": []}}},  # engine
                {"message": {"text": "hola \ud801"}},  # a lone surrogate: was 503, for ever
                {"message": {"from": {"id": 1, "is_bot": False, "first_name": "\udc00"}}},
                {"update_id": "9" * 100},  # longer than the inbox's provider id: 503
                {"callback_query": {"id": "q", "chat_instance": "c", "from": None}},
            ]
            known = [
                (json.dumps(_merged(tg_message(7, 70), u)).encode(), WEBHOOK_SECRET) for u in found
            ]
            fuzz(check, json_bodies, secrets_, examples=150, known=known)()

        await in_thread(client, run)
        assert await failures(database) == []


# Twilio: the fields Twilio posts, some left out, some any text, plus made-up fields.
SMS_FIELDS = (
    "MessageSid",
    "SmsSid",
    "AccountSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "MediaUrl0",
    "MediaContentType0",
    "ProfileName",
    "Latitude",
    "Longitude",
    "WaId",
    "MessageStatus",
    "ErrorCode",
)
VOICE_FIELDS = (
    "CallSid",
    "AccountSid",
    "From",
    "To",
    "Digits",
    "SpeechResult",
    "Confidence",
    "CallStatus",
    "CallDuration",
    "DialCallStatus",
    "RecordingSid",
    "RecordingStatus",
    "RecordingDuration",
    "RecordingUrl",
)
form_text = st.one_of(
    st.text(form_char, max_size=200),
    st.sampled_from(
        ["", "0", "1", "2", "#", "²", "٣", "completed", "+17135550199", "whatsapp:+5215512345678"]
    ),
    st.text("0123456789²٣", min_size=1, max_size=6000),
    st.builds(repeat, st.text(form_char, min_size=1, max_size=20), st.integers(0, 20_000)),
)
sids = st.one_of(
    st.text("0123456789abcdef", min_size=32, max_size=32).map(lambda h: "SM" + h),
    form_text,
)
senders = st.one_of(
    st.sampled_from(["+17135550199", "+5215512345678", "whatsapp:+5215512345678", "anonymous"]),
    form_text,
)


def form(fields: tuple[str, ...], base: st.SearchStrategy[dict[str, str]]) -> Any:
    """A plausible form with fields dropped, replaced by any text, or added."""
    return st.builds(
        lambda start, drop, change, extra: {
            **{k: v for k, v in start.items() if k not in drop},
            **change,
            **extra,
        },
        base,
        st.sets(st.sampled_from(fields)),
        st.dictionaries(st.sampled_from(fields), form_text, max_size=4),
        st.dictionaries(
            st.text(string.ascii_letters, min_size=1, max_size=12), form_text, max_size=3
        ),
    )


sms_forms = form(SMS_FIELDS, st.builds(sms, sids, senders, form_text))
call_forms = form(
    VOICE_FIELDS,
    st.fixed_dictionaries(
        {
            "CallSid": sids.map(lambda s: "CA" + s[2:] if s.startswith("SM") else s),
            "AccountSid": st.just(ACCOUNT_SID),
            "From": senders,
            "To": st.just("+15005550006"),
        },
        optional={"Digits": form_text, "SpeechResult": form_text},
    ),
)
VOICE_PATHS = (
    "/webhooks/twilio/voice",
    "/webhooks/twilio/voice/lang",
    "/webhooks/twilio/voice/turn",
    "/webhooks/twilio/voice/dialed",
    "/webhooks/twilio/voice/recorded",
    "/webhooks/twilio/voice/recording",
    "/webhooks/twilio/voice/status",
    "/webhooks/twilio/voice/sms",
)
queries = st.dictionaries(
    st.sampled_from(["n", "r", "c", "l", "o"]),
    st.one_of(
        st.sampled_from(["0", "1", "2", "99999999999999999999", "HL-7K4M2Q", "es", "en", "-1"]),
        st.text(form_char, max_size=100),
        st.text("0123456789²٣", min_size=1, max_size=100),
    ),
    max_size=4,
)
forgeries = st.one_of(
    st.just(""),
    st.text(string.ascii_letters + string.digits + "+/=", max_size=40),
    st.just("signed for another form"),
    st.just("signed for another address"),
)


async def test_twilio_webhook_forms(
    database: Database,
    tmp_path: Path,
    twilio_api: tuple[FakeTwilio, LiveServer],
) -> None:
    """SMS, status and voice webhooks: a form Twilio signed (any fields, any text, any query)
    is never refused as forged and never gets 5xx; any other signature is 403; and no stored
    message fails in the engine."""
    settings_ = settings_for(
        tmp_path, twilio_api=twilio_api[1].url, flood_per_sender_per_minute=10_000
    )
    app = fast_app(settings_, database, Hotline.load(settings_))
    async with running(app) as client:

        def run(request: Callable[..., httpx.Response]) -> None:
            def post(path: str, params: dict[str, str], signature: str) -> httpx.Response:
                headers = {"X-Twilio-Signature": signature}
                return request("POST", path, data=params, headers=headers)

            def check(
                where: tuple[str, dict[str, str]],
                params: dict[str, str],
                forged: str | None,
            ) -> None:
                path, query = where
                url = path + ("?" + urlencode(query) if query else "")
                if forged is None:
                    response = post(url, params, sign(PUBLIC_URL + url, params))
                    status = response.status_code
                    assert status not in (403, 422) and status < 500, (status, url, params)
                    return
                signature = {
                    "signed for another form": sign(PUBLIC_URL + url, {**params, "x": "1"}),
                    "signed for another address": sign("https://evil.example" + url, params),
                }.get(forged, forged)
                response = post(url, params, signature)
                # 413: over HOTLINE_MAX_BODY_BYTES, refused before the signature is looked at
                assert response.status_code in (403, 413), (response.status_code, url)

            wheres = st.one_of(
                st.tuples(st.just("/webhooks/twilio/sms"), st.just({})),
                st.tuples(st.just("/webhooks/twilio/status"), queries),
                st.tuples(st.sampled_from(VOICE_PATHS), queries),
            )
            call = {"CallSid": "CA" + "0" * 32, "From": "+17135550199", "To": "+15005550006"}
            known = [
                (
                    ("/webhooks/twilio/sms", {}),
                    sms("SM1", "+17135550199", "hi", NumMedia="²"),
                    None,
                ),
                (("/webhooks/twilio/sms", {}), sms("SM" + "0" * 100, "+17135550199", "hi"), None),
                (("/webhooks/twilio/voice/turn", {"n": "²"}), call, None),
                (("/webhooks/twilio/voice/turn", {"n": "1"}), {**call, "Digits": "²"}, None),
                (("/webhooks/twilio/voice/lang", {}), {**call, "CallSid": "CA" + "0" * 90}, None),
                (
                    ("/webhooks/twilio/voice/status", {}),
                    {**call, "CallStatus": "completed", "CallDuration": "9" * 5000},
                    None,
                ),
            ]
            fuzz(
                check,
                wheres,
                st.one_of(sms_forms, call_forms),
                st.one_of(st.none(), st.none(), st.none(), forgeries),
                examples=150,
                known=known,
            )()

        await in_thread(client, run)
        assert await failures(database) == []


COOKIE = "__Host-hotline-chat"
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
        ]
    ),
    st.text(string.printable.replace("\n", "").replace("\r", ""), max_size=40),
)
chat_bodies = st.one_of(
    st.fixed_dictionaries(
        {"id": maybe(st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True))},
        optional={"text": maybe(tg_text), "lang": maybe(st.sampled_from(["es", "en", "x"]))},
    ).map(lambda b: json.dumps(b).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
)


async def test_web_chat_bodies(database: Database, tmp_path: Path) -> None:
    """The web chat's endpoints, with a valid session, none, or a made-up one, any body and
    any content type, any `after`: never 5xx."""
    settings_ = settings_for(
        tmp_path,
        flood_per_sender_per_minute=10_000,
        web_sessions_per_address_per_minute=10_000,
        web_sessions_per_minute=10_000,
        web_messages_per_address_per_minute=10_000,
        web_messages_per_minute=10_000,
    )
    app = fast_app(settings_, database, Hotline.load(settings_))
    async with serving(app) as running_app, page_client(running_app) as client:
        started = await client.post("/chat/session", json={})
        assert started.status_code == 201
        valid = started.cookies[COOKIE]
        client.cookies.clear()

        def run(request: Callable[..., httpx.Response]) -> None:
            def check(
                method_path: tuple[str, str],
                cookie: str | None,
                body: bytes,
                content_type: str,
                origin: str | None,
                after: str,
            ) -> None:
                method, path = method_path
                headers = {"Content-Type": content_type}
                if origin is not None:
                    headers["Origin"] = origin
                if cookie is not None:
                    headers["Cookie"] = f"{COOKIE}={cookie}"
                if method == "GET":
                    response = request("GET", path, params={"after": after}, headers=headers)
                else:
                    response = request("POST", path, content=body, headers=headers)
                assert response.status_code < 500, (response.status_code, method, path, after)

            get, post, json_ = (
                ("GET", "/chat/messages"),
                ("POST", "/chat/messages"),
                "application/json",
            )
            cookies = st.one_of(
                st.just(valid),
                st.just(valid),
                st.none(),
                st.text(string.ascii_letters + string.digits + "._-", max_size=90),
                st.just(valid[:-1] + ("A" if valid[-1] != "A" else "B")),
            )
            fuzz(
                check,
                st.sampled_from(
                    [
                        ("POST", "/chat/messages"),
                        ("POST", "/chat/messages"),
                        ("POST", "/chat/session"),
                        ("POST", "/chat/session/end"),
                        ("GET", "/chat/messages"),
                        ("GET", "/chat/messages"),
                    ]
                ),
                cookies,
                chat_bodies,
                content_types,
                st.one_of(st.just(PUBLIC_URL), st.none(), st.just("https://evil.example")),
                st.one_of(
                    st.sampled_from(["0", "-1", "2147483648", str(2**63 - 1), str(2**63), "1e3"]),
                    st.integers(-(2**70), 2**70).map(str),
                    st.text(string.printable, max_size=12),
                ),
                examples=200,
                known=[
                    (get, valid, b"", "", None, str(2**63)),  # past the id column: was 503
                    (post, valid, b'{"id": "abcdefgh", "text": "\\ud800"}', json_, PUBLIC_URL, ""),
                ],
            )()

        await in_thread(client, run)
        assert await failures(database) == []
