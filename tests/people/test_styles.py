"""Every flow, every answering style, both languages, through the real service.

Each person opens with free text or from the menu (SMS or Telegram rendering, taking
turns), then answers whatever the stored state says is being asked, in their style. A
report must reach a complete case within 20 turns; documents and programs must end
without one. No question comes three turns in a row, and the case holds the person's words.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from . import sayings
from .conftest import MakePerson
from .simulator import INFO_FLOWS, MAX_TURNS, REPORT_FLOWS, STYLES, Said, check_report

FLOWS = (*REPORT_FLOWS, *INFO_FLOWS)
LANGS = ("es", "en")
CHANNELS = ("sms", "telegram")
STARTS = ("free", "menu")


def opening_of(flow: str, style: str, lang: str) -> tuple[str, str]:
    """Channel and opening for a combination, taking turns so that each flow and each style
    is met on SMS and on Telegram, opened with free text and from the menu."""
    f, s, lg = FLOWS.index(flow), STYLES.index(style), LANGS.index(lang)
    return CHANNELS[(s + lg) % 2], STARTS[(f + s + lg) % 2]


@pytest.mark.parametrize("style", STYLES)
def test_each_style_through_every_flow(person: MakePerson, style: str) -> None:
    """People answering in one style, in Spanish and in English, each reach the end of
    their flow the way a person should: a complete case for a report (none for
    information), no question three times in a row, every sentence they wrote on the case."""
    problems = []
    for flow, lang in itertools.product(FLOWS, LANGS):
        channel, start = opening_of(flow, style, lang)
        someone = person(flow, style, lang=lang, channel=channel)
        outcome = someone.talk(someone.first_message(start))
        problems += [f"(opening: {start}) {p}" for p in check_report(someone, outcome)]
    assert not problems, "\n\n".join(problems)


_OPENINGS = [
    *((lang, flow, text) for lang in LANGS for flow, _, text in sayings.FIRST[lang]),
    *((lang, flow, None) for lang in LANGS for flow in FLOWS),  # None: from the menu
]


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,  # nothing written outside the test tree
    phases=[Phase.explicit, Phase.generate],  # each example drives a database: no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    opening=st.sampled_from(_OPENINGS),
    styles=st.lists(st.sampled_from(STYLES), min_size=MAX_TURNS, max_size=MAX_TURNS),
    channel=st.sampled_from(CHANNELS),
    seed=st.integers(0, 1000),
)
def test_people_who_change_style_every_answer(
    person: MakePerson,
    opening: tuple[str, str, str | None],
    styles: list[str],
    channel: str,
    seed: int,
) -> None:
    """A person whose every answer comes in another style (digits, then a story, then
    "no sé", then an emoji…) still gets through, and keeps their words on the case."""
    lang, flow, text = opening
    someone = person(flow, styles, lang=lang, channel=channel, seed=seed)
    first = someone.first_message("menu") if text is None else [Said(text, free=True)]
    outcome = someone.talk(first)
    problems = check_report(someone, outcome)
    assert not problems, "\n\n".join(problems)
