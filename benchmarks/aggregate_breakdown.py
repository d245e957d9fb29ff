"""Where loading one 10k-event aggregate spends its time, step by step, on DuckDB:
``python -m benchmarks.aggregate_breakdown``. Medians of 9, in one in-memory store.

The steps: fetching the stream's rows, making them ``Event`` objects (``read_stream``
does both), and folding them into the account's state; then ``state_at``, which sums the
account's rows in DuckDB instead. The issue's target is 20 ms for the whole load.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from eventsim import EventStore, bank, fold, state_at
from eventsim.store.decode import READ_COLUMNS

LENGTH, RUNS = 10_000, 9


def median_ms(work: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> int:
    with EventStore() as store:
        events = [bank.AccountOpened("Ada")]
        events += [bank.MoneyDeposited(Decimal(1 + i % 500)) for i in range(LENGTH - 1)]
        store.append("long", events, expected_version=0)
        query = f"SELECT {READ_COLUMNS} FROM event_store WHERE stream_id = ? ORDER BY version"  # noqa: S608 (constant)
        fetch = median_ms(lambda: store.connection.execute(query, ["long"]).fetchall())
        read = median_ms(lambda: store.read_stream("long"))
        stored = store.read_stream("long")
        folded = median_ms(lambda: fold(stored, bank))
        whole = median_ms(lambda: fold(store.read_stream("long"), bank))
        summed = median_ms(lambda: state_at(store, "long"))
    print(f"fetch {LENGTH:,} rows: {fetch:.1f} ms")
    print(f"read_stream (rows to Events): {read:.1f} ms ({read - fetch:.1f} ms for the Events)")
    print(f"fold into the state: {folded:.1f} ms")
    print(f"read_stream + fold: {whole:.1f} ms (target: 20 ms)")
    print(f"state_at (summed in DuckDB): {summed:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
