"""Eventual consistency, simulated: how far a projection lags behind the log, and what readers see.

A seeded discrete-event simulation in virtual seconds. Writes arrive as a Poisson process
(plus optional bursts); one projector folds them in commit order, ``handler_cost``
seconds per event, in batches of up to ``batch_size`` (each batch also costs
``batch_overhead``). It is either pushed each write at once (``poll_interval=0``, a
subscription) or polls the log every ``poll_interval`` seconds. Reads arrive as a
Poisson process too. Everything is a pure function of the workload and the seed.

The result is, per event, when it was written and when the read model showed it;
lag over time, stale reads and the strategies against them are all computed from that.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from eventsim.cqrs.projections import ProjectionRunner
from eventsim.errors import InvalidArgument


@dataclass(frozen=True)
class Workload:
    """What the system is asked to do, in virtual seconds.

    ``bursts``: extra write traffic as ``(start, end, extra writes per second)``.
    """

    write_rate: float = 20.0
    handler_cost: float = 0.03
    duration: float = 60.0
    batch_size: int = 1
    batch_overhead: float = 0.0
    poll_interval: float = 0.0
    read_rate: float = 10.0
    bursts: tuple[tuple[float, float, float], ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("write_rate", "handler_cost", "duration", "batch_overhead"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise InvalidArgument(f"{name} must be a number >= 0, got {value!r}")
        for name in ("poll_interval", "read_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise InvalidArgument(f"{name} must be a number >= 0, got {value!r}")
        if self.duration == 0:
            raise InvalidArgument("duration must be > 0 seconds, got 0")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int):
            raise InvalidArgument(f"batch_size must be a whole number, got {self.batch_size!r}")
        if self.batch_size < 1:
            raise InvalidArgument(f"batch_size must be >= 1, got {self.batch_size!r}")
        for burst in self.bursts:
            if len(burst) != 3 or not 0 <= burst[0] < burst[1] or burst[2] < 0:
                raise InvalidArgument(
                    f"a burst is (start, end, extra writes per second) with "
                    f"0 <= start < end and a rate >= 0, got {burst!r}"
                )

    @property
    def utilization(self) -> float:
        """The projector's work per second of writes: >= 1 means it can never catch up."""
        per_event = self.handler_cost + self.batch_overhead / self.batch_size
        return self.write_rate * per_event


@dataclass(frozen=True)
class Simulation:
    """One run: per event (in position order) when it was written and when it was visible."""

    workload: Workload
    written_at: np.ndarray
    visible_at: np.ndarray
    read_at: np.ndarray
    wakes: int  # how many times the projector woke up to fold a batch


def simulate(workload: Workload, *, seed: int) -> Simulation:
    """Run the workload once; the same seed gives the same run.

    >>> sim = simulate(Workload(write_rate=5, handler_cost=0.1, duration=10), seed=1)
    >>> bool((sim.visible_at >= sim.written_at + 0.1).all())
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"seed must be a whole number >= 0, got {seed!r}")
    rng = np.random.default_rng(seed)
    written = _arrivals(rng, workload.write_rate, 0.0, workload.duration)
    for start, end, rate in workload.bursts:
        written = np.concatenate(
            [written, _arrivals(rng, rate, start, min(end, workload.duration))]
        )
    written = np.sort(written)
    reads = _arrivals(rng, workload.read_rate, 0.0, workload.duration)
    visible, wakes = _project(written, workload)
    return Simulation(workload, written, visible, reads, wakes)


def _arrivals(rng: np.random.Generator, rate: float, start: float, end: float) -> np.ndarray:
    """A Poisson process on [start, end): a Poisson count, then uniform sorted times."""
    count = rng.poisson(rate * (end - start)) if end > start else 0
    return np.sort(rng.uniform(start, end, count))


def _project(written: np.ndarray, w: Workload) -> tuple[np.ndarray, int]:
    """When each event becomes visible: the projector folds batches in commit order."""
    visible = np.empty_like(written)
    free, i, wakes = 0.0, 0, 0
    while i < len(written):
        if w.poll_interval == 0 or written[i] <= free:
            wake = max(free, written[i])  # pushed at once, or work was already waiting
        else:  # asleep: the next poll tick after the write
            wake = math.ceil(written[i] / w.poll_interval) * w.poll_interval
        available = int(np.searchsorted(written, wake, side="right"))
        j = min(available, i + w.batch_size)
        free = wake + w.batch_overhead + (j - i) * w.handler_cost
        visible[i:j] = free  # a batch commits as a whole, with its checkpoint
        i, wakes = j, wakes + 1
    return visible, wakes


def _behind(sim: Simulation, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At each time: events written but not yet visible, and the age of the oldest one."""
    head = np.searchsorted(sim.written_at, times, side="right")
    applied = np.searchsorted(sim.visible_at, times, side="right")
    events = head - applied
    if len(sim.written_at) == 0:
        return events, np.zeros(len(times))
    oldest = sim.written_at[np.minimum(applied, len(sim.written_at) - 1)]  # first not visible
    seconds = np.where(events > 0, times - oldest, 0.0)
    return events, seconds


