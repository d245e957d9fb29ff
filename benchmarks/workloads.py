"""The workloads, each beside its peer. One function per row of the results table.

To add a workload, write a function taking the ``Context`` and returning a ``Row``, and
decorate it with ``@workload``; it runs in the order of definition, after the store is
loaded (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from benchmarks import peers
from benchmarks.harness import Timing, measure, median_call, peak_rss_mb, reset_peak
from benchmarks.model import (
    DAYS,
    MEMORY_LIMIT,
    ROOT,
    START,
    WORKLOADS,
    Context,
    Figure,
    Row,
    bank_batches,
    bank_schema,
    count_rows,
    fmt_mb,
    millis,
    peer_repeats,
    rate,
    remove_db,
    require_store,
    samples,
    workload,
)
from eventsim import EventStore, replay
from eventsim.cqrs import order_views, projections
from eventsim.domains import bank
from eventsim.sim import kit as simkit
from eventsim.sim import orders as orders_sim
from eventsim.sim import write as simwrite
from eventsim.sim.bank import CHUNK_ROWS
from eventsim.store import parquet as io
from eventsim.store import schema

__all__ = ["WORKLOADS", "Context", "Row"]

GENERATE_CHUNK = CHUNK_ROWS  # rows per Arrow batch handed to the writer
EVENTS_PER_ORDER = 6  # the orders simulator writes about 5.9 events per order


# -- the workloads -----------------------------------------------------------------------
@workload("generate to Parquet")
def generate(ctx: Context) -> list[Row]:
    out = ctx.workdir / "bank.parquet"
    naive = ctx.workdir / "naive.parquet"
    workers = os.cpu_count() or 1
    ours = measure(
        lambda: simwrite.write_parquet(bank_batches(ctx, GENERATE_CHUNK, workers=workers), out),
        repeats=ctx.repeats,
    )
    theirs = measure(
        lambda: io.write_batches(bank_batches(ctx, ctx.events * 2), naive, bank_schema()),
        repeats=peer_repeats(ctx),
    )
    naive.unlink()
    ctx.parquet = out
    ctx.rows = count_rows(out)
    built: list[Any] = []  # the same events as one Arrow table, built untimed
    limit = measure(
        lambda: peers.pyarrow_write(built[0], naive, simwrite.SETTINGS, simwrite.ROW_GROUP_ROWS),
        repeats=ctx.repeats,
        setup=lambda: built or built.append(peers.read_table(out)),
    )
    built.clear()
    naive.unlink()
    mine = rate(ctx.rows, ours)
    met = mine.value >= 3e6 and (ours.peak_mb or 0) <= 1024
    return [
        Row(
            "generate to Parquet",
            mine,
            ">= 3M ev/s, peak <= 1 GB",
            met,
            "numpy, all at once (one chunk)",
            rate(ctx.rows, theirs),
            f"{workers} workers; peak {fmt_mb(ours.peak_mb)} vs {fmt_mb(theirs.peak_mb)}; "
            f"peer runs: {theirs.runs}",
            limit="pyarrow writing the same events, already in memory, to Parquet",
            at_limit=rate(ctx.rows, limit),
        )
    ]


@workload("load Parquet into the store")
def load(ctx: Context) -> list[Row]:
    path = ctx.workdir / "store.duckdb"
    peer_path = ctx.workdir / "peer.duckdb"

    def fresh() -> None:
        if ctx.store is not None:
            ctx.store.close()
        remove_db(path)
        ctx.store = EventStore(path)
        # DuckDB spills past this instead of taking the machine's memory (10M: ~5 GB).
        ctx.store.connection.execute("SET memory_limit = ?", [MEMORY_LIMIT])

    def load_ours() -> None:
        assert ctx.store is not None
        ctx.store.load_parquet(ctx.parquet)

    ours = measure(load_ours, repeats=ctx.repeats, setup=fresh)
    theirs = measure(
        lambda: peers.duckdb_load(ctx.parquet, peer_path, MEMORY_LIMIT, peers.KEYED_TABLE_SQL),
        repeats=peer_repeats(ctx),
        setup=lambda: remove_db(peer_path),
    )
    limit = measure(
        lambda: peers.duckdb_load(ctx.parquet, peer_path, MEMORY_LIMIT, peers.PLAIN_TABLE_SQL),
        repeats=peer_repeats(ctx),
        setup=lambda: remove_db(peer_path),
    )
    remove_db(peer_path)
    mine, keyed = rate(ctx.rows, ours), rate(ctx.rows, theirs)
    ctx.typed = peers.typed_copy(ctx.parquet)
    return [
        Row(
            "load Parquet into the store, all invariants enforced",
            mine,
            ">= 1M ev/s and >= 2x the keyed insert",
            mine.value >= 1e6 and mine.value >= 2 * keyed.value,
            "DuckDB INSERT with the primary key and unique ids, no checks",
            keyed,
            f"peak {fmt_mb(ours.peak_mb)}; peer and limit runs: {theirs.runs}",
            limit="DuckDB INSERT of the file, no keys, no checks",
            at_limit=rate(ctx.rows, limit),
        )
    ]


def side_by_side(works: dict[str, Callable[[int], object]], calls: int) -> dict[str, Timing]:
    """The median of one call of each work, their calls interleaved (the i-th of each in
    turn), so a busy moment of a shared machine weighs on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in works}
    reset_peak()
    for i in range(calls):
        for name, work in works.items():
            began = time.perf_counter()
            work(i)
            times[name].append(time.perf_counter() - began)
    peak = peak_rss_mb()
    return {name: Timing(statistics.median(t), calls, peak) for name, t in times.items()}


