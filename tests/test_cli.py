"""The command line, run in a real subprocess as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eventsim import EventStore, state_at


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventsim", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a generated bank data set loaded into bank.duckdb."""
    folder = tmp_path_factory.mktemp("cli")
    assert (
        run(
            "generate",
            "bank",
            "--accounts",
            "40",
            "--seed",
            "7",
            "--out",
            "bank.parquet",
            cwd=folder,
        ).returncode
        == 0
    )
    assert run("load", "bank.parquet", "--db", "bank.duckdb", cwd=folder).returncode == 0
    return folder


def test_generate_writes_the_same_bytes_for_the_same_seed_with_any_number_of_workers(
    tmp_path: Path,
) -> None:
    for name, workers in (("a.parquet", "1"), ("b.parquet", "2"), ("c.parquet", "3")):
        done = run(
            "generate", "bank", "--accounts", "30", "--seed", "3", "--workers", workers,
            "--out", name, cwd=tmp_path,
        )  # fmt: skip
        assert 0 == done.returncode, done.stderr
    written = {(tmp_path / name).read_bytes() for name in ("a.parquet", "b.parquet", "c.parquet")}
    assert 1 == len(written)


def test_info_reports_streams_events_and_time_range(workdir: Path) -> None:
    done = run("info", "--db", "bank.duckdb", cwd=workdir)
    info = json.loads(done.stdout)
    with EventStore(workdir / "bank.duckdb") as store:
        expected_events = int(store.sql("SELECT count(*) AS n FROM event_store").n[0])
    assert (40, expected_events) == (info["streams"], info["events"])
    assert info["first"] < info["last"]
    assert sum(info["event_types"].values()) == expected_events


def test_state_prints_the_replayed_state_as_json(workdir: Path) -> None:
    done = run(
        "state",
        "--db",
        "bank.duckdb",
        "--stream",
        "account-0005",
        "--as-of",
        "2024-02-15T12:00:00Z",
        cwd=workdir,
    )
    assert 0 == done.returncode, done.stderr
    printed = json.loads(done.stdout)
    with EventStore(workdir / "bank.duckdb") as store:
        from datetime import UTC, datetime

        expected = state_at(store, "account-0005", as_of=datetime(2024, 2, 15, 12, tzinfo=UTC))
    assert (expected.owner, float(expected.balance), expected.version) == (
        printed["owner"],
        printed["balance"],
        printed["version"],
    )


def test_state_replays_up_to_a_version(workdir: Path) -> None:
    done = run(
        "state", "--db", "bank.duckdb", "--stream", "account-0005", "--version", "1", cwd=workdir
    )
    assert {"balance": 0, "status": "open", "version": 1} == {
        k: v for k, v in json.loads(done.stdout).items() if k != "owner"
    }


BAD_CALLS = [
    (
        ("state", "--db", "bank.duckdb", "--stream", "account-0005", "--as-of", "2024-02-15"),
        "2024-02-15",
    ),
    (("state", "--db", "bank.duckdb", "--stream", "account-9999"), "account-9999"),
    (("state", "--db", "bank.duckdb", "--stream", "x'; DROP TABLE event_store; --"), "DROP TABLE"),
    (("state", "--db", "missing.duckdb", "--stream", "account-0005"), "missing.duckdb"),
    (("state", "--db", "bank.duckdb", "--stream", "account-0005", "--version", "0"), "0"),
    (("info", "--db", "bank.parquet"), "bank.parquet"),
    (("load", "bank.parquet", "--db", "bank.duckdb"), "already stored"),
    (("load", "nothing.parquet", "--db", "bank.duckdb"), "nothing.parquet"),
    (("generate", "bank", "--seed", "x", "--out", "new.parquet"), "'x'"),
    (("generate", "bank", "--seed", "1", "--orders", "5", "--out", "new.parquet"), "--orders"),
    (("generate", "bank", "--seed", "1", "--accounts", "0", "--out", "new.parquet"), "0"),
    (("generate", "bank", "--seed", "1", "--workers", "0", "--out", "new.parquet"), "workers"),
    (("generate", "orders", "--seed", "1", "--workers", "2", "--out", "new.parquet"), "--workers"),
    (("generate", "bank", "--seed", "1", "--out", "no/such/dir/new.parquet"), "no/such/dir"),
    (
        ("generate", "bank", "--seed", "1", "--start", "01/02/2024", "--out", "new.parquet"),
        "01/02/2024",
    ),
    (("frobnicate",), "frobnicate"),
]


@pytest.mark.parametrize(
    ("args", "named"), BAD_CALLS, ids=[" ".join(a[:1] + a[-1:]) for a, _ in BAD_CALLS]
)
def test_bad_input_exits_2_with_one_line_naming_it_and_writes_nothing(
    workdir: Path, args: tuple[str, ...], named: str
) -> None:
    before = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in workdir.iterdir())
    done = run(*args, cwd=workdir)
    after = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in workdir.iterdir())
    assert 2 == done.returncode
    assert 1 == len(done.stderr.strip().splitlines()), done.stderr
    assert named in done.stderr
    assert "Traceback" not in done.stderr
    assert before == after


def test_a_failed_load_into_a_new_database_leaves_no_file(tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    done = run("load", "bad.parquet", "--db", "new.duckdb", cwd=tmp_path)
    assert (2, ["bad.parquet"]) == (done.returncode, sorted(p.name for p in tmp_path.iterdir()))


def test_the_orders_domain_goes_through_the_same_commands(tmp_path: Path) -> None:
    assert (
        0
        == run(
            "generate",
            "orders",
            "--orders",
            "20",
            "--seed",
            "4",
            "--out",
            "o.parquet",
            cwd=tmp_path,
        ).returncode
    )
    assert 0 == run("load", "o.parquet", "--db", "o.duckdb", cwd=tmp_path).returncode
    state = json.loads(
        run("state", "--db", "o.duckdb", "--stream", "order-0001", cwd=tmp_path).stdout
    )
    lines = sum(i["quantity"] * i["unit_price"] for i in state["items"])
    assert round(lines, 2) == state["total"]
    assert state["version"] >= 1
