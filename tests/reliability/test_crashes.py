"""A writer killed with SIGKILL at random moments loses no committed batch and leaves no
half batch: the store reopens, every batch is wholly present or wholly absent, and
appending goes on. The same for bulk Parquet loads.

The child (``crash_child.main``) reports batch N only after its append returned,
so a batch it announced must be there after the kill; a batch it was still writing may
be there or not, but never in part.
"""

from __future__ import annotations

import functools
import multiprocessing
import random
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from eventsim import EventStore, NewEvent
from tests.reliability import crash_child

# Children fork from a server that has already imported eventsim: a kill costs
# milliseconds, not the half second of a fresh interpreter's imports.
CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(["tests.reliability.crash_child"])
SEED = 1234
APPEND_KILLS = 20
LOAD_KILLS = 10


def run_and_kill(mode: str, db: Path, first: int, delay: float) -> list[int]:
    """Start a child writing batches from ``first``, SIGKILL it ``delay`` s after it
    reported its first batch (so every child gets some work in, however busy the machine),
    and return the batches it reported as stored."""
    receiver, sender = CONTEXT.Pipe(duplex=False)
    child = CONTEXT.Process(target=crash_child.main, args=(mode, str(db), first, sender))
    child.start()
    sender.close()  # the child holds the only write end: its death ends the pipe
    assert receiver.poll(60) and "ready" == receiver.recv()
    assert receiver.poll(60), "the child stored no batch within a minute"
    reported = [int(receiver.recv())]
    time.sleep(delay)
    alive = child.is_alive()
    child.kill()
    child.join(30)
    assert alive, f"the child stopped by itself with exit code {child.exitcode}"
    assert -signal.SIGKILL == child.exitcode
    with receiver:
        while receiver.poll():
            try:
                reported.append(int(receiver.recv()))
            except EOFError:
                break
    return reported


def stored(store: EventStore) -> pd.DataFrame:
    return store.sql(
        "SELECT stream_id, version, CAST(event_id AS VARCHAR) AS event_id, position, "
        "CAST(metadata->>'batch' AS INTEGER) AS batch FROM event_store ORDER BY position"
    )


def assert_log_is_whole(store: EventStore, rows: pd.DataFrame) -> None:
    """Positions 1..N, each stream's versions 1..n in position order, heads in step."""
    assert list(range(1, len(rows) + 1)) == rows["position"].tolist()
    assert len(rows) == rows["event_id"].nunique()
    heads = dict(store.sql("SELECT stream_id, version FROM event_streams").values.tolist())
    for stream, events in rows.groupby("stream_id"):
        assert list(range(1, len(events) + 1)) == events["version"].tolist()
        assert len(events) == heads.pop(stream)
    assert {} == heads
    (log_head,) = store.connection.execute("SELECT position FROM event_log").fetchall()[0]
    assert len(rows) == log_head


@functools.cache  # each round checks every batch again
def expected_ids(mode: str, batch: int) -> list[str]:
    if mode == "append":
        return sorted(str(e.event_id) for e in crash_child.appended_batch(batch))
    return sorted(crash_child.loaded_table(batch)["event_id"].to_pylist())


def crash_repeatedly(tmp_path: Path, mode: str, kills: int) -> tuple[int, int]:
    """Kill a writer ``kills`` times; check the store after each; return (batches, events)."""
    db = tmp_path / f"{mode}.duckdb"
    rng = random.Random(SEED if mode == "append" else SEED + 1)
    announced: set[int] = set()
    probes = 0
    for kill in range(kills):
        announced |= set(run_and_kill(mode, db, first=kill * 1000, delay=rng.uniform(0, 0.3)))
        with EventStore(db) as store:
            rows = stored(store)
            assert_log_is_whole(store, rows)
            present = rows.dropna(subset=["batch"]).groupby("batch")
            assert announced <= set(present.groups), "a batch announced as committed is gone"
            for batch, events in present:
                assert expected_ids(mode, int(batch)) == sorted(events["event_id"])
            # The store takes new appends after the crash.
            probes = store.append(
                "after-crash", [NewEvent("MoneyDeposited", {"amount": 1})], expected_version=probes
            )
    batches = len(present.groups)
    print(
        f"\ncrashes ({mode}): {kills} SIGKILLs survived, {batches} whole batches stored, "
        f"{len(announced)} announced, none partial; {len(rows):,} events"
    )
    return batches, len(rows)


@pytest.mark.slow
def test_a_writer_killed_mid_append_leaves_whole_batches_and_the_store_goes_on(
    tmp_path: Path,
) -> None:
    batches, _ = crash_repeatedly(tmp_path, "append", APPEND_KILLS)
    assert batches >= APPEND_KILLS  # each child stored at least one batch before its kill


@pytest.mark.slow
def test_a_bulk_load_killed_mid_file_leaves_whole_files_and_the_store_goes_on(
    tmp_path: Path,
) -> None:
    batches, _ = crash_repeatedly(tmp_path, "load", LOAD_KILLS)
    assert batches >= LOAD_KILLS
