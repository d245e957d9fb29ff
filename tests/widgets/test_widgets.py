"""The time-travel slider: its pure functions on a real store, and the widget wired to them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot

import pandas as pd
import pytest

from eventsim import EventStore, InvalidArgument, TickingClock, bank, history, seeded_ids, widgets

ACCOUNT = "account-42"
START = datetime(2024, 1, 10, 9, tzinfo=UTC)


@pytest.fixture
def account_42_store() -> Iterator[EventStore]:
    """Account #42: opened, $1000 in, $200 and $50 out, 20 days apart from January 10."""
    clock = TickingClock(START, step=timedelta(days=20))
    with EventStore(clock=clock, new_id=seeded_ids(1)) as store:
        events = [
            bank.AccountOpened("Ada Lovelace"),
            bank.MoneyDeposited(Decimal("1000")),
            bank.MoneyWithdrawn(Decimal("200")),
            bank.MoneyWithdrawn(Decimal("50")),
        ]
        store.append(ACCOUNT, events, expected_version=0)
        yield store


@pytest.fixture
def account(account_42_store: EventStore) -> pd.DataFrame:
    return history(account_42_store, ACCOUNT)


def test_statement_lists_each_event_with_its_amount_and_the_balance_after_it(
    account: pd.DataFrame,
) -> None:
    rows = widgets.statement(account)

    assert ["version", "timestamp", "event_type", "amount", "balance"] == list(rows.columns)
    assert [1, 2, 3, 4] == list(rows["version"])
    assert [None, Decimal("1000.00"), Decimal("200.00"), Decimal("50.00")] == list(rows["amount"])
    assert [Decimal(0), Decimal(1000), Decimal(800), Decimal(750)] == list(rows["balance"])


def test_a_frame_holds_the_state_right_after_its_version(account: pd.DataFrame) -> None:
    frame = widgets.time_travel_frame(account, 3)

    assert 3 == frame["version"]
    assert 4 == frame["last_version"]
    assert Decimal("800") == frame["balance"]
    assert "open" == frame["status"]
    assert "MoneyWithdrawn" == frame["event_type"]
    assert START + timedelta(days=40) == frame["timestamp"]


def test_a_frame_holds_only_the_events_up_to_its_version(account: pd.DataFrame) -> None:
    frame = widgets.time_travel_frame(account, 2)

    assert [1, 2] == list(frame["events"]["version"])


def test_a_frame_outside_the_stream_is_refused_with_the_valid_range(
    account: pd.DataFrame,
) -> None:
    with pytest.raises(InvalidArgument, match="from 1 to 4, got 5"):
        widgets.time_travel_frame(account, 5)
    with pytest.raises(InvalidArgument, match="got 0"):
        widgets.time_travel_frame(account, 0)


def test_a_described_frame_says_where_it_is_and_what_the_balance_was(
    account: pd.DataFrame,
) -> None:
    text = widgets.describe_frame(widgets.time_travel_frame(account, 3))

    lines = text.splitlines()
    assert "version 3 of 4, 2024-02-19 09:00:00 UTC (MoneyWithdrawn)" == lines[0]
    assert "balance $800.00, status open" == lines[1]
    assert "2024-02-19 09:00" in lines[-1]
    assert "200.00" in lines[-1]


def test_a_described_frame_shows_only_the_last_events_and_counts_the_rest(
    account: pd.DataFrame,
) -> None:
    text = widgets.describe_frame(widgets.time_travel_frame(account, 4), last=2)

    assert "... and 2 earlier events" == text.splitlines()[-1]
    assert 2 + 1 + 2 + 1 == len(text.splitlines())  # heading, table header, 2 rows, count


def test_the_slider_spans_the_streams_versions_and_starts_at_the_latest(
    account_42_store: EventStore,
) -> None:
    widget = widgets.time_travel(account_42_store, ACCOUNT)

    slider = widget.children[1]
    assert (1, 4, 4) == (slider.min, slider.max, slider.value)


def test_the_output_follows_the_slider(account_42_store: EventStore, account: pd.DataFrame) -> None:
    widget = widgets.time_travel(account_42_store, ACCOUNT)
    _, slider, output = widget.children

    slider.value = 2

    expected = widgets.describe_frame(widgets.time_travel_frame(account, 2)) + "\n"
    assert expected == output.outputs[0]["text"]
    assert "image/png" in output.outputs[1]["data"]


def test_the_output_changes_when_the_slider_moves(account_42_store: EventStore) -> None:
    _, slider, output = widgets.time_travel(account_42_store, ACCOUNT).children
    at_latest = output.outputs[0]["text"]

    slider.value = 1

    assert at_latest != output.outputs[0]["text"]
    assert output.outputs[0]["text"].startswith("version 1 of 4")
