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
