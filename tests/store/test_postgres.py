"""What only a server can show: several writer processes, a tailing reader, a kill.

The DuckDB store allows one writing process per file; on PostgreSQL any number of
processes write to one store. These tests hold the contract under that load: nothing lost,
nothing duplicated, versions 1..n, positions in commit order, and no reader ever skipping
an event that commits late.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections import Counter

import pytest

from eventsim import NewEvent
from eventsim.catalog import open_store
from eventsim.production.writers import run_writers
from eventsim.store import EventStoreContract
from tests.store import killed_writer

CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(["tests.store.killed_writer"])


def test_the_tables_have_the_canonical_columns_with_server_types(postgres_database: str) -> None:
    with open_store(postgres_database) as store:
        columns = store.sql(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'event_store' ORDER BY ordinal_position"
        )
    assert [
        ("stream_id", "text"),
        ("version", "integer"),
        ("event_id", "uuid"),
        ("event_type", "text"),
        ("data", "jsonb"),
        ("metadata", "jsonb"),
        ("timestamp", "timestamp with time zone"),
        ("position", "bigint"),
    ] == list(columns.itertuples(index=False, name=None))


def tail(store: EventStoreContract, done: threading.Event, seen: list[int]) -> None:
    """Follow the log as a subscriber does: always ask for what comes after the last seen."""
    while True:
        finished = done.is_set()  # read before the last catch-up, so nothing is missed
        seen += [event.position for event in store.read_all(after=seen[-1] if seen else 0)]
        if finished:
            return
        time.sleep(0.002)


@pytest.mark.slow
def test_writer_processes_on_hot_streams_lose_nothing_and_a_tailing_reader_skips_nothing(
    postgres_database: str,
) -> None:
    seen: list[int] = []
    done = threading.Event()
    with open_store(postgres_database) as reader:
        tailing = threading.Thread(target=tail, args=(reader, done, seen))
        tailing.start()
        report = run_writers(postgres_database, writers=4, commands=60, streams=3)
        done.set()
        tailing.join(60)
        stored = reader.read_all()

    print(f"4 writers, {len(report.acknowledged)} events, {report.conflicts} conflicts retried")
    assert report.conflicts > 0, "the writers never collided: the test proves nothing"
    assert sorted(report.acknowledged) == sorted(str(e.event_id) for e in stored)
    assert list(range(1, len(stored) + 1)) == seen  # the tail saw every position, in order
    for stream_id, n in Counter(e.stream_id for e in stored).items():
        versions = [e.version for e in stored if e.stream_id == stream_id]
        assert list(range(1, n + 1)) == versions  # commit order agrees with stream order


@pytest.mark.slow
def test_a_writer_killed_mid_batch_leaves_only_whole_batches(postgres_database: str) -> None:
    receiver, sender = CONTEXT.Pipe(duplex=False)
    child = CONTEXT.Process(
        target=killed_writer.batch_writer, args=(postgres_database, "kill-1", sender)
    )
    child.start()
    sender.close()
    assert receiver.poll(60) and "ready" == receiver.recv()
    assert receiver.poll(60), "the writer stored no batch within a minute"
    reported = [receiver.recv()]
    time.sleep(0.05)
    child.kill()
    child.join(30)
    assert -signal.SIGKILL == child.exitcode
    while receiver.poll():
        try:
            reported.append(receiver.recv())
        except EOFError:
            break
    with open_store(postgres_database) as store:
        events = store.read_all()
        batch = killed_writer.KILL_BATCH
        assert 0 == len(events) % batch  # whole batches only
        assert len(events) // batch >= max(reported)  # every acknowledged batch is there
        assert list(range(1, len(events) + 1)) == [e.position for e in events]
        # The store goes on: the next batch continues the stream.
        version = store.version("kill-1")
        deposit = NewEvent("MoneyDeposited", {"amount": 1})
        assert version + 1 == store.append("kill-1", [deposit], expected_version=version)
