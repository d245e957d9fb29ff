"""What the workloads share: the run's context, a figure, a table row, the registry.

A workload is a function taking the ``Context`` and returning ``Row`` objects, registered
with ``@workload``; ``benchmarks/workloads.py`` holds them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import Timing
from eventsim import EventStore
from eventsim.sim import bank as bank_sim

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 365
MEMORY_LIMIT = os.environ.get("BENCH_MEMORY", "2GB")  # DuckDB's, for the store and the peer
HEAVY = 5_000_000  # from this size the slow reference peers (naive generation, raw load) run once


@dataclass
class Context:
    """What every workload shares: the size, the generated file, the loaded store."""

    events: int  # requested size
    repeats: int
    workdir: Path
    notebooks: bool
    accounts: int = 0
    parquet: Path = Path()
    rows: int = 0  # events actually generated
    store: EventStore | None = None
    typed: Any = None  # DuckDB connection holding the typed copy, for the DuckDB/pandas peers
    es_sample: int = 0
    fold_sample: int = 0
    seed: int = 7
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def middle(self) -> datetime:
        return START + timedelta(days=DAYS // 2)


@dataclass(frozen=True)
class Figure:
    """One measured figure: a rate in events/s or a time in ms."""

    value: float
    unit: str  # "ev/s" or "ms"
    peak_mb: float | None = None
    note: str = ""

    def text(self) -> str:
        if self.unit == "ev/s":
            if self.value >= 1e6:
                return f"{self.value / 1e6:.2f}M ev/s"
            return (
                f"{self.value / 1e3:.1f}k ev/s" if self.value >= 1e3 else f"{self.value:.0f} ev/s"
            )
        return f"{self.value:.1f} ms" if self.value < 10_000 else f"{self.value / 1000:.1f} s"


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    workload: str
    ours: Figure | None
    target: str
    met: bool | None
    peer: str = ""
    theirs: Figure | None = None
    note: str = ""
    limit: str = ""  # DuckDB's own operation on the same data, in the same run
    at_limit: Figure | None = None

    def of_limit(self) -> str:
        """How many times the limit's cost ours takes (1.00x: at the limit)."""
        if self.ours is None or self.at_limit is None or not self.ours.value:
            return ""
        if self.ours.unit == "ev/s":
            return f"{self.at_limit.value / self.ours.value:.2f}x"
        return f"{self.ours.value / self.at_limit.value:.2f}x"

    def ratio(self) -> str:
        """How many times better ours is than the peer (rates: ours/theirs; times: theirs/ours)."""
        if self.ours is None or self.theirs is None or not self.ours.value or not self.theirs.value:
            return ""
        if self.ours.unit == "ev/s":
            return f"{self.ours.value / self.theirs.value:.2f}x"
        return f"{self.theirs.value / self.ours.value:.2f}x"


WORKLOADS: list[tuple[str, Callable[[Context], list[Row]]]] = []


def workload(
    name: str,
) -> Callable[[Callable[[Context], list[Row]]], Callable[[Context], list[Row]]]:
    """Register a workload under ``name``; it returns one or more rows."""

    def register(function: Callable[[Context], list[Row]]) -> Callable[[Context], list[Row]]:
        WORKLOADS.append((name, function))
        return function

    return register


def rate(events: int, timing: Timing, note: str = "") -> Figure:
    return Figure(events / timing.seconds, "ev/s", timing.peak_mb, note)


def millis(timing: Timing, note: str = "") -> Figure:
    return Figure(timing.seconds * 1000, "ms", timing.peak_mb, note)


def bank_batches(ctx: Context, chunk_rows: int, *, workers: int = 1) -> Any:
    # ~100 events per account: 1 opening, ~99 transactions, a few closings.
    return bank_sim.simulate_batches(
        ctx.accounts,
        seed=ctx.seed,
        start=START,
        days=DAYS,
        transactions=99,
        chunk_rows=chunk_rows,
        workers=workers,
    )


def samples(ctx: Context) -> list[str]:
    """A fixed, seeded choice of account ids."""
    rng = np.random.default_rng(ctx.seed)
    picks = rng.choice(ctx.accounts, size=min(200, ctx.accounts), replace=False)
    width = max(4, len(str(ctx.accounts)))
    return [f"account-{i + 1:0{width}d}" for i in picks]


# -- helpers -----------------------------------------------------------------------------
def peer_repeats(ctx: Context) -> int:
    """Runs of a slow reference peer: once at 10M, to keep the run to minutes."""
    return 1 if ctx.events >= HEAVY else ctx.repeats


def bank_schema() -> Any:
    from eventsim.sim import kit as simkit

    return simkit.SCHEMA


def count_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def remove_db(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


def require_store(ctx: Context) -> EventStore:
    if ctx.store is None:
        raise RuntimeError("the store is loaded by the 'load Parquet' workload, which runs first")
    return ctx.store


def fmt_mb(mb: float | None) -> str:
    return "?" if mb is None else f"{mb:,.0f} MB"
