"""Eight writers, each with its own connection, race on a handful of hot streams.

Each writer reads a stream's version, builds a batch, and appends it with that version
as the expected one; when another writer got there first it sees ``ConcurrencyError``,
re-reads and tries again. Afterwards the log must hold every accepted batch exactly
once, in version order 1..n per stream, with gap-free positions that agree with each
stream's order.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from eventsim import ConcurrencyError, EventStore, NewEvent

WRITERS = 8
EVENTS_PER_WRITER = 10_000
HOT_STREAMS = [f"hot-{n}" for n in range(4)]
SEED = 20240315


def event_id(writer: int, index: int) -> uuid.UUID:
    """The id of a writer's index-th event: the test can tell who wrote what."""
    return uuid.UUID(int=(writer << 32) | index, version=4)


@dataclass
class Writer:
    """One writer's plan and what happened to it."""

    number: int
    accepted: list[tuple[str, int, list[uuid.UUID]]] = field(default_factory=list)
    conflicts: int = 0
    error: BaseException | None = None

    def batches(self) -> list[int]:
        rng = random.Random(SEED + self.number)
        sizes, left = [], EVENTS_PER_WRITER
        while left:
            sizes.append(min(left, rng.randint(1, 200)))
            left -= sizes[-1]
        return sizes

    def run(self, path: Path, start: threading.Barrier) -> None:
        rng = random.Random(SEED * 31 + self.number)
        try:
            with EventStore(path) as store:
                start.wait()
                index = 0
                for size in self.batches():
                    stream = rng.choice(HOT_STREAMS)
                    ids = [event_id(self.number, index + i) for i in range(size)]
                    self.append_until_accepted(store, stream, ids)
                    index += size
        except BaseException as exc:  # reported by the test, which cannot see this thread
            self.error = exc

    def append_until_accepted(self, store: EventStore, stream: str, ids: list[uuid.UUID]) -> None:
        events = [
            NewEvent("MoneyDeposited", {"amount": 1}, {"writer": self.number}, event_id=i)
            for i in ids
        ]
        while True:
            seen = store.version(stream)
            time.sleep(0)  # let another writer in between the read and the write
            try:
                version = store.append(stream, events, expected_version=seen)
            except ConcurrencyError as exc:
                assert exc.actual > seen  # the stream moved on; nothing was overwritten
                self.conflicts += 1
                continue
            assert version == seen + len(ids)
            self.accepted.append((stream, version, ids))
            return


@pytest.mark.slow
def test_eight_racing_writers_lose_duplicate_and_reorder_nothing(tmp_path: Path) -> None:
    path = tmp_path / "hot.duckdb"
    EventStore(path).close()
    writers = [Writer(n) for n in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    threads = [threading.Thread(target=w.run, args=(path, start)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [None] * WRITERS == [w.error for w in writers]

    with EventStore(path) as store:
        rows = store.sql(
            "SELECT stream_id, version, CAST(event_id AS VARCHAR) AS event_id, position, "
            "timestamp FROM event_store ORDER BY position"
        )
        heads = dict(store.sql("SELECT stream_id, version FROM event_streams").values.tolist())
    conflicts = sum(w.conflicts for w in writers)
    appends = sum(len(w.accepted) for w in writers)
    print(
        f"\nconcurrent writers: {WRITERS} writers, {len(rows):,} events in {appends:,} "
        f"accepted appends to {len(HOT_STREAMS)} streams, {conflicts:,} conflicts seen and retried"
    )

    assert WRITERS * EVENTS_PER_WRITER == len(rows)
    assert list(range(1, len(rows) + 1)) == rows["position"].tolist()
    assert len(rows) == rows["event_id"].nunique()
    for stream, events in rows.groupby("stream_id"):
        # Position order (the frame's order) is the stream's version order, 1..n, no gap.
        assert list(range(1, len(events) + 1)) == events["version"].tolist()
        assert events["timestamp"].is_monotonic_increasing
        assert len(events) == heads[stream]
    stored = {(r.stream_id, r.version): r.event_id for r in rows.itertuples()}
    for writer in writers:
        for stream, version, ids in writer.accepted:
            first = version - len(ids) + 1
            assert [str(i) for i in ids] == [stored[(stream, v)] for v in range(first, version + 1)]
    assert Counter({w.number: EVENTS_PER_WRITER for w in writers}) == Counter(
        int(uuid.UUID(i).int >> 32) & 0xFF for i in rows["event_id"]
    )
    assert conflicts > 0, "the writers never raced: the test did not exercise the retry path"


def run_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(n)`` on ``count`` threads started together; return what they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as exc:  # reported by the caller, which cannot see this thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_unchecked_appends_from_several_stores_are_never_refused_for_the_stores_own_clock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "solo.duckdb"
    EventStore(path).close()

    def write(_: int) -> None:
        with EventStore(path) as store:
            for _ in range(40):
                deposit = NewEvent("MoneyDeposited", {"amount": 1})
                store.append("solo-1", [deposit], expected_version=None)

    assert [] == run_threads(3, write)
    with EventStore(path) as store:
        events = store.read_stream("solo-1")
    assert list(range(1, 121)) == [e.version for e in events]
    times = [e.timestamp for e in events]
    assert sorted(times) == times


def test_checked_and_unchecked_writers_mixed_on_one_stream_lose_and_reorder_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mixed.duckdb"
    EventStore(path).close()
    acknowledged: list[uuid.UUID] = []

    def write(writer: int) -> None:
        with EventStore(path) as store:
            for n in range(30):
                new_id = event_id(writer, n)
                deposit = NewEvent("MoneyDeposited", {"amount": 1}, event_id=new_id)
                while True:
                    expected = store.version("mixed-1") if writer % 2 else None
                    try:
                        store.append("mixed-1", [deposit], expected_version=expected)
                    except ConcurrencyError:
                        continue
                    acknowledged.append(new_id)
                    break

    assert [] == run_threads(4, write)
    with EventStore(path) as store:
        events = store.read_stream("mixed-1")
    assert list(range(1, 121)) == [e.version for e in events]
    assert sorted(acknowledged) == sorted(e.event_id for e in events)
    assert sorted(e.timestamp for e in events) == [e.timestamp for e in events]
