"""Storage growth: every event counted in the log, one state row per stream."""

from __future__ import annotations

from eventsim import EventStore, data_file
from eventsim.lifecycle import storage


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
