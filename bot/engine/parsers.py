"""Parsers for typed answers: time, date of birth, phone, A-number, number, location.

Each takes the cleaned text (and its normalised form) and returns a JSON-ready value, or None
when the answer does not fit. They never read the clock: `now` comes from the Context.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, Final

from bot.engine.match import option_number
from bot.engine.text import has_content, words
from bot.types import Lang

_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        (
            "enero ene january jan",
            "febrero feb february",
            "marzo mar march",
            "abril abr april apr",
            "mayo may",
            "junio jun june",
            "julio jul july",
            "agosto ago august aug",
            "septiembre setiembre sep sept september",
            "octubre oct october",
            "noviembre nov november",
            "diciembre dic december dec",
        ),
        start=1,
    )
    for name in names.split()
}
_NUMERIC_DATE = re.compile(r"\b(\d{1,4})[/\-. ](\d{1,2})(?:[/\-. ](\d{2,4}))?\b")
_WORD_DATE = re.compile(
    r"\b(\d{1,2})?\s*(?:de\s+)?([a-z]{3,10})\.?\s*(\d{1,2})?(?:\s*(?:de|del)?\s*(\d{4}))?\b"
)
_YEAR = re.compile(r"^(19\d{2}|20\d{2})$")
_AGO = re.compile(
    r"\b(?:hace\s+(\d{1,3}|un|una|unos|unas|mas de)\s*"
    r"(min|minuto|minutos|hora|horas|hr|hrs|dia|dias|semana|semanas)\b"
    r"|(\d{1,3}|an|a|one|a few|few)\s*"
    r"(min|mins|minute|minutes|hour|hours|hr|hrs|day|days|week|weeks)\s+ago\b)"
)
MAX_PLACE: Final = 160  # a place is a few words; a page of text is not an answer
_ZIP = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)")

_NOW: Final = words(
    "ahora, ahorita, ahora mismo, en este momento, ya, now, right now, happening now,"
    "esta pasando, estan aqui, they are here, currently, todavia, still, aun, en vivo,"
    "now they are here"
)
_TODAY: Final = words(
    "hoy, today, esta manana, this morning, esta tarde, this afternoon, hace rato,"
    "hace un rato, earlier, earlier today, hoy temprano, tonight, esta noche, a while ago,"
    "hace poco, recien, just now, hace ratito"
)
_YESTERDAY: Final = words("ayer, yesterday, anoche, last night, ayer en la noche")
_RUMOR: Final = words(
    "rumor, rumour, dicen, dicen que, me dijeron, me contaron, escuche, i heard, heard,"
    "they say, people say, facebook, redes, whatsapp, chisme, no se si es cierto,"
    "not sure if true, supuestamente, allegedly"
)
_ANOTHER_DAY: Final = words("otro dia, another day, antes, before, dias, days ago")
_LAST_WEEK: Final = words("semana pasada", "last week")
_SAME_PHONE: Final = words(
    "este, este numero, este mismo, mismo, el mismo, same, same number, this, this one,"
    "this number, aqui, here, por aqui, este telefono, mi numero, mismo numero,"
    "el mismo numero, este mismo numero, this phone, the same"
)


def parse_time(
    text: str, norm: str, now: datetime, day_first: bool = True
) -> dict[str, Any] | None:
    """When something happened: {"when": now|earlier_today|days_ago|rumor, "raw", ...}."""
    number = option_number(norm)
    if number is not None and 1 <= number <= 4:
        return {"when": ("now", "earlier_today", "days_ago", "rumor")[number - 1], "raw": text}
    if norm in ("now", "earlier today", "earlier_today", "days ago", "days_ago", "rumor"):
        return {"when": norm.replace(" ", "_"), "raw": text}
    found = find_time(norm, now, day_first)
    if found is not None:
        return {**found, "raw": text}
    if norm in _ANOTHER_DAY:
        return {"when": "days_ago", "raw": text}
    return None


def find_time(norm: str, now: datetime, day_first: bool = True) -> dict[str, Any] | None:
    """A time mentioned anywhere in a normalised text ("hoy", "hace 2 horas", "ayer")."""
    padded = f" {norm} "
    if any(f" {p} " in padded for p in _RUMOR):
        return {"when": "rumor"}
    ago = _AGO.search(norm)
    if ago:
        if ago.group(2):
            return _ago(ago.group(1), ago.group(2), now)
        return _ago(ago.group(3), ago.group(4), now)
    if any(f" {p} " in padded for p in _YESTERDAY):
        return _days(1, now)
    if " antier " in padded or " anteayer " in padded:
        return _days(2, now)
    if any(f" {p} " in padded for p in _LAST_WEEK):
        return {"when": "days_ago", "days": 7}
    if any(f" {p} " in padded for p in _NOW):
        return {"when": "now"}
    if any(f" {p} " in padded for p in _TODAY):
        return {"when": "earlier_today"}
    day = _find_date(norm, now, day_first=day_first, past=True)
    if day == now.date():
        return {"when": "earlier_today"}
    if day is not None:
        return _days((now.date() - day).days, now)
    return None


def _ago(amount: str, unit: str, now: datetime) -> dict[str, Any]:
    count = int(amount) if amount.isdigit() else 1
    if unit.startswith(("min", "h")):
        hours = count / 60 if unit.startswith("min") else count
        return {"when": "earlier_today"} if hours < 24 else _days(int(hours // 24), now)
    return _days(count * 7 if unit.startswith(("sem", "week")) else count, now)


def _days(count: int, now: datetime) -> dict[str, Any]:
    return {"when": "days_ago", "days": count, "date": (now.date() - timedelta(count)).isoformat()}


def parse_dob(text: str, norm: str, now: datetime, lang: Lang) -> str | None:
    """A date of birth as ISO "YYYY-MM-DD" (or "YYYY" for a year alone); None if implausible."""
    if _YEAR.match(norm):
        year = int(norm)
        return norm if now.year - 120 <= year <= now.year else None
    day = _find_date(norm, now, day_first=lang == "es", past=True, need_year=True)
    if day is None or not now.year - 120 <= day.year:
        return None
    return day.isoformat()


def _find_date(
    norm: str, now: datetime, *, day_first: bool, past: bool, need_year: bool = False
) -> date | None:
    for a, b, c in _NUMERIC_DATE.findall(norm):
        if len(a) == 4:
            found = _make(int(a), int(b), int(c) if c else 0)
        else:
            if need_year and not c:
                continue
            first, second = int(a), int(b)
            if first > 12 or (day_first and second <= 12):
                first, second = second, first
            year = _year(c, now, past) if c else now.year
            found = _make(year, first, second)
            if not c:
                found = _coming(found, now, past)
        if found is not None and (not past or found <= now.date()):
            return found
    for d1, month_name, d2, year_text in _WORD_DATE.findall(norm):
        month = _MONTHS.get(month_name)
        day_text = d1 or d2
        if month is None or not day_text or (need_year and not year_text):
            continue
        found = _make(int(year_text) if year_text else now.year, month, int(day_text))
        if not year_text:
            found = _coming(found, now, past)
        if found is not None and (not past or found <= now.date()):
            return found
    return None


def _year(text: str, now: datetime, past: bool = True) -> int:
    year = int(text)
    if len(text) == 2:  # "85" is 1985 for a past date; for a coming one "27" is 2027
        year += 2000 if year <= now.year % 100 or not past else 1900
    return year


def _coming(day: date | None, now: datetime, past: bool) -> date | None:
    """A coming date written without a year that has passed this year is next year's."""
    if past or day is None or day >= now.date():
        return day
    return _make(day.year + 1, day.month, day.day) or day


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_phone(text: str, norm: str) -> str | None:
    """A callback number as +<digits> (10 digits are taken as U.S.), or "same" for this one."""
    if norm in _SAME_PHONE:
        return "same"
    digits = _ascii_digits(re.sub(r"\D", "", text[:60]))
    if sum(c.isalpha() for c in text[:60]) > 6:
        return None
    if text.strip().startswith("+") and 8 <= len(digits) <= 15:
        return "+" + digits
    if len(digits) == 10 and digits[0] not in "01":
        return "+1" + digits
    if len(digits) == 11 and digits[0] == "1" and digits[1] not in "01":
        return "+" + digits
    if len(digits) in (12, 13) and digits.startswith("52"):
        return "+" + digits
    return None


