"""Parquet in and out: a load checks what append checks, names the first bad row, and
writes nothing when it refuses; an export loads back row for row."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim import EventSimError, EventStore, InvalidDataset, NewEvent
from eventsim.sim import bank as bank_sim
from eventsim.sim import kit as simkit
from eventsim.sim import orders as orders_sim
from eventsim.store import parquet as io
from tests.conftest import snapshot

Unchanged = Callable[[EventStore], AbstractContextManager[None]]
WriteParquet = Callable[..., Path]
T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


def row(stream_id: str, version: int, event_type: str, data: str, minute: int) -> dict[str, Any]:
    return {
        "stream_id": stream_id,
        "version": version,
        "event_id": str(uuid.UUID(int=1000 + minute, version=4)),
        "event_type": event_type,
        "data": data,
        "metadata": '{"channel":"atm"}',
        "timestamp": T0 + timedelta(minutes=minute),
    }


def good_rows() -> list[dict[str, Any]]:
    return [
        row("acct-1", 1, "AccountOpened", '{"owner":"Ada"}', 0),
        row("acct-1", 2, "MoneyDeposited", '{"amount":100}', 1),
        row("acct-2", 1, "AccountOpened", '{"owner":"Alan"}', 2),
        row("acct-1", 3, "MoneyWithdrawn", '{"amount":30.25}', 3),
    ]


def changed(index: int, **values: Any) -> Callable[[list[dict[str, Any]]], None]:
    def change(rows: list[dict[str, Any]]) -> None:
        rows[index].update(values)

    return change


def id_of(index: int) -> str:
    return str(good_rows()[index]["event_id"])


# name: (change to the good rows, the 1-based row the message names, text it must hold)
BAD_ROWS: dict[str, tuple[Callable[[list[dict[str, Any]]], None], int, str]] = {
    "version gap": (changed(3, version=4), 4, "version 4 breaks the sequence: expected 3"),
    "version repeated": (changed(3, version=2), 4, "version 2 breaks the sequence"),
    "new stream starting at 2": (changed(2, version=2), 3, "expected 1"),
    "duplicate id in the file": (changed(3, event_id=id_of(1)), 2, id_of(1)),
    "duplicate id in another case": (changed(3, event_id=id_of(1).upper()), 2, id_of(1)),
    "id is not a UUID": (changed(1, event_id="12345"), 2, "'12345'"),
    "unknown event type": (changed(1, event_type="MoneyTeleported"), 2, "'MoneyTeleported'"),
    "data is a JSON list": (changed(1, data="[1,2]"), 2, "[1,2]"),
    "data is a JSON string": (changed(1, data='"100"'), 2, '"100"'),
    "data is not JSON": (changed(1, data="amount=100"), 2, "amount=100"),
    "data has a trailing comma": (changed(0, data='{"owner":"Ada",}'), 1, '{"owner":"Ada",}'),
    "metadata is a JSON list": (changed(2, metadata='["atm"]'), 3, '["atm"]'),
    "NaN in metadata": (changed(2, metadata='{"score":NaN}'), 3, '{"score":NaN}'),
    "Infinity as an amount": (changed(1, data='{"amount":Infinity}'), 2, "Infinity"),
    "amount too big for a double": (changed(1, data='{"amount":1e400}'), 2, "1e400"),
    "zero amount": (changed(1, data='{"amount":0}'), 2, '{"amount":0}'),
    "negative amount": (changed(1, data='{"amount":-5}'), 2, '{"amount":-5}'),
    "three decimals": (changed(1, data='{"amount":1.005}'), 2, "1.005"),
    "amount as text": (changed(1, data='{"amount":"100"}'), 2, '{"amount":"100"}'),
    "amount with a far decimal": (
        changed(1, data='{"amount":1.0000000000001}'),
        2,
        "1.0000000000001",
    ),
    "huge amount": (changed(1, data='{"amount":1e30}'), 2, "1e30"),
    "missing field": (changed(1, data="{}"), 2, "[amount]"),
    "extra field": (changed(1, data='{"amount":5,"memo":"rent"}'), 2, '"memo":"rent"'),
    "blank owner": (changed(2, data='{"owner":"\\t"}'), 3, '{"owner":"\\t"}'),
    "stream id with SQL": (
        changed(2, stream_id="x'; DROP TABLE event_store; --"),
        3,
        "DROP TABLE event_store",
    ),
    "empty stream id": (changed(2, stream_id=""), 3, "stream_id=''"),
    "timestamp out of order": (
        changed(3, timestamp=T0 - timedelta(days=1)),
        4,
        "2023-12-31 09:00:00",
    ),
    "timestamp before 1970": (
        changed(2, timestamp=datetime(1960, 1, 1, tzinfo=UTC)),
        3,
        "1960-01-01",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ROWS), ids=str)
def test_a_file_with_a_bad_row_is_refused_naming_the_row_and_value_and_nothing_is_written(
    filled_store: EventStore, unchanged: Unchanged, write_parquet: WriteParquet, case: str
) -> None:
    change, bad_row, named = BAD_ROWS[case]
    rows = good_rows()
    change(rows)
    path = write_parquet(rows)
    with unchanged(filled_store), pytest.raises(InvalidDataset) as caught:
        filled_store.load_parquet(path)
    message = str(caught.value)
    assert f"row {bad_row} " in message
    assert named in message
    assert isinstance(caught.value, EventSimError)


def test_the_good_rows_load(store: EventStore, write_parquet: WriteParquet) -> None:
    assert 4 == store.load_parquet(write_parquet(good_rows()))
    assert [("acct-1", 3), ("acct-2", 1)] == list(
        store.sql("SELECT stream_id, version FROM event_streams ORDER BY 1").itertuples(
            index=False, name=None
        )
    )


def test_an_id_already_in_the_store_is_refused(
    filled_store: EventStore, unchanged: Unchanged, write_parquet: WriteParquet
) -> None:
    stored = str(filled_store.read_stream("account-2")[0].event_id)
    rows = good_rows()
    rows[2]["event_id"] = stored
    with unchanged(filled_store), pytest.raises(InvalidDataset) as caught:
        filled_store.load_parquet(write_parquet(rows))
    assert "row 3 " in str(caught.value) and f"{stored} is already stored" in str(caught.value)


def test_loading_the_same_file_twice_is_refused_the_second_time(
    store: EventStore, unchanged: Unchanged, write_parquet: WriteParquet
) -> None:
    path = write_parquet(good_rows())
    store.load_parquet(path)
    with unchanged(store), pytest.raises(InvalidDataset, match="already stored"):
        store.load_parquet(path)


def _table() -> pa.Table:
    return pa.Table.from_pylist(good_rows(), schema=simkit.SCHEMA)


BAD_TABLES: dict[str, tuple[Callable[[], pa.Table], str]] = {
    "missing column": (lambda: _table().drop_columns(["metadata"]), "missing ['metadata']"),
    "extra column": (
        lambda: _table().append_column("colour", pa.array(["red"] * 4)),
        "unexpected ['colour']",
    ),
    "version as text": (
        lambda: _table().set_column(1, "version", pc.cast(_table()["version"], pa.string())),
        "'version' is VARCHAR",
    ),
    "data as a number": (
        lambda: _table().set_column(4, "data", pa.array([1, 2, 3, 4], pa.int64())),
        "'data' is BIGINT",
    ),
    "timestamp as text": (
        lambda: _table().set_column(
            6, "timestamp", pa.array([str(r["timestamp"]) for r in good_rows()])
        ),
        "'timestamp' is VARCHAR",
    ),
    "naive timestamp": (
        lambda: _table().set_column(
            6, "timestamp", pc.cast(_table()["timestamp"], pa.timestamp("us"))
        ),
        "'timestamp' is TIMESTAMP,",
    ),
    "no rows": (lambda: _table().slice(0, 0), "holds no events"),
}


@pytest.mark.parametrize("case", list(BAD_TABLES), ids=str)
def test_a_file_with_missing_or_mistyped_columns_is_refused_by_name(
    filled_store: EventStore, unchanged: Unchanged, write_parquet: WriteParquet, case: str
) -> None:
    build, named = BAD_TABLES[case]
    path = write_parquet(build())
    with unchanged(filled_store), pytest.raises(InvalidDataset) as caught:
        filled_store.load_parquet(path)
    assert named in str(caught.value)


def test_a_naive_timestamp_column_gets_a_hint(
    filled_store: EventStore, write_parquet: WriteParquet
) -> None:
    naive = _table().set_column(6, "timestamp", pc.cast(_table()["timestamp"], pa.timestamp("us")))
    with pytest.raises(InvalidDataset, match="naive timestamp"):
        filled_store.load_parquet(write_parquet(naive))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_an_unreadable_file_is_refused_and_nothing_is_written(
    filled_store: EventStore, unchanged: Unchanged, write_parquet: WriteParquet, damage: str
) -> None:
    path = write_parquet(bank_sim.simulate(5, seed=3))
    whole = path.read_bytes()
    path.write_bytes(
        {
            "garbage": b"PAR1 this is not parquet PAR1",
            "truncated": whole[: len(whole) // 2],
            "empty": b"",
        }[damage]
    )
    with unchanged(filled_store), pytest.raises(InvalidDataset) as caught:
        filled_store.load_parquet(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_is_refused_by_path(store: EventStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidDataset, match="nowhere.parquet"):
        store.load_parquet(tmp_path / "nowhere.parquet")


# -- loads that work ------------------------------------------------------------------
def test_a_simulated_data_set_loads_in_file_order(
    store: EventStore, write_parquet: WriteParquet
) -> None:
    table = bank_sim.simulate(25, seed=11)
    assert table.num_rows == store.load_parquet(write_parquet(table))
    loaded = store.sql("SELECT * FROM event_store ORDER BY position")
    assert list(range(1, table.num_rows + 1)) == list(loaded["position"])
    assert table["event_id"].to_pylist() == [str(i) for i in loaded["event_id"]]
    # The same JSON, whichever way a backend spells it.
    assert [json.loads(d) for d in table["data"].to_pylist()] == [
        json.loads(d) for d in loaded["data"]
    ]
    heads = store.sql("SELECT stream_id, version FROM event_streams ORDER BY stream_id")
    expected = store.sql(
        "SELECT stream_id, max(version) AS version FROM event_store "
        "GROUP BY stream_id ORDER BY stream_id"
    )
    assert expected.equals(heads)


def test_export_then_load_into_a_fresh_store_round_trips_every_row(
    filled_store: EventStore, write_parquet: WriteParquet, tmp_path: Path
) -> None:
    filled_store.load_parquet(write_parquet(bank_sim.simulate(10, seed=5)))
    exported, again = tmp_path / "export.parquet", tmp_path / "again.parquet"
    count = filled_store.export_parquet(exported)
    with EventStore() as fresh:  # DuckDB, whichever backend exported
        assert count == fresh.load_parquet(exported)
        assert count == fresh.export_parquet(again)
    assert count == len(snapshot(filled_store)["event_store"])
    assert comparable(exported) == comparable(again)


def comparable(path: Path) -> list[dict[str, object]]:
    """A Parquet export's rows with the JSON parsed (backends spell the same JSON apart)."""
    rows = pq.read_table(path).to_pylist()
    for row in rows:
        row["data"], row["metadata"] = json.loads(row["data"]), json.loads(row["metadata"])
    return rows


