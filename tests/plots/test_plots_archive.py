"""Plots for storage growth and the causation graph: they draw what they are given."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from eventsim import EventStore, TickingClock, data_file, plots, seeded_ids
from eventsim.domains import bank
from eventsim.lifecycle import audit, storage


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def test_storage_bytes_draws_log_and_state_in_kilobytes() -> None:
    store = EventStore()
    store.load_parquet(data_file("bank.parquet"))
    growth = storage.growth_by_day(
        store.sql(
            "SELECT stream_id, timestamp, CAST(data AS VARCHAR) AS data, "
            "CAST(metadata AS VARCHAR) AS metadata FROM event_store"
        )
    )
    ax = plots.storage_bytes(growth)
    log_line, state_line = ax.get_lines()
    assert growth["log_bytes"].iloc[-1] / 1000 == list(log_line.get_ydata())[-1]
    assert growth["state_bytes"].iloc[-1] / 1000 == list(state_line.get_ydata())[-1]
    assert "kB" in ax.get_ylabel()


def test_hot_and_archived_stacks_the_two_parts_in_kilobytes() -> None:
    split = pd.DataFrame(
        {
            "day": pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC"),
            "hot_bytes": [1000, 3000, 2000],
            "archived_bytes": [0, 0, 2000],
        }
    )
    ax = plots.hot_and_archived(split, hot_days=14)
    hot, archived = ax.collections
    tops = [max(layer.get_paths()[0].vertices[:, 1]) for layer in (hot, archived)]
    assert [3.0, 4.0] == tops  # the archive stacks on the hot table: 2 + 2 on the last day
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert ["hot table: 2 kB at the end", "archived: 2 kB at the end"] == labels
    assert "14 days" in ax.get_title() and "kB" in ax.get_ylabel()


def test_causation_graph_draws_one_box_per_event_and_one_arrow_per_cause() -> None:
    store = EventStore(clock=TickingClock(datetime(2024, 3, 1, tzinfo=UTC)), new_id=seeded_ids(2))
    store.append(
        "account-1",
        [bank.AccountOpened("Ada"), bank.MoneyDeposited(Decimal(99))],
        expected_version=0,
    )
    root = audit.record_failed_checkout(
        store, order_id="order-1", account_id="account-1", customer_id="customer-1"
    )
    layout = audit.tree_layout(audit.flow(store, str(root.event_id)))
    ax = plots.causation_graph(layout)
    labels = sorted(t.get_text().replace("\n", "") for t in ax.texts)
    assert sorted(layout["event_type"]) == labels
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert int(layout["parent"].notna().sum()) == len(arrows)
    legend = ax.get_legend()
    assert legend is not None
    assert ["account-1", "order-1"] == [t.get_text() for t in legend.get_texts()]
