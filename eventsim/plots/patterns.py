"""Which answers of the checklist push toward which pattern (notebook 13)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from eventsim.plots.style import (
    new_axes,
)


def pattern_pushes(weights_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Which "yes" pushes toward (green) or away from (purple) which pattern, by how much.

    ``weights_df`` is ``patterns.weights()``: one row per question, one column per pattern.
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
    ax.set_xticks(range(len(weights_df.index)), weights_df.index, rotation=40, ha="right")
    ax.set_yticks(range(len(weights_df.columns)), weights_df.columns)
    ax.tick_params(labelsize=10)
    ax.set_title('How a "yes" to each question moves each pattern\'s score')
    ax.set_xlabel("question answered yes")
    ax.set_ylabel("pattern")
    colorbar = ax.figure.colorbar(image, ax=ax, shrink=0.9)
    colorbar.set_label("push on the score (points)")
    return ax