def parse_a_number(text: str, norm: str) -> str | None:
    """An A-number (7–9 digits, "A" optional) zero-padded to 9 digits."""
    rest = re.sub(r"\ba(?=\d)", " ", norm)
    rest = re.sub(r"\b(?:a|anumber|a number|numero a|number|numero|alien|es|is|my|mi)\b", " ", rest)
    if re.search(r"[a-z]", rest):
        return None
    digits = re.sub(r"\D", "", rest)
    return digits.zfill(9) if 7 <= len(digits) <= 9 else None


_LARGER_NUMBERS: Final = {
    **dict.fromkeys(("once", "eleven"), 11),
    **dict.fromkeys(("doce", "twelve", "docena", "dozen"), 12),
    **dict.fromkeys(("quince", "fifteen"), 15),
    **dict.fromkeys(("veinte", "twenty"), 20),
    **dict.fromkeys(("treinta", "thirty"), 30),
    **dict.fromkeys(("cuarenta", "forty"), 40),
    **dict.fromkeys(("cincuenta", "fifty"), 50),
    **dict.fromkeys(("cien", "ciento", "hundred"), 100),
}
# Amounts said without a number: kept as said, with a rough size for staff.
_AMOUNTS: Final = {
    **dict.fromkeys(
        words(
            "muchos, muchas, mucha gente, un monton, bastantes, un chingo,"
            "a lot, lots, many, so many, tons, a bunch, un chorro"
        ),
        "many",
    ),
    **dict.fromkeys(
        words(
            "varios, varias, unos cuantos, unas cuantas, algunos, algunas,"
            "several, some, a few, few, pocos, pocas, un par, a couple"
        ),
        "some",
    ),
}


