"""Delivery under faults, double charges, producer latency (notebooks 06, 07)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from eventsim.plots.style import legend_outside, new_axes

BACKGROUND_LINE = "0.35"  # dark grey: the work the producer no longer waits for


def delivery_outcomes(stats: Mapping[str, Mapping[str, int]], *, ax: Axes | None = None) -> Axes:
    """What a broker did, per run: bars of deliveries, duplicates, crashes, retries...

    ``stats`` maps a run's label to its counters (``Broker.stats.as_dict()``).
    """
    ax = ax if ax is not None else new_axes()
    kinds = ["delivered", "acked", "duplicates", "reordered", "delayed", "crashes", "failures"]
    kinds += ["dead_lettered"]
    width = 0.8 / max(len(stats), 1)
    positions = np.arange(len(kinds))
    for i, (label, counts) in enumerate(stats.items()):
        values = [counts.get(kind, 0) for kind in kinds]
        bars = ax.bar(positions + i * width, values, width, label=label)
        ax.bar_label(bars, fontsize=9, padding=2)
    ax.set_xticks(positions + width * (len(stats) - 1) / 2, [k.replace("_", "\n") for k in kinds])
    ax.set_title("What the broker did: deliveries and injected faults")
    ax.set_xlabel("outcome")
    ax.set_ylabel("messages")
    ax.margins(y=0.15)
    legend_outside(ax)
    return ax


def double_charges(runs: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Orders charged twice against the duplicate rate, one line per consumer.

    ``runs`` has columns ``duplicate_rate``, ``consumer`` and ``double_charged``.
    """
    ax = ax if ax is not None else new_axes()
    for consumer, rows in runs.groupby("consumer", sort=True):
        rows = rows.sort_values("duplicate_rate")
        ax.plot(
            rows["duplicate_rate"] * 100,
            rows["double_charged"],
            marker="o",
            linewidth=2,
            label=f"{consumer} consumer",
        )
    ax.set_title("Orders charged more than once under duplicate deliveries")
    ax.set_xlabel("duplicate deliveries (% of messages)")
    ax.set_ylabel("orders charged twice or more")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    legend_outside(ax)
    return ax


def producer_latency(latency: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The producer's wait per order, calling its consumers or publishing, in virtual ticks.

    ``latency`` is ``mediator.producer_latency(costs)``.
    """
    ax = ax if ax is not None else new_axes()
    x = latency["consumers"]
    ax.plot(x, latency["waiting"], marker="o", linewidth=2, label="producer calls and waits")
    ax.plot(x, latency["publishing"], marker="s", linewidth=2, label="producer publishes")
    ax.plot(
        x,
        latency["done in parallel"],
        marker="^",
        linestyle="--",
        linewidth=2,
        color=BACKGROUND_LINE,
        label="consumers' work done, in parallel\n(ticks after publish)",
    )
    ax.set_title("Temporal decoupling: the producer's wait per order")
    ax.set_xlabel("number of consumers")
    ax.set_ylabel("producer latency (ticks)")
    ax.set_xticks(list(x))
    legend_outside(ax)
    return ax
