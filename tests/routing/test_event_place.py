"""Where the event happened wins over where the person lives or comes from."""

import pytest

from bot.routing import extract_location


@pytest.mark.parametrize(
    ("text", "desk"),
    [
        ("vivo en San Jose pero lo agarró la migra en Sacramento", "sacramento"),
        ("I live in Dallas, my brother was detained in Houston", "houston"),
        ("somos de Chicago pero estamos en Milwaukee y aquí hay redada", "milwaukee"),
        ("soy de Dallas pero me detuvieron en Oklahoma City", "oklahoma-city"),
        ("We live in Phoenix. ICE picked up my dad in Tucson", "tucson"),
        ("vivimos en Fresno, hay un retén en Bakersfield", "fresno"),
        ("I'm from Denver and we are in Omaha, agents are here", "omaha"),
        ("vivo en 77036 pero lo arrestaron en Dallas", "dallas"),
        ("vivo en Houston y trabajo en Pasadena TX", "houston"),
        ("lo agarraron en Dallas y ahora está detenido en Conroe", "dallas"),
        ("vivo en Houston", "houston"),
        ("soy de Dallas", "dallas"),
    ],
)
def test_extract_prefers_the_event_place(text: str, desk: str) -> None:
    loc = extract_location(text)
    assert loc is not None and loc.desk_id == desk, loc


def test_residence_used_when_nothing_else_is_named() -> None:
    loc = extract_location("vivo en Laredo y tengo miedo de salir")
    assert loc is not None and loc.desk_id == "laredo"


def test_workplace_beats_home() -> None:
    # Neither cue is an event: the place without a residence cue wins.
    loc = extract_location("vivo en Dallas y trabajo en Fort Worth")
    assert loc is not None and loc.city == "Fort Worth"
