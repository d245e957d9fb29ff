"""Figures for the notebooks: balances rebuilt from events, for one account or a whole bank.

Each helper takes data the package already produces (``replay.history``,
``replay.all_states``, ``EventStore.sql``) and an optional ``ax``. It draws, sets a title,
axis labels with units and a legend, and returns the Axes. It never calls ``plt.show()``:
the notebook shows the figure when the cell ends (``ax = plots.balance_history(...)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import StrMethodFormatter

FIGSIZE = (9.0, 4.5)
# event type -> (marker, colour, legend label)
MARKERS = {
    "AccountOpened": ("o", "tab:blue", "account opened"),
    "MoneyDeposited": ("^", "tab:green", "deposit"),
    "MoneyWithdrawn": ("v", "tab:red", "withdrawal"),
    "AccountClosed": ("X", "black", "account closed"),
}
BACKGROUND = "0.75"
MEDIAN = "tab:purple"


def new_axes() -> Axes:
    """A fresh figure of the course's size, with one Axes."""
    _, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    return ax


def _dollars(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def _time_axis(ax: Axes) -> None:
    # matplotlib.dates ships without annotations for these two constructors.
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlabel("time (UTC)")


def _legend(ax: Axes) -> None:
    # Outside the axes, on the right: a legend inside would hide the latest events.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=10, frameon=False)


def balance_history(
    history_df: pd.DataFrame,
    *,
    crud_balance: Decimal | float | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The balance after each event of one account, as steps, with a marker per event.

    ``history_df`` is ``replay.history(store, stream_id)``. ``crud_balance``, if given, is
    drawn as a dashed line: the one number a state-based row keeps.
    """
    ax = ax if ax is not None else new_axes()
    times = history_df["timestamp"]
    balances = history_df["state_balance"].astype(float)
    ax.step(
        times,
        balances,
        where="post",
        color="tab:blue",
        linewidth=1.5,
        label="balance rebuilt from events",
    )
    for event_type, rows in history_df.groupby("event_type", sort=False):
        marker, colour, label = MARKERS.get(str(event_type), ("o", "tab:gray", str(event_type)))
        ax.scatter(
            rows["timestamp"],
            rows["state_balance"].astype(float),
            marker=marker,
            color=colour,
            s=45,
            zorder=3,
            label=label,
        )
    if crud_balance is not None:
        ax.axhline(
            float(crud_balance),
            color="tab:orange",
            linestyle="--",
            linewidth=1.5,
            label=f"state-based row keeps ${float(crud_balance):,.2f}",
        )
    ax.set_title(title or f"Balance rebuilt from {len(history_df)} events")
    ax.set_ylabel("balance ($)")
    _dollars(ax)
    _time_axis(ax)
    _legend(ax)
    return ax


def balances_over_time(
    running_df: pd.DataFrame, *, highlight: Sequence[str] = (), ax: Axes | None = None
) -> Axes:
    """Every account's balance over time in grey, the ``highlight`` accounts in colour.

    ``running_df`` has one row per event with columns ``account_id``, ``timestamp`` and
    ``balance`` (the balance right after that event), e.g. from a SQL window sum.
    """
    ax = ax if ax is not None else new_axes()
    ordered = running_df.sort_values(["account_id", "timestamp"], kind="stable")
    accounts = ordered.groupby("account_id", sort=True)
    for i, (_, rows) in enumerate(accounts):
        ax.step(
            rows["timestamp"],
            rows["balance"].astype(float),
            where="post",
            color=BACKGROUND,
            linewidth=0.6,
            label="all accounts" if i == 0 else None,
        )
    for account_id in highlight:
        rows = ordered[ordered["account_id"] == account_id]
        ax.step(
            rows["timestamp"],
            rows["balance"].astype(float),
            where="post",
            linewidth=2,
            label=account_id,
        )
    ax.set_title(f"Balances of {accounts.ngroups} accounts, rebuilt from {len(ordered):,} events")
    ax.set_ylabel("balance ($)")
    _dollars(ax)
    _time_axis(ax)
    _legend(ax)
    return ax


def month_end_balances(
    month_end_df: pd.DataFrame, *, highlight: Sequence[str] = (), ax: Axes | None = None
) -> Axes:
    """The spread of all balances at each month end as box plots, ``highlight`` as lines.

    ``month_end_df`` has columns ``as_of`` (the month end), ``account_id`` and ``balance``:
    ``replay.all_states`` at each month end, stacked.
    """
    ax = ax if ax is not None else new_axes()
    months = sorted(month_end_df["as_of"].unique())
    groups = [month_end_df[month_end_df["as_of"] == m] for m in months]
    positions = np.arange(1, len(months) + 1)
    labels = [
        f"{pd.Timestamp(m):%b %d}\n{len(g)} accounts" for m, g in zip(months, groups, strict=True)
    ]
    ax.boxplot(
        [g["balance"].astype(float).to_numpy() for g in groups],
        positions=positions,
        tick_labels=labels,
        widths=0.5,
        medianprops={"color": MEDIAN, "linewidth": 2},
        flierprops={"marker": ".", "markersize": 4, "markeredgecolor": BACKGROUND},
    )
    for account_id in highlight:
        by_month = [g.loc[g["account_id"] == account_id, "balance"].astype(float) for g in groups]
        values = [s.iloc[0] if len(s) else np.nan for s in by_month]
        ax.plot(positions, values, marker="o", linewidth=2, label=account_id)
    ax.plot([], [], color=MEDIAN, linewidth=2, label="median of all accounts")
    ax.set_title("Balances of all accounts at each month end")
    ax.set_xlabel("month end (23:59:59 UTC)")
    ax.set_ylabel("balance ($)")
    _dollars(ax)
    _legend(ax)
    return ax


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
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    _time_axis(ax)
    _legend(ax)
    return ax


# -- projections and eventual consistency ---------------------------------------------------
def lag_over_time(
    lag_df: pd.DataFrame, *, threshold: float | None = None, ax: Axes | None = None
) -> Axes:
    """A projection's lag over virtual time, in events behind the log, with an alert line.

    ``lag_df`` is ``consistency.lag_over_time(...)``: columns ``time`` (s) and
    ``events_behind``.
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
            label=f"alert at > {threshold:g}",
        )
    ax.set_title(f"Projection lag over {lag_df['time'].max():g} s of simulated traffic")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("events behind the log")
    ax.set_ylim(bottom=0)
    _legend(ax)
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
    _legend(ax)
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
    _legend(ax)
    return ax
