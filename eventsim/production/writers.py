"""Several writer processes on one PostgreSQL store, colliding on a few hot streams.

Each writer runs commands: read a stream's version, append one to three deposits
expecting that version, and on ``ConcurrencyError`` read again and retry. ``run_writers``
starts them as separate processes (separate interpreters, as separate services would be)
and gathers what each was told was stored and how often it had to retry.
"""

from __future__ import annotations

import multiprocessing
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from eventsim.catalog import open_store
from eventsim.errors import ConcurrencyError, InvalidArgument
from eventsim.events import Event, NewEvent
from eventsim.store import EventStoreContract

# Children fork from a server that has already imported eventsim: a start costs
# milliseconds, not a fresh interpreter's imports.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["eventsim.production.writers"])


@dataclass
class WritersReport:
    acknowledged: list[str] = field(default_factory=list)  # event ids the store confirmed
    conflicts: int = 0  # appends refused for a stale expected version, then retried
    per_writer: list[int] = field(default_factory=list)  # events each writer got in


def run_writers(url: str, *, writers: int, commands: int, streams: int) -> WritersReport:
    """Run ``writers`` processes of ``commands`` commands each on ``streams`` hot streams."""
    for name, value in (("writers", writers), ("commands", commands), ("streams", streams)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgument(f"{name} must be a whole number >= 1, got {value!r}")
    pipes, processes = [], []
    for writer in range(writers):
        receiver, sender = _CONTEXT.Pipe(duplex=False)
        process = _CONTEXT.Process(target=hot_writer, args=(url, writer, commands, streams, sender))
        process.start()
        sender.close()  # the child holds the only write end: its death ends the pipe
        pipes.append(receiver)
        processes.append(process)
    report = WritersReport()
    for pipe in pipes:
        acknowledged, conflicts = pipe.recv()
        report.acknowledged += acknowledged
        report.conflicts += conflicts
        report.per_writer.append(len(acknowledged))
    for process in processes:
        process.join(60)
    return report


def hot_writer(url: str, writer: int, commands: int, streams: int, sender: Connection) -> None:
    """One writer process: its commands, then (acknowledged ids, conflicts) to the parent."""
    rng = random.Random(writer)  # seeded: the same commands on every run
    acknowledged: list[str] = []
    conflicts = 0
    with open_store(url) as store:
        for _ in range(commands):
            stream_id = f"account-hot-{rng.randrange(streams)}"
            deposits = [
                NewEvent("MoneyDeposited", {"amount": rng.randint(1, 99)})
                for _ in range(rng.randint(1, 3))
            ]
            version, retries = _append_with_retry(store, stream_id, deposits)
            conflicts += retries
            acknowledged += _ids(store.read_stream(stream_id)[version - len(deposits) : version])
    sender.send((acknowledged, conflicts))
    sender.close()


def _append_with_retry(
    store: EventStoreContract, stream_id: str, deposits: Sequence[NewEvent]
) -> tuple[int, int]:
    """Append expecting the version just read; on a conflict read again. (version, retries)"""
    retries = 0
    while True:
        expected = store.version(stream_id)
        try:
            return store.append(stream_id, deposits, expected_version=expected), retries
        except ConcurrencyError:
            retries += 1


def _ids(events: Sequence[Event]) -> list[str]:
    return [str(event.event_id) for event in events]
