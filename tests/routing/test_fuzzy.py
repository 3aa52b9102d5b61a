"""Edit distance and the misspelling index."""

import pytest

from bot.routing.fuzzy import FuzzyIndex, distance, max_edits


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [
        ("chicago", "chicago", 0),
        ("chiacgo", "chicago", 1),
        ("hiouston", "houston", 1),
        ("los angelos", "los angeles", 1),
        ("kitten", "sitting", 3),
        ("", "abc", 3),
    ],
)
def test_distance(a: str, b: str, d: int) -> None:
    assert distance(a, b) == d == distance(b, a)


def test_max_edits_by_length() -> None:
    assert [max_edits(n) for n in (4, 5, 8, 9, 14)] == [0, 1, 1, 2, 2]


def test_index_finds_the_closest_most_important_name() -> None:
    index = FuzzyIndex(["houston", "hueston", "sacramento", "chicago"], {"houston": 190})
    assert index.lookup("houstn") == "houston"  # both one edit away: the bigger one
    assert index.lookup("sacremeto") == "sacramento"  # two edits, long word
    assert index.lookup("chicgo") == "chicago"
    assert index.lookup("chicago") is None  # exact names are not corrections
    assert index.lookup("paris") is None
    assert index.lookup("chi") is None  # too short to correct