def test_an_export_is_in_commit_order_with_portable_types(
    filled_store: EventStore, tmp_path: Path
) -> None:
    path = tmp_path / "export.parquet"
    filled_store.export_parquet(path)
    table = pq.read_table(path)
    assert [1, 2, 3, 4] == table["position"].to_pylist()
    assert pa.string() == table.schema.field("event_id").type
    assert pa.timestamp("us", tz="UTC") == table.schema.field("timestamp").type


def test_a_load_continues_the_versions_of_streams_already_in_the_store(
    filled_store: EventStore, write_parquet: WriteParquet
) -> None:
    rows = [
        row("account-1", 4, "MoneyDeposited", '{"amount":5}', 60 * 24 * 80),
        row("account-9", 1, "AccountOpened", '{"owner":"Ken"}', 60 * 24 * 80 + 1),
        row("account-1", 5, "MoneyWithdrawn", '{"amount":2.5}', 60 * 24 * 80 + 2),
    ]
    assert 3 == filled_store.load_parquet(write_parquet(rows))
    assert [1, 2, 3, 4, 5] == [e.version for e in filled_store.read_stream("account-1")]
    assert [5, 7] == [e.position for e in filled_store.read_stream("account-1")[3:]]
    assert 5 == filled_store.version("account-1")
    later = NewEvent("MoneyDeposited", {"amount": 1}, timestamp=T0 + timedelta(days=81))
    assert 6 == filled_store.append("account-1", [later], expected_version=5)


