"""Storage growth: what an event log keeps over time, against a state-based table.

A state table keeps one row per entity and overwrites it; the log keeps every event.
``growth_by_day`` counts both, in rows and in bytes, day by day of simulated time.

>>> import pandas as pd
>>> events = pd.DataFrame({"stream_id": ["a", "a"], "data": ["{}", "{}"],
...     "metadata": [None, None], "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"])})
>>> growth_by_day(events)[["log_rows", "state_rows"]].to_numpy().tolist()
[[1, 1], [2, 1]]
"""

from __future__ import annotations

import pandas as pd


def growth_by_day(events: pd.DataFrame) -> pd.DataFrame:
    """Rows and bytes kept per day by the log and by a state table (one row per stream).

    ``events`` has ``stream_id``, ``timestamp``, ``data`` and ``metadata`` (as text). A
    row's bytes are its text lengths plus 36 for the fixed-width columns (id, version,
    time, position); a state row is the stream's first payload plus the same 36.
    """
    ordered = events.sort_values("timestamp", kind="stable")
    text = ordered["data"].str.len() + ordered["metadata"].fillna("").str.len()
    row_bytes = ordered["stream_id"].str.len() + text + 36
    first = ~ordered["stream_id"].duplicated()
    frame = pd.DataFrame(
        {
            "day": ordered["timestamp"].dt.floor("D"),
            "log_rows": 1,
            "log_bytes": row_bytes,
            "state_rows": first.astype(int),
            "state_bytes": (ordered["stream_id"].str.len() + ordered["data"].str.len() + 36)
            * first,
        }
    )
    return frame.groupby("day").sum().cumsum().reset_index()
