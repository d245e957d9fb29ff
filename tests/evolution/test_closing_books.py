"""Closing the books: each period's stream starts from the balance the last one closed with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eventsim import bank
from eventsim.errors import InvalidArgument
from eventsim.evolution import closing_books
from eventsim.evolution.snapshots import long_account

START = datetime(2024, 3, 1, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)


def replay(events: list[bank.BankEvent]) -> bank.Account:
    """The full replay of one stream's history, from the first event."""
    state = bank.INITIAL_STATE
    for event in events:
        state = bank.evolve(state, event)
    return state


def test_each_period_ends_with_its_closing_balance_and_the_next_starts_with_it() -> None:
    history = list(long_account(130, seed=2))
    store = closing_books.closing_store()

    streams = closing_books.write_in_periods(store, "account-1", history, start=START)

    assert ["account-1.2024-03-01T09", "account-1.2024-03-01T10", "account-1.2024-03-01T11"] == (
        streams
    )
    for closed, opened in zip(streams, streams[1:], strict=False):
        last = store.read_stream(closed)[-1]
        first = store.read_stream(opened)[0]
        assert ("BooksClosed", "BalanceCarriedForward") == (last.event_type, first.event_type)
        assert last.data["closing_balance"] == first.data["opening_balance"]
        assert last.timestamp == first.timestamp


def test_the_current_period_alone_gives_the_full_replays_balance() -> None:
    history = list(long_account(200, seed=4))
    store = closing_books.closing_store()
    streams = closing_books.write_in_periods(store, "account-1", history, start=START)

    loaded = closing_books.load_current(store, streams[-1])

    full = replay(history)
    assert (full.owner, full.balance, full.status) == (
        loaded.state.owner,
        loaded.state.balance,
        loaded.state.status,
    )
    assert 1 + 200 - 3 * 60 == loaded.events_folded  # the carried balance + this hour's events


def test_as_of_a_moment_reads_that_periods_stream_up_to_it() -> None:
    history = list(long_account(100, seed=1))
    store = closing_books.closing_store()
    closing_books.write_in_periods(store, "account-1", history, start=START)
    moment = START + timedelta(minutes=75)  # after event 76, the 16th of the second hour

    loaded = closing_books.load_current(store, "account-1.2024-03-01T10", as_of=moment)

    assert replay(history[:76]).balance == loaded.state.balance
    assert 1 + 16 == loaded.events_folded


def test_the_comparison_agrees_on_every_state_and_bounds_both_folds() -> None:
    table = closing_books.compare_with_snapshots(
        300, seed=3, start=START, every=60, period=HOUR, sample=7
    )

    snapshots, books = table["snapshots every 60 events"], table["books closed every hour"]
    assert snapshots["most events read by a load"] <= 59
    assert books["most events read by a load"] <= 61
    assert (5, 8) == (snapshots["rows added"], books["rows added"])  # 2 per boundary
    assert 5 == books["streams for the account"]


def test_a_bad_period_is_refused_naming_it() -> None:
    with pytest.raises(InvalidArgument, match="period must be a positive timedelta"):
        closing_books.write_in_periods(
            closing_books.closing_store(), "account-1", [], start=START, period=timedelta(0)
        )
