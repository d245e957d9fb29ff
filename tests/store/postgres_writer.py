"""The writer processes of the PostgreSQL tests: each runs in a process of its own.

``hot_writer`` runs commands against a few hot streams: read the version, append one to
three deposits expecting it, retry on ``ConcurrencyError``; it sends back every event id
the store acknowledged and how many conflicts it met. ``batch_writer`` appends numbered
batches to one stream until it is killed, reporting each batch once stored.
"""

from __future__ import annotations

import random
from itertools import count
from multiprocessing.connection import Connection

from eventsim import ConcurrencyError, NewEvent
from eventsim.catalog import open_store

KILL_BATCH = 500  # events per batch of the writer that gets killed


def hot_writer(url: str, writer: int, commands: int, streams: int, sender: Connection) -> None:
    rng = random.Random(writer)
    acknowledged: list[str] = []
    conflicts = 0
    with open_store(url) as store:
        for _ in range(commands):
            stream_id = f"hot-{rng.randrange(streams)}"
            deposits = [
                NewEvent("MoneyDeposited", {"amount": rng.randint(1, 99)})
                for _ in range(rng.randint(1, 3))
            ]
            while True:
                expected = store.version(stream_id)
                try:
                    store.append(stream_id, deposits, expected_version=expected)
                    break
                except ConcurrencyError:
                    conflicts += 1
            acknowledged += [str(e.event_id) for e in store.read_stream(stream_id)][
                expected : expected + len(deposits)
            ]
    sender.send((acknowledged, conflicts))
    sender.close()


def batch_writer(url: str, stream_id: str, sender: Connection) -> None:
    with open_store(url) as store:
        sender.send("ready")
        for number in count(1):
            batch = [NewEvent("MoneyDeposited", {"amount": number}) for _ in range(KILL_BATCH)]
            store.append(stream_id, batch, expected_version=(number - 1) * KILL_BATCH)
            sender.send(number)