def parse_amount(text: str, norm: str) -> dict[str, str] | None:
    """An amount said without a number ("muchos", "a lot", "unos cuantos"), or None."""
    padded = f" {norm} "
    for phrase, size in _AMOUNTS.items():
        if f" {phrase} " in padded:
            return {"approx": size, "raw": text[:200]}
    return None


def parse_number(norm: str, low: int = 0, high: int = 999) -> int | None:
    """A whole number typed as digits or a word ("3", "unos 3", "tres", "como veinte")."""
    found = re.search(r"(?<![\d/.-])(\d{1,4})(?![\d/.-])", norm)
    value = int(found.group(1)) if found else None
    tokens = norm.split()[:8]
    if value is None:
        value = next((_LARGER_NUMBERS[t] for t in tokens if t in _LARGER_NUMBERS), None)
    if value is None:
        value = next((n for n in map(option_number, tokens) if n is not None), None)
    if value is None and any(
        w in ("cero", "zero", "ninguno", "nadie", "none", "nobody") for w in tokens
    ):
        value = 0
    return value if value is not None and low <= value <= high else None


def parse_location(text: str, norm: str, geo: tuple[float, float] | None) -> dict[str, Any] | None:
    """A place kept as typed: {"raw"} plus "zip" or "lat"/"lon" when given; None if empty."""
    if geo is not None:
        lat, lon = geo
        return {"lat": lat, "lon": lon, "raw": f"{lat:.5f},{lon:.5f}"}
    if len(text.strip()) > MAX_PLACE:
        return None
    zip_code = _ZIP.search(text)
    if zip_code:
        return {"zip": _ascii_digits(zip_code.group(1)), "raw": text.strip()}
    letters = sum(c.isalpha() for c in norm)
    if letters >= 2 and has_content(text):
        return {"raw": text.strip()}
    return None


