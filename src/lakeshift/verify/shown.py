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
    return _cut(redact(text), start, len(text))


def _cut(masked: str, start: int, length: int) -> str:
    """`masked` (secrets already masked) cut to its window; `length` is the value's own."""
    if len(masked) <= SHOWN_CHARACTERS:
        return masked
    start = min(max(start, 0), len(masked) - 1)
    part = masked[start : start + SHOWN_CHARACTERS]
    before = "…" if start else ""
    after = "…" if start + SHOWN_CHARACTERS < len(masked) else ""
    digest = hashlib.md5(masked.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{before}{part}{after} ({length:,} characters in all, md5 {digest})"


def shown_pair(a: str | None, b: str | None) -> tuple[str | None, str | None]:
    """Two differing values shown from a little before the first character where they part,
    so that a difference at the end of two long texts is seen, not cut away."""
    if a is None or b is None or a == b:
        return shown(a), shown(b)
    ours, theirs = redact(a), redact(b)
    pairs = enumerate(zip(ours, theirs, strict=False))
    common = next((i for i, (x, y) in pairs if x != y), min(len(ours), len(theirs)))
    start = max(common - BEFORE_DIFFERENCE, 0)
    return _cut(ours, start, len(a)), _cut(theirs, start, len(b))
