"""How often a first message reaches the deportation-risk screening when it should.

Each labelled message of the independent authors that carries `wants_legal_help` (the
legal-risk sets, tests/data/authors/a11–a13) is sent as a person's first message to the real
engine with the real classifier; the screening "fires" when the conversation lands in the
`screening` flow. Reported per author: recall (asked for legal help → screening), precision,
and the urgent messages (critical or high, per the label) wrongly sent to the screening —
those must be zero: a detention or a raid goes to its own report.

    .venv/bin/python bench/eval_screening.py
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.conversations import hints_for  # noqa: E402
from bot.engine import Context, ConversationState, Inbound, advance, load_flows  # noqa: E402

NOW = datetime(2026, 11, 30, 18, tzinfo=UTC)


def lands_in_screening(flows: object, text: str) -> bool:
    step = advance(
        flows,  # type: ignore[arg-type]
        ConversationState(),
        Inbound(text=text, channel="sms"),
        Context(now=NOW, new_ref="HL-TEST01", classify=hints_for),
    )
    return step.state.flow == "screening"


def main() -> int:
    flows = load_flows()
    rows = [
        json.loads(line)
        for path in sorted((ROOT / "tests/data/authors").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and "wants_legal_help" in line
    ]
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    wrong_urgent: list[str] = []
    for row in rows:
        fired = lands_in_screening(flows, row["text"])
        wanted = bool(row["wants_legal_help"])
        counts = per[row["author"]]
        counts["tp" if fired and wanted else "fp" if fired else "fn" if wanted else "tn"] += 1
        if fired and row["priority"] in ("critical", "high") and row["intent"] != "programs":
            wrong_urgent.append(
                f"{row['author']}: {row['intent']}/{row['priority']}: {row['text']}"
            )
    print("author                 n  recall  precision  urgent→screening")
    for author, c in sorted(per.items()):
        n = sum(c.values())
        recall = c["tp"] / max(1, c["tp"] + c["fn"])
        precision = c["tp"] / max(1, c["tp"] + c["fp"])
        urgent = sum(1 for w in wrong_urgent if w.startswith(author))
        print(f"{author:22} {n:3}  {recall:6.1%}  {precision:9.1%}  {urgent}")
    for line in wrong_urgent:
        print("URGENT SENT TO SCREENING:", line[:160])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
