"""Location resolution: ZIPs, cities, nicknames, misspellings, points, area codes."""

import pytest

from bot.routing import extract_location, load_desks, resolve_location

# From ../shared/data/check.py: a ZIP and the desk a person would expect.
TEST_ZIPS = [
    ("90012", "los-angeles"),
    ("77002", "houston"),
    ("60601", "chicago"),
    ("85004", "phoenix"),
    ("78205", "san-antonio"),
    ("10001", "new-york"),
    ("33130", "miami"),
    ("30303", "atlanta"),
    ("98101", "seattle"),
    ("80202", "denver"),
    ("92101", "san-diego"),
    ("95814", "sacramento"),
    ("94103", "san-francisco"),
    ("89101", "las-vegas"),
    ("87102", "albuquerque"),
    ("79901", "el-paso"),
    ("78040", "laredo"),
    ("78501", "mcallen"),
    ("55101", "saint-paul"),
    ("19106", "philadelphia"),
    ("02108", "boston"),
    ("20001", "washington"),
    ("84101", "salt-lake-city"),
    ("97204", "portland"),
    ("83702", "boise"),
    ("48226", "detroit"),
    ("53202", "milwaukee"),
    ("46204", "indianapolis"),
    ("64106", "kansas-city"),
    ("68102", "omaha"),
    ("72201", "little-rock"),
    ("27601", "raleigh"),
    ("32801", "orlando"),
    ("70112", "new-orleans"),
    ("43215", "indianapolis"),
    ("00901", "san-juan"),
    ("99501", "seattle"),
]
CONSULATES = [d for d in load_desks().all() if not d.is_central]


@pytest.mark.parametrize(("zip_code", "desk"), TEST_ZIPS)
def test_resolve_zip(zip_code: str, desk: str) -> None:
    loc = resolve_location(zip=zip_code)
    assert loc is not None and loc.desk_id == desk
    assert (loc.method, loc.confidence, loc.zip) == ("zip", "high", zip_code)


@pytest.mark.parametrize("desk", CONSULATES, ids=lambda d: d.id)
def test_consulate_city_routes_to_itself(desk) -> None:
    with_state = resolve_location(f"{desk.city}, {desk.state}")
    assert with_state is not None and with_state.desk_id == desk.id
    assert with_state.confidence == "high"
    point = resolve_location(lat=desk.lat, lon=desk.lon)
    assert point is not None and point.desk_id == desk.id and point.method == "coords"
    if desk.id != "washington":  # "Washington" alone may be the state: asked back
        alone = resolve_location(desk.city)
        assert alone is not None and alone.desk_id == desk.id


@pytest.mark.parametrize(
    ("text", "desk"),
    [
        # split states: county decides
        ("Fresno, CA", "fresno"),
        ("Bakersfield, CA", "fresno"),
        ("Oakland, CA", "san-francisco"),
        ("Salinas, CA", "san-jose"),
        ("Riverside, CA", "san-bernardino"),
        ("Anaheim, CA", "santa-ana"),
        ("El Centro, CA", "calexico"),
        ("Fort Worth, TX", "dallas"),
        ("Lubbock, TX", "albuquerque"),
        ("Odessa, TX", "presidio"),
        ("Corpus Christi, TX", "mcallen"),
        ("Round Rock, TX", "austin"),
        ("Mesa, AZ", "phoenix"),
        ("Sierra Vista, AZ", "douglas"),
        ("San Luis, AZ", "yuma"),
        ("Las Cruces, NM", "el-paso"),
        ("Tampa, FL", "orlando"),
        ("Naples, FL", "miami"),
        ("Gary, IN", "chicago"),
        ("Cleveland, OH", "detroit"),
        ("Marquette, MI", "milwaukee"),
        ("Eau Claire, WI", "saint-paul"),
        ("Council Bluffs, IA", "omaha"),
        ("Memphis, TN", "little-rock"),
        ("Nashville, TN", "atlanta"),
        ("Newark, NJ", "new-brunswick"),
        ("Camden, NJ", "philadelphia"),
        ("Vancouver, WA", "portland"),
        ("Spokane, WA", "seattle"),
        ("Billings, MT", "denver"),
        ("Missoula, MT", "boise"),
        ("Cheyenne, WY", "denver"),
        ("Portland OR", "portland"),
    ],
)
def test_resolve_split_states(text: str, desk: str) -> None:
    loc = resolve_location(text)
    assert loc is not None and loc.desk_id == desk, loc


