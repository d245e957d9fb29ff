"""The causation graph of a business flow (notebook 12)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from eventsim.plots.style import (
    legend_outside,
    new_axes,
)


def causation_graph(layout: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """A flow's causation tree: each event a box, an arrow from each cause to its effect.

    ``layout`` is ``audit.tree_layout(...)``; boxes are coloured by stream.
    """
    ax = ax if ax is not None else new_axes()
    cmap = plt.get_cmap("tab10")
    colours = {
        stream: cmap(i % 10) for i, stream in enumerate(sorted(layout["stream_id"].unique()))
    }
    where = {
        str(event_id): (float(depth), -float(row))
        for event_id, depth, row in zip(
            layout["event_id"], layout["depth"], layout["row"], strict=True
        )
    }
    for r in layout.itertuples():
        box = {"boxstyle": "round", "facecolor": colours[r.stream_id], "alpha": 0.35}
        label = _two_lines(str(r.event_type))
        if not isinstance(r.parent, str):  # a root: no cause in this flow
            ax.text(*where[str(r.event_id)], label, ha="center", va="center", fontsize=10, bbox=box)
            continue
        # The arrow leaves the cause's right side and is clipped at the effect's box.
        x0, y0 = where[r.parent]
        ax.annotate(
            label,
            xy=(x0 + 0.36, y0),
            xytext=where[str(r.event_id)],
            ha="center",
            va="center",
            fontsize=10,
            bbox=box,
            arrowprops={"arrowstyle": "<|-", "color": "0.35", "shrinkB": 0},
        )
    for stream, colour in colours.items():
        ax.scatter([], [], marker="s", s=100, color=colour, alpha=0.35, label=stream)
    ax.set_xlim(-0.6, layout["depth"].max() + 0.6)
    ax.set_ylim(-layout["row"].max() - 0.6, 0.6)
    ax.set_xticks(range(int(layout["depth"].max()) + 1))
    ax.set_yticks([])
    ax.set_xlabel("causal depth (steps from the first event)")
    ax.set_title("Causation graph: which event caused which")
    legend_outside(ax)
    return ax


def _two_lines(event_type: str) -> str:
    """``InventoryReserved`` -> ``Inventory`` / ``Reserved``: narrower boxes, no overlap."""
    capitals = [i for i, ch in enumerate(event_type) if ch.isupper()]
    cut = capitals[1] if len(capitals) > 1 else len(event_type)
    return f"{event_type[:cut]}\n{event_type[cut:]}".rstrip()
