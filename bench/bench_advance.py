"""The pure engine alone: `advance` per message, no database (moved here from the tests:
timings belong in bench/). Target: well under 0.2 ms per call.

    .venv/bin/python bench/bench_advance.py
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.engine import Context, ConversationState, Inbound, advance, load_flows

NOW = datetime(2026, 11, 30, 18, tzinfo=UTC)
MESSAGES = ["hace 2 horas", "qwerty", "1", "menu", "no se", "ICE se llevó a mi esposo"]


def main() -> int:
    flows = load_flows()
    state = ConversationState(
        flow="raid",
        step="when",
        privacy_accepted=True,
        last_activity=NOW.isoformat(),
        case_ref="HL-TEST01",
    )
    ctx = Context(now=NOW, new_ref="HL-TEST02")
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(200):
            for text in MESSAGES:
                advance(flows, state, Inbound(text=text, channel="sms"), ctx)
        rounds.append((time.perf_counter() - started) / (200 * len(MESSAGES)))
    best, median = min(rounds) * 1000, sorted(rounds)[2] * 1000
    print(f"advance: best {best:.3f} ms, median {median:.3f} ms per call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
