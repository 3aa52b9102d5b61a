"""Give each labelled message its expected desk, from the U.S. city its author named.

Authors wrote `place` ("City, ST": where the event happened, or "" for none or outside the
U.S.); they never saw desk ids. This script turns that place into a desk with the `zipcodes`
package (city → county) and `data/routing/jurisdiction.csv` (state/county → desk), so the
expected desk never comes from the code under test. Run once when a set is added:

    .venv/bin/python tests/data/desk_labels.py tests/data/authors/*.jsonl tests/data/blind/*.jsonl
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path

import zipcodes

ROOT = Path(__file__).resolve().parents[2]
# Unincorporated places with no ZIP of their own: their county, from the county's own pages.
COUNTY_OF = {
    "Three Points, AZ": "pima county",
    "Milton-Freewater, OR": "umatilla county",
    "Peñitas, TX": "hidalgo county",
}


def _jurisdictions() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    by_state: dict[str, str] = {}
    by_county: dict[tuple[str, str], str] = {}
    with (ROOT / "data/routing/jurisdiction.csv").open() as f:
        for row in csv.DictReader(f):
            if row["county"]:
                by_county[(row["state"], row["county"].lower())] = row["desk_id"]
            else:
                by_state[row["state"]] = row["desk_id"]
    return by_state, by_county


def desk_for(place: str) -> str | None:
    """The desk serving "City, ST", or None when the place is empty or unknown."""
    if not place.strip():
        return ""
    city, _, state = place.rpartition(",")
    city, state = city.strip(), state.strip().upper()
    by_state, by_county = _jurisdictions_cached
    found = []
    for spelling in (
        city,
        city.replace("Saint ", "St. "),
        city.replace("St. ", "Saint "),
        city.title(),
    ):
        found = found or zipcodes.filter_by(city=spelling, state=state)
    if not found:  # a town the Postal Service knows as another name of a ZIP ("Tigard")
        wanted = city.upper()
        found = [
            z
            for z in zipcodes.filter_by(state=state)
            if wanted in (c.upper() for c in z.get("acceptable_cities") or [])
        ]
    counties = Counter(z["county"].lower() for z in found if z.get("county"))
    if place in COUNTY_OF:
        counties = Counter({COUNTY_OF[place]: 1})
    if counties:
        county = counties.most_common(1)[0][0]
        if (state, county) in by_county:
            return by_county[(state, county)]
    return by_state.get(state)


_jurisdictions_cached = _jurisdictions()


def main(paths: list[str]) -> None:
    for path in paths:
        rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
        unknown = []
        for row in rows:
            desk = desk_for(row.get("place", ""))
            if desk is None:
                unknown.append(row["place"])
            row["desk"] = desk or ""
        Path(path).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        print(f"{path}: {len(rows)} rows, places without a desk: {sorted(set(unknown))}")


if __name__ == "__main__":
    main(sys.argv[1:])
