"""Quality figures for triage: accuracy per intent, critical recall and precision, priority
within one level, desk accuracy and the review flag, each with a 95 % Wilson interval.

Pure: the caller passes the verdicts (and, for desks, whether the desk was right: routing
sits above triage and is not imported here).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from bot.triage.classify import Classifier, Triage
from bot.triage.model import Settings
from bot.triage.training import (
    AUTHORS_DIR,
    Example,
    cross_validate,
    decide_all,
    load_examples,
    training_files,
)
from bot.types import INTENTS, PRIORITY_RANK, Priority

Z95: Final = 1.959964


@dataclass(frozen=True, slots=True)
class Rate:
    """``hits`` out of ``n`` with its 95 % Wilson score interval."""

    hits: int
    n: int

    @property
    def value(self) -> float:
        """The proportion (1.0 for an empty count: nothing to get wrong)."""
        return self.hits / self.n if self.n else 1.0

    def wilson(self, z: float = Z95) -> tuple[float, float]:
        """Lower and upper bounds of the Wilson score interval."""
        if not self.n:
            return 0.0, 1.0
        p, n = self.value, self.n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    def __str__(self) -> str:
        lo, hi = self.wilson()
        return f"{100 * self.value:.1f} % [{100 * lo:.1f}–{100 * hi:.1f}] ({self.hits}/{self.n})"


@dataclass(frozen=True, slots=True)
class Report:
    """The figures for one set of messages."""

    name: str
    intent: Rate
    per_intent: dict[str, Rate]
    critical_recall: Rate
    critical_precision: Rate
    within_one: Rate
    priority_exact: Rate
    desk: Rate | None
    flagged: Rate
    errors_flagged: Rate

    def lines(self) -> list[str]:
        """Readable lines for a terminal or RESULTS.md."""
        out = [
            f"{self.name}: intent {self.intent}",
            "  per intent: "
            + ", ".join(
                f"{k} {100 * v.value:.0f} % ({v.hits}/{v.n})" for k, v in self.per_intent.items()
            ),
            f"  critical recall {self.critical_recall}",
            f"  critical precision {self.critical_precision}",
            f"  priority within one level {self.within_one}; exact {self.priority_exact}",
        ]
        if self.desk is not None:
            out.append(f"  desk {self.desk}")
        out.append(
            f"  flagged for review {self.flagged}; wrong verdicts flagged {self.errors_flagged}"
        )
        return out


def report(
    name: str,
    examples: Sequence[Example],
    verdicts: Sequence[Triage],
    desk_right: Sequence[bool] | None = None,
) -> Report:
    """Figures for ``verdicts`` against the labels of ``examples``."""
    pairs = list(zip(examples, verdicts, strict=True))
    per_intent: dict[str, Rate] = {
        intent: Rate(
            sum(v.intent == intent for e, v in pairs if e.intent == intent),
            sum(e.intent == intent for e, _ in pairs),
        )
        for intent in INTENTS
    }
    crit_tp = sum(e.priority == v.priority == "critical" for e, v in pairs)
    wrong = [
        v
        for e, v in pairs
        if v.intent != e.intent or (v.priority == "critical") != (e.priority == "critical")
    ]
    return Report(
        name=name,
        intent=Rate(sum(e.intent == v.intent for e, v in pairs), len(pairs)),
        per_intent=per_intent,
        critical_recall=Rate(crit_tp, sum(e.priority == "critical" for e, _ in pairs)),
        critical_precision=Rate(crit_tp, sum(v.priority == "critical" for _, v in pairs)),
        within_one=Rate(
            sum(abs(PRIORITY_RANK[e.priority] - PRIORITY_RANK[v.priority]) <= 1 for e, v in pairs),
            len(pairs),
        ),
        priority_exact=Rate(sum(e.priority == v.priority for e, v in pairs), len(pairs)),
        desk=None if desk_right is None else Rate(sum(desk_right), len(desk_right)),
        flagged=Rate(sum(v.needs_review for _, v in pairs), len(pairs)),
        errors_flagged=Rate(sum(v.needs_review for v in wrong), len(wrong)),
    )


def worst(reports: Sequence[Report]) -> dict[str, tuple[str, float]]:
    """For each headline figure, the report (author) with the lowest value."""
    out = {}
    for key in ("intent", "critical_recall", "critical_precision", "within_one", "desk"):
        values = [(_figure(r, key), r.name) for r in reports]
        low = min(values)
        out[key] = (low[1], low[0])
    return out


def _figure(rep: Report, key: str) -> float:
    rate: Rate | None = getattr(rep, key)
    return rate.value if rate is not None else 1.0


DeskOf = Callable[[str, Priority], str]
"""Given a message and its priority, the desk id routing chooses ("" for none)."""

BLIND_DIR: Final = AUTHORS_DIR.parent / "blind"


def _desks(
    examples: Sequence[Example], verdicts: Sequence[Triage], desk_of: DeskOf | None
) -> list[bool] | None:
    if desk_of is None:
        return None
    return [
        desk_of(e.text, v.priority) == (e.desk or "")
        for e, v in zip(examples, verdicts, strict=True)
        if e.desk is not None
    ]


def leave_one_author_out(
    settings: Settings,
    *,
    desk_of: DeskOf | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Report]:
    """One report per author (model trained on the other authors and the old set), then all."""
    examples = load_examples(training_files())
    held = cross_validate(examples, settings, progress=progress)
    verdicts = decide_all(held, settings)
    reports = []
    authors = sorted({h.example.author for h in held})
    for author in authors:
        part = [
            (h.example, v)
            for h, v in zip(held, verdicts, strict=True)
            if h.example.author == author
        ]
        exs, vs = [p[0] for p in part], [p[1] for p in part]
        reports.append(report(author, exs, vs, _desks(exs, vs, desk_of)))
    exs = [h.example for h in held]
    reports.append(report("all authors (pooled)", exs, verdicts, _desks(exs, verdicts, desk_of)))
    return reports


def blind(classifier: Classifier, *, desk_of: DeskOf | None = None) -> Report:
    """The frozen blind set read by ``classifier`` (the committed model). Run once."""
    return read_by(classifier, sorted(BLIND_DIR.glob("*.jsonl")), "blind", desk_of=desk_of)


def read_by(
    classifier: Classifier, paths: Sequence[Path], name: str, *, desk_of: DeskOf | None = None
) -> Report:
    """Labelled files read by ``classifier`` as it is: the blind set, or a new author's
    messages before they join the training data."""
    examples = load_examples(list(paths))
    verdicts = [classifier.classify(e.text) for e in examples]
    authors = len({e.author for e in examples})
    title = f"{name} ({authors} author{'s' if authors != 1 else ''}, {len(examples)} messages)"
    return report(title, examples, verdicts, _desks(examples, verdicts, desk_of))


def desk_chooser(
    extract: Callable[[str], Any], route: Callable[[Any, Priority, datetime], Any], now: datetime
) -> DeskOf:
    """A ``DeskOf`` from routing's ``extract_location`` and ``route`` (passed in by the caller:
    routing sits above triage). No place, or a place abroad, chooses no desk ("")."""

    def desk_of(text: str, priority: Priority) -> str:
        location = extract(text)
        if location is None or getattr(location, "abroad", False):
            return ""
        return str(route(location, priority, now).desk_id)

    return desk_of
