"""Every place a message names, how sure we are of it, and its role.

At each token the longest phrase of the lexicon is tried, then — in a place context only —
a misspelling of a big city ("en Hiouston"). A hit becomes a ``Mention`` when its context
allows it:

- a state after it ("Mesa, AZ", "springfield mo", "Springfield, Illinois") always does;
- a big city (8+ ZIP codes, or a consulate's city), a nickname or a landmark needs nothing;
- a small town needs a preposition ("en Immokalee"), to be the whole message, or to open
  it set apart by punctuation ("Waukegan - agents at the court", "Elgin: trucks parked");
- a name that is also an ordinary word ("Mission", "Hope", "Orange") must be capitalised
  after "en"/"in"/"at" (or be the whole message); a personal name ("Orlando") needs a
  preposition and is never taken right after "mi hijo", "se llama" and the like;
- a place abroad counts unless it is where someone comes from ("soy de Oaxaca", "nació
  en México") or is sent to ("lo deportaron a Tijuana"); a country needs "en"/"in". A
  name that is both ("Mexico", "Guadalupe", "Sonora") is the place abroad unless a U.S.
  state follows it ("Mexico, MO").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from bot.routing import cues
from bot.routing.fuzzy import distance, max_edits
from bot.routing.gazetteer import Abroad, Site
from bot.routing.geo import CityPlace, ZipRecord, lookup_zip
from bot.routing.lexicon import Entry, Lexicon
from bot.routing.names import US_STATES, norm_place
from bot.routing.tokens import Context, Tokens, context, role_before, tokenize

Kind = Literal["zip", "city", "place", "abroad", "state"]
Target = ZipRecord | CityPlace | Site | Abroad | str

_ZIP_IN_TEXT: Final = re.compile(r"(?<![\d$#/.,-])(\d{5})(?:-\d{4})?(?![\d/]|,\d)")
_CODES: Final = frozenset(US_STATES) | {"VI"}  # the Virgin Islands have a desk (San Juan)
WORD_CODES: Final = frozenset(
    {"al", "de", "hi", "id", "in", "la", "ma", "me", "mi", "oh", "ok", "or", "pa", "va", "ms", "vi"}
)
"""State codes that are everyday words: a state only after a comma, in capitals or last."""
_SITE_CITY_JOINS: Final = frozenset({",", "en", "in", "de", "of"})
# Five digits after these are a reference, not a ZIP code ("folio 88213", "case 40211").
# Not "no" ("no sé, 77036" gives a ZIP code).
_NOT_ZIP_BEFORE: Final = frozenset(
    "folio caso case reporte report numero number num expediente ticket referencia "
    "reference ref id orden order cita appointment".split()
)

SCORE_ZIP: Final = 100
SCORE_CITY_STATE: Final = 90
SCORE_SITE: Final = 85
SCORE_ALIAS: Final = 70
SCORE_CITY: Final = 60
SCORE_FUZZY: Final = 50
SCORE_STATE: Final = 10


@dataclass(frozen=True, slots=True)
class Mention:
    """A place named at tokens ``start:end``: what it is, how sure, and its role
    (``cues.EVENT``, ``NEUTRAL`` or ``RESIDENCE``); ``high`` when its state is certain."""

    kind: Kind
    target: Target
    start: int
    end: int
    score: int
    role: int
    high: bool = False


@dataclass(frozen=True, slots=True)
class _Qualifier:
    """A U.S. state or a region/country abroad right after a name, ending at ``end``
    (a state counts only if the name has a place there: "springfield mo")."""

    end: int
    state: str | None = None
    abroad: Abroad | None = None


def _state_code(t: Tokens, k: int, comma: bool) -> str | None:
    raw, low = t.raw[k], t.norm[k]
    code = raw.upper()
    if len(raw) != 2 or code not in _CODES:
        return None
    if low in WORD_CODES:
        upper = raw.isupper() and not t.shouting
        return code if comma or upper or k + 1 >= t.last else None
    return code


def _qualifier(t: Tokens, end: int, lex: Lexicon) -> _Qualifier | None:
    n = len(t.norm)
    comma = end < n and t.norm[end] == ","
    k = end + 1 if comma else end
    if k >= n:
        return None
    for size in (3, 2, 1):
        if k + size > n:
            continue
        phrase = " ".join(t.norm[k : k + size])
        code = lex.state_names.get(phrase)
        if code:
            return _Qualifier(k + size, state=code)
        entry = lex.entries.get(phrase)
        region = next((a for a in entry.abroad if a.level != "city"), None) if entry else None
        if region is not None:
            return _Qualifier(k + size, abroad=region)
    code = _state_code(t, k, comma)
    return _Qualifier(k + 1, state=code) if code else None


def _pick_site(sites: tuple[Site, ...], t: Tokens, end: int) -> tuple[Site, int] | None:
    """The site meant — by the city named after it ("South Park, Seattle") when several
    share the name — and where the mention ends."""
    k = end + 1 if end < len(t.norm) and t.norm[end] in _SITE_CITY_JOINS else end
    for size in (3, 2, 1):
        phrase = " ".join(t.norm[k : k + size])
        for site in sites:
            if norm_place(site.place.name) == phrase:
                return site, k + size
    return (sites[0], end) if len(sites) == 1 else None


def _accept_us(
    e: Entry, ctx: Context, zips: int, *, big: bool = False, near: str | None = None
) -> bool:
    """Whether the context makes a U.S. name (city, nickname, landmark) a place."""
    big = big or e.big
    if e.kind == "never" or ctx.kin:
        return False
    if e.kind == "plain":
        if big or ctx.whole or ctx.heading or ctx.direction or ctx.locative or ctx.motion:
            return True
        if ctx.site_of and (len(e.places) == 1 or any(p.state == near for p in e.places)):
            return True  # one town of that name in the U.S., or one in the writer's state
        return bool(ctx.prep) and (zips >= 3 or ctx.origin or ctx.capitalised)
    placed = ctx.locative or ctx.whole
    if big and e.kind == "word":
        if ctx.whole or (ctx.capitalised and not ctx.initial):
            return True
        return (placed or ctx.motion) and (ctx.capitalised or e.desk)
    if big:
        return placed or ctx.motion or ctx.origin
    return placed and ctx.capitalised


def _accept_abroad(e: Entry, place: Abroad, ctx: Context) -> bool:
    """Whether a name abroad is where something is (not where someone is from or goes)."""
    if ctx.origin or ctx.to or (ctx.prep and not ctx.locative):
        return False
    if e.kind != "plain" and (ctx.kin or not ctx.capitalised):
        return False
    if place.level == "country" or e.kind != "plain":
        return ctx.locative or ctx.whole
    return True


class _Scanner:
    """One pass over a message: the mentions found and the states named."""

    def __init__(self, text: str, lex: Lexicon, near: str | None = None) -> None:
        self.text = text
        self.near = near
        self.t = tokenize(text)
        self.lex = lex
        self.found: list[Mention] = []
        self.states: list[str] = []
        self.pending: list[tuple[Entry, Context, int]] = []
        self.unsettled: list[Entry] = []
        """Towns of several states left to the likeliest or to none: nothing said which."""

    def run(self) -> list[Mention]:
        n = len(self.t.norm)
        i = 0
        while i < n:
            hit = self._exact(i) or self._fuzzy(i)
            if hit is None:
                i += 1
                continue
            entry, end, fuzzy = hit
            before = len(self.found) + len(self.pending)
            used = self._resolve(entry, i, end, fuzzy)
            # A U.S. name taken as a word ("el centro de detencion de Elizabeth") leaves the
            # words after its first to be read again; a place abroad or a state keeps them.
            kept = len(self.found) + len(self.pending) > before
            rejected = not kept and not entry.abroad and entry.state is None
            i = i + 1 if rejected else max(i + 1, used)
        held = bool(self.pending) and cues.held(self.t.norm)
        beside = self._states_of_sure_places()
        for entry, ctx, end in self.pending:
            place = (
                next((p for p in entry.places if p.state in self.states), None)
                or next((p for p in entry.places if p.state in beside), None)
                or next((p for p in entry.places if p.state == self.near), None)
                or (entry.jail if held else None)
            )
            if place is None and (entry.guessed or entry.default is None):
                self.unsettled.append(entry)
            place = place or entry.default
            if place is not None:
                self._add("city", place, ctx, end, SCORE_CITY)
        found = _streets_and_parts_dropped(self.found, self.t) + self._zips()
        if found:
            return found
        return [Mention("state", code, 0, 0, SCORE_STATE, cues.NEUTRAL) for code in self.states]

    def _states_of_sure_places(self) -> frozenset[str]:
        """The states of the places named that are certain (with their state, a landmark,
        or a town of one state): a town of several states named beside them is theirs
        ("en caldwell rumbo a nampa" → Caldwell, ID)."""
        sure = {
            m.target.state if isinstance(m.target, (CityPlace, ZipRecord)) else m.target.place.state
            for m in self.found
            if isinstance(m.target, (CityPlace, ZipRecord, Site))
        }
        sure.update(e.places[0].state for e, _, _ in self.pending if len(e.places) == 1)
        return frozenset(sure)

    def _exact(self, i: int) -> tuple[Entry, int, bool] | None:
        norm = self.t.norm
        span = self.lex.spans.get(norm[i])
        if not span:
            return None
        for size in range(min(span, len(norm) - i), 0, -1):
            key = norm[i] if size == 1 else " ".join(norm[i : i + size])
            entry = self.lex.entries.get(key)
            if entry is not None:
                return entry, i + size, False
        return None

    def _fuzzy(self, i: int) -> tuple[Entry, int, bool] | None:
        t, lex = self.t, self.lex
        w = t.norm[i]
        prev = t.norm[i - 1] if i else ""
        alone = i <= t.first and i + 1 >= t.last
        if not (alone or prev in cues.PREPOSITIONS or prev in cues.DIRECTIONS):
            return None
        sizes = (3, 2, 1) if w in lex.fuzzy_heads else (1,)
        for size in sizes:
            parts = t.norm[i : i + size]
            if len(parts) < size or "," in parts or "." in parts:
                continue
            if size == 1 and (w in lex.words.words or w in lex.words.names):
                continue
            key = lex.correct(" ".join(parts))
            if key is not None and _word_by_word(parts, key.split()):
                return lex.entries[key], i + size, True
        if w in lex.words.words or w in lex.words.names:
            return None
        for size in (2, 1):  # written by ear, words run apart: "en fran clin", "en menfis"
            parts = t.norm[i : i + size]
            if len(parts) == size and all(part.isalpha() for part in parts):
                key = lex.hear(" ".join(parts))
                if key is not None:
                    return lex.entries[key], i + size, True
        return None

    def _resolve(self, e: Entry, start: int, end: int, fuzzy: bool) -> int:
        """Turn a hit into a mention (or not); returns the token after what it used."""
        ctx = context(self.t, start, end, self.lex.words.names)
        qual = _qualifier(self.t, end, self.lex)
        if qual is not None and qual.state is not None:
            if self._add_qualified(e, ctx, qual.state, qual.end):
                return qual.end
        elif qual is not None and qual.abroad is not None and (e.places or e.abroad):
            region = qual.abroad
            own = next((a for a in e.abroad if a.country == region.country), None)
            name = " ".join(self.t.raw[start:end])
            place = own or Abroad(name, "city", region.country, region.country_name, region.name)
            self._add("abroad", place, ctx, qual.end, SCORE_CITY)
            return qual.end
        if e.abroad:
            if _accept_abroad(e, e.abroad[0], ctx):
                self._add("abroad", e.abroad[0], ctx, end, SCORE_CITY)
            return end
        if e.whole_only is not None and (
            ctx.whole or (ctx.locative and self._capitals(start, end))
        ):
            self._add("city", e.whole_only, ctx, end, SCORE_ALIAS)
            return end
        if e.sites and _accept_us(e, ctx, 0, big=True):
            picked = _pick_site(e.sites, self.t, end)
            if picked is not None:
                self._add("place", picked[0], ctx, picked[1], SCORE_SITE, high=True)
                return picked[1]
        if e.alias is not None:
            if _accept_us(e, ctx, 0, big=True):
                self._add("city", e.alias, ctx, end, SCORE_FUZZY if fuzzy else SCORE_ALIAS)
            return end
        if e.state is not None:
            if not ctx.kin:
                self.states.append(e.state)
            return end
        zips = e.default.zips if e.default else 0
        if e.places and _accept_us(e, ctx, zips, near=self.near):
            if fuzzy and len(e.places) == 1:
                self._add("city", e.places[0], ctx, end, SCORE_FUZZY)
            else:  # a town of several states: which one, the rest of the message may say
                self.pending.append((e, ctx, end))
        return end

    def _capitals(self, start: int, end: int) -> bool:
        """Written in capitals after a word that is not ("se lo llevaron en LA", not
        "ESTÁN EN LA ESCUELA")."""
        raw = self.t.raw
        return (
            start > 0 and not raw[start - 1].isupper() and all(r.isupper() for r in raw[start:end])
        )

    def _add_qualified(self, e: Entry, ctx: Context, code: str, end: int) -> bool:
        """A name with a state after it: the town, landmark or nickname in that state."""
        site = next((s for s in e.sites if s.place.state == code), None)
        place = next((p for p in e.places if p.state == code), None)
        if site is not None:
            self._add("place", site, ctx, end, SCORE_SITE + 3, high=True)
        elif place is not None:
            self._add("city", place, ctx, end, SCORE_CITY_STATE, high=True)
        elif e.alias is not None and e.alias.state == code:
            self._add("city", e.alias, ctx, end, SCORE_CITY_STATE - 10, high=True)
        else:
            return False
        self.states.append(code)
        return True

    def _add(
        self, kind: Kind, target: Target, ctx: Context, end: int, score: int, *, high: bool = False
    ) -> None:
        self.found.append(Mention(kind, target, ctx.start, end, score, ctx.role, high))

    def _zips(self) -> list[Mention]:
        matches = list(_ZIP_IN_TEXT.finditer(self.text))
        if not matches:
            return []
        t = self.t
        covered = {i for m in self.found for i in range(m.start, m.end)}
        index = {s: i for i, s in enumerate(t.starts)}
        out: list[Mention] = []
        for m in matches:
            i = index.get(m.start())
            rec = lookup_zip(m.group(1)) if i is not None and i not in covered else None
            if i is None or rec is None or _a_reference(t.norm, i):
                continue
            prep = t.norm[i - 1] if i and t.norm[i - 1] in cues.PREPOSITIONS else ""
            role, _ = role_before(t.norm, i - 2 if prep else i - 1, prep)
            out.append(Mention("zip", rec, i, i + 1, SCORE_ZIP, role, True))
        return out


def _streets_and_parts_dropped(found: list[Mention], t: Tokens) -> list[Mention]:
    """Without the towns named as a street ("Montgomery Blvd, Albuquerque") or just before
    the U.S. city they lie in ("La Palma in Eloy", "Spring Valley in Las Vegas") when
    another place is named: that other place is where it happened. A street named after
    the only town named is in that town ("Scottsdale Rd & Shea")."""
    cities = {m.start for m in found if m.kind == "city"}
    norm = t.norm

    def part_or_street(m: Mention) -> bool:
        after = norm[m.end] if m.end < len(norm) else ""
        if after in cues.CROSSING:  # "Sunset & Decatur in Las Vegas": a corner
            k = m.end + 2
            return m.kind == "city" and k < len(norm) and norm[k] in cues.INSIDE and k + 1 in cities
        inside = after in cues.INSIDE and m.end + 1 in cities
        return m.kind == "city" and (after in cues.STREET_AFTER or inside)

    kept = [m for m in found if not part_or_street(m)]
    return kept if any(m.kind in ("city", "place") for m in kept) else found


def _a_reference(norm: list[str], i: int) -> bool:
    """The five digits at ``i`` follow "folio", "caso", "report"… (within three words, as
    in "mi número de caso es 77036") and not "en"/"in" right before them."""
    if i and norm[i - 1] in cues.PREPOSITIONS:
        return False
    return any(word in _NOT_ZIP_BEFORE for word in norm[max(0, i - 3) : i])


def _word_by_word(typed: list[str], name: list[str]) -> bool:
    """A phrase corrected into a name is each of its words misspelt by a little: "las
    visas" is not "las vegas" (two letters of a five-letter word), "los angelas" is."""
    if len(typed) != len(name):
        return True
    return all(
        distance(a, b) <= max_edits(max(len(a), len(b))) for a, b in zip(typed, name, strict=True)
    )


def scan(text: str, lex: Lexicon, near: str | None = None) -> tuple[list[Mention], list[Entry]]:
    """``find_mentions``, and the towns named whose state nothing settles (not a state
    written, not the writer's area code, not another place named): "Hillsboro" alone is
    Oregon's, Texas's…"""
    scanner = _Scanner(text, lex, near)
    return scanner.run(), scanner.unsettled


def find_mentions(text: str, lex: Lexicon, near: str | None = None) -> list[Mention]:
    """Every place named in ``text`` (ZIP codes included); the states named, as mentions
    of kind "state", only when nothing else is. ``near``: the state the writer is probably
    in (their phone's area code), to choose among towns of one name when the message names
    no state."""
    return scan(text, lex, near)[0]
