"""Evaluation: how well triage generalises to people whose messages it never saw.

Leave-one-author-out: for each author of ``tests/data/authors``, a model is
trained on the other authors and the old set (with the committed model's settings) and
reads the held-out author's 260 messages. With ``--blind``, the committed model (trained
on all authors and the old set) reads the frozen blind set. For each: intent accuracy
(overall and per intent), critical recall and precision, priority within one level, desk
accuracy (``bot.routing.extract_location`` → ``route``; a message naming no U.S. place
must choose no desk), all with 95 % Wilson intervals, and the worst author.

    .venv/bin/python bench/eval_triage.py            # leave-one-author-out (≈ 45 s)
    .venv/bin/python bench/eval_triage.py --blind    # and the blind set: run once, at the end
    .venv/bin/python bench/eval_triage.py --fresh new.jsonl   # new authors, before training
    .venv/bin/python bench/eval_triage.py --fresh a.jsonl --phone +17705550100  # from GA
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.routing import extract_location, route  # noqa: E402
from bot.triage.classify import default_classifier  # noqa: E402
from bot.triage.evaluation import (  # noqa: E402
    blind,
    desk_chooser,
    leave_one_author_out,
    read_by,
    worst,
)

# A weekday afternoon: the desk does not depend on the hour, only "also central" does.
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
BAR = {
    "intent": 0.95,
    "critical_recall": 0.98,
    "critical_precision": 0.90,
    "within_one": 0.97,
    "desk": 0.97,
}


def main() -> int:
    """Print the leave-one-author-out reports (and the blind set's with --blind)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blind", action="store_true", help="also the frozen blind set")
    parser.add_argument(
        "--fresh",
        nargs="+",
        type=Path,
        metavar="JSONL",
        help="only: the committed model reads these new authors' files, each on its own and "
        "together (before they join tests/data/authors and the model is retrained)",
    )
    parser.add_argument(
        "--phone",
        help="with --fresh: read places as if every message came from this number (its area "
        "code chooses among towns of one name, as on SMS and WhatsApp)",
    )
    args = parser.parse_args()
    clf = default_classifier()
    if clf.model is None:
        print("no model: run `hotline triage train` first", file=sys.stderr)
        return 2
    desk_of = desk_chooser(extract_location, route, NOW)
    if args.fresh and args.phone:
        desk_of = desk_chooser(functools.partial(extract_location, phone=args.phone), route, NOW)
    if args.fresh:
        for path in args.fresh:
            print("\n".join(read_by(clf, [path], path.stem, desk_of=desk_of).lines()))
        if len(args.fresh) > 1:
            print("\n".join(read_by(clf, args.fresh, "fresh, together", desk_of=desk_of).lines()))
        return 0
    start = time.perf_counter()
    reports = leave_one_author_out(clf.model.settings, desk_of=desk_of)
    for rep in reports:
        print("\n".join(rep.lines()))
    print(f"\n(leave-one-author-out took {time.perf_counter() - start:.0f} s)")
    per_author = reports[:-1]
    low = worst(per_author)
    print("worst author: " + "; ".join(f"{k} {v[0]} {100 * v[1]:.1f} %" for k, v in low.items()))
    mean = {
        "intent": sum(r.intent.value for r in per_author) / len(per_author),
        "critical_recall": sum(r.critical_recall.value for r in per_author) / len(per_author),
        "critical_precision": sum(r.critical_precision.value for r in per_author) / len(per_author),
        "within_one": sum(r.within_one.value for r in per_author) / len(per_author),
        "desk": sum(r.desk.value for r in per_author if r.desk) / len(per_author),
    }
    print("mean of authors: " + "; ".join(f"{k} {100 * v:.1f} %" for k, v in mean.items()))
    print("bar: " + "; ".join(f"{k} ≥ {100 * v:.0f} %" for k, v in BAR.items()))
    if args.blind:
        rep = blind(clf, desk_of=desk_of)
        print()
        print("\n".join(rep.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
