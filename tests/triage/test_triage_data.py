"""The triage data files load, and mistakes in them give clear errors."""

import shutil
from pathlib import Path

import pytest

from bot.triage.rules import compile_rules, load_rules
from bot.triage.vocab import DATA_DIR, TriageDataError, compile_vocabulary, load_vocabulary


def _copy(tmp_path: Path) -> Path:
    for name in ("cues.yaml", "normalize.yaml", "rules.yaml"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def test_shipped_data_loads() -> None:
    vocab = load_vocabulary()
    rules = load_rules()
    assert "now" in vocab.flags and rules.priority


def test_vocabulary_rejects_unquoted_yaml_boolean(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    text = (d / "normalize.yaml").read_text(encoding="utf-8")
    (d / "normalize.yaml").write_text(
        text.replace('negators: ["no",', "negators: [no,"), encoding="utf-8"
    )
    with pytest.raises(TriageDataError, match="quote it"):
        compile_vocabulary(d / "cues.yaml", d / "normalize.yaml")


def test_vocabulary_rejects_unknown_intent(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "cues.yaml").write_text(
        "groups:\n  x:\n    intents: {weather: 1}\n    cues: [rain]\n", encoding="utf-8"
    )
    with pytest.raises(TriageDataError, match="unknown intent"):
        compile_vocabulary(d / "cues.yaml", d / "normalize.yaml")


def test_vocabulary_rejects_accented_cue(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "cues.yaml").write_text("groups:\n  x:\n    cues: [detención]\n", encoding="utf-8")
    with pytest.raises(TriageDataError, match="no accents"):
        compile_vocabulary(d / "cues.yaml", d / "normalize.yaml")


def test_rules_reject_unknown_flag(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "rules.yaml").write_text(
        "priority:\n  - {any: [raining], priority: high}\n", encoding="utf-8"
    )
    with pytest.raises(TriageDataError, match="raining"):
        compile_rules(d / "rules.yaml", load_vocabulary().flags)


def test_rules_reject_bad_priority(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "rules.yaml").write_text("priority:\n  - {priority: urgent}\n", encoding="utf-8")
    with pytest.raises(TriageDataError, match="priority must be"):
        compile_rules(d / "rules.yaml", load_vocabulary().flags)
