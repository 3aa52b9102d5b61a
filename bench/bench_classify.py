"""Benchmark: triage throughput on one core over the six author sets, repeated.

Vocabulary, rules and the learned model are loaded before timing (they are cached at first
use in the service too). Each message is classified with ``bot.triage.classify`` (rules,
spelling, model, overrides, reasons); with ``--route`` the place in the text is also
extracted, as ``hotline classify`` does. The first pass (``cold``) is timed on its own: it
fills the per-word feature cache.

    .venv/bin/python bench/bench_classify.py --repeat 10
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

AUTHORS = ROOT / "tests" / "data" / "authors"


def main() -> int:
    """Run the benchmark and print messages per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="passes over the author sets")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    parser.add_argument("--route", action="store_true", help="also extract a location")
    args = parser.parse_args()
    texts = [
        json.loads(line)["text"]
        for path in sorted(AUTHORS.glob("*.jsonl"))
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    ]
    messages = texts * args.repeat
    classify("warm-up")
    extract_location("warm-up en Houston")
    start = time.perf_counter()
    for text in texts:
        classify(text)
    cold = len(texts) / (time.perf_counter() - start)
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
        f"(min {min(rates):,.0f}, max {max(rates):,.0f}; first pass {cold:,.0f}); "
        f"Python {platform.python_version()}, {platform.machine()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
