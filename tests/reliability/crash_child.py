"""The process the crash tests kill: it appends (or bulk-loads) numbered batches forever.

``main`` runs in a child process; it sends ``ready`` once the store is open, then the
number N after each batch N is stored, until it is killed. Every batch is a pure
function of its number, so the parent can tell exactly which events a batch holds.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import count
from multiprocessing.connection import Connection
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from eventsim import EventStore, NewEvent
from eventsim.sim import kit as simkit

BATCH = 2_000  # events per appended batch
LOAD_STREAMS, LOAD_EVENTS = 4, 500  # a loaded file: 4 new streams of 500 events each
START = datetime(2024, 1, 1, tzinfo=UTC)


def event_id(batch: int, index: int) -> uuid.UUID:
    return uuid.UUID(int=(batch << 32) | index, version=4)


def append_stream(batch: int) -> str:
    return f"crash-{batch % 3}"


def appended_batch(batch: int) -> list[NewEvent]:
    moment = START + timedelta(seconds=batch)  # later batches are later in time
    return [
        NewEvent("MoneyDeposited", {"amount": 1}, {"batch": batch}, event_id(batch, i), moment)
        for i in range(BATCH)
    ]


def load_streams(batch: int) -> list[str]:
    return [f"load-{batch}-{j}" for j in range(LOAD_STREAMS)]


def loaded_table(batch: int) -> pa.Table:
    """A file of new streams, each with versions 1..LOAD_EVENTS."""
    rows = [
        {
            "stream_id": stream,
            "version": version,
            "event_id": str(event_id(batch, j * LOAD_EVENTS + version)),
            "event_type": "AccountOpened" if version == 1 else "MoneyDeposited",
            "data": '{"owner":"Ada"}' if version == 1 else '{"amount":1}',
            "metadata": f'{{"batch":{batch}}}',
            "timestamp": START + timedelta(seconds=version),
        }
        for j, stream in enumerate(load_streams(batch))
        for version in range(1, LOAD_EVENTS + 1)
    ]
    return pa.Table.from_pylist(rows, schema=simkit.SCHEMA)


def main(mode: str, db: str, first: int, report: Connection) -> None:
    """Write batches ``first``, ``first + 1``, ... and report each once it is stored."""
    with EventStore(db) as store:
        report.send("ready")
        for batch in count(first):
            if mode == "append":
                stream = append_stream(batch)
                events = appended_batch(batch)
                store.append(stream, events, expected_version=store.version(stream))
            else:
                path = Path(db).with_name(f"load-{batch}.parquet")
                pq.write_table(loaded_table(batch), path)
                store.load_parquet(path)
            report.send(batch)
