"""Message catalogs (gettext PO, keys as msgids), facts as placeholders, language detection.

The catalogs in `locales/` are read once at start with Babel (no compile step). Facts from
`data/facts.yaml` (phone numbers, dates, figures) fill their `{placeholders}` at load, in each
language's own format; placeholders left over (`{ref}`) are filled by the caller of `t()`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml
from babel.dates import format_date, format_skeleton
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.errors import CatalogError
from bot.types import DEFAULT_LANG, LANGS, Lang

ROOT: Final = Path(__file__).resolve().parent.parent
LOCALES_DIR: Final = ROOT / "locales"
FACTS_PATH: Final = ROOT / "data" / "facts.yaml"
FACT_TYPES: Final = frozenset({"text", "number", "date", "month"})
# Babel locales for formatting facts: Mexican Spanish (2,000 not 2.000), U.S. English.
FORMAT_LOCALE: Final[Mapping[str, str]] = {"es": "es_MX", "en": "en_US"}
_FORMATTER = string.Formatter()


@dataclass(frozen=True, slots=True)
class Fact:
    """One checked fact: its text per language, where it comes from, when it was checked."""

    name: str
    text: Mapping[Lang, str]
    source: str
    last_checked: date


def placeholders(template: str) -> frozenset[str]:
    """The `{names}` a template uses."""
    try:
        return frozenset(name for _, name, _, _ in _FORMATTER.parse(template) if name)
    except ValueError as exc:
        raise CatalogError(f"malformed placeholder in {template!r}: {exc}") from exc


def load_facts(path: Path = FACTS_PATH) -> dict[str, Fact]:
    """Read and check `data/facts.yaml`; each value is rendered in every language."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    sources = raw.get("sources") or {}
    facts: dict[str, Fact] = {}
    for name, entry in (raw.get("facts") or {}).items():
        where = f"{path.name}: fact {name!r}"
        if not isinstance(entry, dict) or "value" not in entry:
            raise CatalogError(f"{where}: needs a value")
        if entry.get("source") not in sources:
            raise CatalogError(f"{where}: source {entry.get('source')!r} is not listed")
        checked = entry.get("last_checked")
        if not isinstance(checked, date):
            raise CatalogError(f"{where}: last_checked must be a date (YYYY-MM-DD)")
        kind = entry.get("type", "text")
        if kind not in FACT_TYPES:
            raise CatalogError(f"{where}: unknown type {kind!r}")
        text = {lang: _render_fact(entry["value"], kind, lang, where) for lang in LANGS}
        facts[name] = Fact(name, text, str(entry["source"]), checked)
    return facts


def _render_fact(value: Any, kind: str, lang: Lang, where: str) -> str:
    locale = FORMAT_LOCALE[lang]
    if isinstance(value, dict):
        if set(value) != set(LANGS):
            raise CatalogError(f"{where}: a per-language value needs exactly {LANGS}")
        value = value[lang]
    if kind == "number" and isinstance(value, int):
        return format_decimal(value, locale=locale)
    if kind == "date" and isinstance(value, date):
        return format_date(value, "long", locale=locale)
    if kind == "month" and isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", value):
        return format_skeleton("yMMMM", date.fromisoformat(value + "-01"), locale=locale)
    if kind == "text" and isinstance(value, str | int):
        return str(value)
    raise CatalogError(f"{where}: value {value!r} does not fit type {kind!r}")


