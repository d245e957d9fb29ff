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


# -- sagas -----------------------------------------------------------------------------
# timeline kind -> (colour, hatch, legend label): an undo must not look like progress.
SAGA_KINDS = {
    "forward": ("tab:blue", "", "step done"),
    "failed": ("tab:red", "xx", "step failed"),
    "compensation": ("tab:orange", "///", "compensation (undo, cancel)"),
}
SAGA_OUTCOME = {"OrderDelivered": "delivered", "OrderCancelled": "cancelled"}


def saga_timeline(
    timeline_df: pd.DataFrame, *, title: str | None = None, ax: Axes | None = None
) -> Axes:
    """Each saga a row, each step a bar in virtual minutes, compensations hatched in orange.

    ``timeline_df`` is ``saga_report.timeline(store, order_ids)``: one row per event with
    ``order_id``, ``step``, ``start``, ``end`` and ``kind`` (placed, forward, failed,
    compensation). A dot marks when each order was placed.
    """
    orders = sorted(timeline_df["order_id"].unique())
    if ax is None:  # a taller figure for many sagas, so each row stays readable
        _, ax = plt.subplots(
            figsize=(FIGSIZE[0], max(FIGSIZE[1], 1.6 + 0.24 * len(orders))), layout="constrained"
        )
    row = {order_id: i for i, order_id in enumerate(orders)}
    origin = timeline_df["start"].min()
    y = timeline_df["order_id"].map(row)
    left = (timeline_df["start"] - origin).dt.total_seconds() / 60
    width = (timeline_df["end"] - timeline_df["start"]).dt.total_seconds() / 60
    for kind, (colour, hatch, label) in SAGA_KINDS.items():
        rows = timeline_df["kind"] == kind
        ax.barh(
            y[rows],
            width[rows],
            left=left[rows],
            height=0.62,
            color=colour,
            hatch=hatch,
            edgecolor="white" if not hatch else "black",
            linewidth=0.6,
            label=label,
        )
    placed = timeline_df["kind"] == "placed"
    ax.scatter(left[placed], y[placed], color="black", s=14, zorder=3, label="order placed")
    last = timeline_df.groupby("order_id").tail(1)
    for _, event in last.iterrows():
        end = (event["end"] - origin).total_seconds() / 60
        outcome = SAGA_OUTCOME.get(str(event["step"]), "open")
        ax.text(end + 1, row[event["order_id"]], outcome, va="center", fontsize=10)
    ax.set_yticks(range(len(orders)), orders, fontsize=10)
    ax.invert_yaxis()  # the first order on top, as in a table
    ax.set_xlim(0, float((left + width).max()) * 1.12 + 1)
    ax.set_title(title or f"{len(orders)} sagas in virtual time")
    ax.set_xlabel("virtual minutes since the first order was placed")
    ax.set_ylabel("saga (order)")
    ax.grid(axis="x", alpha=0.3)
    _legend(ax)
    return ax
