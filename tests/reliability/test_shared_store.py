"""One ``EventStore`` shared by many threads (widget callbacks, a web handler, a thread
pool in a lesson): every call is correct and isolated, a conflict is a
``ConcurrencyError``, and the store is never wedged afterwards."""

from __future__ import annotations

import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from eventsim import ConcurrencyError, EventStore, NewEvent

THREADS = 8
TASKS = 400
STREAMS = [f"shared-{n}" for n in range(3)]


def hammer(store: EventStore, seed: int) -> tuple[list[uuid.UUID], int]:
    """Appends with expected versions, reads and SQL from a pool of threads, in a seeded
    mix; returns the ids of the acknowledged events and the conflicts seen."""
    acknowledged: list[uuid.UUID] = []
    conflicts = [0]
    guard = threading.Lock()

    def append(n: int) -> None:
        stream = STREAMS[n % len(STREAMS)]
        event_id = uuid.UUID(int=n, version=4)
        deposit = NewEvent("MoneyDeposited", {"amount": 1}, event_id=event_id)
        while True:
            seen = store.version(stream)
            try:
                version = store.append(stream, [deposit], expected_version=seen)
            except ConcurrencyError as exc:
                assert exc.actual > seen
                with guard:
                    conflicts[0] += 1
                continue
            assert version == seen + 1
            with guard:
                acknowledged.append(event_id)
            return

    def read(n: int) -> None:
        stream = STREAMS[n % len(STREAMS)]
        if store.version(stream):
            events = store.read_stream(stream)
            assert list(range(1, len(events) + 1)) == [e.version for e in events]
        positions = [e.position for e in store.read_all()]
        assert list(range(1, len(positions) + 1)) == positions

    def count(_: int) -> None:
        total = store.sql("SELECT count(*) AS n FROM event_store")["n"].iloc[0]
        assert total >= 0

    rng = random.Random(seed)
    work = [rng.choice([append, append, read, count]) for _ in range(TASKS)]
    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(task, n) for n, task in enumerate(work)]:
            future.result()
    return acknowledged, conflicts[0]


@pytest.mark.parametrize("where", ["file", "memory"])
def test_a_store_shared_by_threads_loses_duplicates_and_wedges_nothing(
    tmp_path: Path, where: str
) -> None:
    path = tmp_path / "shared.duckdb" if where == "file" else ":memory:"
    with EventStore(path) as store:
        acknowledged, conflicts = hammer(store, seed=7)
        rows = store.sql(
            "SELECT stream_id, version, CAST(event_id AS VARCHAR) AS event_id, position "
            "FROM event_store ORDER BY position"
        )
        # Not wedged: the store still appends and reads.
        after = store.append(
            "after-1", [NewEvent("AccountOpened", {"owner": "A"})], expected_version=0
        )
        assert 1 == after
    print(f"\nshared store ({where}): {len(acknowledged)} appends, {conflicts} conflicts retried")
    assert sorted(str(i) for i in acknowledged) == sorted(rows["event_id"])
    assert list(range(1, len(rows) + 1)) == rows["position"].tolist()
    for _, events in rows.groupby("stream_id"):
        assert list(range(1, len(events) + 1)) == events["version"].tolist()


def test_a_conflict_with_another_transaction_is_a_concurrency_error_and_the_store_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "conflict.duckdb"
    opened = NewEvent("AccountOpened", {"owner": "Ada"})
    with EventStore(path) as store, EventStore(path) as other:
        store.append("acct-1", [opened], expected_version=0)
        # Another transaction (raw SQL, past the writer lock) holds a row every append moves.
        other.connection.begin()
        other.connection.execute("UPDATE event_log SET position = position")
        deposit = NewEvent("MoneyDeposited", {"amount": 1})
        with pytest.raises(ConcurrencyError, match="acct-1"):
            store.append("acct-1", [deposit], expected_version=1)
        other.connection.rollback()
        assert 2 == store.append("acct-1", [deposit], expected_version=1)
