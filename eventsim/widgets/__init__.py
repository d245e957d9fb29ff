"""Widgets for the notebooks, one module per lesson; each widget's logic is a pure function.

>>> from eventsim import widgets
>>> widgets.lag_explorer_view(10, 20, seed=1)["keeps_up"]
True
"""

from eventsim.widgets.consistency import lag_explorer, lag_explorer_view
from eventsim.widgets.patterns import (
    HtmlBlock,
    pattern_checklist,
    render_best_practices,
    render_recommendation,
)
from eventsim.widgets.time_travel import describe_frame, statement, time_travel, time_travel_frame

__all__ = [
    "HtmlBlock",
    "describe_frame",
    "lag_explorer",
    "lag_explorer_view",
    "pattern_checklist",
    "render_best_practices",
    "render_recommendation",
    "statement",
    "time_travel",
    "time_travel_frame",
]
