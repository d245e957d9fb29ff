"""Storage growth: what an event log keeps over time, against a state-based table.

A state table keeps one row per entity and overwrites it; the log keeps every event.
``growth_by_day`` counts both, in rows and in bytes, day by day of simulated time;
``hot_and_archived_by_day`` splits the log's bytes into what an archiving rule keeps hot
and what it has moved to cold storage.

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
    row_bytes = _row_bytes(ordered)
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


def _row_bytes(events: pd.DataFrame) -> pd.Series:
    """A stored event's bytes: its text columns plus 36 for id, version, time and position."""
    text = events["data"].str.len() + events["metadata"].fillna("").str.len()
    return events["stream_id"].str.len() + text + 36


def hot_and_archived_by_day(
    events: pd.DataFrame, *, hot_days: int, until: pd.Timestamp
) -> pd.DataFrame:
    """Bytes of the log in the hot table and in the archive at the start of each day, under
    the rule "a closed stream moves to the archive ``hot_days`` after its closing event"
    (``archive.closed_streams(closed_before=day - hot_days)`` on that day).

    ``events`` has ``stream_id``, ``event_type``, ``timestamp``, ``data`` and ``metadata``;
    a stream closes with its ``AccountClosed`` event. Days run to ``until`` (inclusive).

    >>> events = pd.DataFrame({"stream_id": ["a", "a", "b"],
    ...     "event_type": ["AccountOpened", "AccountClosed", "AccountOpened"],
    ...     "data": ["{}"] * 3, "metadata": [None] * 3,
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02"])})
    >>> split = hot_and_archived_by_day(events, hot_days=1, until=pd.Timestamp("2024-01-04"))
    >>> split[["hot_bytes", "archived_bytes"]].to_numpy().tolist()
    [[0, 0], [39, 0], [39, 78], [39, 78]]
    """
    rows = events.assign(bytes=_row_bytes(events))
    written_on = rows["timestamp"].dt.floor("D") + pd.Timedelta(days=1)  # counted the next midnight
    closed = rows.loc[rows["event_type"] == "AccountClosed"].groupby("stream_id")["timestamp"].max()
    archived_on = rows["stream_id"].map((closed + pd.Timedelta(days=hot_days)).dt.ceil("D"))
    days = pd.date_range(rows["timestamp"].min().floor("D"), until.floor("D"), freq="D")
    written = rows.groupby(written_on)["bytes"].sum().reindex(days, fill_value=0).cumsum()
    moved = rows.groupby(archived_on)["bytes"].sum().reindex(days, fill_value=0).cumsum()
    return pd.DataFrame(
        {"day": days, "hot_bytes": (written - moved).to_numpy(), "archived_bytes": moved.to_numpy()}
    )
