"""Balances rebuilt from events, for one account or a whole bank (notebooks 01, 03)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from eventsim.plots.style import (
    BACKGROUND,
    MARKERS,
    MEDIAN,
    legend_outside,
    new_axes,
    thousands_axis,
    time_axis,
)


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
    thousands_axis(ax)
    time_axis(ax)
    legend_outside(ax)
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
    thousands_axis(ax)
    time_axis(ax)
    legend_outside(ax)
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
    thousands_axis(ax)
    legend_outside(ax)
    return ax
