"""Answer parsers, one table per step kind."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.match import build_choice, match_choice, option_number, parse_yes_no
from bot.engine.parsers import (
    parse_a_number,
    parse_dob,
    parse_location,
    parse_number,
    parse_phone,
    parse_time,
)
from bot.engine.text import clean, has_content, is_skip, normalize
from tests.engine.support import NOW

N = normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sí", "yes"),
        ("SI", "yes"),
        ("si claro", "yes"),
        ("s", "yes"),
        ("yes", "yes"),
        ("ok", "yes"),
        ("claro", "yes"),
        ("Sí, acepto", "yes"),
        ("simon", "yes"),
        ("sip", "yes"),
        ("claor", "yes"),
        ("1", "yes"),
        ("no", "no"),
        ("NO", "no"),
        ("nop", "no"),
        ("nel", "no"),
        ("n", "no"),
        ("2", "no"),
        ("no gracias", "no"),
        ("no sé", "skip"),
        ("no se", "skip"),
        ("NO SE", "skip"),
        ("idk", "skip"),
        ("i don't know", "skip"),
        ("skip", "skip"),
        ("omitir", "skip"),
        ("paso", "skip"),
        ("quién sabe", "skip"),
        ("tal vez", None),
        ("", None),
        ("🙏", None),
    ],
)
def test_parse_yes_no(text: str, expected: str | None) -> None:
    assert parse_yes_no(N(text)) == expected


@pytest.mark.parametrize(("raw", "expected"), [(" ", None), ("\t\n", None), ("  si ", "yes")])
def test_parse_yes_no_takes_text_not_yet_normalised(raw: str, expected: str | None) -> None:
    """Blank or padded text is read as unclear or as its answer, never an error."""
    assert parse_yes_no(raw) == expected


CHOICES = (
    build_choice("home", ["En una casa", "At a home"], ["casa", "house", "puerta"]),
    build_choice("work", ["En un trabajo", "At a workplace"], ["trabajo", "job", "chamba"]),
    build_choice("street", ["Calle, tienda o escuela", "Street, store or school"]),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", "home"),
        ("2)", "work"),
        ("opción 3", "street"),
        ("#2", "work"),
        ("dos", "work"),
        ("third", "street"),
        ("work", "work"),  # the value, as Telegram buttons send it
        ("En una casa", "home"),
        ("en una CASA!!", "home"),
        ("trabajo", "work"),
        ("trabjo", "work"),
        ("at my job", "work"),
        ("la tienda", "street"),
        ("school", "street"),
        ("Street, store or school", "street"),
        ("4", None),
        ("0", None),
        ("xyz", None),
        ("", None),
        ("casa o trabajo", None),  # two options: ask again rather than guess
    ],
)
def test_match_choice_reads_numbers_labels_values_and_typos(
    text: str, expected: str | None
) -> None:
    assert match_choice(CHOICES, N(text)) == expected


@pytest.mark.parametrize(("text", "expected"), [("3", 3), ("opcion 12", 12), ("x", None)])
def test_option_number(text: str, expected: int | None) -> None:
    assert option_number(N(text)) == expected


@pytest.mark.parametrize(
    ("text", "when", "extra"),
    [
        ("1", "now", {}),
        ("4", "rumor", {}),
        ("now", "now", {}),
        ("earlier_today", "earlier_today", {}),
        ("ahora", "now", {}),
        ("ahorita", "now", {}),
        ("Right now!!", "now", {}),
        ("está pasando", "now", {}),
        ("hace 2 horas", "earlier_today", {}),
        ("this morning", "earlier_today", {}),
        ("hoy", "earlier_today", {}),
        ("hace rato", "earlier_today", {}),
        ("ayer", "days_ago", {"days": 1, "date": "2026-03-09"}),
        ("last night", "days_ago", {"days": 1}),
        ("hace 3 días", "days_ago", {"days": 3, "date": "2026-03-07"}),
        ("2 days ago", "days_ago", {"days": 2}),
        ("hace una semana", "days_ago", {"days": 7}),
        ("hace 30 horas", "days_ago", {"days": 1}),
        ("5/3/2026", "days_ago", {"date": "2026-03-05"}),
        ("dicen que hay redada", "rumor", {}),
        ("I heard", "rumor", {}),
        ("otro día", "days_ago", {}),
    ],
)
def test_parse_time_normalises(text: str, when: str, extra: dict[str, Any]) -> None:
    value = parse_time(text, N(text), NOW)
    assert value is not None
    assert value["when"] == when
    assert value["raw"] == text
    for key, expected in extra.items():
        assert value[key] == expected


@pytest.mark.parametrize("text", ["mañana", "cuando sea", "xyz", "2030-01-01"])
def test_parse_time_rejects_the_unreadable_and_the_future(text: str) -> None:
    assert parse_time(text, N(text), NOW) is None


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("25/12/1985", "es", "1985-12-25"),
        ("12/25/1985", "en", "1985-12-25"),
        ("03/04/1990", "es", "1990-04-03"),
        ("03/04/1990", "en", "1990-03-04"),
        ("25/12/1985", "en", "1985-12-25"),  # only one reading makes sense
        ("1985-03-12", "es", "1985-03-12"),
        ("12-03-85", "es", "1985-03-12"),
        ("12 de marzo de 1985", "es", "1985-03-12"),
        ("March 12, 1985", "en", "1985-03-12"),
        ("12 mar 1985", "en", "1985-03-12"),
        ("1985", "es", "1985"),
        ("31/02/1990", "es", None),
        ("2030-01-01", "es", None),
        ("1850", "es", None),
        ("12/03", "es", None),
        ("ayer", "es", None),
    ],
)
def test_parse_dob(text: str, lang: str, expected: str | None) -> None:
    assert parse_dob(text, N(text), NOW, lang) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A123456789", "123456789"),
        ("a-123-456-789", "123456789"),
        ("A 1234567", "001234567"),
        ("12345678", "012345678"),
        ("A# 123 456 789", "123456789"),
        ("mi numero es A 123 456 789", "123456789"),
        ("123456", None),
        ("1234567890", None),
        ("A12345678901", None),
        ("no se", None),
        ("B123456789", None),
    ],
)
def test_parse_a_number_pads_to_nine(text: str, expected: str | None) -> None:
    assert parse_a_number(text, N(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("713 555 0123", "+17135550123"),
        ("(713) 555-0123", "+17135550123"),
        ("1-713-555-0123", "+17135550123"),
        ("+52 55 1234 5678", "+525512345678"),
        ("mismo", "same"),
        ("este", "same"),
        ("same", "same"),
        ("this number", "same"),
        ("12345", None),
        ("011 555 0123", None),
        ("llamen a mi hermana por favor", None),
    ],
)
def test_parse_phone(text: str, expected: str | None) -> None:
    assert parse_phone(text, N(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        ("unos 5", 5),
        ("about 5", 5),
        ("tres", 3),
        ("three people", 3),
        ("ninguno", 0),
        ("muchos", None),
        ("5000", None),
        ("", None),
    ],
)
def test_parse_number(text: str, expected: int | None) -> None:
    assert parse_number(N(text)) == expected


def test_parse_location_keeps_what_was_typed() -> None:
    assert parse_location("77036", "77036", None) == {"zip": "77036", "raw": "77036"}
    assert parse_location("Houston, TX 77036-1234", N("Houston, TX 77036-1234"), None) == {
        "zip": "77036",
        "raw": "Houston, TX 77036-1234",
    }
    assert parse_location("east LA", "east la", None) == {"raw": "east LA"}
    assert parse_location("", "", (29.7, -95.4)) == {
        "lat": 29.7,
        "lon": -95.4,
        "raw": "29.70000,-95.40000",
    }
    assert parse_location("😢", "", None) is None
    assert parse_location("x", "x", None) is None


def test_text_helpers() -> None:
    assert clean("a\x00b\x1bc\u200b ") == "abc"
    assert clean("línea 1\nlínea 2") == "línea 1\nlínea 2"
    assert normalize("¡Sí, ACEPTO! Niño") == "si acepto niño"
    assert not has_content("😢🙏 ...")
    assert has_content("ok")
    assert is_skip("no se") and is_skip(N("No lo sé")) and not is_skip("paso algo raro")