def test_a_file_that_restarts_an_existing_stream_at_version_1_is_refused(
    filled_store: EventStore, unchanged: Unchanged, write_parquet: WriteParquet
) -> None:
    rows = [
        row("account-9", 1, "AccountOpened", '{"owner":"Ken"}', 60 * 24 * 80),
        row("account-1", 1, "AccountOpened", '{"owner":"Ada"}', 60 * 24 * 80 + 1),
    ]
    with unchanged(filled_store), pytest.raises(InvalidDataset) as caught:
        filled_store.load_parquet(write_parquet(rows))
    assert "row 2 (stream_id='account-1', version=1)" in str(caught.value)
    assert "expected 4" in str(caught.value)


def test_a_file_whose_events_predate_the_stream_head_is_refused(
    filled_store: EventStore, unchanged: Unchanged, write_parquet: WriteParquet
) -> None:
    rows = [row("account-1", 4, "MoneyDeposited", '{"amount":5}', 0)]  # 2024-01-01, before
    with unchanged(filled_store), pytest.raises(InvalidDataset, match="earlier than"):
        filled_store.load_parquet(write_parquet(rows))


def test_a_position_column_in_the_file_is_reassigned(
    filled_store: EventStore, write_parquet: WriteParquet
) -> None:
    table = _table().append_column("position", pa.array([40, 41, 42, 43], pa.int64()))
    filled_store.load_parquet(write_parquet(table))
    assert [5, 6, 7, 8] == [e.position for e in filled_store.read_all(after=4)]


