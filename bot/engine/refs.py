"""Case references: `HL-` plus 6 Crockford base32 characters (no I, L, O, U).

One place for everyone: parse what a person typed ("hl7k4m2q", "HL-7K4M2Q", "estado hl 7k4m2q")
and format or generate the canonical form.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Final

REF_PREFIX: Final = "HL-"
REF_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_LENGTH: Final = 6
_CANONICAL = re.compile(r"HL-[0-9A-HJKMNP-TV-Z]{6}")
# In free text: "HL" then an optional dash or space, then 6 letters/digits, as a whole word.
_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])HL[\s\-_.]?([0-9A-Za-z]{6})(?![0-9A-Za-z])", re.IGNORECASE)
# Crockford decoding is forgiving: O reads as 0, I and L read as 1.
_FOLD = str.maketrans({"O": "0", "I": "1", "L": "1"})


def is_ref(value: str) -> bool:
    """True when `value` is a reference in canonical form (HL-XXXXXX)."""
    return _CANONICAL.fullmatch(value) is not None


def normalize_ref(value: str) -> str | None:
    """The canonical form of a reference typed in any case, with or without dash; else None."""
    match = _IN_TEXT.fullmatch(value.strip())
    return _canonical(match.group(1)) if match else None


def find_ref(text: str) -> str | None:
    """The first reference found anywhere in `text`, canonical, or None."""
    for match in _IN_TEXT.finditer(text[:2000]):
        ref = _canonical(match.group(1))
        if ref is not None:
            return ref
    return None


def format_ref(body: str) -> str:
    """`HL-` plus a 6-character body (validated, upper-cased)."""
    ref = _canonical(body)
    if ref is None:
        raise ValueError(f"not a reference body: {body!r}")
    return ref


def ref_from_int(number: int) -> str:
    """The reference whose body encodes `number` (0 ≤ number < 32**6) in Crockford base32."""
    if not 0 <= number < len(REF_ALPHABET) ** REF_LENGTH:
        raise ValueError("number out of range for a reference")
    chars = []
    for _ in range(REF_LENGTH):
        number, digit = divmod(number, len(REF_ALPHABET))
        chars.append(REF_ALPHABET[digit])
    return REF_PREFIX + "".join(reversed(chars))


def new_ref(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A fresh random reference (the service calls this; the runner gets one in its Context)."""
    return ref_from_int(randbelow(len(REF_ALPHABET) ** REF_LENGTH))


def _canonical(body: str) -> str | None:
    body = body.upper().translate(_FOLD)
    if len(body) != REF_LENGTH or any(c not in REF_ALPHABET for c in body):
        return None
    return REF_PREFIX + body