@pytest.mark.parametrize(
    ("text", "desk"),
    [
        ("ICE se llevó a mi esposo hoy en Houston", "houston"),
        ("la 77036", "houston"),
        ("near 24th st in Phoenix", "phoenix"),
        ("east LA", "los-angeles"),
        ("Mineápolis", "saint-paul"),
        ("Chicago IL", "chicago"),
        ("vivo en Jiuston", "houston"),
        ("estoy en fenix", "phoenix"),
        ("en alburquerque", "albuquerque"),
        ("Nueva York", "new-york"),
        ("Filadelfia", "philadelphia"),
        ("las begas", "las-vegas"),
        ("San Pablo Minnesota", "saint-paul"),
        ("St. Paul", "saint-paul"),
        ("nola", "new-orleans"),
        ("LA", "los-angeles"),
        ("carolina del norte", "raleigh"),
        ("soy de Dallas", "dallas"),
        ("77036-1234", "houston"),
    ],
)
def test_extract_location_from_text(text: str, desk: str) -> None:
    loc = extract_location(text)
    assert loc is not None and loc.desk_id == desk, loc


@pytest.mark.parametrize(
    "text",
    [
        "hola",
        "",
        "estoy en Texas",
        "la migra está en la mesa",
        "mi hijo nació en México",
        "me piden 20000 dolares",
        "mi número A es 123456789",
        "llamen al 713-555-1234",
        "Atlantis",
        "Springfield",
    ],
)
def test_extract_location_unknown_or_ambiguous(text: str) -> None:
    loc = extract_location(text)
    assert loc is None or (text == "Springfield" and loc.confidence == "medium")


def test_bare_whole_state_is_low_confidence() -> None:
    loc = extract_location("vivo en Illinois")
    assert loc is not None and (loc.desk_id, loc.confidence) == ("chicago", "low")


def test_resolve_bad_zip_inputs() -> None:
    assert resolve_location(zip="123") is None
    assert resolve_location(zip="00000") is None
    assert resolve_location(zip="abcde") is None
    assert resolve_location(zip="96910") is None  # Guam: no desk


def test_resolve_point_far_from_us_is_none() -> None:
    assert resolve_location(lat=19.43, lon=-99.13) is None  # Mexico City
    assert resolve_location(lat=999.0, lon=0.0) is None


def test_resolve_point_near_border_zip() -> None:
    loc = resolve_location(lat=32.54, lon=-117.03)  # San Ysidro port of entry
    assert loc is not None and loc.desk_id == "san-diego"


def test_resolve_area_code_is_weak() -> None:
    loc = resolve_location(phone="+1 (713) 555-0100")
    assert loc is not None
    assert (loc.desk_id, loc.method, loc.confidence) == ("houston", "area_code", "low")
    assert resolve_location(phone="+52 55 1234 5678") is None


def test_resolve_order_zip_then_point_then_text_then_phone() -> None:
    loc = resolve_location("Dallas", zip="77036", lat=33.0, lon=-97.0, phone="+12125550100")
    assert loc is not None and loc.desk_id == "houston"
    loc = resolve_location("Dallas", lat=40.75, lon=-73.99, phone="+17135550100")
    assert loc is not None and loc.desk_id == "new-york"
    loc = resolve_location("Dallas", phone="+17135550100")
    assert loc is not None and loc.desk_id == "dallas"
    assert resolve_location(None) is None