@workload("load one aggregate")
def load_aggregate(ctx: Context) -> list[Row]:
    store = require_store(ctx)
    size = 10_000 if ctx.events >= 1_000_000 else 1_000  # the smoke run stays small
    stream = "account-bench-aggregate"
    store.append(stream, [bank.AccountOpened("Ada Lovelace")], expected_version=0)
    for lo in range(1, size, 1_000):
        batch = [
            bank.MoneyDeposited(Decimal(1 + i % 500)) for i in range(lo, min(lo + 1_000, size))
        ]
        store.append(stream, batch, expected_version=store.version(stream))
    calls = max(5, ctx.repeats * 3)
    timed = side_by_side(
        {
            "ours": lambda _: replay.state_at(store, stream),
            "plain": lambda _: replay.fold(store.read_stream(stream)),
            "limit": lambda _: peers.duckdb_stream_columns(store.connection, stream),
        },
        calls,
    )
    ours, plain, limit = timed["ours"], timed["plain"], timed["limit"]
    app = peers.eventsourcing_app(ctx.workdir / "es-aggregate")
    account = peers.new_account()
    for i in range(1, size):
        account.deposit(1 + i % 500)
    app.save(account)
    theirs = median_call(lambda _: app.repository.get(account.id), calls)
    mine = millis(ours, f"median of {calls} loads")
    limit_text = "DuckDB reading its typed columns into numpy"
    return [
        Row(
            f"load one aggregate of {size:,} events to its state (state_at)",
            mine,
            "<= 20 ms (10k events)",
            mine.value <= 20,
            "eventsourcing, SQLite",
            millis(theirs),
            limit=limit_text,
            at_limit=millis(limit),
        ),
        Row(
            "  the same aggregate as Events, folded (read_stream + fold)",
            millis(plain, f"median of {calls} loads"),
            "",
            None,
            "eventsourcing, SQLite",
            millis(theirs),
            limit=limit_text,
            at_limit=millis(limit),
        ),
    ]