def test_loaded_events_read_back_like_appended_ones(
    store: EventStore, write_parquet: WriteParquet
) -> None:
    store.load_parquet(write_parquet(good_rows()))
    events = store.read_stream("acct-1")
    assert [{"owner": "Ada"}, {"amount": 100}, {"amount": 30.25}] == [e.data for e in events]
    assert {"channel": "atm"} == events[0].metadata
    assert T0 == events[0].timestamp


# -- the quick checks agree with the exact ones ------------------------------------------
BLANK_THEN_MATCH_SQL = """
SELECT row FROM _incoming
WHERE regexp_matches(regexp_replace(data, $literal, '""', 'g'), $suspect)
   OR regexp_matches(regexp_replace(coalesce(metadata, ''), $literal, '""', 'g'), $suspect)
ORDER BY row
"""
JSONISH = st.text(alphabet='"\\,]} \t{:naNIfiE+e0123456789x', max_size=40)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.tuples(JSONISH, st.none() | JSONISH), min_size=1, max_size=8))
def test_the_pre_filtered_lenient_json_scan_finds_the_same_rows_as_blanking_every_row(
    texts: list[tuple[str, str | None]],
) -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TEMP TABLE _incoming (row BIGINT, stream_id VARCHAR, version BIGINT, "
        "data VARCHAR, metadata VARCHAR, vouched BOOLEAN)"
    )
    con.executemany(
        "INSERT INTO _incoming VALUES (?, 's', 1, ?, ?, false)",
        [(i, data, metadata) for i, (data, metadata) in enumerate(texts)],
    )
    params = {"literal": io.STRING_LITERAL, "suspect": io.SUSPECT_JSON}
    expected = [row for (row,) in con.execute(BLANK_THEN_MATCH_SQL, params).fetchall()]
    assert expected == [row[0] for row in con.execute(io.SUSPECT_JSON_SQL, params).fetchall()]