class _Keep(dict[str, str]):
    """Leaves unknown placeholders in place during the load-time fill."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Catalog:
    """All messages of all languages, with facts already filled in."""

    def __init__(
        self, messages: Mapping[Lang, Mapping[str, str]], facts: Mapping[str, Fact]
    ) -> None:
        self.messages = messages
        self.facts = facts
        self._ready: dict[Lang, dict[str, str]] = {}
        self._needs: dict[Lang, dict[str, frozenset[str]]] = {}
        for lang in LANGS:
            values = _Keep({name: fact.text[lang] for name, fact in facts.items()})
            ready = {key: text.format_map(values) for key, text in messages.get(lang, {}).items()}
            self._ready[lang] = ready
            self._needs[lang] = {key: placeholders(text) for key, text in ready.items()}

    @classmethod
    def load(
        cls,
        locales_dir: Path = LOCALES_DIR,
        facts_path: Path = FACTS_PATH,
        overrides: Mapping[str, str] | None = None,
    ) -> Catalog:
        """Read `<lang>.po` for every language and the facts; `overrides` replace fact texts."""
        messages: dict[Lang, dict[str, str]] = {}
        for lang in LANGS:
            with (locales_dir / f"{lang}.po").open("rb") as handle:
                po = read_po(handle, locale=lang)
            messages[lang] = {
                str(m.id): str(m.string) for m in po if m.id and isinstance(m.string, str)
            }
        facts = load_facts(facts_path)
        for name, text in (overrides or {}).items():
            old = facts[name]
            facts[name] = Fact(name, dict.fromkeys(LANGS, text), old.source, old.last_checked)
        return cls(messages, facts)

    def has(self, key: str, lang: Lang) -> bool:
        """True when `key` has a non-empty text in `lang`."""
        return bool(self._ready[lang].get(key))

    def keys(self, lang: Lang) -> frozenset[str]:
        """Every key with a text in `lang`."""
        return frozenset(k for k, v in self._ready[lang].items() if v)

    def needs(self, key: str, lang: Lang) -> frozenset[str]:
        """The placeholders the caller of `t()` must fill (facts are already in)."""
        return self._needs[lang].get(key, frozenset())

    def t(self, key: str, lang: Lang, **values: object) -> str:
        """The text of `key` in `lang` (Spanish if missing), with `{placeholders}` filled."""
        text = self._ready[lang].get(key) or self._ready[DEFAULT_LANG].get(key)
        if not text:
            raise CatalogError(f"message {key!r} is missing")
        if not values and "{" not in text:
            return text
        try:
            return text.format_map(values)
        except (KeyError, IndexError, ValueError) as exc:
            raise CatalogError(f"message {key!r} needs a value for {exc}") from exc

    def problems(self) -> list[str]:
        """Keys missing in a language, placeholder mismatches, unknown placeholders."""
        found: list[str] = []
        every = set().union(*(set(self.messages.get(lang, {})) for lang in LANGS))
        for key in sorted(every):
            seen = {lang: self.messages.get(lang, {}).get(key) for lang in LANGS}
            for lang, text in seen.items():
                if not text:
                    found.append(f"{key}: missing in {lang}.po")
            texts = [placeholders(t) for t in seen.values() if t]
            if any(p != texts[0] for p in texts):
                found.append(f"{key}: placeholders differ between languages: {texts}")
        return found


@cache
def catalog() -> Catalog:
    """The project's catalogs and facts, loaded once per process."""
    return Catalog.load()


def t(key: str, lang: Lang, **values: object) -> str:
    """The text of `key` in `lang` from the project's catalogs."""
    return catalog().t(key, lang, **values)


_WORD = re.compile(r"[a-záéíóúñü']+")
_ES_WORDS: Final = frozenset(
    "de la que el en y los se del las un una por con para es al lo como mi mis su esta está "
    "estoy hay pero yo tengo quiero necesito ayuda hola buenas gracias donde dónde qué que "
    "cuando esposo esposa hijo hija trabajo casa llevaron llevó detuvieron migra ahora hoy "
    "ayer sí si no sé redada agentes policía amenaza acoso papeles pasaporte favor señor "
    "mamá papá hermano tío nosotros ellos usted muy también aquí".split()
)
_EN_WORDS: Final = frozenset(
    "the is are my to and of in at there this i we they was were he she help hello hi need "
    "want have has what where when please husband wife son daughter job work home took "
    "taken raid right now today yesterday yes know don't dont can could would outside "
    "house with for from our their it's i'm thanks thank english police hey hiya good "
    "morning afternoon evening someone".split()
)
_ES_MARKS = re.compile(r"[ñ¿¡áéíóú]")


def detect_language(text: str, hint: str | None = None) -> Lang:
    """The language of `text`: Spanish unless English is clearer; `hint` breaks ties."""
    words = _WORD.findall(text[:500].lower())
    es = sum(w in _ES_WORDS for w in words) + (2 if _ES_MARKS.search(text[:500]) else 0)
    en = sum(w in _EN_WORDS for w in words)
    if en > es:
        return "en"
    if es > en:
        return "es"
    if hint and hint.lower().startswith("en"):
        return "en"
    return DEFAULT_LANG
