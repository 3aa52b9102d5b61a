"""Replies built from the catalog: questions, re-prompts, the main menu, fixed choice sets.

Everything here depends only on (flows, step, language), so it is built once and cached.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from bot.engine import keys
from bot.engine.flows import Flows, StepSpec
from bot.engine.match import Choice, build_choice
from bot.engine.model import Option, Reply
from bot.i18n import Catalog
from bot.types import LANGS, Lang

MENU: Final = (
    ("raid", "menu.raid", ("redada", "raid", "ice", "migra", "operativo")),
    ("detention", "menu.detention", ("detenido", "detuvieron", "detained", "arrested")),
    ("harassment", "menu.harassment", ("acoso", "amenaza", "abuso", "threat", "abuse")),
    ("documents", "menu.documents", ("documentos", "pasaporte", "passport", "matricula")),
    ("programs", "menu.programs", ("programas", "programs", "noticias", "news")),
    (
        "screening",
        "menu.screening",
        ("riesgo", "en riesgo", "at risk", "abogado", "lawyer", "consulta legal", "asesoria"),
    ),
    ("status", "menu.status", ("estado", "status", "mi caso", "my case")),
    ("human", keys.OPTION_HUMAN, ("persona", "human", "agente", "agent")),
)
LANGUAGES: Final = (
    ("es", keys.LANG_ES, ("espanol", "spanish", "es")),
    ("en", keys.LANG_EN, ("ingles", "english", "en")),
)
TIME_VALUES: Final = ("now", "earlier_today", "days_ago", "rumor")


@lru_cache(maxsize=16)
def choices(catalog: Catalog, name: str) -> tuple[Choice, ...]:
    """The matcher for a fixed choice set: "menu" or "language"."""
    table = {"menu": MENU, "language": LANGUAGES}[name]
    return tuple(
        build_choice(value, [catalog.t(label, lang) for lang in LANGS], match)
        for value, label, match in table
    )


def options(catalog: Catalog, name: str, lang: Lang) -> tuple[Option, ...]:
    """The options of a fixed choice set in `lang`."""
    table = {"menu": MENU, "language": LANGUAGES}[name]
    return tuple(Option(catalog.t(label, lang), value) for value, label, _ in table)


def menu(catalog: Catalog, lang: Lang, key: str = keys.MENU_PROMPT) -> Reply:
    """The main menu, introduced by `key`."""
    return Reply(catalog.t(key, lang), options(catalog, "menu", lang))


def step_options(flows: Flows, step: StepSpec, lang: Lang) -> tuple[Option, ...]:
    """The options a step offers (choice, yes/no, consent, time); empty for typed answers."""
    return _step_options(flows, step, lang)


@lru_cache(maxsize=2048)
def _step_options(flows: Flows, step: StepSpec, lang: Lang) -> tuple[Option, ...]:
    t = flows.catalog.t
    if step.kind == "choice":
        return tuple(Option(t(o.label, lang), o.value) for o in step.options)
    if step.kind == "yes_no":
        found = (Option(t(keys.YES, lang), "yes"), Option(t(keys.NO, lang), "no"))
        return (*found, Option(t(keys.DONT_KNOW, lang), "skip")) if step.optional else found
    if step.kind == "consent":
        return (Option(t(keys.ACCEPT, lang), "yes"), Option(t(keys.DECLINE, lang), "no"))
    if step.kind == "time":
        return tuple(
            Option(t(k, lang), v) for k, v in zip(keys.TIME_OPTIONS, TIME_VALUES, strict=True)
        )
    return ()


@lru_cache(maxsize=2048)
def question(flows: Flows, step: StepSpec, lang: Lang) -> tuple[Reply, ...]:
    """The replies that ask `step`: leading messages, then the question with its options."""
    texts = [flows.catalog.t(key, lang) for key in step.say]
    *lead, last = texts
    return (*(Reply(x) for x in lead), Reply(last, step_options(flows, step, lang)))


@lru_cache(maxsize=2048)
def retry(flows: Flows, step: StepSpec, lang: Lang, required: bool = False) -> Reply:
    """A short re-prompt saying what answer `step` expects."""
    t = flows.catalog.t
    text = t(step.retry or keys.RETRY[step.kind], lang)
    if required:
        text = f"{t(keys.RETRY_REQUIRED, lang)}\n{text}"
    elif step.optional and step.kind not in ("yes_no", "media", "text"):
        text = f"{text}\n{t(keys.RETRY_SKIP_HINT, lang)}"
    return Reply(text, step_options(flows, step, lang))
