"""Desk accuracy as a person writing from a phone meets it: text alone, then text with the
area code of the writer's home.

On SMS and WhatsApp every message carries the writer's number, and its area code chooses
among towns of one name in several states ("Hillsboro" from a 503 number is Hillsboro, OR).
On Telegram and the web chat there is no number: the text alone is all routing has. Each
author's "home" is the state where most of their labelled places are (the labels, never the
code under test); their phone is an area code of that state. A third figure: the text alone,
then the report's "¿De qué estado?" answered with the labelled place's state when it is among
the choices (the hotline asks it when a town of several states is named and nothing settles
it). Per author and pooled.

    .venv/bin/python bench/eval_desk_phone.py                        # the authors
    .venv/bin/python bench/eval_desk_phone.py tests/data/blind/*.jsonl  # any labelled files
"""

from __future__ import annotations

import functools
import json
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.routing import extract_location, read_place, route  # noqa: E402
from bot.routing.geo import area_codes  # noqa: E402
from bot.triage.evaluation import DeskOf, Rate, desk_chooser  # noqa: E402
from bot.types import Priority  # noqa: E402

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # a weekday afternoon, as eval_triage.py


def _state(row: dict[str, str]) -> str:
    return row.get("place", "").rpartition(",")[2].strip()


def phone_in(state: str) -> str:
    """A number with the first area code (in numeric order) whose main county is in ``state``."""
    code = min(c for c, (st, *_rest) in area_codes().items() if st == state)
    return f"+1{code}5550100"


def asked(desk_of: DeskOf) -> DeskOf:
    """``desk_of`` after the report's "¿De qué estado?": when the text names a town that
    several states have and nothing settles it, the person picks their state if it is among
    the choices shown (the labelled place's state), else says "no sé"."""

    def desk(text: str, priority: Priority, state: str) -> str:
        reading = read_place(text)
        if reading.town and state in {code for code, _ in reading.states}:
            return desk_of(f"{reading.town}, {state}", priority)
        return desk_of(text, priority)

    return desk  # type: ignore[return-value]


def main(paths: list[Path]) -> int:
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    for path in paths:
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                rows[row["author"]].append(row)
    alone = desk_chooser(extract_location, route, NOW)
    answered = asked(alone)
    total_alone = total_phone = total_asked = total = 0
    for author, items in sorted(rows.items()):
        states = Counter(r["place"].rpartition(",")[2].strip() for r in items if r.get("place"))
        home = states.most_common(1)[0][0] if states else "TX"
        phone = phone_in(home)
        with_phone = desk_chooser(functools.partial(extract_location, phone=phone), route, NOW)
        right_alone = sum(alone(r["text"], r["priority"]) == r["desk"] for r in items)  # type: ignore[arg-type]
        right_phone = sum(with_phone(r["text"], r["priority"]) == r["desk"] for r in items)  # type: ignore[arg-type]
        right_asked = sum(
            answered(r["text"], r["priority"], _state(r)) == r["desk"]  # type: ignore[call-arg,arg-type]
            for r in items
        )
        n = len(items)
        print(
            f"{author} (home {home}, {phone[:5]}): text alone {Rate(right_alone, n)}; "
            f"text and 'which state?' {Rate(right_asked, n)}; with the phone {Rate(right_phone, n)}"
        )
        total_alone += right_alone
        total_asked += right_asked
        total_phone += right_phone
        total += n
    print(
        f"pooled ({len(rows)} authors): text alone {Rate(total_alone, total)}; "
        f"text and 'which state?' {Rate(total_asked, total)}; "
        f"with the phone {Rate(total_phone, total)}"
    )
    return 0


if __name__ == "__main__":
    files = [Path(a) for a in sys.argv[1:]] or sorted((ROOT / "tests/data/authors").glob("*.jsonl"))
    sys.exit(main(files))
