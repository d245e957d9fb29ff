"""The typed companion table agrees with event_store, whatever wrote the events."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventsim import EventStore, InvalidArgument
from eventsim.domains import bank
from eventsim.sim import bank as bank_sim
from eventsim.sim import orders as orders_sim
from eventsim.sql import bank as bank_sql
from eventsim.store import remove_streams
from tests.strategies import amounts

TYPED_FROM_JSON = """
SELECT stream_id, version, event_type, timestamp,
       CASE WHEN event_type IN ('MoneyDeposited', 'MoneyWithdrawn', 'PaymentCharged',
                                'PaymentRefunded')
            THEN CAST(data->>'amount' AS DECIMAL(38, 2)) END AS amount
FROM event_store ORDER BY stream_id, version
"""
TYPED = "SELECT * FROM event_typed ORDER BY stream_id, version"


def rows(store: EventStore, query: str) -> list[tuple[object, ...]]:
    return store.connection.execute(query).fetchall()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), accounts=st.integers(1, 30))
def test_after_a_load_the_companion_holds_each_event_typed(
    tmp_path_factory: object, seed: int, accounts: int
) -> None:
    folder = tmp_path_factory.mktemp("load")  # type: ignore[attr-defined]
    path = folder / "bank.parquet"
    pq.write_table(bank_sim.simulate(accounts, seed=seed, days=30), path)
    with EventStore() as store:
        store.load_parquet(path)
        assert rows(store, TYPED_FROM_JSON) == rows(store, TYPED)


def test_after_appends_the_companion_holds_each_event_typed_with_exact_amounts() -> None:
    with EventStore() as store:
        store.append("account-1", [bank.AccountOpened("Ada")], expected_version=0)
        store.append(
            "account-1",
            [bank.MoneyDeposited(Decimal("12.30")), bank.MoneyWithdrawn(Decimal("0.01"))],
            expected_version=1,
        )
        typed = rows(store, TYPED)
        assert rows(store, TYPED_FROM_JSON) == typed
        assert [None, Decimal("12.30"), Decimal("0.01")] == [row[-1] for row in typed]


def test_orders_payments_carry_their_amount_in_the_companion(tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    pq.write_table(orders_sim.simulate(40, seed=3, days=20), path)
    with EventStore() as store:
        store.load_parquet(path)
        assert rows(store, TYPED_FROM_JSON) == rows(store, TYPED)


def test_a_store_file_from_before_the_companion_gets_it_filled_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with EventStore(path) as store:
        store.append("account-1", [bank.AccountOpened("Ada")], expected_version=0)
        store.connection.execute("DROP TABLE event_typed")
    with EventStore(path) as reopened:
        assert rows(reopened, TYPED_FROM_JSON) == rows(reopened, TYPED)


def test_removing_streams_deletes_their_events_from_the_log_and_the_companion() -> None:
    with EventStore() as store:
        for stream in ("account-1", "account-2", "account-3"):
            store.append(stream, [bank.AccountOpened("Ada")], expected_version=0)
        store.append("account-1", [bank.MoneyDeposited(Decimal(5))], expected_version=1)
        removed = remove_streams(store.connection, ["account-1", "account-3"])
        assert 3 == removed
        assert [("account-2",)] == rows(store, "SELECT DISTINCT stream_id FROM event_store")
        assert [("account-2",)] == rows(store, "SELECT DISTINCT stream_id FROM event_typed")


def test_a_removed_stream_keeps_its_head_so_its_versions_never_repeat() -> None:
    with EventStore() as store:
        store.append("account-1", [bank.AccountOpened("Ada")], expected_version=0)
        remove_streams(store.connection, ["account-1"])
        assert 1 == store.version("account-1")


def test_removing_streams_inside_the_callers_transaction_rolls_back_with_it() -> None:
    with EventStore() as store:
        store.append("account-1", [bank.AccountOpened("Ada")], expected_version=0)
        store.connection.begin()
        remove_streams(store.connection, ["account-1"], own_transaction=False)
        store.connection.rollback()
        assert [(1,)] == rows(store, "SELECT count(*) FROM event_store")
        assert [(1,)] == rows(store, "SELECT count(*) FROM event_typed")


def test_removing_streams_refuses_a_single_string_and_changes_nothing() -> None:
    with EventStore() as store:
        store.append("account-1", [bank.AccountOpened("Ada")], expected_version=0)
        with pytest.raises(InvalidArgument, match="list of stream ids"):
            remove_streams(store.connection, "account-1")
        assert [(1,)] == rows(store, "SELECT count(*) FROM event_typed")


def test_the_bank_fold_over_the_companion_matches_evolve_for_a_late_owner_name() -> None:
    moment = datetime(2024, 1, 2, tzinfo=UTC)
    with EventStore(clock=lambda: moment) as store:
        store.append("account-1", [bank.AccountOpened("Zoë")], expected_version=0)
        state = store.sql(bank_sql.STATE_SQL, [moment])
        assert [("account-1", "Zoë", Decimal(0), "open", 1)] == list(
            state.itertuples(index=False, name=None)
        )


def test_a_one_event_append_writes_the_same_rows_as_a_batch_would() -> None:
    moment = datetime(2024, 1, 2, tzinfo=UTC)
    with EventStore(clock=lambda: moment) as single, EventStore(clock=lambda: moment) as batched:
        events = [bank.AccountOpened("Ada"), bank.MoneyDeposited(Decimal("7.05"))]
        single.append("account-1", events[:1], expected_version=0)
        single.append("account-1", events[1:], expected_version=1)
        batched.append("account-1", events, expected_version=0)
        columns = "stream_id, version, event_type, data, metadata, timestamp, position"
        query = f"SELECT {columns} FROM event_store ORDER BY position"
        assert rows(batched, query) == rows(single, query)
        assert rows(batched, TYPED) == rows(single, TYPED)
        assert (
            rows(batched, "SELECT * FROM event_streams")[0][:2]
            == rows(single, "SELECT * FROM event_streams")[0][:2]
        )


@settings(max_examples=60, deadline=None)
@given(
    amount=st.one_of(
        amounts,
        st.integers(1, 10**15 - 1).map(lambda cents: Decimal(cents) / 100),
        st.integers(1, 10**20).map(Decimal),
    )
)
def test_an_appended_event_s_typed_amount_equals_the_one_the_sql_extracts_from_its_json(
    amount: Decimal,
) -> None:
    """Appends type the amount from the parsed event; loads and rebuilds extract it from
    the stored JSON: alone and in a batch, the two agree."""
    with EventStore() as store:
        opened = bank.AccountOpened("Ada")
        store.append("account-1", [opened], expected_version=0)
        store.append("account-1", [bank.MoneyDeposited(amount)], expected_version=1)
        store.append("account-2", [opened, bank.MoneyDeposited(amount)], expected_version=0)
        typed = rows(store, TYPED)
        assert rows(store, TYPED_FROM_JSON) == typed
        assert [None, amount, None, amount] == [row[4] for row in typed]
