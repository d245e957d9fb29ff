"""What a migration to event sourcing keeps of an account's past (notebook 14)."""

from __future__ import annotations

from datetime import datetime, timedelta

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.axes import Axes

from eventsim.plots.style import BACKGROUND, legend_outside, new_axes, thousands_axis, time_axis

HOLD = timedelta(days=7)


def lost_history(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    account_id: str,
    migrated_at: datetime,
    ax: Axes | None = None,
) -> Axes:
    """One account's balance as it really went (``before``) against what the event store
    knows after a migration (``after``), with the moment of the migration marked.

    Both frames are ``replay.history(...)`` of the same account: ``before`` from the facts
    the old system saw, ``after`` from the migrated store.
    """
    ax = ax if ax is not None else new_axes()
    # Hold the last known balance a little past the migration, so the new side reads as a
    # line rather than a spike on the migration's day.
    until = migrated_at + HOLD
    # matplotlib's type hints take plain numbers for x positions; its date converter is
    # what the Axes uses for datetimes anyway.
    start, moment, end = (_x(t) for t in (before["timestamp"].min(), migrated_at, until))
    ax.axvspan(start, moment, color="0.93", label="no events in the store")
    ax.step(
        [*before["timestamp"], migrated_at],
        [*before["state_balance"].astype(float), float(before["state_balance"].iloc[-1])],
        where="post",
        color=BACKGROUND,
        linewidth=2.5,
        label=f"what happened ({len(before)} events, not kept)",
    )
    ax.step(
        [*after["timestamp"], until],
        [*after["state_balance"].astype(float), float(after["state_balance"].iloc[-1])],
        where="post",
        color="tab:blue",
        linewidth=1.8,
        marker="o",
        markevery=list(range(len(after))),
        label=f"what the event store knows ({len(after)} events)",
    )
    ax.axvline(moment, color="black", linestyle="--", linewidth=1, label="the migration")
    ax.set_title(f"{account_id}: before the migration only the balance survives")
    ax.set_xlim(right=end)
    ax.set_ylabel("balance ($)")
    thousands_axis(ax)
    time_axis(ax)
    legend_outside(ax)
    return ax


def _x(moment: datetime) -> float:
    return float(mdates.date2num(moment))  # type: ignore[no-untyped-call]
