"""Long values in results: cut to a readable window around where two values part."""

from __future__ import annotations

from lakeshift.verify.shown import SHOWN_CHARACTERS, shown, shown_pair


def test_short_values_and_none_are_shown_whole() -> None:
    assert shown(None) is None
    assert shown("x" * SHOWN_CHARACTERS) == "x" * SHOWN_CHARACTERS
    assert shown_pair("a", None) == ("a", None)


def test_a_long_value_is_cut_and_its_length_said() -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(1_000_000))
    cut = shown(text)
    assert cut is not None and len(cut) < SHOWN_CHARACTERS + 40
    assert cut.startswith(text[:SHOWN_CHARACTERS]) and cut.endswith("(1,000,000 characters in all)")


def test_two_long_values_are_shown_where_they_part() -> None:
    """Changed in its last character, a 1 MB text cut at its start would show two equal
    samples; the window starts a little before the first difference instead."""
    ours = "y" * 1_000_000
    theirs = ours[:-1] + "z"
    a, b = shown_pair(ours, theirs)
    assert a is not None and b is not None and a != b
    assert a.startswith("…y") and b.startswith("…y") and "z" in b and "z" not in a
    assert len(a) < SHOWN_CHARACTERS + 40 and "1,000,000 characters" in a
    same_start, _ = shown_pair(ours, ours)  # equal values: shown from their start
    assert same_start is not None and same_start.startswith("yyy") and "…" in same_start
