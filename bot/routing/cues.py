"""The words around a place name that say what kind of mention it is (Spanish and English,
normalised: lowercase, no accents).

- Prepositions make a name a place ("en Mission", "in Hope"); *locative* ones ("en", "in",
  "at", "cerca de") say where something is, *motion* ones ("to", "para", "from") where it
  goes or comes from.
- The nearest cue before a place, within its clause, gives its role: where the event
  happened ("lo agarró la migra en", "detained in", "aquí en", "estamos en"), where the
  person lives ("vivo en", "I live in") or comes from ("soy de", "nací en", "I'm from").
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Final

RESIDENCE: Final = 0
NEUTRAL: Final = 1
EVENT: Final = 2

LOCATIVE: Final = frozenset(
    {
        "en",
        "in",
        "at",
        "near",
        "cerca",
        "around",
        "desde",
        "outside",
        "afuera",
        "inside",
        "dentro",
        "rumbo",
    }
)
MOTION: Final = frozenset(
    {"to", "para", "pa", "hacia", "from", "por", "toward", "towards", "into", "through", "via"}
)
OF: Final = frozenset({"de", "del", "of"})
TO: Final = frozenset({"a", "al"})
"""Spanish "to": a place abroad after it is where someone is sent ("deportaron a Tijuana")."""
PREPOSITIONS: Final = LOCATIVE | MOTION | OF

PLACE_NOUNS: Final = frozenset(
    {
        "cerca",
        "afuera",
        "afueras",
        "dentro",
        "alrededor",
        "alrededores",
        "outside",
        "ciudad",
        "city",
        "condado",
        "county",
        "area",
        "zona",
        "centro",
        "downtown",
        "pueblo",
        "town",
        "barrio",
        "colonia",
        "garita",
        "frontera",
        "puente",
        "lado",
        "aeropuerto",
        "norte",
        "sur",
        "este",
        "oeste",
        "north",
        "south",
        "east",
        "west",
        "part",
        "parte",
    }
)
"""A noun before "de"/"of" that makes the name after it a place ("cerca de", "la ciudad de")."""

SITE_NOUNS: Final = frozenset(
    """planta plantas fabrica fabricas empacadora empacadoras polleria lechera lecheria
    lecherias establo
    bodega bodegas warehouse taller obra obras construccion rancho ranchos granja vivero
    campo campos files labor yarda yardas escuela escuelas high iglesia parroquia corte
    cortes juzgado carcel hospital clinica tienda tiendita mercado pulga swap marqueta
    walmart depot heb costco parque parada estacion oficina apartamentos traila trailas
    hotel hoteles restaurante restaurant lavanderia motel casino""".split()
)
"""A place of work or of daily life before "de": a small town's name after it is the town
("la planta de marshalltown", "la escuela de east palo alto"). Only for names that are no
ordinary word or personal name ("la escuela de Lincoln" is a school)."""

DIRECTIONS: Final = frozenset(
    {
        "north",
        "south",
        "east",
        "west",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
        "northside",
        "southside",
        "eastside",
        "westside",
        "downtown",
    }
)
SIDE: Final = "side"  # "west side Saint Paul"

PARTICLES: Final = frozenset({"de", "del", "la", "las", "los", "el", "of", "the", "y", "and"})
"""Words that stay lowercase inside a capitalised place name ("Ciudad de México")."""

KIN: Final = frozenset(
    """hijo hija hijos hijas esposo esposa marido mujer hermano hermana papa mama padre madre
    tio tia primo prima sobrino sobrina amigo amiga abuelo abuela nieto nieta suegro suegra
    cunado cunada novio novia compadre comadre jefe vecino vecina senor senora sr sra srta
    don dona llama llamo llaman nombre apellido son daughter husband wife brother sister
    father mother dad mom uncle aunt cousin nephew niece friend boyfriend girlfriend
    neighbor boss mr mrs ms miss named called name lic licenciado licenciada""".split()
)
"""A personal name, not a place, follows these ("mi hijo Orlando", "se llama Victoria")."""

CLAUSE_ENDS: Final = frozenset(
    {",", ".", "pero", "but", "aunque", "although", "mientras", "while", "y", "and", "e"}
)
CUE_WINDOW: Final = 6

RESIDENCE_WORDS: Final = frozenset(
    """vivo vivimos vive viven vivia vivian viviamos resido residimos reside residen radico
    radicamos radica radican live lives lived living reside resides""".split()
)
ORIGIN_WORDS: Final = frozenset(
    """naci nacio nacimos nacieron nacido nacida nacidos nacidas born originario originaria
    originarios originarias oriundo oriunda oriundos originally""".split()
)
ORIGIN_BEFORE_DE: Final = frozenset(
    """soy somos eres es son era eramos eran vengo venimos viene vienen vine vino vinieron
    originario originaria originarios originarias oriundo oriunda natal""".split()
)
ORIGIN_BEFORE_FROM: Final = frozenset(
    """m am are re is s was were come comes came originally""".split()
)
EVENT_WORDS: Final = frozenset(
    """agarro agarraron agarran agarrado agarrada agarraran detuvieron detuvo detienen
    detenido detenida detenidos detenidas arrestaron arresto arrestado arrestada arrestan
    levantaron levanto llevaron llevo llevan pararon paro parado parada recogieron recogio
    redada redadas operativo operativos reten retenes migra ice inmigracion agentes agente
    patrulla patrullas policia sheriff detained arrested picked taken took grabbed stopped
    caught raid raids raiding agents checkpoint happening pasando sucedio ocurrio ocurre
    aqui aca here estoy estamos estan esta estaba estaban hay habia m am are is""".split()
)
HERE: Final = frozenset({"aqui", "aca", "here"})

DETAINED: Final = frozenset(
    """detencion detention detainee facility carcel jail fianza bond bail preso presa
    visitar visit""".split()
)
"""A message about a person held (not where they were arrested): a town name shared by
several states is the one with a detention centre ("el centro de detención de Florence",
"mi sobrino en Florence, le pusieron fianza" → Florence, AZ)."""
_STILL: Final = frozenset("esta estan sigue siguen lleva llevan is are still being".split())
_HELD: Final = frozenset("detenido detenida detenidos detenidas detained held".split())


def held(norm: Sequence[str]) -> bool:
    """A message about a person held now (see ``DETAINED``), or one said to be held: "está
    detenido en Leavenworth", "is still held" — not "detained in aurora 2 days ago", which
    says where the arrest was."""
    if not DETAINED.isdisjoint(norm):
        return True
    return any(a in _STILL and b in _HELD for a, b in itertools.pairwise(norm))


STREET_AFTER: Final = frozenset(
    """blvd boulevard bulevar rd road st street estrit ave avenue av dr drive hwy highway
    pkwy parkway ln lane""".split()
)
"""After a town's name these make it a street ("Montgomery Blvd", "Decatur Blvd"): no place."""
CROSSING: Final = frozenset({"and", "y"})
"""Between two street names: a corner ("Sunset & Decatur", "la Nellis y Charleston")."""
INSIDE: Final = frozenset({"in", "en", ","})
"""Between two places: the first lies in the second ("La Palma in Eloy", "Westchase, Houston")."""
