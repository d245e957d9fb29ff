"""Genesis events: the first events of a stream, written from a state table's row.

A table keeps only each account's present, so that is all a migration can write: the
account opened, its balance as one deposit, and its closing. Every genesis event carries
``{"migrated": true}`` in its metadata: it records what the old table said at the
migration, not a deposit a customer made, and reports that count deposits must skip it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd

from eventsim.catalog import EventStore
from eventsim.domains import bank
from eventsim.errors import InvalidArgument
from eventsim.events import DomainEvent, NewEvent, as_new_event

MIGRATED = {"migrated": True}
"""The metadata every genesis event carries."""

CLOSED_BEFORE_MIGRATION = "closed before the migration"


class UnmigratableRow(InvalidArgument):
    """A table row that no stream of events can start from."""


def genesis_events(row: Mapping[str, object]) -> list[NewEvent]:
    """The events that start an account's stream from its row in ``AccountsTable``.

    >>> [e.event_type for e in genesis_events({"owner": "Ada", "balance": 5, "status": "open"})]
    ['AccountOpened', 'MoneyDeposited']
    """
    status, balance = row.get("status"), Decimal(str(row.get("balance", 0)))
    if status not in ("open", "closed"):
        raise UnmigratableRow(
            f"cannot migrate a row with status {status!r}: open or close it first"
        )
    events: list[bank.BankEvent] = [bank.AccountOpened(str(row["owner"]))]
    if balance:
        events.append(bank.MoneyDeposited(balance))
    if status == "closed":
        events.append(bank.AccountClosed(CLOSED_BEFORE_MIGRATION))
    return [as_new_event(event, MIGRATED) for event in events]


def genesis_frame(
    rows: Mapping[str, Mapping[str, object]], *, at: datetime, new_id: Callable[[], uuid.UUID]
) -> pd.DataFrame:
    """Every row's genesis events on the event store's columns, versions 1..n per account."""
    records = [
        {
            "stream_id": account_id,
            "version": version,
            "event_id": str(new_id()),
            "event_type": event.event_type,
            "data": json.dumps(dict(event.data)),
            "metadata": json.dumps(dict(event.metadata)),
            "timestamp": at,
        }
        for account_id in sorted(rows)
        for version, event in enumerate(genesis_events(rows[account_id]), start=1)
    ]
    return pd.DataFrame.from_records(records)


def migrate(
    rows: Mapping[str, Mapping[str, object]],
    store: EventStore,
    folder: Path,
    *,
    at: datetime,
    new_id: Callable[[], uuid.UUID],
) -> int:
    """Load every row's genesis events into the store in one checked, all-or-nothing bulk
    load (through a Parquet file in ``folder``); return how many events were written.

    A stream that already exists makes the whole load refuse (its versions would not
    continue from the head), so a second run cannot double a balance.
    """
    path = Path(folder) / "genesis.parquet"
    genesis_frame(rows, at=at, new_id=new_id).to_parquet(path, index=False)
    return store.load_parquet(path)


def legacy_table(history: pd.DataFrame) -> bank.AccountsTable:
    """The old system after living through ``history``: each event replayed as its command.

    The table keeps only the rows; the history is what it saw and did not keep.
    """
    table = bank.AccountsTable()
    ordered = history.sort_values(["timestamp", "stream_id", "version"])
    for account_id, command in _commands(ordered):
        table.handle(account_id, command)
    return table


def _commands(history: pd.DataFrame) -> Iterator[tuple[str, bank.Command]]:
    for account_id, event_type, data in zip(
        history.stream_id, history.event_type, history.data, strict=True
    ):
        payload = json.loads(data) if isinstance(data, str) else dict(data)
        yield account_id, _command_for(bank.EVENT_TYPES[event_type].from_data(payload))


def _command_for(event: DomainEvent) -> bank.Command:
    match event:
        case bank.AccountOpened(owner=owner):
            return bank.OpenAccount(owner)
        case bank.MoneyDeposited(amount=amount):
            return bank.Deposit(amount)
        case bank.MoneyWithdrawn(amount=amount):
            return bank.Withdraw(amount)
        case bank.AccountClosed(reason=reason):
            return bank.CloseAccount(reason)
    raise InvalidArgument(f"no bank command produces {event!r}")
