"""The timeline of saga instances (notebook 08)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from eventsim.plots.style import (
    FIGSIZE,
    legend_outside,
)

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
    legend_outside(ax)
    return ax