def lag_over_time(sim: Simulation, *, step: float = 0.5) -> pd.DataFrame:
    """Lag sampled every ``step`` seconds: events behind and seconds behind the log."""
    times = np.arange(0.0, sim.workload.duration + step / 2, step)
    events, seconds = _behind(sim, times)
    return pd.DataFrame({"time": times, "events_behind": events, "seconds_behind": seconds})


def read_staleness(sim: Simulation) -> pd.DataFrame:
    """One row per read: how far behind the read model was; ``stale`` if behind at all."""
    events, seconds = _behind(sim, sim.read_at)
    return pd.DataFrame(
        {
            "time": sim.read_at,
            "events_behind": events,
            "seconds_behind": seconds,
            "stale": events > 0,
        }
    )


def stale_read_probability(sim: Simulation) -> float:
    """The share of reads that missed at least one event already in the log."""
    reads = read_staleness(sim)
    return float(reads["stale"].mean()) if len(reads) else 0.0


def stale_read_grid(
    write_rates: list[float], handler_costs: list[float], *, seed: int, **workload: Any
) -> pd.DataFrame:
    """The stale-read probability for every write rate and handler cost (same seed each)."""
    rows = []
    for cost in handler_costs:
        for rate in write_rates:
            w = Workload(write_rate=rate, handler_cost=cost, **workload)
            sim = simulate(w, seed=seed)
            rows.append(
                {
                    "write_rate": rate,
                    "handler_cost": cost,
                    "utilization": w.utilization,
                    "stale_probability": stale_read_probability(sim),
                    "max_events_behind": int(lag_over_time(sim)["events_behind"].max()),
                }
            )
    return pd.DataFrame(rows)


def read_after_write(sim: Simulation, *, read_delay: float) -> pd.DataFrame:
    """Each writer reads back ``read_delay`` s after its write: stale, and how long to wait."""
    read_at = sim.written_at + read_delay
    wait = np.maximum(sim.visible_at - read_at, 0.0)
    return pd.DataFrame(
        {
            "written_at": sim.written_at,
            "read_at": read_at,
            "visible_at": sim.visible_at,
            "stale": wait > 0,
            "wait": wait,
        }
    )


def compare_strategies(
    sim: Simulation,
    *,
    read_delay: float = 0.2,
    retry_interval: float = 0.25,
    rejection_rate: float = 0.0,
    command_latency: float = 0.1,
    seed: int = 0,
) -> pd.DataFrame:
    """What a writer reading back its own change sees under each strategy, measured.

    ``stale_reads``: share of read-backs that miss the change; ``mean_wait`` / ``p95_wait``:
    seconds the reader waits; ``extra_reads``: retries per read-back; ``write_model_reads``:
    share of read-backs served by the write model (load taken off the read side);
    ``phantom_reads``: share of read-backs showing a state that never happened;
    ``rollbacks``: share of commands whose screen had to be rolled back.

    Each command is rejected (a broken rule, a conflicting write) with probability
    ``rejection_rate``, and its answer reaches the client after an exponential time of
    mean ``command_latency`` seconds (both seeded). Only the optimistic UI shows a change
    before that answer, so only it can show a rejected change, and must roll it back.
    """
    if not 0 <= rejection_rate <= 1:
        raise InvalidArgument(f"rejection_rate must be between 0 and 1, got {rejection_rate!r}")
    back = read_after_write(sim, read_delay=read_delay)
    wait = back["wait"].to_numpy()
    retries = np.ceil(wait / retry_interval)
    rng = np.random.default_rng(seed)
    rejected = rng.random(len(wait)) < rejection_rate
    answered_at = rng.exponential(command_latency, len(wait))
    phantom = rejected & (read_delay < answered_at)  # read before the rejection arrived
    no = 0 * wait
    stamped = retries * retry_interval
    rows = [  # name, stale, waits, extra reads, write-model reads, phantoms, rollbacks
        ("read model, no guard", back["stale"].mean(), no, 0.0, 0.0, no, no),
        ("wait for the stream version (causal)", 0.0, wait, 0.0, 0.0, no, no),
        ("version stamp: compare, retry", 0.0, stamped, retries.mean(), 0.0, no, no),
        ("read your write from the write model", 0.0, no, 0.0, 1.0, no, no),
        ("optimistic UI update", 0.0, no, 0.0, 0.0, phantom, rejected),
    ]
    return pd.DataFrame(
        [
            {
                "strategy": name,
                "stale_reads": float(stale),
                "mean_wait": float(waits.mean()) if len(waits) else 0.0,
                "p95_wait": float(np.quantile(waits, 0.95)) if len(waits) else 0.0,
                "extra_reads": float(extra),
                "write_model_reads": write_model,
                "phantom_reads": float(phantoms.mean()) if len(phantoms) else 0.0,
                "rollbacks": float(rolled.mean()) if len(rolled) else 0.0,
            }
            for name, stale, waits, extra, write_model, phantoms, rolled in rows
        ]
    )


