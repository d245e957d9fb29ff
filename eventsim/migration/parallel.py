"""Both models side by side: the same commands to each, their states compared per batch.

The old model is ``AccountsTable`` (rows overwritten in place); the new one appends the
events ``bank.decide`` returns. The comparison reads the new side through the SQL fold
(``all_states``), not through the Python ``evolve`` that ``decide`` was fed with, so the
two sides are checked by independent code. Reads switch over once every batch agrees.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import pandas as pd

from eventsim.catalog import EventStore
from eventsim.domains import bank
from eventsim.errors import DomainError, InvalidArgument
from eventsim.replay import all_states, fold

Rows = Mapping[str, Mapping[str, object]]
AccountCommand = tuple[str, bank.Command]


def cents(amount: object) -> int:
    """An amount as whole cents, so a DECIMAL row and a DOUBLE column compare exactly."""
    return int((Decimal(str(amount)) * 100).to_integral_value())


def mismatches(rows: Rows, states: pd.DataFrame) -> list[str]:
    """The sorted account ids whose owner, balance (to the cent) or status differ between
    the table's rows and the event store's states, or that only one side has.

    >>> rows = {"account-1": {"owner": "Ada", "balance": Decimal("5"), "status": "open"}}
    >>> states = pd.DataFrame({"account_id": ["account-1"], "owner": ["Ada"],
    ...                        "balance": [5.0], "status": ["open"]})
    >>> mismatches(rows, states), mismatches({}, states)
    ([], ['account-1'])
    """
    old = {key: (row["owner"], cents(row["balance"]), row["status"]) for key, row in rows.items()}
    new = {
        key: (owner, cents(balance), status)
        for key, owner, balance, status in zip(
            states.account_id, states.owner, states.balance, states.status, strict=True
        )
    }
    return sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))


def handle_event_sourced(store: EventStore, account_id: str, command: bank.Command) -> None:
    """The new write path: load the stream, decide, append at the version it was read at."""
    events = store.read_stream(account_id)
    state = fold(events, bank) if events else bank.INITIAL_STATE
    store.append(account_id, bank.decide(state, command), expected_version=state.version)


def run_side_by_side(
    table: bank.AccountsTable, store: EventStore, batches: Iterable[Sequence[AccountCommand]]
) -> pd.DataFrame:
    """Send every command to both models; after each batch, compare their states.

    One row per batch: the commands sent, how many each model refused (a rule said no),
    and the accounts whose states differ (0 is the goal, batch after batch).
    """
    report = []
    for number, batch in enumerate(batches, start=1):
        refused = {"old": 0, "new": 0}
        for account_id, command in batch:
            try:
                table.handle(account_id, command)
            except DomainError:
                refused["old"] += 1
            try:
                handle_event_sourced(store, account_id, command)
            except DomainError:
                refused["new"] += 1
        differing = mismatches(table.rows, all_states(store, "bank"))
        report.append(
            {
                "batch": number,
                "commands": len(batch),
                "refused_by_old": refused["old"],
                "refused_by_new": refused["new"],
                "accounts_differing": len(differing),
            }
        )
    return pd.DataFrame(report).set_index("batch")


def random_commands(
    account_ids: Sequence[str], *, batches: int, size: int, seed: int
) -> list[list[AccountCommand]]:
    """Seeded batches of deposits, withdrawals (some too large) and a few closings."""
    if batches < 1 or size < 1:
        raise InvalidArgument(f"batches and size must be at least 1, got {batches} and {size}")
    rng = random.Random(seed)
    ids = sorted(account_ids)

    def one() -> AccountCommand:
        amount = Decimal(rng.randint(100, 60_000)) / 100
        kind = rng.choices(["deposit", "withdraw", "close"], weights=[55, 42, 3])[0]
        command: bank.Command = (
            bank.Deposit(amount)
            if kind == "deposit"
            else bank.Withdraw(amount)
            if kind == "withdraw"
            else bank.CloseAccount()
        )
        return rng.choice(ids), command

    return [[one() for _ in range(size)] for _ in range(batches)]


@dataclass
class AccountReads:
    """Where the application reads a balance from: the old table until the switch."""

    table: bank.AccountsTable
    store: EventStore
    source: Literal["table", "events"] = "table"

    def balance(self, account_id: str) -> Decimal:
        if self.source == "table":
            return Decimal(str(self.table.rows[account_id]["balance"]))
        account: bank.Account = fold(self.store.read_stream(account_id), bank)
        return account.balance

    def switch_to_events(self) -> None:
        """Read from the event store from now on; refused while the two models disagree."""
        differing = mismatches(self.table.rows, all_states(self.store, "bank"))
        if differing:
            raise InvalidArgument(
                f"cannot switch reads: accounts differing: {len(differing)}, "
                f"first {differing[0]!r}; find the write that reached only one model "
                "and replay it to the other"
            )
        self.source = "events"