@workload("full replay")
def full_replay(ctx: Context) -> list[Row]:
    store = require_store(ctx)
    timed = side_by_side(
        {
            "ours": lambda _: replay.all_states(store, "bank"),
            "limit": lambda _: peers.duckdb_limit(ctx.typed),
        },
        max(ctx.repeats, 5),
    )
    ours, limit = timed["ours"], timed["limit"]
    mine = millis(ours)
    allowed = 1.2 if ctx.events >= 10_000_000 else 1.5  # the targets at 10M and 1M
    rows = [
        Row(
            "full replay: current state of all streams",
            mine,
            f"<= {allowed}x DuckDB GROUP BY",
            ours.seconds <= allowed * limit.seconds,
            "DuckDB GROUP BY over a typed column",
            millis(limit),
            f"{ours.seconds / limit.seconds:.1f}x DuckDB's time",
            limit="DuckDB GROUP BY over a typed column",
            at_limit=millis(limit),
        )
    ]
    frame = peers.pandas_frame(ctx.typed)
    pandas = measure(lambda: peers.pandas_groupby(frame), repeats=ctx.repeats)
    frame = None  # free it before the next workload
    rows.append(
        Row(
            "  full replay vs pandas groupby (typed column, in memory)",
            mine,
            "",
            None,
            "pandas groupby",
            millis(pandas),
        )
    )
    sample = peers.rows(ctx.parquet, ctx.fold_sample)
    fold = measure(lambda: peers.python_fold(sample), repeats=ctx.repeats)
    sample = []
    rows.append(
        Row(
            "  full replay vs a plain Python fold",
            rate(ctx.rows, ours),
            "",
            None,
            f"Python fold over JSON rows ({ctx.fold_sample:,}-event sample)",
            rate(ctx.fold_sample, fold),
        )
    )
    app = eventsourcing_sample(ctx)
    es = measure(lambda: peers.eventsourcing_fold(app), repeats=ctx.repeats)
    rows.append(
        Row(
            "  full replay vs eventsourcing read + fold",
            rate(ctx.rows, ours),
            "",
            None,
            f"eventsourcing, SQLite ({ctx.es_sample:,}-event sample)",
            rate(ctx.es_sample, es),
        )
    )
    return rows


@workload("state of all accounts as of a time")
def all_as_of(ctx: Context) -> list[Row]:
    store = require_store(ctx)
    ours = measure(lambda: replay.all_states(store, "bank", as_of=ctx.middle), repeats=ctx.repeats)
    theirs = measure(
        lambda: ctx.typed.execute(peers.DUCKDB_AS_OF_SQL, [ctx.middle]).fetchall(),
        repeats=ctx.repeats,
    )
    mine = millis(ours)
    return [
        Row(
            "state of all accounts as of a time",
            mine,
            "<= 0.3 s",
            mine.value <= 300,
            "DuckDB GROUP BY over a typed column",
            millis(theirs),
        )
    ]


@workload("one account as of a time")
def one_as_of(ctx: Context) -> list[Row]:
    store = require_store(ctx)
    ids = samples(ctx)
    for stream in ids:  # untimed: the first read of a row group pays its I/O, whoever reads
        peers.duckdb_point_query(store.connection, stream, ctx.middle)
    timed = side_by_side(
        {
            "ours": lambda i: replay.state_at(store, ids[i], as_of=ctx.middle),
            "limit": lambda i: peers.duckdb_point_query(store.connection, ids[i], ctx.middle),
        },
        len(ids),
    )
    ours, limit = timed["ours"], timed["limit"]
    app = eventsourcing_sample(ctx)
    aggregates = ctx.extra["es_ids"]
    theirs = median_call(
        lambda i: app.repository.get(
            aggregates[i % len(aggregates)][0], version=aggregates[i % len(aggregates)][1] // 2
        ),
        len(ids),
    )
    mine = millis(ours, f"median of {len(ids)} accounts")
    return [
        Row(
            "one account as of a time",
            mine,
            "<= 1 ms median (10M)",
            mine.value <= 1,
            "eventsourcing, SQLite, as of a version",
            millis(theirs),
            limit="DuckDB point query of the account's rows (version, type, payload)",
            at_limit=millis(limit),
        )
    ]


