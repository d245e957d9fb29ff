"""Timing and memory: the median of several runs, and the peak resident memory of each.

Peak memory is the process's high-water mark (VmHWM), reset before each workload through
``/proc/self/clear_refs``; it counts DuckDB's and Arrow's native memory, which
``tracemalloc`` would miss. Where the reset is not possible, the figure is the peak so far.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class Timing:
    """The median of ``runs`` wall-clock times, and the peak memory while they ran."""

    seconds: float
    runs: int
    peak_mb: float | None


def peak_rss_mb() -> float | None:
    """The process's peak resident memory in MB since the last reset, if the OS says."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def reset_peak() -> None:
    """Start a new peak-memory window (Linux); elsewhere the peak keeps growing."""
    with contextlib.suppress(OSError):
        _CLEAR_REFS.write_text("5")


def measure(
    work: Callable[[], Any], *, repeats: int, setup: Callable[[], Any] | None = None
) -> Timing:
    """Run ``setup`` (untimed) then ``work`` (timed) ``repeats`` times; the median time."""
    times = []
    reset_peak()
    for _ in range(repeats):
        if setup is not None:
            setup()
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return Timing(statistics.median(times), repeats, peak_rss_mb())


def median_call(work: Callable[[int], Any], calls: int) -> Timing:
    """Time ``calls`` separate calls ``work(i)``; the median of one call."""
    times = []
    reset_peak()
    for i in range(calls):
        began = time.perf_counter()
        work(i)
        times.append(time.perf_counter() - began)
    return Timing(statistics.median(times), calls, peak_rss_mb())


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    import duckdb
    import numpy
    import pandas
    import pyarrow

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GB"
    except OSError:
        pass
    try:
        load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "?"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "load average at start": load,
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
    }
