"""The peak memory of this process since it started its program.

`getrusage(RUSAGE_SELF).ru_maxrss` is wrong for a benchmark's child: Linux keeps the largest
RSS across `execve`, so a child reports its parent's peak when the parent (which generated the
table) was larger. `VmHWM` in /proc/self/status is the high-water mark of this program's own
memory map, new at exec.
"""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: best effort


def print_peaks(
    title: str,
    baseline_label: str,
    baseline_mb: float,
    results: dict[int, dict[str, float]],
    budget_mb: float | None = None,
) -> None:
    """A table of peak memory per table size, against the baseline (and the budget, if any)."""
    print(f"\n{title}")
    print(f"baseline ({baseline_label}): {baseline_mb:.0f} MB")
    print(f"{'rows':>12} {'seconds':>9} {'rows/s':>12} {'peak MB':>9} {'above baseline':>15}")
    for rows, r in results.items():
        print(
            f"{rows:>12,} {r['seconds']:>9.2f} {rows / r['seconds']:>12,.0f} {r['peak_mb']:>9.0f}"
            f" {r['peak_mb'] - baseline_mb:>15.0f}"
        )
    peaks = [r["peak_mb"] for r in results.values()]
    line = (
        f"largest / smallest peak: {max(peaks) / min(peaks):.2f}x for"
        f" {max(results) / min(results):.0f}x the rows"
    )
    if budget_mb is not None:
        within = max(peaks) <= budget_mb + baseline_mb
        line += (
            f"; every peak under budget + baseline ({budget_mb + baseline_mb:.0f} MB):"
            f" {'yes' if within else 'NO'}"
        )
    print(line)
