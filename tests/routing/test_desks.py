"""Desk data: loads, covers every state, and broken files give file/row/reason errors."""

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.routing import DeskDataError, load_desks
from bot.routing.desks import DATA_DIR
from bot.routing.names import US_STATES


def _copy(tmp_path: Path) -> Path:
    for name in ("desks.csv", "jurisdiction.csv", "desk_settings.yaml", "places.yaml"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def test_load_desks_has_every_consulate_and_central() -> None:
    desks = load_desks()
    assert len(desks.ids) == 54
    assert {"los-angeles", "new-york", "saint-paul", "san-juan", "central"} <= desks.ids
    central = desks.get("central")
    assert central.is_central and central.lat is None
    assert desks.all()[-1].id == "central"
    assert all(s in desks.state_desks for s in US_STATES)


def test_load_desks_is_cached() -> None:
    assert load_desks() is load_desks(DATA_DIR)


def test_desk_hours_in_local_time() -> None:
    la = load_desks().get("los-angeles")
    # Tuesday 2026-03-10 16:00 UTC = 09:00 in Los Angeles (PDT)
    assert la.is_open(datetime(2026, 3, 10, 16, 0, tzinfo=UTC))
    assert not la.is_open(datetime(2026, 3, 10, 22, 0, tzinfo=UTC))  # 15:00 local
    assert not la.is_open(datetime(2026, 3, 14, 17, 0, tzinfo=UTC))  # Saturday
    local = datetime(2026, 3, 10, 13, 59, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert la.is_open(local)


def test_central_is_always_open() -> None:
    assert load_desks().get("central").is_open(datetime(2026, 3, 15, 3, 0, tzinfo=UTC))


def test_is_open_needs_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        load_desks().get("houston").is_open(datetime(2026, 3, 10, 9, 0))  # noqa: DTZ001


def test_unknown_desk_id_in_jurisdiction(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    with (d / "jurisdiction.csv").open("a", encoding="utf-8") as f:
        f.write("atlantis,GU,,made up\n")
    with pytest.raises(DeskDataError) as err:
        load_desks(d)
    assert err.value.row == 1221 and "unknown desk id 'atlantis'" in err.value.reason
    assert str(err.value).startswith(str(d / "jurisdiction.csv"))


def test_county_claimed_twice(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    with (d / "jurisdiction.csv").open("a", encoding="utf-8") as f:
        f.write("dallas,TX,Harris County,made up\n")
    with pytest.raises(DeskDataError, match="Harris County, TX is claimed by houston and dallas"):
        load_desks(d)


def test_missing_state(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    rows = (d / "jurisdiction.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (d / "jurisdiction.csv").write_text(
        "".join(r for r in rows if ",PR," not in r), encoding="utf-8"
    )
    with pytest.raises(DeskDataError, match=r"no desk for state\(s\) \['PR'\]"):
        load_desks(d)


def test_missing_county_of_split_state(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    rows = (d / "jurisdiction.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (d / "jurisdiction.csv").write_text(
        "".join(r for r in rows if not r.startswith("houston,TX,Harris County")), encoding="utf-8"
    )
    with pytest.raises(DeskDataError, match="Harris County, TX"):
        load_desks(d)


def test_bad_time_zone(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    text = (d / "desks.csv").read_text(encoding="utf-8")
    (d / "desks.csv").write_text(text.replace("America/Boise", "America/Nowhere"), encoding="utf-8")
    with pytest.raises(DeskDataError, match="unknown time zone") as err:
        load_desks(d)
    assert err.value.row == 5


def test_bad_hours(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "desk_settings.yaml").write_text("defaults:\n  hours: {mon: ['9-5']}\n", encoding="utf-8")
    with pytest.raises(DeskDataError, match="HH:MM-HH:MM"):
        load_desks(d)
