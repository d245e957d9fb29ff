"""Replay cost and snapshots; upcast-on-read against a copy (notebooks 09, 10)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from eventsim.plots.style import (
    FIGSIZE,
    legend_outside,
    new_axes,
    thousands_axis,
)


def replay_cost(costs_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Events folded to load a stream, against its length, one line per snapshot interval.

    ``costs_df`` is ``snapshots.rehydration_cost(...)``: columns ``interval`` (0: no
    snapshots), ``stream_length`` and ``events_folded``.
    """
    ax = ax if ax is not None else new_axes()
    for interval, group in costs_df.groupby("interval", sort=True):
        label = "no snapshots" if interval == 0 else f"snapshot every {interval} events"
        ordered = group.sort_values("stream_length")
        ax.plot(ordered["stream_length"], ordered["events_folded"], linewidth=2, label=label)
    ax.set_title("Rehydration cost: events folded to load one stream")
    ax.set_xlabel("stream length (events)")
    ax.set_ylabel("events folded per load")
    legend_outside(ax)
    return ax


def snapshot_tradeoff(
    costs_df: pd.DataFrame, *, accounts: int = 1_000, ax: Axes | None = None
) -> Axes:
    """Per snapshot interval: snapshot storage for ``accounts`` accounts against replay work.

    ``costs_df`` is ``snapshots.rehydration_cost(...)`` (one account); its bytes are scaled
    to ``accounts`` like it, and a dashed line marks what their events' payloads take.
    """
    ax = ax if ax is not None else new_axes()
    summary = costs_df.groupby("interval", sort=True).agg(
        folded=("events_folded", "mean"), written=("snapshot_bytes", "max")
    )
    mib = accounts / 2**20
    summary["mib"] = summary["written"] * mib
    summary = summary.sort_values("mib")  # left to right: more storage, less work
    ax.plot(summary["mib"], summary["folded"], marker="o", markersize=8, linewidth=1.5)
    for interval, row in summary.iterrows():
        label = "no snapshots" if interval == 0 else f"every {interval}"
        ax.annotate(
            label,
            (row["mib"], row["folded"]),
            xytext=(8, 6),
            textcoords="offset points",
            fontsize=10,
        )
    events_mib = float(costs_df["event_bytes"].max()) * mib
    ax.axvline(events_mib, color="grey", linestyle="--", linewidth=1.5)
    ax.annotate(
        f"the events' own payloads\n({events_mib:.2f} MiB)",
        (events_mib, float(summary["folded"].max())),
        xytext=(-8, 0),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize=10,
        color="dimgrey",
    )
    length = int(costs_df["stream_length"].max())
    ax.set_title(
        f"Snapshots trade storage for replay work ({accounts:,} accounts of {length} events)"
    )
    ax.set_xlabel(f"snapshot state written for {accounts:,} accounts (MiB)")
    ax.set_ylabel("mean events folded per load")
    ax.set_xlim(left=-0.05 * max(events_mib, float(summary["mib"].max())))
    ax.margins(x=0.15, y=0.1)
    return ax


def upcast_vs_copy(
    steps_per_read: int,
    source_bytes: int,
    target_bytes: int,
    reads: int,
    *,
    axes: tuple[Axes, Axes] | None = None,
) -> tuple[Axes, Axes]:
    """Two panels, each in its own unit: upcaster steps run, and bytes of JSON stored.

    Left: cumulative upcaster steps over full reads; on read, every read runs the chain;
    the copy runs it once, while migrating. Right: bytes stored by each approach.
    """
    if axes is None:
        _, (left, right) = plt.subplots(1, 2, figsize=FIGSIZE, layout="constrained")
    else:
        left, right = axes
    n = np.arange(0, reads + 1)
    left.plot(n, n * steps_per_read, marker="o", linewidth=2, label="upcast on read")
    left.plot(
        n, np.full_like(n, steps_per_read), marker="s", linewidth=2, label="copy and transform"
    )
    left.set_title("Work: upcaster steps run")
    left.set_xlabel("full reads of the store after the change")
    left.set_ylabel("upcaster steps run (cumulative)")
    left.set_ylim(bottom=0)
    left.set_xticks(n)
    left.legend(loc="upper left", fontsize=10, frameon=False)  # the upper left stays empty
    labels = ["upcast on read", "copy, old kept", "copy, old dropped"]
    old = [source_bytes, source_bytes, 0]
    new = [0, target_bytes, target_bytes]
    right.bar(labels, old, color="tab:blue", label="old store")
    right.bar(labels, new, bottom=old, color="tab:orange", label="migrated copy")
    right.set_title("Storage: bytes of JSON kept")
    right.set_ylabel("bytes of JSON")
    right.tick_params(axis="x", labelsize=10)
    right.legend(loc="upper left", fontsize=10, frameon=False)
    right.set_ylim(0, 1.3 * (source_bytes + target_bytes))
    thousands_axis(right)
    return left, right
