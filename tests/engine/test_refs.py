"""Case references: parse in any case, with or without dash; format; generate."""

from __future__ import annotations

import pytest

from bot.engine.refs import (
    REF_ALPHABET,
    find_ref,
    format_ref,
    is_ref,
    new_ref,
    normalize_ref,
    ref_from_int,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("HL-7K4M2Q", "HL-7K4M2Q"),
        ("hl-7k4m2q", "HL-7K4M2Q"),
        ("HL7K4M2Q", "HL-7K4M2Q"),
        ("hl 7k4m2q", "HL-7K4M2Q"),
        (" HL-7K4M2Q ", "HL-7K4M2Q"),
        ("HL-7K4M2O", "HL-7K4M20"),  # Crockford: O reads as 0
        ("HL-7K4M2I", "HL-7K4M21"),  # I and L read as 1
        ("HL-7K4M2U", None),  # U is not in the alphabet
        ("HL-7K4M2", None),
        ("HL-7K4M2QQ", None),
        ("XX-7K4M2Q", None),
        ("", None),
    ],
)
def test_normalize_ref_accepts_any_case_and_dash(typed: str, expected: str | None) -> None:
    assert normalize_ref(typed) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("estado HL-7K4M2Q", "HL-7K4M2Q"),
        ("mi caso es hl7k4m2q gracias", "HL-7K4M2Q"),
        ("status: HL_7K4M2Q.", "HL-7K4M2Q"),
        ("no tengo numero", None),
        ("HLX7K4M2Q", None),
    ],
)
def test_find_ref_in_text(text: str, expected: str | None) -> None:
    assert find_ref(text) == expected


def test_ref_from_int_round_trips_through_normalize() -> None:
    for number in (0, 1, 31, 32, 12345, 32**6 - 1):
        ref = ref_from_int(number)
        assert is_ref(ref)
        assert normalize_ref(ref.lower().replace("-", "")) == ref
    assert ref_from_int(0) == "HL-000000"
    assert ref_from_int(32**6 - 1) == "HL-ZZZZZZ"
    with pytest.raises(ValueError):
        ref_from_int(32**6)


def test_new_ref_uses_only_crockford_characters() -> None:
    refs = {new_ref() for _ in range(200)}
    assert len(refs) > 190
    assert all(is_ref(r) and set(r[3:]) <= set(REF_ALPHABET) for r in refs)
    assert not set("ILOU") & set(REF_ALPHABET)
    assert new_ref(lambda n: 0) == "HL-000000"


def test_format_ref_validates_the_body() -> None:
    assert format_ref("7k4m2q") == "HL-7K4M2Q"
    with pytest.raises(ValueError):
        format_ref("7K4M2U")
