"""Benchmark: triage throughput on one core over the labelled set, repeated.

Vocabulary and rules are compiled before timing (they are cached at first use in the
service too). Each message is classified with ``bot.triage.classify``; with ``--route``
the place in the text is also extracted, as ``hotline classify`` does.

    .venv/bin/python bench/bench_classify.py --repeat 50
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.routing import extract_location  # noqa: E402
from bot.triage import classify  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "triage_labelled.jsonl"


def main() -> int:
    """Run the benchmark and print messages per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="passes over the labelled set")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    parser.add_argument("--route", action="store_true", help="also extract a location")
    args = parser.parse_args()
    texts = [
        json.loads(line)["text"]
        for line in LABELLED.read_text("utf-8").splitlines()
        if line.strip()
    ]
    messages = texts * args.repeat
    classify("warm-up")
    extract_location("warm-up en Houston")
    rates = []
    for _ in range(args.runs):
        start = time.perf_counter()
        for text in messages:
            classify(text)
            if args.route:
                extract_location(text)
        rates.append(len(messages) / (time.perf_counter() - start))
    what = "classify + extract_location" if args.route else "classify"
    print(
        f"{what}: {len(messages)} messages x {args.runs} runs, median "
        f"{statistics.median(rates):,.0f} messages/s on one core "
        f"(min {min(rates):,.0f}, max {max(rates):,.0f}); "
        f"Python {platform.python_version()}, {platform.machine()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
