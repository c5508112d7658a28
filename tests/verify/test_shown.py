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
    assert cut is not None and len(cut) < SHOWN_CHARACTERS + 60
    assert (
        cut.startswith(text[:SHOWN_CHARACTERS])
        and cut.endswith(")")
        and "(1,000,000 characters in all, md5 " in cut
    )


def test_two_long_values_are_shown_where_they_part() -> None:
    """Changed in its last character, a 1 MB text cut at its start would show two equal
    samples; the window starts a little before the first difference instead."""
    ours = "y" * 1_000_000
    theirs = ours[:-1] + "z"
    a, b = shown_pair(ours, theirs)
    assert a is not None and b is not None and a != b
    assert a.startswith("…y") and b.startswith("…y") and "z" in b and "z" not in a
    assert len(a) < SHOWN_CHARACTERS + 60 and "1,000,000 characters" in a
    same_start, _ = shown_pair(ours, ours)  # equal values: shown from their start
    assert same_start is not None and same_start.startswith("yyy") and "…" in same_start


def test_two_values_alike_in_what_is_shown_still_read_apart() -> None:
    """Key values are cut one by one: two keys that part past the window read the same but for
    the digest of the whole value."""
    a, b = shown("a" * 250 + "X"), shown("a" * 250 + "Y")
    assert a is not None and b is not None and a != b
    assert a.split(" (")[0] == b.split(" (")[0]


def test_a_secret_is_masked_before_the_value_is_cut() -> None:
    """Masked after cutting, the piece of a password left in the window was not recognized:
    ten of its sixteen characters reached the results."""
    from lakeshift.redaction import register_secret

    secret = "Tr0ub4dor&3horse"
    register_secret(secret)
    ours = "a" * 190 + secret + "b" * 100
    theirs = "X" + ours[1:]
    for text in (*shown_pair(ours, theirs), shown(ours), shown(ours, 190)):
        assert text is not None and "Tr0ub" not in text and "***" in text
        assert "(306 characters in all" in text  # the value's own length, as statistics say
    url = "x" * 300 + "postgresql://app:s3cretpasswordlong@db/" + "z" * 20
    near_end = shown_pair(url + "A", url + "B")[0]
    assert near_end is not None and "s3cret" not in near_end and "cretpass" not in near_end
