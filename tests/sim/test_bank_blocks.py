"""Bank data sets drawn in blocks of accounts: the same bytes at any chunk size and any
number of workers, block 0 as the single-generator run drew it, every history valid."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim import EventStore
from eventsim.domains import bank
from eventsim.sim import bank as bank_sim
from eventsim.sim import kit as simkit
from eventsim.sim import write
from tests.domains.test_bank import command_for
from tests.strategies import seeds

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2024, 1, 1, tzinfo=UTC)


def history(accounts: int, *, block: int, seed: int = 3, **options: object) -> bank_sim.History:
    values: dict[str, object] = {"days": 30, "transactions": 5, "close_rate": 0.3} | options
    return bank_sim.History(accounts, seed, START, block_accounts=block, **values)  # type: ignore[arg-type]


def parquet_bytes(drawn: bank_sim.History, *, chunk_rows: int, workers: int) -> bytes:
    out = io.BytesIO()
    write.write_parquet(
        bank_sim.history_batches(drawn, chunk_rows=chunk_rows, workers=workers),
        out,  # type: ignore[arg-type]
    )
    return out.getvalue()


def table(drawn: bank_sim.History, *, chunk_rows: int = 1_000_000, workers: int = 1) -> pa.Table:
    batches = bank_sim.history_batches(drawn, chunk_rows=chunk_rows, workers=workers)
    return pa.Table.from_batches(list(batches), schema=simkit.SCHEMA)


# Two and a half blocks: two whole ones and a short last one.
SMALL = history(10, block=4)


@pytest.mark.parametrize("chunk_rows", [1, 7, 1_000, 1_000_000])
@pytest.mark.parametrize("workers", [1, 2])
def test_the_bytes_do_not_depend_on_the_chunk_size_or_the_workers(
    chunk_rows: int, workers: int
) -> None:
    expected = parquet_bytes(SMALL, chunk_rows=1_000_000, workers=1)
    assert expected == parquet_bytes(SMALL, chunk_rows=chunk_rows, workers=workers)


@pytest.mark.parametrize(("chunk_rows", "workers"), [(1_000, 2), (1_000_000, 2), (7_777, 1)])
def test_the_production_block_size_gives_the_same_bytes_at_any_chunk_size_and_workers(
    chunk_rows: int, workers: int
) -> None:
    # Two and a half blocks of the real size, with few events per account to stay quick.
    accounts = bank_sim.BLOCK_ACCOUNTS * 5 // 2
    drawn = bank_sim.History(accounts, 11, START, days=20, transactions=1, close_rate=0.2)
    expected = parquet_bytes(drawn, chunk_rows=1_000_000, workers=1)
    assert expected == parquet_bytes(drawn, chunk_rows=chunk_rows, workers=workers)
    streams = pq.read_table(io.BytesIO(expected), columns=["stream_id"])["stream_id"]
    assert accounts == len(pa.compute.unique(streams))


@settings(max_examples=25, deadline=None)
@given(
    seed=seeds,
    accounts=st.integers(1, 30),
    block=st.integers(1, 8),
    chunk_rows=st.integers(1, 60),
    workers=st.integers(1, 3),
)
def test_any_block_size_gives_the_same_table_at_any_chunk_size_and_workers(
    seed: int, accounts: int, block: int, chunk_rows: int, workers: int
) -> None:
    drawn = history(accounts, block=block, seed=seed)
    assert table(drawn).equals(table(drawn, chunk_rows=chunk_rows, workers=workers))


def test_block_0_is_what_the_single_generator_drew_for_the_committed_data_set() -> None:
    # data/bank.parquet was made by `make data` (300 accounts: one block), and its events
    # are those the single-generator simulator drew before blocks existed.
    committed = pq.read_table(ROOT / "data" / "bank.parquet")
    drawn = bank_sim.simulate(300, seed=42, start=START, days=120)
    assert committed.equals(drawn)


def test_a_block_draws_the_same_histories_whatever_follows_it() -> None:
    alone = table(history(4, block=4))
    first_of_three = table(history(10, block=4))
    keep = ["stream_id", "version", "event_type", "data", "metadata", "timestamp"]
    ours = first_of_three.filter(pa.compute.is_in(first_of_three["stream_id"], alone["stream_id"]))
    assert alone.select(keep).equals(ours.select(keep))  # the ids follow each event's position


def test_blocks_draw_from_different_streams_of_numbers() -> None:
    drawn = table(history(8, block=4, transactions=30)).to_pylist()
    by_stream: dict[str, list[str]] = defaultdict(list)
    for row in drawn:
        by_stream[row["stream_id"]].append(row["data"])
    assert by_stream["account-0001"] != by_stream["account-0005"]


@pytest.mark.parametrize("block", [3, bank_sim.BLOCK_ACCOUNTS])
def test_a_data_set_of_several_blocks_is_in_commit_order_and_every_history_is_valid(
    block: int, tmp_path: Path
) -> None:
    accounts = block * 5 // 2
    drawn = history(accounts, block=block, transactions=2 if block > 100 else 40)
    events = table(drawn, chunk_rows=3_001, workers=2)
    rows = events.to_pylist()
    order = [(r["timestamp"], int(r["stream_id"].split("-")[1])) for r in rows]
    assert sorted(order) == order  # by time, then account
    streams: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        streams[str(row["stream_id"])].append(row)
    assert accounts == len(streams)
    for history_rows in streams.values():
        assert list(range(1, len(history_rows) + 1)) == [r["version"] for r in history_rows]
        state = bank.INITIAL_STATE
        for row in history_rows:
            event = bank.EVENT_TYPES[str(row["event_type"])].from_data(json.loads(str(row["data"])))
            assert [event] == bank.decide(state, command_for(event))
            state = bank.evolve(state, event)
    path = tmp_path / "bank.parquet"
    write.write_parquet(events.to_batches(), path)
    with EventStore() as store:
        assert len(rows) == store.load_parquet(path)


def test_batches_on_the_writers_step_boundaries_write_the_bytes_of_one_chunk(
    tmp_path: Path,
) -> None:
    # Many distinct stream ids overflow the dictionary in the middle of a row group, so
    # the column falls back to plain text at a step boundary: the case chunks could change.
    rows = 3 * write.ROW_GROUP_ROWS // 2
    ids = pa.array([f"account-{i:07d}-{'x' * 40}" for i in range(rows)])
    events = bank_sim.simulate(3, seed=1).slice(0, 1)
    whole = pa.table(
        {name: pa.repeat(events[name][0], rows) for name in simkit.SCHEMA.names}
        | {"stream_id": ids}
    ).cast(simkit.SCHEMA)
    written = {}
    for chunk_rows in (write.WRITE_BATCH_ROWS * 100, 1_000, rows):
        path = tmp_path / f"{chunk_rows}.parquet"
        write.write_parquet(whole.to_batches(max_chunksize=chunk_rows), path)
        written[chunk_rows] = path.read_bytes()
    encodings = (
        pq.ParquetFile(tmp_path / f"{rows}.parquet").metadata.row_group(0).column(0).encodings
    )
    assert "PLAIN" in encodings  # the dictionary did overflow
    assert written[rows] == written[1_000] == written[write.WRITE_BATCH_ROWS * 100]
