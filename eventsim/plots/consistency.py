"""Projection lag and stale reads (notebooks 04, 05)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import StrMethodFormatter

from eventsim.plots.style import (
    legend_outside,
    new_axes,
)


def lag_over_time(
    lag_df: pd.DataFrame,
    *,
    title: str | None = None,
    threshold: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A projection's lag over virtual time: events behind (left), seconds behind (right).

    ``lag_df`` is ``consistency.lag_over_time(...)``: columns ``time`` (s),
    ``events_behind`` and ``seconds_behind``. ``threshold`` draws an alert line in events.
    """
    ax = ax if ax is not None else new_axes()
    ax.step(
        lag_df["time"], lag_df["events_behind"], where="post", linewidth=1.5, label="events behind"
    )
    if threshold is not None:
        ax.axhline(
            threshold,
            color="tab:red",
            linestyle="--",
            linewidth=1.5,
            label=f"alert at > {threshold:g} events",
        )
    seconds = ax.twinx()
    seconds.plot(
        lag_df["time"],
        lag_df["seconds_behind"],
        color="tab:orange",
        linewidth=1.2,
        alpha=0.8,
        label="seconds behind (right axis)",
    )
    seconds.set_ylabel("seconds behind (age of the oldest unfolded event)")
    headroom = 1.35  # room above the data for the legend
    seconds.set_ylim(0, max(float(lag_df["seconds_behind"].max()), 0.01) * headroom)
    ax.set_title(title or f"Projection lag over {lag_df['time'].max():g} s of simulated traffic")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("events behind the log")
    top = max([float(lag_df["events_behind"].max()), threshold or 0, 1])
    ax.set_ylim(0, top * headroom)
    handles = ax.get_legend_handles_labels()[0] + seconds.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize=10, frameon=False)
    return ax


def lag_comparison(lags: Mapping[str, pd.DataFrame], *, title: str, ax: Axes | None = None) -> Axes:
    """Several workloads' lag in seconds behind, on one shared scale, one line each.

    Each value is ``consistency.lag_over_time(...)``; each key labels its line.
    """
    ax = ax if ax is not None else new_axes()
    for label, lag_df in lags.items():
        ax.step(lag_df["time"], lag_df["seconds_behind"], where="post", linewidth=1.5, label=label)
    ax.set_title(title)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("seconds behind the log")
    ax.set_ylim(bottom=0)
    legend_outside(ax)
    return ax


def stale_read_probability(grid_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The share of stale reads against the write rate, one line per handler cost.

    ``grid_df`` is ``consistency.stale_read_grid(...)``.
    """
    ax = ax if ax is not None else new_axes()
    for cost, rows in grid_df.groupby("handler_cost", sort=True):
        ax.plot(
            rows["write_rate"],
            rows["stale_probability"],
            marker="o",
            linewidth=2,
            label=f"{float(cost) * 1000:g} ms per event",  # type: ignore[arg-type]
        )
    ax.set_title("Stale reads grow with the write rate and the handler cost")
    ax.set_xlabel("write rate (events per second)")
    ax.set_ylabel("share of reads that are stale")
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:.0%}"))
    legend_outside(ax)
    return ax


def delay_by_delivery(delays_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Median and 95th-percentile delay until an event is visible, per delivery mode.

    ``delays_df`` is ``consistency.polling_vs_push(...)``.
    """
    ax = ax if ax is not None else new_axes()
    positions = np.arange(len(delays_df))
    ax.bar(positions - 0.2, delays_df["median_delay"], width=0.4, label="median")
    ax.bar(positions + 0.2, delays_df["p95_delay"], width=0.4, label="95th percentile")
    ax.set_xticks(positions, list(delays_df["mode"]))
    ax.set_title("Delay from write to read model: subscription (push) against polling")
    ax.set_xlabel("how the projector learns about new events")
    ax.set_ylabel("delay until visible (s)")
    legend_outside(ax)
    return ax