@workload("batched append")
def batched_append(ctx: Context) -> list[Row]:
    store = require_store(ctx)
    batches, size = (10, 1_000) if ctx.events >= 100_000 else (4, 500)
    run = iter(range(1_000_000))

    def ours_once() -> None:
        r = next(run)
        for k in range(batches):
            events = [bank.AccountOpened("Ada Lovelace")] + [
                bank.MoneyDeposited(Decimal(1 + i % 500)) for i in range(size - 1)
            ]
            store.append(f"bench-batch-{r}-{k}", events, expected_version=0)

    ours = measure(ours_once, repeats=ctx.repeats)
    app = peers.eventsourcing_app(ctx.workdir / "es-batch")

    def theirs_once() -> None:
        for _ in range(batches):
            account = peers.new_account()
            for i in range(size - 1):
                account.deposit(1 + i % 500)
            app.save(account)

    theirs = measure(theirs_once, repeats=ctx.repeats)
    # The limit: the same number of rows, already as Arrow tables, each batch one INSERT
    # and one COMMIT into the store's own table (keys and all), no check, no side table.
    tables = iter(
        [
            pa.Table.from_pylist(
                [dict(zip(LOG.names, row, strict=True)) for row in rows], schema=LOG
            )
            for rows in _limit_rows(ctx, "batch", batches, size)
        ]
        for _ in range(ctx.repeats)
    )
    limit = measure(
        lambda: peers.insert_batches(store.connection, next(tables)), repeats=ctx.repeats
    )
    peers.remove_limit_rows(store.connection)
    mine = rate(batches * size, ours, f"{batches} batches of {size:,}")
    return [
        Row(
            f"batched append with the expected-version check, into a {ctx.rows:,}-event store",
            mine,
            ">= 100k ev/s",
            mine.value >= 1e5,
            f"eventsourcing, SQLite, {size:,} per save",
            rate(batches * size, theirs),
            limit="DuckDB INSERT of the batch as Arrow + COMMIT, same table",
            at_limit=rate(batches * size, limit),
        )
    ]


@workload("single-event appends")
def single_appends(ctx: Context) -> list[Row]:
    store = require_store(ctx)
    count = 200 if ctx.events >= 100_000 else 50
    stream = "bench-single"
    store.append(stream, [bank.AccountOpened("Ada Lovelace")], expected_version=0)

    def ours_once() -> None:
        version = store.version(stream)
        for i in range(count):
            version = store.append(
                stream, [bank.MoneyDeposited(Decimal(1 + i))], expected_version=version
            )

    ours = measure(ours_once, repeats=ctx.repeats)
    app = peers.eventsourcing_app(ctx.workdir / "es-single")
    account = peers.new_account()
    app.save(account)

    def theirs_once() -> None:
        for i in range(count):
            account.deposit(1 + i)
            app.save(account)

    theirs = measure(theirs_once, repeats=ctx.repeats)
    # The limit: one INSERT of the row and one COMMIT each, into the store's own table.
    rows = iter(sum(_limit_rows(ctx, "single", 1, count), []) for _ in range(ctx.repeats))
    limit = measure(
        lambda: peers.insert_one_each(store.connection, next(rows)), repeats=ctx.repeats
    )
    peers.remove_limit_rows(store.connection)
    mine, peer, bare = rate(count, ours), rate(count, theirs), rate(count, limit)
    return [
        Row(
            "single-event appends, one transaction each",
            mine,
            ">= eventsourcing, or within 1.25x of a bare INSERT + COMMIT",
            mine.value >= peer.value or mine.value * 1.25 >= bare.value,
            "eventsourcing, SQLite, one save per command",
            peer,
            f"{count} appends",
            limit="DuckDB INSERT of one row + COMMIT, same table",
            at_limit=bare,
        )
    ]


