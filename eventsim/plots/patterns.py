"""Which answers of the checklist push toward which pattern (notebook 13)."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from eventsim.plots.style import (
    new_axes,
)


def pattern_pushes(
    weights_df: pd.DataFrame,
    *,
    ruled_out: Collection[tuple[str, str]] = (),
    ax: Axes | None = None,
) -> Axes:
    """Which "yes" pushes toward (green) or away from (purple) which pattern, by how much.

    ``weights_df`` is ``patterns.weights()``: one row per question, one column per pattern.
    ``ruled_out`` holds (question, pattern) cells where a "yes" rules the pattern out
    whatever the score; they are framed in black.
    """
    ax = ax if ax is not None else new_axes()
    values = weights_df.to_numpy(dtype=float)
    limit = max(1.0, float(np.abs(values).max()))
    image = ax.imshow(values.T, cmap="PRGn", vmin=-limit, vmax=limit, aspect="auto")
    for (row, column), value in np.ndenumerate(values.T):
        if value:
            dark = abs(value) > 0.7 * limit  # white digits on the darkest cells
            colour = "white" if dark else "black"
            ax.text(column, row, f"{value:+.0f}", ha="center", va="center", fontsize=11, c=colour)
    questions, columns = list(weights_df.index), list(weights_df.columns)
    for question, pattern in sorted(ruled_out):
        cell = (questions.index(question) - 0.45, columns.index(pattern) - 0.45)
        ax.add_patch(Rectangle(cell, 0.9, 0.9, fill=False, edgecolor="black", linewidth=3))
    ax.set_xticks(range(len(weights_df.index)), weights_df.index, rotation=40, ha="right")
    ax.set_yticks(range(len(weights_df.columns)), weights_df.columns)
    ax.tick_params(labelsize=10)
    ax.set_title('How a "yes" to each question moves each pattern\'s score')
    framed = "; framed: a yes rules the pattern out, whatever the score" if ruled_out else ""
    ax.set_xlabel(f"question answered yes{framed}")
    ax.set_ylabel("pattern")
    colorbar = ax.figure.colorbar(image, ax=ax, shrink=0.9)
    colorbar.set_label("push on the score (points)")
    return ax
