"""Both models side by side: same commands, same states, and reads switched only then."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from eventsim import EventStore, InvalidArgument, all_states, bank, seeded_ids
from eventsim.migration import genesis, parallel

AT = datetime(2024, 5, 1, 9, tzinfo=UTC)


def migrated(tmp_path: Path) -> tuple[bank.AccountsTable, EventStore]:
    table = bank.AccountsTable()
    for account_id, owner, amount in [("account-1", "Ada", "100"), ("account-2", "Grace", "5")]:
        table.handle(account_id, bank.OpenAccount(owner))
        table.handle(account_id, bank.Deposit(Decimal(amount)))
    store = EventStore()
    genesis.migrate(table.rows, store, tmp_path, at=AT, new_id=seeded_ids(1))
    return table, store


def states(*rows: tuple[str, str, float, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["account_id", "owner", "balance", "status"])


def test_states_that_agree_to_the_cent_have_no_mismatch() -> None:
    rows = {"account-1": {"owner": "Ada", "balance": Decimal("0.10"), "status": "open"}}

    assert [] == parallel.mismatches(rows, states(("account-1", "Ada", 0.1, "open")))


def test_a_differing_balance_status_owner_or_a_missing_account_is_a_mismatch() -> None:
    rows = {
        "account-1": {"owner": "Ada", "balance": Decimal("1.00"), "status": "open"},
        "account-2": {"owner": "Bo", "balance": Decimal("0"), "status": "open"},
        "account-3": {"owner": "Cy", "balance": Decimal("0"), "status": "open"},
        "account-4": {"owner": "Di", "balance": Decimal("0"), "status": "open"},
    }
    new = states(
        ("account-1", "Ada", 1.01, "open"),
        ("account-2", "Bo", 0.0, "closed"),
        ("account-3", "Cyd", 0.0, "open"),
        ("account-5", "Ed", 0.0, "open"),
    )

    expected = ["account-1", "account-2", "account-3", "account-4", "account-5"]
    assert expected == parallel.mismatches(rows, new)


def test_the_same_commands_keep_both_models_equal_batch_after_batch(tmp_path: Path) -> None:
    table, store = migrated(tmp_path)
    batches = parallel.random_commands(list(table.rows), batches=3, size=20, seed=7)

    report = parallel.run_side_by_side(table, store, batches)

    assert [20, 20, 20] == list(report.commands)
    assert list(report.refused_by_old) == list(report.refused_by_new)
    assert report.refused_by_old.sum() > 0  # the rules were exercised, not only deposits
    assert [0, 0, 0] == list(report.accounts_differing)


def test_a_write_that_reaches_only_the_old_model_shows_up_in_its_batch(tmp_path: Path) -> None:
    table, store = migrated(tmp_path)
    table.handle("account-1", bank.Deposit(Decimal("1")))  # a write path nobody moved over

    report = parallel.run_side_by_side(table, store, [[("account-2", bank.Deposit(Decimal("1")))]])

    assert [1] == list(report.accounts_differing)


def test_reads_switch_to_the_event_store_only_when_both_models_agree(tmp_path: Path) -> None:
    table, store = migrated(tmp_path)
    reads = parallel.AccountReads(table, store)
    table.handle("account-1", bank.Deposit(Decimal("1")))

    with pytest.raises(InvalidArgument, match="accounts differing: 1, first 'account-1'"):
        reads.switch_to_events()
    parallel.handle_event_sourced(store, "account-1", bank.Deposit(Decimal("1")))
    reads.switch_to_events()

    assert "events" == reads.source
    assert Decimal("101") == reads.balance("account-1")
    assert [] == parallel.mismatches(table.rows, all_states(store, "bank"))


def test_random_commands_are_the_same_for_the_same_seed_and_refuse_empty_batches() -> None:
    ids = ["account-1", "account-2"]

    first = parallel.random_commands(ids, batches=2, size=5, seed=3)

    assert first == parallel.random_commands(ids, batches=2, size=5, seed=3)
    with pytest.raises(InvalidArgument, match="got 0 and 5"):
        parallel.random_commands(ids, batches=0, size=5, seed=3)
