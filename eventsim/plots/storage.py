"""How the log grows against a state table (notebooks 01, 11)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from eventsim.plots.style import (
    legend_outside,
    new_axes,
    thousands_axis,
    time_axis,
)


def storage_growth(log_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """How many rows each model keeps as time goes by: the event log against a state table.

    ``log_df`` has one row per event with ``stream_id`` and ``timestamp``. The state table
    keeps one row per stream seen so far; the log keeps every event.
    """
    ax = ax if ax is not None else new_axes()
    ordered = log_df.sort_values("timestamp", kind="stable")
    log_rows = np.arange(1, len(ordered) + 1)
    table_rows = (~ordered["stream_id"].duplicated()).cumsum().to_numpy()
    streams = int(table_rows[-1]) if len(table_rows) else 0
    ax.step(
        ordered["timestamp"],
        log_rows,
        where="post",
        linewidth=2,
        label=f"event log: {len(ordered):,} rows, one per event",
    )
    ax.step(
        ordered["timestamp"],
        table_rows,
        where="post",
        linewidth=2,
        label=f"state table: {streams:,} rows, one per account",
    )
    ax.set_title("Rows kept by each model as the bank runs")
    ax.set_ylabel("rows kept")
    thousands_axis(ax)
    time_axis(ax)
    legend_outside(ax)
    return ax


def storage_bytes(growth_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Bytes kept by the event log and by a state table, day by day.

    ``growth_df`` is ``storage.growth_by_day(...)``: columns ``day``, ``log_bytes`` and
    ``state_bytes`` (cumulative).
    """
    ax = ax if ax is not None else new_axes()
    kb = 1000.0
    log_kb, state_kb = growth_df["log_bytes"] / kb, growth_df["state_bytes"] / kb
    last_log = float(log_kb.iloc[-1]) if len(log_kb) else 0.0
    last_state = float(state_kb.iloc[-1]) if len(state_kb) else 0.0
    ax.plot(growth_df["day"], log_kb, linewidth=2, label=f"event log: {last_log:,.0f} kB")
    ax.plot(growth_df["day"], state_kb, linewidth=2, label=f"state table: {last_state:,.0f} kB")
    ax.set_title("Bytes kept by each model as time goes by (raw text, before compression)")
    ax.set_ylabel("size (kB)")
    thousands_axis(ax)
    time_axis(ax)
    legend_outside(ax)
    return ax


def hot_and_archived(split_df: pd.DataFrame, *, hot_days: int, ax: Axes | None = None) -> Axes:
    """The log's bytes in the hot table and in the archive over time, stacked.

    ``split_df`` is ``storage.hot_and_archived_by_day(...)``: columns ``day``,
    ``hot_bytes`` and ``archived_bytes``.
    """
    ax = ax if ax is not None else new_axes()
    kb = 1000.0
    hot, cold = split_df["hot_bytes"] / kb, split_df["archived_bytes"] / kb
    ax.stackplot(
        split_df["day"],
        hot,
        cold,
        colors=["tab:red", "tab:blue"],
        labels=[
            f"hot table: {float(hot.iloc[-1]):,.0f} kB at the end",
            f"archived: {float(cold.iloc[-1]):,.0f} kB at the end",
        ],
    )
    ax.set_title(
        f"Where the log's bytes live: closed accounts archived {hot_days} days after closing"
    )
    ax.set_ylabel("size (kB, raw text)")
    ax.set_ylim(bottom=0)
    thousands_axis(ax)
    time_axis(ax)
    ax.legend(loc="upper left", fontsize=10, frameon=False)
    return ax
