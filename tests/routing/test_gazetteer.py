"""The gazetteer: neighbourhoods, districts and landmarks, checked at load."""

import shutil
from pathlib import Path

import pytest

from bot.routing import extract_location, load_desks
from bot.routing.desks import DATA_DIR, DeskDataError
from bot.routing.gazetteer import load_abroad, load_sites, load_words


def test_gazetteer_size_sources_and_every_desk_covered() -> None:
    sites = {site for _, site in load_sites(DATA_DIR)}
    assert len(sites) >= 300
    assert all(s.source.startswith("https://") for s in sites)
    desks = load_desks()
    covered = set()
    for s in sites:
        where = s.zip or s.place
        desk = desks.desk_for(where.state, where.county, where.lat, where.lon)
        assert desk is not None, s.name
        covered.add(desk)
    consulates = {d.id for d in desks.all() if not d.is_central}
    assert consulates <= covered and len(consulates) == 53


@pytest.mark.parametrize(
    ("text", "desk", "label_start"),
    [
        ("St. Paul", "saint-paul", "Saint Paul"),
        ("East Boston", "boston", "East Boston"),
        ("South Park, Seattle", "seattle", "South Park"),
        ("southwest Detroit", "detroit", "Southwest Detroit"),
        ("south omaha", "omaha", "South Omaha"),
        ("26 Federal Plaza", "new-york", "26 Federal Plaza"),
        ("me citaron en 26 Federal Plaza mañana", "new-york", "26 Federal Plaza"),
        ("the El Paso port of entry", "el-paso", "Paso del Norte"),
        ("lo detuvieron en la garita de San Ysidro", "san-diego", "San Ysidro Port of Entry"),
        ("Little Village", "chicago", "Little Village"),
        ("hay redada en la Villita", "chicago", "Little Village"),
        ("Pilsen", "chicago", "Pilsen"),
        ("Boyle Heights", "los-angeles", "Boyle Heights"),
        ("Huntington Park", "los-angeles", "Huntington Park"),
        ("Gulfton", "houston", "Gulfton"),
        ("Oak Cliff", "dallas", "Oak Cliff"),
        ("Westside San Antonio", "san-antonio", "Westside San Antonio"),
        ("en el puente Zaragoza", "el-paso", "Ysleta-Zaragoza"),
        ("retén de Falfurrias", "mcallen", "Falfurrias"),
        ("está en Krome", "miami", "Krome"),
        ("lo llevaron a Stewart Detention Center", "atlanta", "Stewart"),
        ("en la pulga de San Jose", "san-jose", "San Jose Flea Market"),
        ("Traders Village, Grand Prairie", "dallas", "Traders Village"),
        ("Fort Sam Houston", "san-antonio", "Fort Sam Houston"),
        ("Denver Harbor", "houston", "Denver Harbor"),
        ("Charlotte Douglas International Airport", "raleigh", "Charlotte Douglas"),
        # an address number that looks like a ZIP (11541 is a New York ZIP) stays an address
        ("me citaron en 11541 Montana", "el-paso", "ICE El Paso Field Office"),
        ("fui a 126 Northpoint", "houston", "ICE Houston Field Office"),
    ],
)
def test_extract_neighbourhoods_and_landmarks(text: str, desk: str, label_start: str) -> None:
    loc = extract_location(text)
    assert loc is not None and loc.desk_id == desk, loc
    assert loc.label.startswith(label_start), loc.label


def test_same_named_sites_need_their_city() -> None:
    assert extract_location("Traders Village") is None  # Houston, Grand Prairie, San Antonio
    loc = extract_location("en el Traders Village de Houston")
    assert loc is not None and loc.desk_id == "houston" and loc.method == "place"


def _copy_data(tmp_path: Path) -> Path:
    for name in ("gazetteer.csv", "abroad.yaml", "words.txt"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("Nowhere Park,,neighborhood,Houston,ZZ,,https://example.org", "unknown state"),
        ("Nowhere Park,,neighborhood,Atlantis City,TX,,https://example.org", "not a city"),
        ("Nowhere Park,,neighborhood,Houston,TX,10001,https://example.org", "not in TX"),
        ("Nowhere Park,,neighborhood,Houston,TX,75201,https://example.org", "far from"),
        ("Nowhere Park,,shop,Houston,TX,,https://example.org", "kind"),
        ("Nowhere Park,,neighborhood,Houston,TX,,Wikipedia", "URL"),
    ],
)
def test_gazetteer_mistakes_name_the_row(tmp_path: Path, row: str, reason: str) -> None:
    data = _copy_data(tmp_path)
    path = data / "gazetteer.csv"
    path.write_text(path.read_text(encoding="utf-8") + row + "\n", encoding="utf-8")
    with pytest.raises(DeskDataError, match=reason) as err:
        load_sites(data)
    assert "gazetteer.csv" in str(err.value)


def test_abroad_and_words_files_load(tmp_path: Path) -> None:
    places = dict(load_abroad(DATA_DIR))
    assert places["cdmx"].label == "Ciudad de México, México"
    assert places["guatemala"].level == "country"
    words = load_words(DATA_DIR)
    assert "mission" in words.words and "orlando" in words.names
    data = _copy_data(tmp_path)
    (data / "abroad.yaml").write_text("cities:\n  XX:\n    Nowhere: [Here]\n", encoding="utf-8")
    with pytest.raises(DeskDataError, match="unknown country"):
        load_abroad(data)
    (data / "words.txt").write_text("[verbs]\nrun\n", encoding="utf-8")
    with pytest.raises(DeskDataError, match="unknown section"):
        load_words(data)
