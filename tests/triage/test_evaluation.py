"""Generalisation of triage: the blind set is frozen, the committed model matches its data,
and leave-one-author-out figures do not fall below their floors.

Floors: the issue's bar (intent ≥ 95 %, critical recall ≥ 98 %, critical precision ≥ 90 %,
priority within one level ≥ 97 %, desk ≥ 97 %) where it is reached, otherwise the figure
measured when the model was last trained minus a small margin (a ratchet: raise the floors
when the figures improve). See ``bench/RESULTS.md`` (## Triage) for the figures.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from bot.routing import extract_location, route
from bot.triage.classify import Classifier, default_classifier
from bot.triage.evaluation import BLIND_DIR, Rate, Report, desk_chooser, leave_one_author_out
from bot.triage.model import read_meta
from bot.triage.rules import load_rules
from bot.triage.training import data_sha256
from bot.triage.vocab import load_vocabulary

BLIND_SHA256 = {
    "b1_young_worker.jsonl": "d78fe22487bcf6378c13abbd7548ae03b26a4ea981d06d89cd849bf43162b652",
    "b2_restaurant.jsonl": "dee4843e99990a35e67a80bc90224f9a21b4905211010366c29288d51f810636",
}
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)

# (pooled over the thirty-two authors, worst single author); measured 2026-12-01 (fourth
# session) minus a margin (where the pooled figure just reaches the bar too: a floor at the
# bar itself would fail on one message read differently by another BLAS). The three
# legal-risk authors (a11–a13: 80 messages each, mostly legal questions labelled `programs`)
# hold the worst intent and precision: each is held out with only two similar authors left
# to learn from. The worst desk is a25 (southern Idaho towns whose names other states share —
# Burley, Caldwell, Jerome, Rupert, Wendell — written lowercase with no state; the desk here
# is read from the text alone, without the writer's area code the hotline uses on SMS and
# WhatsApp or the "which state?" question: `bench/eval_desk_phone.py`). With thirty-two
# authors the model's critical threshold fell from 0.20 to 0.15: recall reached the bar,
# precision fell (86.6 → 84.8 %).
FLOORS = {
    "intent": (0.945, 0.73),  # measured 95.0 % (6,311/6,640) / 73.8 % (a12); bar met pooled
    "critical_recall": (0.975, 0.93),  # measured 98.2 % / 94.4 % (a20); bar met pooled
    "critical_precision": (0.84, 0.55),  # measured 84.8 % / 57.1 % (a12, 4 of 7); bar 90 %
    "within_one": (0.975, 0.945),  # measured 98.5 % / 95.0 % (a11); bar 97 %: pooled only
    "desk": (0.845, 0.64),  # measured 84.8 % / 65.5 % (a25); bar 97 %: not met
}


def test_blind_set_is_frozen() -> None:
    """Nobody edited, added or removed a blind file: it stays a fair last check."""
    found = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in BLIND_DIR.glob("*")}
    assert found == BLIND_SHA256


def test_committed_model_matches_training_data() -> None:
    """The labelled sets or the vocabulary changed: run `hotline triage train` and commit."""
    assert read_meta()["data_sha256"] == data_sha256()


def test_shipped_classifier_uses_the_model() -> None:
    assert default_classifier().model is not None


def test_wilson_interval() -> None:
    lo, hi = Rate(8, 10).wilson()
    assert (round(lo, 3), round(hi, 3)) == (0.490, 0.943)
    assert Rate(0, 0).value == 1.0


@pytest.fixture(scope="module")
def loao() -> list[Report]:
    """Leave-one-author-out with the committed model's settings (≈ 7 min: one fit per author)."""
    clf = Classifier(load_vocabulary(), load_rules(), default_classifier().model)
    assert clf.model is not None
    desk_of = desk_chooser(extract_location, route, NOW)
    return leave_one_author_out(clf.model.settings, desk_of=desk_of)


@pytest.mark.parametrize("figure", sorted(FLOORS))
def test_leave_one_author_out_floors(loao: list[Report], figure: str) -> None:
    pooled_floor, worst_floor = FLOORS[figure]
    *authors, pooled = loao
    assert len(authors) >= 6  # at least six independent authors (issue 10)

    def value(rep: Report) -> float:
        rate: Rate | None = getattr(rep, figure)
        assert rate is not None
        return rate.value

    summary = "\n".join(line for rep in loao for line in rep.lines())
    assert value(pooled) >= pooled_floor, summary
    low = min(authors, key=value)
    assert value(low) >= worst_floor, f"worst author {low.name}\n{summary}"
