"""Snapshots are a cache: a load from a snapshot plus the tail is the full replay, always."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim import EventStore, StreamNotFound, TickingClock, bank, fold, seeded_ids
from eventsim.errors import InvalidArgument
from eventsim.evolution.snapshots import (
    Snapshots,
    SnapshotSchemaMismatch,
    every,
    long_account,
    rehydration_cost,
    state_from_json,
    state_to_json,
    tail_below,
    versions_due,
)
from eventsim.sim import orders as orders_sim

START = datetime(2024, 3, 1, 9, tzinfo=UTC)
STEP = timedelta(minutes=1)


def new_store() -> EventStore:
    return EventStore(clock=TickingClock(START, STEP), new_id=seeded_ids(3))


def new_snapshots(store: EventStore, every: int | None = None) -> Snapshots:
    return Snapshots(store, every=every, clock=TickingClock(datetime(2025, 1, 1, tzinfo=UTC)))


@st.composite
def account_histories(draw: st.DrawFn) -> list[bank.BankEvent]:
    """A valid account history: opened, deposits and withdrawals that never overdraw."""
    events: list[bank.BankEvent] = [bank.AccountOpened("Grace Hopper")]
    balance = Decimal(0)
    for cents in draw(st.lists(st.integers(1, 10**7), max_size=30)):
        amount = Decimal(cents) / 100
        if draw(st.booleans()) and balance >= amount:
            balance -= amount
            events.append(bank.MoneyWithdrawn(amount))
        else:
            balance += amount
            events.append(bank.MoneyDeposited(amount))
    return events


@settings(max_examples=60, deadline=None)
@given(history=account_histories(), data=st.data())
def test_snapshot_plus_tail_equals_full_replay(
    history: list[bank.BankEvent], data: st.DataObject
) -> None:
    n = len(history)
    snapshot_at = data.draw(st.integers(1, n), label="snapshot version")
    target = data.draw(st.integers(1, n), label="target version")
    minutes = data.draw(st.integers(0, n - 1), label="as_of, minutes after the first event")
    with new_store() as store:
        store.append("account-1", history, expected_version=0)
        snapshots = new_snapshots(store)
        snapshots.take("account-1", to_version=snapshot_at)
        as_of = START + minutes * STEP

        assert fold(store.read_stream("account-1", to_version=target)) == (
            snapshots.load("account-1", to_version=target).state
        )
        assert fold(store.read_stream("account-1", as_of=as_of)) == (
            snapshots.load("account-1", as_of=as_of).state
        )


def test_a_load_without_snapshots_folds_every_event() -> None:
    with new_store() as store:
        store.append("account-1", list(long_account(40, seed=1)), expected_version=0)
        loaded = new_snapshots(store).load("account-1")
    assert (0, 40, 40) == (loaded.snapshot_version, loaded.events_folded, loaded.state.version)


def test_a_load_folds_only_the_events_after_the_latest_snapshot() -> None:
    with new_store() as store:
        store.append("account-1", list(long_account(40, seed=1)), expected_version=0)
        snapshots = new_snapshots(store)
        snapshots.take_every("account-1", 15)
        loaded = snapshots.load("account-1")
    assert (30, 10) == (loaded.snapshot_version, loaded.events_folded)


def test_a_snapshot_newer_than_the_wanted_version_is_not_used() -> None:
    with new_store() as store:
        store.append("account-1", list(long_account(40, seed=1)), expected_version=0)
        snapshots = new_snapshots(store)
        snapshots.take("account-1")  # at 40
        snapshots.take("account-1", to_version=10)
        loaded = snapshots.load("account-1", to_version=25)
        expected = fold(store.read_stream("account-1", to_version=25))
    assert (10, 15, expected) == (loaded.snapshot_version, loaded.events_folded, loaded.state)


def test_as_of_skips_a_snapshot_whose_event_came_after_that_moment() -> None:
    with new_store() as store:
        store.append("account-1", list(long_account(40, seed=1)), expected_version=0)
        snapshots = new_snapshots(store)
        snapshots.take("account-1", to_version=30)
        as_of = START + 19 * STEP  # the time of version 20
        loaded = snapshots.load("account-1", as_of=as_of)
    assert (0, 20) == (loaded.snapshot_version, loaded.state.version)


def test_the_policy_takes_a_snapshot_at_every_multiple_of_the_interval() -> None:
    events = list(long_account(23, seed=2))
    with new_store() as store:
        snapshots = new_snapshots(store, every=5)
        snapshots.append("account-1", events[:7], expected_version=0)
        snapshots.append("account-1", events[7:9], expected_version=7)
        snapshots.append("account-1", events[9:], expected_version=9)
        versions = snapshots.table()["version"].tolist()
    assert [5, 10, 15, 20] == versions


def test_write_cost_counts_each_new_snapshot_row_and_its_bytes_once() -> None:
    with new_store() as store:
        store.append("account-1", list(long_account(10, seed=1)), expected_version=0)
        snapshots = new_snapshots(store)
        snapshots.take("account-1")
        snapshots.take("account-1")  # already there: no new row
        (stored_bytes,) = store.connection.execute(
            "SELECT sum(strlen(CAST(state AS VARCHAR))) FROM snapshots"
        ).fetchone()
    assert (1, stored_bytes) == (snapshots.write_cost.rows, snapshots.write_cost.bytes)


def test_the_state_json_keeps_every_digit_of_money() -> None:
    account = bank.Account("Ada", Decimal("12345678901234.56"), "open", 9)
    assert account == state_from_json("bank", json.loads(json.dumps(state_to_json(account))))


def load_orders(tmp_path: Path) -> EventStore:
    path = tmp_path / "orders.parquet"
    pq.write_table(orders_sim.simulate(30, seed=5), path)
    store = EventStore()
    store.load_parquet(path)
    return store


def test_orders_load_from_snapshots_like_a_full_replay(tmp_path: Path) -> None:
    with load_orders(tmp_path) as store:
        snapshots = new_snapshots(store)
        streams = store.sql("SELECT stream_id FROM event_streams ORDER BY 1")["stream_id"]
        for stream_id in streams:
            snapshots.take_every(stream_id, 2)
        expected = [fold(store.read_stream(s)) for s in streams]
        actual = [snapshots.load(s).state for s in streams]
        assert sum(snapshots.load(s).snapshot_version > 0 for s in streams) > 0
    assert expected == actual


def test_rehydration_cost_is_the_distance_to_the_last_snapshot() -> None:
    costs = rehydration_cost([7, 20, 33], [None, 10], seed=4)
    expected = [7, 20, 33, 7, 0, 3]
    assert expected == costs["events_folded"].tolist()
    assert costs.equals(rehydration_cost([7, 20, 33], [None, 10], seed=4))


def test_loading_a_stream_that_does_not_exist_raises_stream_not_found() -> None:
    with new_store() as store, pytest.raises(StreamNotFound, match="account-9"):
        new_snapshots(store).load("account-9")


@pytest.mark.parametrize("bad", [0, -3, True, 2.5])
def test_a_bad_interval_is_refused_with_its_value(bad: object) -> None:
    with new_store() as store, pytest.raises(InvalidArgument, match=repr(bad)):
        Snapshots(store, every=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -3, True])
def test_take_every_refuses_a_bad_interval_and_writes_nothing(bad: int) -> None:
    with new_store() as store:
        store.append("account-1", list(long_account(3, seed=1)), expected_version=0)
        snapshots = new_snapshots(store)
        with pytest.raises(InvalidArgument, match=repr(bad)):
            snapshots.take_every("account-1", bad)
        assert snapshots.table().empty


def test_a_bad_target_version_is_refused_with_its_value() -> None:
    with new_store() as store:
        store.append("account-1", list(long_account(3, seed=1)), expected_version=0)
        with pytest.raises(InvalidArgument, match="to_version.*0"):
            new_snapshots(store).load("account-1", to_version=0)


def test_as_of_before_the_stream_existed_is_refused() -> None:
    with new_store() as store:
        store.append("account-1", list(long_account(3, seed=1)), expected_version=0)
        with pytest.raises(InvalidArgument, match="did not exist yet"):
            new_snapshots(store).load("account-1", as_of=START - STEP)


def test_a_snapshot_of_an_older_state_shape_is_refused_not_misread() -> None:
    with new_store() as store:
        store.append("account-1", list(long_account(3, seed=1)), expected_version=0)
        snapshots = new_snapshots(store)
        snapshots.take("account-1")
        store.connection.execute("UPDATE snapshots SET state_schema = 0")
        with pytest.raises(SnapshotSchemaMismatch, match="state schema 0"):
            snapshots.load("account-1")


# -- policies ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("last", "new", "max_tail", "expected"),
    [(0, 60, 25, [25, 50]), (30, 60, 25, [55]), (0, 24, 25, []), (10, 11, 1, [11])],
)
def test_versions_due_snapshot_as_late_as_the_tail_allows(
    last: int, new: int, max_tail: int, expected: list[int]
) -> None:
    assert expected == versions_due(last, new, max_tail)


def test_a_tail_policy_counts_from_the_latest_snapshot_even_one_taken_on_demand() -> None:
    events = list(long_account(70, seed=5))
    with new_store() as store:
        snapshots = Snapshots(store, policy=tail_below(20), clock=TickingClock(START))
        snapshots.append("account-1", events[:30], expected_version=0)  # 20
        snapshots.take("account-1", to_version=27)
        snapshots.append("account-1", events[30:], expected_version=30)  # 47, 67
        versions = snapshots.table()["version"].tolist()
        folded = [snapshots.load("account-1", to_version=v).events_folded for v in range(1, 71)]
        replays_match = all(
            snapshots.load("account-1", to_version=v).state
            == fold(store.read_stream("account-1", to_version=v))
            for v in range(1, 71)
        )
    assert [20, 27, 47, 67] == versions
    assert max(folded) == 19 and replays_match


def test_every_and_policy_are_one_or_the_other_and_a_policy_cannot_snapshot_the_future() -> None:
    with new_store() as store:
        with pytest.raises(InvalidArgument, match="not both"):
            Snapshots(store, every=5, policy=every(5))
        ahead = Snapshots(store, policy=lambda last, new: [new + 1])
        with pytest.raises(InvalidArgument, match="version 4; the stream has versions 1 to 3"):
            ahead.append("account-1", list(long_account(3, seed=1)), expected_version=0)