def find_zip(text: str) -> str | None:
    """A 5-digit ZIP code mentioned in free text."""
    found = _ZIP.search(text[:2000])
    return _ascii_digits(found.group(1)) if found else None


def _ascii_digits(digits: str) -> str:
    """Decimal digits of any script ("７", "٧"; what `\\d` matches) as ASCII digits."""
    return digits if digits.isascii() else "".join(str(int(c)) for c in digits)


WEEKDAYS: Final = {
    name: number
    for number, names in enumerate(
        (
            "lunes monday mon",
            "martes tuesday tue tues",
            "miercoles wednesday wed",
            "jueves thursday thu thurs",
            "viernes friday fri",
            "sabado saturday sat",
            "domingo sunday sun",
        )
    )
    for name in names.split()
}
_IN_UNITS = re.compile(
    r"\b(?:en|dentro de|in|within)\s+(\d{1,3}|un|una|dos|tres|cuatro|a|one|two|three|four)\s+"
    r"(dia|dias|day|days|semana|semanas|week|weeks|mes|meses|month|months)\b"
)
_SMALL: Final = {"un": 1, "una": 1, "a": 1, "one": 1, "dos": 2, "two": 2, "tres": 3}
_SMALL.update({"three": 3, "cuatro": 4, "four": 4})
_TOMORROW: Final = words("manana, mañana, tomorrow, manana mismo")
_AFTER_TOMORROW: Final = words("pasado manana, pasado mañana, day after tomorrow")
_NEXT_WEEK: Final = words(
    "la proxima semana, proxima semana, la semana que entra, la otra semana, next week,"
    "semana que viene, la semana que viene"
)
_NEXT_MONTH: Final = words("el proximo mes, proximo mes, el mes que entra, next month")


def parse_future_date(
    text: str, norm: str, now: datetime, day_first: bool = True
) -> dict[str, Any] | None:
    """A coming date ("el 15 de marzo", "3/12", "next Tuesday", "en dos semanas", "en
    marzo"): {"date": ISO, "raw", "approx": True when only the month or week was given}.
    A date without a year that has passed this year is next year's."""
    today = now.date()
    padded = f" {norm} "
    found = _find_date(norm, now, day_first=day_first, past=False)
    if found is not None:
        return {"date": found.isoformat(), "raw": text, "approx": False}
    simple: date | None = None
    approx = False
    if any(f" {p} " in padded for p in _AFTER_TOMORROW):
        simple = today + timedelta(days=2)
    elif any(f" {p} " in padded for p in _TOMORROW):
        simple = today + timedelta(days=1)
    elif any(f" {p} " in padded for p in _NEXT_WEEK):
        simple, approx = today + timedelta(days=7), True
    elif any(f" {p} " in padded for p in _NEXT_MONTH):
        simple, approx = today + timedelta(days=30), True
    elif (units := _IN_UNITS.search(norm)) is not None:
        count = int(units.group(1)) if units.group(1).isdigit() else _SMALL[units.group(1)]
        unit = units.group(2)
        days = 30 if unit.startswith(("mes", "month")) else 7 if unit[0] in "sw" else 1
        simple, approx = today + timedelta(days=count * days), days > 1
    else:
        for token in norm.split():
            if token in WEEKDAYS:
                ahead = (WEEKDAYS[token] - today.weekday()) % 7 or 7
                simple = today + timedelta(days=ahead)
                break
            if token in _MONTHS and len(token) > 3:
                month = _MONTHS[token]
                year = today.year + (month < today.month)
                simple, approx = date(year, month, 1), True
                if month == today.month:
                    simple = today
                break
    if simple is None:
        return None
    return {"date": simple.isoformat(), "raw": text, "approx": approx}
