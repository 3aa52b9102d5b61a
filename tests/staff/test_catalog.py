"""The staff part (`staff.*` keys) of locales/es.po and en.po: every key the staff code and
templates use is there, and none is unused. (Same keys and placeholders in both languages
is checked for the whole catalogs by tests/i18n.)"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n import placeholders
from bot.models import CaseStatus, IncidentState, StaffRole
from bot.staff.schemas import CANNED, OUTCOMES
from bot.staff.web import FLASHES
from bot.types import INTENTS, PRIORITIES

ROOT = Path(__file__).resolve().parents[2]
STAFF_DIR = ROOT / "bot" / "staff"
KEY = re.compile(r"""["'](staff\.[a-z0-9_.]+[a-z0-9_])["']""")


def _messages(lang: str) -> dict[str, str]:
    with (ROOT / "locales" / f"{lang}.po").open("rb") as handle:
        return {
            str(m.id): str(m.string)
            for m in read_po(handle, locale=lang)
            if m.id and str(m.id).startswith("staff.")
        }


def used_keys() -> set[str]:
    """Literal keys in the staff code and templates, plus the generated ones."""
    found: set[str] = set()
    for path in [*STAFF_DIR.glob("*.py"), *(STAFF_DIR / "templates").glob("*.html")]:
        found |= set(KEY.findall(path.read_text(encoding="utf-8")))
    generated = {
        *(f"staff.priority.{p}" for p in PRIORITIES),
        *(f"staff.intent.{i}" for i in INTENTS),
        *(f"staff.status.{s.value}" for s in CaseStatus),
        *(f"staff.role.{r.value}" for r in StaffRole),
        *(f"staff.incident.state.{s.value}" for s in IncidentState),
        *(f"staff.outcome.{o}" for o in OUTCOMES),
        *(f"staff.canned.{c}" for c in CANNED),
        *(f"staff.canned_label.{c}" for c in CANNED),
        *(f"staff.flash.{f}" for f in FLASHES),
    }
    return found | generated


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    es, en = _messages("es"), _messages("en")
    assert set(es) == set(en)
    for key in es:
        assert es[key] and en[key], key
        assert placeholders(es[key]) == placeholders(en[key]), key


def test_every_used_key_exists_and_none_is_unused() -> None:
    keys = set(_messages("es"))
    assert used_keys() - keys == set()
    assert keys - used_keys() == set()