def test_an_id_used_twice_in_a_file_is_named_although_the_quick_check_skips_it(
    tmp_path: Path,
) -> None:
    table = bank_sim.simulate(3, seed=5, days=10)
    ids = table.column("event_id").to_pylist()
    ids[-1] = ids[0]
    path = tmp_path / "twice.parquet"
    pq.write_table(table.set_column(2, "event_id", pa.array(ids, pa.string())), path)
    with EventStore() as store, pytest.raises(InvalidDataset, match="appears more than once"):
        store.load_parquet(path)


# -- into an empty store the keys are built after the insert (store/bulk_keys.py) --------
KEYS_SQL = (
    "SELECT constraint_type, constraint_column_names FROM duckdb_constraints() "
    "WHERE table_name = 'event_store' AND constraint_type <> 'NOT NULL' ORDER BY 1"
)
LOG_KEYS = [("PRIMARY KEY", ["stream_id", "version"]), ("UNIQUE", ["event_id"])]


@pytest.fixture
def duckdb_store() -> Iterator[EventStore]:
    with EventStore() as fresh:
        yield fresh


def test_a_load_into_an_empty_store_leaves_the_log_with_its_keys_enforced(
    duckdb_store: EventStore, write_parquet: WriteParquet
) -> None:
    duckdb_store.load_parquet(write_parquet(good_rows()))
    assert LOG_KEYS == duckdb_store.connection.execute(KEYS_SQL).fetchall()
    stored = duckdb_store.connection.execute(
        "SELECT * FROM event_store WHERE version = 1 LIMIT 1"
    ).fetchall()
    with pytest.raises(duckdb.ConstraintException):  # the same row again: both keys refuse
        duckdb_store.connection.execute(
            "INSERT INTO event_store VALUES (?, ?, ?, ?, ?, ?, ?, ?)", stored[0]
        )


@pytest.mark.parametrize("twice", ["event_id", "version"])
def test_a_clash_refused_when_the_keys_are_built_leaves_the_empty_log_with_its_keys(
    duckdb_store: EventStore, write_parquet: WriteParquet, twice: str
) -> None:
    rows = good_rows()
    if twice == "event_id":
        rows[3]["event_id"] = rows[1]["event_id"]
    else:  # a version repeated is named by the sequence check before any insert
        rows[3].update(stream_id="acct-2", version=1)
    with pytest.raises(InvalidDataset, match="row"):
        duckdb_store.load_parquet(write_parquet(rows))
    assert (0,) == duckdb_store.connection.execute("SELECT count(*) FROM event_store").fetchall()[0]
    assert LOG_KEYS == duckdb_store.connection.execute(KEYS_SQL).fetchall()
    duckdb_store.load_parquet(write_parquet(good_rows()))  # and the store is usable
    assert 4 == duckdb_store.version("acct-1") + duckdb_store.version("acct-2")


def test_a_load_keeps_an_index_and_a_view_of_someone_s_own_on_the_empty_log(
    duckdb_store: EventStore, write_parquet: WriteParquet
) -> None:
    duckdb_store.connection.execute("CREATE INDEX by_type ON event_store (event_type)")
    duckdb_store.connection.execute(
        "CREATE VIEW deposits AS SELECT * FROM event_store WHERE event_type = 'MoneyDeposited'"
    )
    duckdb_store.load_parquet(write_parquet(good_rows()))
    indexes = duckdb_store.connection.execute("SELECT index_name FROM duckdb_indexes()").fetchall()
    assert [("by_type",)] == indexes
    assert (1,) == duckdb_store.connection.execute("SELECT count(*) FROM deposits").fetchall()[0]


