"""Catalogs: complete in both languages, no unused keys, same placeholders, facts in one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.engine import CODE_KEYS, RUNTIME_PLACEHOLDERS, SERVICE_KEYS
from bot.engine.keys import FOREIGN_PREFIXES
from bot.errors import CatalogError
from bot.i18n import FACTS_PATH, LOCALES_DIR, Catalog, catalog, detect_language, load_facts, t
from bot.types import LANGS
from tests.engine.support import flows

ENGINE_DIR = Path(__file__).resolve().parents[2] / "bot" / "engine"


def used_keys() -> set[str]:
    return set(flows().keys_used()) | set(CODE_KEYS) | set(SERVICE_KEYS)


def test_every_key_exists_in_both_languages_with_the_same_placeholders() -> None:
    assert catalog().problems() == []
    assert catalog().keys("es") == catalog().keys("en")


@pytest.mark.parametrize("lang", LANGS)
def test_no_key_is_missing(lang: str) -> None:
    missing = used_keys() - catalog().keys(lang)  # type: ignore[arg-type]
    assert not missing, f"missing in {lang}.po: {sorted(missing)}"


def test_no_key_is_unused() -> None:
    unused = {k for k in catalog().keys("es") - used_keys() if not k.startswith(FOREIGN_PREFIXES)}
    assert not unused, f"unused keys (remove them or declare them in bot/engine/keys.py): {unused}"


def test_every_placeholder_is_a_fact_or_filled_by_code() -> None:
    facts = set(catalog().facts)
    for lang in LANGS:
        for key in catalog().keys(lang):
            needs = catalog().needs(key, lang)
            assert needs <= RUNTIME_PLACEHOLDERS, f"{key} ({lang}): unknown {needs}"
    used = {
        name
        for lang in LANGS
        for text in catalog().messages[lang].values()
        for name in re.findall(r"\{(\w+)\}", text)
    }
    assert facts - used == set(), f"facts no message uses: {facts - used}"


def test_phone_numbers_live_only_in_the_facts() -> None:
    # 555-01xx numbers are fictional format examples ("713 555 0123"), allowed.
    phone = re.compile(r"\d{3}[-. ](?!555)\d{3}[-. ]\d{4}|\b911\b|\b988\b|1-8\d\d")
    for lang in LANGS:
        for key, text in catalog().messages[lang].items():
            assert not phone.search(text), f"{key} ({lang}) writes a number: use a fact"


def test_the_ice_reporting_line_is_never_offered() -> None:
    for path in (*LOCALES_DIR.glob("*.po"), FACTS_PATH):
        text = path.read_text(encoding="utf-8").upper().replace("-", "")
        assert "DHS2ICE" not in text and "8663472423" not in text, path.name


def test_facts_have_a_source_and_a_check_date() -> None:
    facts = load_facts()
    assert facts["ciam_phone"].text["es"] == "1-520-623-7874"
    assert facts["miconsulado_phone"].text["en"] == "1-424-309-0009"
    assert facts["bienestar_amount"].text["es"] == "2,000"  # Mexican Spanish grouping
    assert facts["ptrm_open"].text["es"] == "9 de enero de 2017"
    assert facts["ptrm_open"].text["en"] == "January 9, 2017"
    assert all(f.source and f.last_checked for f in facts.values())


def test_t_fills_facts_and_runtime_values() -> None:
    assert "1-520-623-7874" in t("privacy.declined", "es")
    assert "HL-7K4M2Q" in t("case.opened", "en", ref="HL-7K4M2Q")
    with pytest.raises(CatalogError):
        t("case.opened", "es")
    with pytest.raises(CatalogError):
        t("no.such.key", "es")


def test_overrides_replace_a_fact() -> None:
    shorter = Catalog.load(overrides={"retention_days": "30"})
    assert "30" in shorter.t("privacy.notice", "es")
    assert "90" not in shorter.t("privacy.notice", "es")


def test_engine_code_holds_no_unknown_key() -> None:
    """Every dotted lower-case string literal in bot/engine that looks like a key exists."""
    pattern = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
    found: set[str] = set()
    for path in ENGINE_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if pattern.match(node.value) and not node.value.startswith("bot."):
                    found.add(node.value)
    assert found - catalog().keys("es") == set()


@pytest.mark.parametrize(
    ("text", "hint", "lang"),
    [
        ("ICE se llevó a mi esposo hoy en Houston", None, "es"),
        ("there's a raid at my job right now", None, "en"),
        ("hola", "en", "es"),
        ("hello", "es", "en"),
        ("", "en-US", "en"),
        ("", None, "es"),
        ("ok", None, "es"),
        ("ok", "en", "en"),
        ("necesito help con mi pasaporte", None, "es"),
        ("my husband was detained, ayuda", None, "en"),
        ("¿?", "en", "es"),
    ],
)
def test_detect_language(text: str, hint: str | None, lang: str) -> None:
    assert detect_language(text, hint) == lang
