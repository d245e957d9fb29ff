"""Storage growth: every event counted in the log, one state row per stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from eventsim import EventStore, data_file
from eventsim.lifecycle import archive, storage

TODAY = datetime(2024, 5, 1, tzinfo=UTC)


def test_growth_by_day_counts_every_event_and_one_state_row_per_stream() -> None:
    store = EventStore()
    store.load_parquet(data_file("bank.parquet"))
    events = store.sql(
        "SELECT stream_id, timestamp, CAST(data AS VARCHAR) AS data, "
        "CAST(metadata AS VARCHAR) AS metadata FROM event_store"
    )
    growth = storage.growth_by_day(events)
    info = store.info()
    assert info["events"] == growth["log_rows"].iloc[-1]
    assert info["streams"] == growth["state_rows"].iloc[-1]
    assert growth["log_bytes"].is_monotonic_increasing
    assert growth["log_bytes"].iloc[-1] > 10 * growth["state_bytes"].iloc[-1]


def test_the_hot_and_archived_split_matches_what_archiving_really_moves(tmp_path: Path) -> None:
    store = EventStore()
    store.load_parquet(data_file("bank.parquet"))
    events = store.sql(
        "SELECT stream_id, event_type, timestamp, CAST(data AS VARCHAR) AS data, "
        "CAST(metadata AS VARCHAR) AS metadata FROM event_store"
    )
    split = storage.hot_and_archived_by_day(events, hot_days=14, until=pd.Timestamp(TODAY))
    moved = archive.closed_streams(store, closed_before=TODAY - timedelta(days=14))
    archive.archive_streams(store, moved, tmp_path, now=TODAY)
    left = store.sql(
        "SELECT stream_id, event_type, timestamp, CAST(data AS VARCHAR) AS data, "
        "CAST(metadata AS VARCHAR) AS metadata FROM event_store"
    )
    expected_hot = storage.growth_by_day(left)["log_bytes"].iloc[-1]
    assert (expected_hot, TODAY) == (split["hot_bytes"].iloc[-1], split["day"].iloc[-1])
    total = storage.growth_by_day(events)["log_bytes"].iloc[-1]
    assert total == split["hot_bytes"].iloc[-1] + split["archived_bytes"].iloc[-1]
    assert split["archived_bytes"].is_monotonic_increasing
