"""A step's verdict for one table, and the exit code of a run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PASSING = frozenset({"match", "uploaded"})
IGNORED = frozenset({"disabled"})


@dataclass(frozen=True)
class TableOutcome:
    source_table: str
    target_table: str
    status: str  # match, mismatch, not_migrated, uploaded, skipped, failed, error, disabled
    detail: str = ""

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> TableOutcome:
        verdict = entry.get("reason") or "; ".join(entry.get("mismatches", []) or [])
        # analyze's warnings too: a column the upload will refuse is seen before it is refused
        detail = "; ".join(part for part in (verdict, *(entry.get("warnings") or [])) if part)
        return cls(entry["source_table"], entry["target_table"], entry["status"], detail or "")

    @property
    def passed(self) -> bool:
        return self.status in PASSING or self.status in IGNORED


def enabled_count(outcomes: list[TableOutcome]) -> int:
    return sum(1 for o in outcomes if o.status not in IGNORED)


def exit_code(outcomes: list[TableOutcome], also_passing: frozenset[str] = frozenset()) -> int:
    """0 when every enabled table passed, 1 when any mismatched, failed or was skipped, or when
    no table is enabled: nothing was verified, which must not read as a pass."""
    if enabled_count(outcomes) == 0:
        return 1
    return 0 if all(o.passed or o.status in also_passing for o in outcomes) else 1
