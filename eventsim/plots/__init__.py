"""Figures for the notebooks, one module per topic; every helper is re-exported here.

Each helper takes data the package already produces (``replay.history``,
``replay.all_states``, ``EventStore.sql``, a simulation's DataFrame) and an optional
``ax``. It draws, sets a title, axis labels with units and a legend, and returns the
Axes. It never calls ``plt.show()``: the notebook shows the figure when the cell ends
(``ax = plots.balance_history(...)``).
"""

from __future__ import annotations

from eventsim.plots.audit import causation_graph
from eventsim.plots.balances import balance_history, balances_over_time, month_end_balances
from eventsim.plots.consistency import (
    delay_by_delivery,
    lag_comparison,
    lag_over_time,
    stale_read_probability,
)
from eventsim.plots.delivery import delivery_outcomes, double_charges, producer_latency
from eventsim.plots.migration import lost_history
from eventsim.plots.patterns import pattern_pushes
from eventsim.plots.sagas import SAGA_KINDS, SAGA_OUTCOME, saga_timeline
from eventsim.plots.snapshots import replay_cost, snapshot_tradeoff, upcast_vs_copy
from eventsim.plots.storage import hot_and_archived, storage_bytes, storage_growth
from eventsim.plots.style import BACKGROUND, FIGSIZE, MARKERS, MEDIAN, new_axes

__all__ = [
    "BACKGROUND",
    "FIGSIZE",
    "MARKERS",
    "MEDIAN",
    "SAGA_KINDS",
    "SAGA_OUTCOME",
    "balance_history",
    "balances_over_time",
    "causation_graph",
    "delay_by_delivery",
    "delivery_outcomes",
    "double_charges",
    "hot_and_archived",
    "lag_comparison",
    "lag_over_time",
    "lost_history",
    "month_end_balances",
    "new_axes",
    "pattern_pushes",
    "producer_latency",
    "replay_cost",
    "saga_timeline",
    "snapshot_tradeoff",
    "stale_read_probability",
    "storage_bytes",
    "storage_growth",
    "upcast_vs_copy",
]