def polling_vs_push(workload: Workload, poll_intervals: list[float], *, seed: int) -> pd.DataFrame:
    """Per-event delay until visible, for a subscription (push) and for each poll interval."""
    rows = []
    for interval in [0.0, *poll_intervals]:
        sim = simulate(replace(workload, poll_interval=interval), seed=seed)
        delay = sim.visible_at - sim.written_at
        rows.append(
            {
                "mode": "push" if interval == 0 else f"poll every {interval:g} s",
                "poll_interval": interval,
                "median_delay": float(np.median(delay)),
                "p95_delay": float(np.quantile(delay, 0.95)),
                "max_delay": float(delay.max()),
                "wakes": sim.wakes,
            }
        )
    return pd.DataFrame(rows)


def alerts(lag: pd.DataFrame, *, threshold: float, column: str = "events_behind") -> pd.DataFrame:
    """The periods in which ``column`` of ``lag_over_time`` stayed above ``threshold``."""
    if column not in ("events_behind", "seconds_behind"):
        raise InvalidArgument(f"column must be 'events_behind' or 'seconds_behind', got {column!r}")
    above = (lag[column] > threshold).to_numpy()
    starts = np.flatnonzero(above & ~np.concatenate([[False], above[:-1]]))
    ends = np.flatnonzero(above & ~np.concatenate([above[1:], [False]]))
    times, values = lag["time"].to_numpy(), lag[column].to_numpy()
    return pd.DataFrame(
        {
            "start": times[starts],
            "end": times[ends],
            "peak": [values[s : e + 1].max() for s, e in zip(starts, ends, strict=True)],
        }
    )


# -- on a real store ----------------------------------------------------------------------
def caught_up(runner: ProjectionRunner, position: int, name: str = "order_summary") -> bool:
    """Read-your-writes: has the projection folded the event at ``position`` (yours)?"""
    return runner.checkpoint(name) >= position


def wait_for_position(
    checkpoint: Callable[[], int], position: int, *, max_polls: int, pause: Callable[[], object]
) -> int | None:
    """Poll until the read model has the write at ``position``; at most ``max_polls`` polls.

    Returns the polls it took, or None on a timeout: the caller says "still saving" and
    moves on instead of hanging. ``pause()`` runs between two polls (a sleep, in real life).
    """
    for polls in range(1, max_polls + 1):
        if checkpoint() >= position:
            return polls
        if polls < max_polls:
            pause()
    return None


def summary_at_least(
    runner: ProjectionRunner, order_id: str, version: int
) -> dict[str, Any] | None:
    """Causal read by version stamp: the order's summary row if it shows ``version`` or later.

    ``None`` means the read model is behind what the reader already knows: wait or retry.
    """
    row = runner.store.sql(
        "SELECT * FROM order_summary WHERE order_id = ? AND version >= ?", [order_id, version]
    )
    return {str(k): v for k, v in row.iloc[0].items()} if len(row) else None


def lagging(runner: ProjectionRunner, *, threshold: int) -> dict[str, int]:
    """The alert check: each projection whose lag is above ``threshold`` events, with its lag."""
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise InvalidArgument(f"threshold must be a whole number of events >= 0, got {threshold!r}")
    return {name: lag for name, lag in runner.lag().items() if lag > threshold}
