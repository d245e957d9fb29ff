"""A path is a path, never a pattern: files whose names hold ``[ ] * ? { }``, spaces,
quotes or a newline are loaded, exported and opened exactly as named."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from eventsim import EventStore, NewEvent, cli
from eventsim.lifecycle import archive
from eventsim.sim import kit as simkit

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
ODD_NAMES = [
    "events[1].parquet",
    "events*.parquet",
    "events?.parquet",
    "events{1,2}.parquet",
    "events [1].parquet",
    'it\'s "events".parquet',
    "line\nbreak.parquet",
    "~",
]


def events_file(path: Path, rows: int, stream: str) -> Path:
    table = pa.Table.from_pylist(
        [
            {
                "stream_id": stream,
                "version": v,
                "event_id": str(uuid.uuid4()),
                "event_type": "AccountOpened" if v == 1 else "MoneyDeposited",
                "data": '{"owner":"Ada"}' if v == 1 else '{"amount":1}',
                "metadata": "{}",
                "timestamp": T0 + timedelta(minutes=v),
            }
            for v in range(1, rows + 1)
        ],
        schema=simkit.SCHEMA,
    )
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize("name", ODD_NAMES, ids=repr)
def test_load_parquet_loads_exactly_the_file_named(tmp_path: Path, name: str) -> None:
    # A decoy that the name, read as a glob pattern, would match instead.
    events_file(tmp_path / "events1.parquet", 63, "decoy-1")
    named = events_file(tmp_path / name, 151, "named-1")
    with EventStore() as store:
        assert 151 == store.load_parquet(named)
        assert ["named-1"] == store.sql("SELECT DISTINCT stream_id FROM event_store")[
            "stream_id"
        ].tolist()


@pytest.mark.parametrize("name", ODD_NAMES, ids=repr)
def test_export_writes_exactly_the_file_named_and_it_loads_back(tmp_path: Path, name: str) -> None:
    with EventStore() as store:
        store.load_parquet(events_file(tmp_path / "source.parquet", 5, "acct-1"))
        target = tmp_path / "out" / name
        target.parent.mkdir()
        assert 5 == store.export_parquet(target)
    assert [name] == [p.name for p in target.parent.iterdir()]
    with EventStore() as fresh:
        assert 5 == fresh.load_parquet(target)


@pytest.mark.parametrize("name", ODD_NAMES, ids=repr)
def test_a_store_opens_exactly_the_file_named(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with EventStore(name + ".duckdb") as store:
        store.load_parquet(events_file(tmp_path / "source.parquet", 3, "acct-1"))
    assert (tmp_path / (name + ".duckdb")).is_file()
    with EventStore(tmp_path / (name + ".duckdb")) as store:
        assert 3 == store.version("acct-1")


@pytest.mark.parametrize(
    ("folder", "decoy"), [("cold[1]", "cold1"), ("cold*", "cold-x"), ("cold?", "coldX")]
)
def test_archived_streams_are_read_back_from_exactly_the_file_written(
    tmp_path: Path, folder: str, decoy: str
) -> None:
    now = datetime(2024, 2, 1, tzinfo=UTC)
    with EventStore() as store:
        opened = NewEvent("AccountOpened", {"owner": "Ada"}, timestamp=T0)
        closed = NewEvent("AccountClosed", {"reason": "moved"}, timestamp=T0 + timedelta(1))
        store.append("acct-1", [opened, closed], expected_version=0)
        (tmp_path / folder).mkdir()
        run = archive.archive_streams(store, ["acct-1"], tmp_path / folder, now=now)
        # An empty archive where the folder's name, read as a pattern, would lead.
        (tmp_path / decoy).mkdir()
        pq.write_table(pq.read_table(run.file).slice(0, 0), tmp_path / decoy / run.file.name)
        rows = archive.stream_over(store, "acct-1", archive.archive_files(store))
    assert [1, 2] == rows["version"].tolist()


def test_the_command_line_generates_loads_and_reads_files_with_odd_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = events_file(tmp_path / "events1.parquet", 63, "decoy-1")  # what a glob would find
    out, db = tmp_path / "events[1].parquet", tmp_path / "db [1]*.duckdb"
    argv = ["generate", "bank", "--seed", "1", "--accounts", "3", "--days", "5"]
    assert 0 == cli.main([*argv, "--out", str(out)])
    assert 0 == cli.main(["load", str(out), "--db", str(db)])
    assert 0 == cli.main(["info", "--db", str(db)])
    with EventStore(db) as store:
        assert pq.read_metadata(out).num_rows == store.info()["events"]
        assert 0 == len(store.sql("SELECT 1 FROM event_store WHERE stream_id = 'decoy-1'"))
    assert events.is_file()
    capsys.readouterr()
