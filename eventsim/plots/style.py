"""The course's figure style: size, colours, axes helpers shared by every plot."""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
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


def thousands_axis(ax: Axes) -> None:
    """Whole numbers with thousands separators on the y axis (dollars, rows)."""
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def time_axis(ax: Axes) -> None:
    # matplotlib.dates ships without annotations for these two constructors.
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlabel("time (UTC)")


def legend_outside(ax: Axes) -> None:
    # Outside the axes, on the right: a legend inside would hide the latest events.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=10, frameon=False)
