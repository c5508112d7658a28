"""How long values appear in results: cut to a window a person can read, around where two
values part, with the whole length and a digest said. The comparisons always use the whole
values; secrets are masked before a value is cut (a cut piece of one would no longer be
recognized)."""

from __future__ import annotations

import hashlib

from lakeshift.redaction import redact

SHOWN_CHARACTERS = 200  # of a value, in samples and statistics
BEFORE_DIFFERENCE = 40  # characters shown before the first one that differs


def shown(text: str | None, start: int = 0) -> str | None:
    """`text` as results show it: whole when short, else `SHOWN_CHARACTERS` of it from
    `start`, with `…` where it was cut, its length and the start of its md5 (two values alike
    in what is shown still read apart).

    >>> shown("x" * 500)[-45:]
    'xxxxxx… (500 characters in all, md5 86c489df)'
    """
    if text is None:
        return None
    text = redact(text)
    if len(text) <= SHOWN_CHARACTERS:
        return text
    start = min(max(start, 0), len(text) - 1)
    part = text[start : start + SHOWN_CHARACTERS]
    before = "…" if start else ""
    after = "…" if start + SHOWN_CHARACTERS < len(text) else ""
    digest = hashlib.md5(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{before}{part}{after} ({len(text):,} characters in all, md5 {digest})"


def shown_pair(a: str | None, b: str | None) -> tuple[str | None, str | None]:
    """Two differing values shown from a little before the first character where they part,
    so that a difference at the end of two long texts is seen, not cut away."""
    a = None if a is None else redact(a)
    b = None if b is None else redact(b)
    if a is None or b is None or a == b or max(len(a), len(b)) <= SHOWN_CHARACTERS:
        return shown(a), shown(b)
    pairs = enumerate(zip(a, b, strict=False))
    common = next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))
    start = max(common - BEFORE_DIFFERENCE, 0)
    return shown(a, start), shown(b, start)