LOG = schema.LOG_SCHEMA  # the store's columns, as an append's batch brings them
_limit_runs = iter(range(1_000_000))


def _limit_rows(ctx: Context, kind: str, streams: int, size: int) -> list[list[tuple[Any, ...]]]:
    """Rows for the limits: new streams, positions past any the store gives."""
    run = next(_limit_runs)
    return [
        peers.limit_rows(
            f"{peers.LIMIT_PREFIX}{kind}-{run}-{k}", size, 10**12 + (run * streams + k) * size
        )
        for k in range(streams)
    ]


@workload("rebuild three projections")
def rebuild_projections(ctx: Context) -> list[Row]:
    """The three order read models of notebook 04, rebuilt from position 0 of an orders log
    about as long as the bank log (the bank data has no orders to project)."""
    path, parquet = ctx.workdir / "orders.duckdb", ctx.workdir / "orders.parquet"
    batches = orders_sim.simulate_batches(
        max(10, ctx.events // EVENTS_PER_ORDER), seed=ctx.seed, start=START, days=DAYS
    )
    io.write_batches(batches, parquet, simkit.SCHEMA)
    remove_db(path)
    store = EventStore(path)
    store.connection.execute("SET memory_limit = ?", [MEMORY_LIMIT])
    store.load_parquet(parquet)
    events = store.info()["events"]
    runner = projections.ProjectionRunner(store, order_views.ORDER_VIEWS)

    def rebuild_all() -> None:
        for name in runner.projections:
            runner.rebuild(name)

    timing = measure(rebuild_all, repeats=ctx.repeats)
    store.close()
    remove_db(path)
    parquet.unlink()
    return [
        Row(
            "rebuild three projections (order summary, revenue, shipping)",
            millis(timing),
            "<= 10 s",
            timing.seconds <= 10,
            note=f"{events:,} order events, all three read models from position 0",
        )
    ]


@workload("all notebooks executed")
def notebooks(ctx: Context) -> list[Row]:
    if not ctx.notebooks:
        return [
            Row(
                "all notebooks executed",
                None,
                "<= 2 minutes together",
                None,
                note="not run (--no-notebooks)",
            )
        ]
    out = ctx.workdir / "notebooks"
    shutil.rmtree(out, ignore_errors=True)
    files = sorted(str(p) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    jupyter = Path(sys.executable).with_name("jupyter")
    began = time.perf_counter()
    subprocess.run(
        [
            str(jupyter),
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--output-dir",
            str(out),
            *files,
        ],
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - began
    return [
        Row(
            "all notebooks executed",
            Figure(seconds * 1000, "ms", None, ""),
            "<= 2 minutes together",
            seconds <= 120,
            note=f"{len(files)} notebooks, one run",
        )
    ]


# -- helpers -----------------------------------------------------------------------------
def eventsourcing_sample(ctx: Context) -> Any:
    """An eventsourcing application holding some accounts of the data, whole histories."""
    if "es_app" in ctx.extra:
        return ctx.extra["es_app"]
    app = peers.eventsourcing_app(ctx.workdir / "es-sample")
    wanted = samples(ctx)[: max(1, ctx.es_sample // 100)]
    by_stream: dict[str, list[tuple[str, str]]] = {}
    for stream_id, event_type, data in peers.stream_rows(ctx.parquet, wanted):
        by_stream.setdefault(stream_id, []).append((event_type, data))
    ids = []
    for events in by_stream.values():
        account = peers.new_account(json.loads(events[0][1])["owner"])
        for event_type, data in events[1:]:
            peers.apply_command(account, event_type, round(json.loads(data).get("amount", 0) * 100))
        app.save(account)
        ids.append((account.id, account.version))
    ctx.es_sample = sum(len(e) for e in by_stream.values())
    ctx.extra["es_app"], ctx.extra["es_ids"] = app, ids
    return app
