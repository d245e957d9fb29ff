"""Genesis events: a table row becomes the first events of its stream, marked as migrated."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from eventsim import EventStore, InvalidDataset, all_states, bank, data_file, seeded_ids, state_at
from eventsim.migration import genesis
from eventsim.migration.parallel import mismatches

AT = datetime(2024, 5, 1, 9, tzinfo=UTC)


def row(status: str, balance: str, owner: str = "Ada") -> dict[str, object]:
    return {"owner": owner, "balance": Decimal(balance), "status": status}


def migrated_state(row: dict[str, object]) -> bank.Account:
    store = EventStore()
    store.append("account-1", genesis.genesis_events(row), expected_version=0)
    return state_at(store, "account-1")


@pytest.mark.parametrize(
    ("status", "balance", "types"),
    [
        ("open", "1019.52", ["AccountOpened", "MoneyDeposited"]),
        ("open", "0", ["AccountOpened"]),
        ("closed", "0", ["AccountOpened", "AccountClosed"]),
    ],
)
def test_a_row_becomes_the_events_that_fold_back_into_the_same_row(
    status: str, balance: str, types: list[str]
) -> None:
    events = genesis.genesis_events(row(status, balance))

    state = migrated_state(row(status, balance))

    assert types == [e.event_type for e in events]
    assert ("Ada", Decimal(balance), status) == (state.owner, state.balance, state.status)


def test_every_genesis_event_is_marked_as_migrated() -> None:
    events = genesis.genesis_events(row("closed", "0"))

    assert [{"migrated": True}] * 2 == [dict(e.metadata) for e in events]


@pytest.mark.parametrize("status", ["new", None, "frozen"])
def test_a_row_that_was_never_opened_is_refused_naming_its_status(status: object) -> None:
    with pytest.raises(genesis.UnmigratableRow, match=f"status {status!r}"):
        genesis.genesis_events({"owner": "Ada", "balance": 0, "status": status})


def test_the_old_system_lived_through_the_whole_history_and_kept_only_rows() -> None:
    history = pd.read_parquet(data_file("bank.parquet"))

    table = genesis.legacy_table(history)

    assert history.stream_id.nunique() == len(table.rows)
    store = EventStore()
    store.load_parquet(data_file("bank.parquet"))
    assert [] == mismatches(table.rows, all_states(store, "bank"))


def test_a_migration_loads_every_row_and_the_store_agrees_with_the_table(tmp_path: Path) -> None:
    rows = {"account-1": row("open", "12.34"), "account-2": row("closed", "0", "Grace")}
    store = EventStore()

    written = genesis.migrate(rows, store, tmp_path, at=AT, new_id=seeded_ids(1))

    assert 4 == written
    assert [] == mismatches(rows, all_states(store, "bank"))
    assert {AT} == set(store.sql("SELECT timestamp FROM event_store").timestamp)


def test_a_second_migration_is_refused_whole_instead_of_doubling_balances(tmp_path: Path) -> None:
    rows = {"account-1": row("open", "12.34")}
    store = EventStore()
    genesis.migrate(rows, store, tmp_path, at=AT, new_id=seeded_ids(1))

    with pytest.raises(InvalidDataset, match="nothing was written"):
        genesis.migrate(rows, store, tmp_path, at=AT, new_id=seeded_ids(2))

    assert Decimal("12.34") == state_at(store, "account-1").balance
