"""Places outside the U.S.: recognised, told apart from U.S. namesakes, and never a desk."""

from datetime import UTC, datetime

import pytest

from bot.routing import extract_location, resolve_location, route
from bot.routing.commands import classify_lines, route_command

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "country", "label"),
    [
        ("estoy en Tapachula", "MX", "Tapachula, Chiapas, México"),
        ("Tijuana", "MX", "Tijuana, Baja California, México"),
        ("estamos en CDMX", "MX", "Ciudad de México, México"),
        ("estoy en la Ciudad de México", "MX", "Ciudad de México, México"),
        ("en el DF", "MX", "Ciudad de México, México"),
        ("me detuvieron en Juárez", "MX", "Ciudad Juárez, Chihuahua, México"),
        ("estoy en Monterrey", "MX", "Monterrey, Nuevo León, México"),
        ("estamos en Oaxaca", "MX", "Oaxaca, México"),
        ("estoy en Jalisco", "MX", "Jalisco, México"),
        ("vivo en Michoacán", "MX", "Michoacán, México"),
        ("en Guerrero", "MX", "Guerrero, México"),
        ("desde Puebla les escribo", "MX", "Puebla, México"),
        ("estoy en México", "MX", "México"),
        ("Guadalupe, Nuevo León", "MX", "Guadalupe, Nuevo León, México"),
        ("Nogales, Sonora", "MX", "Nogales, Sonora, México"),
        ("estoy en Guatemala", "GT", "Guatemala"),
        ("estamos en Tegucigalpa", "HN", "Tegucigalpa, Francisco Morazán, Honduras"),
        ("en San Pedro Sula", "HN", "San Pedro Sula, Cortés, Honduras"),
        ("estoy en El Salvador", "SV", "El Salvador"),
        ("Santa Ana, El Salvador", "SV", "Santa Ana, El Salvador"),
        ("estoy en Tapachulla", "MX", "Tapachula, Chiapas, México"),
    ],
)
def test_extract_place_abroad(text: str, country: str, label: str) -> None:
    loc = extract_location(text)
    assert loc is not None and loc.abroad, loc
    assert (loc.country, loc.label, loc.desk_id, loc.method) == (
        country,
        label,
        "central",
        "abroad",
    )


@pytest.mark.parametrize(
    ("text", "desk"),
    [
        ("Mexico, MO", "kansas-city"),
        ("Mexico Missouri", "kansas-city"),
        ("Guadalupe, CA", "oxnard"),
        ("Sonora, CA", "sacramento"),
        ("Nogales", "nogales"),
        ("San Jose", "san-jose"),
        ("Santa Ana", "santa-ana"),
        ("Panama City, FL", "orlando"),
        ("Albuquerque, Nuevo México", "albuquerque"),
        ("Little Mexico Dallas", "dallas"),
        ("the El Paso port of entry", "el-paso"),
        ("en Monterey, CA", "san-jose"),
    ],
)
def test_us_namesakes_need_their_state(text: str, desk: str) -> None:
    loc = extract_location(text)
    assert loc is not None and not loc.abroad and loc.desk_id == desk, loc


@pytest.mark.parametrize(
    "text",
    [
        "soy de Oaxaca",
        "somos de Guatemala",
        "mi hijo nació en México",
        "nací en Michoacán pero estoy aquí",
        "lo deportaron a Tijuana",
        "me van a deportar a Honduras",
        "el consulado de México",
        "mi esposo Juan Guerrero",
        "vengo de Honduras con mis hijos",
    ],
)
def test_origin_and_destination_abroad_are_not_places(text: str) -> None:
    assert extract_location(text) is None


def test_us_place_beats_a_place_abroad_in_the_same_role() -> None:
    loc = extract_location("soy de Puebla y vivo en Houston, la migra está aquí")
    assert loc is not None and loc.desk_id == "houston"
    loc = extract_location("vivo en Houston pero me detuvieron en Tijuana")
    assert loc is not None and loc.abroad and loc.city == "Tijuana"


def test_abroad_routes_to_central_only() -> None:
    loc = extract_location("estoy en Tapachula")
    decision = route(loc, "critical", NOW)
    assert decision.desk_id == "central" and not decision.also_central
    assert "outside the U.S." in decision.reasons[0]
    # A place abroad in the text is an answer: the phone's area code is not used.
    found = resolve_location("Tijuana", phone="+17135550100")
    assert found is not None and found.abroad
    assert extract_location("Nuevo México") is None  # New Mexico: split between two desks


def test_commands_show_no_desk_for_abroad() -> None:
    (line,) = classify_lines(['{"text": "me agarró la migra en Tijuana"}'])
    assert '"desk": null' in line and "outside the U.S." in line
    code, out = route_command("Tapachula")
    assert code == 1 and "outside the U.S." in out