def test_a_load_into_a_store_holding_events_refuses_a_stored_id_by_its_row(
    duckdb_store: EventStore, write_parquet: WriteParquet
) -> None:
    duckdb_store.append("acct-9", [NewEvent("AccountOpened", {"owner": "Kay"})], expected_version=0)
    (stored_id,) = duckdb_store.connection.execute(
        "SELECT CAST(event_id AS VARCHAR) FROM event_store"
    ).fetchall()[0]
    rows = good_rows()
    rows[2]["event_id"] = stored_id
    with pytest.raises(InvalidDataset, match=r"row 3 .*already stored"):
        duckdb_store.load_parquet(write_parquet(rows))
    assert 1 == duckdb_store.info()["events"]


@pytest.mark.parametrize("data_set", ["bank", "orders"])
def test_a_file_read_by_duckdb_or_by_pyarrow_is_stored_alike(
    data_set: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB reads the file through a link of the loader's naming; where that name would
    hold a pattern's character, pyarrow reads it. Both store the same rows in the same
    order, companion included."""
    simulate = bank_sim.simulate if data_set == "bank" else orders_sim.simulate
    path = tmp_path / f"{data_set}[1]*.parquet"
    pq.write_table(simulate(40, seed=3), path)
    queries = [
        "SELECT * FROM event_store",
        "SELECT * FROM event_typed",
        "SELECT * FROM event_streams ORDER BY stream_id",
    ]
    with EventStore() as by_duckdb:
        by_duckdb.load_parquet(path)
        expected = [by_duckdb.connection.execute(q).fetchall() for q in queries]
    read_by_pyarrow = []
    monkeypatch.setattr(io, "_read", lambda p: read_by_pyarrow.append(p) or original_read(p))
    monkeypatch.setattr(io, "_PATTERN_CHARACTERS", re.compile("."))  # every name: use pyarrow
    with EventStore() as by_pyarrow:
        by_pyarrow.load_parquet(path)
        assert expected == [by_pyarrow.connection.execute(q).fetchall() for q in queries]
    assert [str(path)] == read_by_pyarrow


original_read = io._read


@pytest.mark.parametrize("refusal", ["id twice in the file", "id already stored", "bad payload"])
def test_a_refused_load_leaves_the_database_file_byte_for_byte(
    tmp_path: Path, write_parquet: WriteParquet, refusal: str
) -> None:
    """Refused before the insert begins: DuckDB writes an insert's rows to the file before
    its commit, so a refusal by the keys would already have touched it."""
    database = tmp_path / "store.duckdb"
    with EventStore(database) as store:
        store.append("acct-9", [NewEvent("AccountOpened", {"owner": "Kay"})], expected_version=0)
        (stored,) = store.connection.execute(
            "SELECT CAST(event_id AS VARCHAR) FROM event_store"
        ).fetchall()[0]
    rows = good_rows()
    if refusal == "id twice in the file":
        # Large enough (over a row group) for DuckDB to write the rows before the commit.
        table = bank_sim.simulate(2_000, seed=8, transactions=80)
        ids = table.column("event_id").to_pylist()
        ids[-1] = ids[0]
        path = tmp_path / "twice.parquet"
        pq.write_table(table.set_column(2, "event_id", pa.array(ids, pa.string())), path)
        assert table.num_rows > 150_000
    else:
        if refusal == "id already stored":
            rows[2]["event_id"] = stored
        else:
            rows[1]["data"] = '{"amount":-1}'
        path = write_parquet(rows)
    before = (database.read_bytes(), database.stat().st_mtime_ns)
    with EventStore(database) as store, pytest.raises(InvalidDataset, match="row"):
        store.load_parquet(path)
    assert before == (database.read_bytes(), database.stat().st_mtime_ns)
    assert not database.with_name("store.duckdb.wal").exists()


def test_without_a_temporary_folder_for_the_link_pyarrow_reads_the_file(
    write_parquet: WriteParquet, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_folder(*args: object, **kwargs: object) -> None:
        raise PermissionError("no temporary folder here")

    monkeypatch.setattr(io.tempfile, "TemporaryDirectory", no_folder)
    with EventStore() as store:
        assert 4 == store.load_parquet(write_parquet(good_rows()))
