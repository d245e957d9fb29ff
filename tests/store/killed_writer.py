"""The writer the PostgreSQL crash test kills: numbered batches to one stream, forever."""

from __future__ import annotations

from itertools import count
from multiprocessing.connection import Connection

from eventsim import NewEvent
from eventsim.catalog import open_store

KILL_BATCH = 500  # events per batch


def batch_writer(url: str, stream_id: str, sender: Connection) -> None:
    """Send "ready", then each batch's number once the store has acknowledged it."""
    with open_store(url) as store:
        sender.send("ready")
        for number in count(1):
            batch = [NewEvent("MoneyDeposited", {"amount": number}) for _ in range(KILL_BATCH)]
            store.append(stream_id, batch, expected_version=(number - 1) * KILL_BATCH)
            sender.send(number)
