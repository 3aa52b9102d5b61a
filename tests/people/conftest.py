"""Fixtures for the person simulator: one loaded hotline, people on the test database."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import pytest

from bot.conversations import Hotline
from bot.db import Database

from ..conftest import make_settings
from .simulator import Person

MakePerson = Callable[..., Person]
_SENDERS = itertools.count(1)


@pytest.fixture(scope="session")
def hotline(tmp_path_factory: pytest.TempPathFactory) -> Hotline:
    """Flows, catalogs and desks loaded once for every simulated person."""
    settings = make_settings(tmp_path_factory.mktemp("people"), flood_per_sender_per_minute=100)
    return Hotline.load(settings)


@pytest.fixture
def person(hotline: Hotline, database: Database) -> MakePerson:
    """Make a person on the test database: person(flow, styles, lang=…, channel=…)."""
    hotline.prepare(database)

    def make(
        flow: str,
        styles: Sequence[str] | str,
        *,
        lang: str = "es",
        channel: str = "sms",
        seed: int = 0,
    ) -> Person:
        styles = (styles,) if isinstance(styles, str) else tuple(styles)
        sender = f"person-{next(_SENDERS)}-{flow}-{lang}-{channel}"
        return Person(hotline, database, sender, lang, channel, flow, styles, seed)

    return make
