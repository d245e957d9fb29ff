"""The benchmark at smoke size: every workload runs and yields its row; no time is asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("eventsourcing")  # the peer comes with the bench pins (requirements.lock)

from benchmarks import report, run  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402

EXPECTED_ROWS = [
    "generate to Parquet",
    "load Parquet into the store, all invariants enforced",
    "load one aggregate of 1,000 events to its state (state_at)",
    "  the same aggregate as Events, folded (read_stream + fold)",
    "full replay: current state of all streams",
    "  full replay vs pandas groupby (typed column, in memory)",
    "  full replay vs a plain Python fold",
    "  full replay vs eventsourcing read + fold",
    "state of all accounts as of a time",
    "one account as of a time",
    "batched append with the expected-version check",
    "single-event appends, one transaction each",
    "rebuild three projections (order summary, revenue, shipping)",
    "all notebooks executed",
]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> list[run.Row]:
    return run.run(5_000, 1, tmp_path_factory.mktemp("bench") / "work", notebooks=False)


def test_the_smoke_run_yields_every_row_of_the_table(smoke: list[run.Row]) -> None:
    names = [row.workload.split(", into")[0] for row in smoke]
    assert EXPECTED_ROWS == names


def test_every_measured_row_has_a_positive_figure_and_every_peer_row_its_peer(
    smoke: list[run.Row],
) -> None:
    measured = [row for row in smoke if row.workload != "all notebooks executed"]
    with_peer = [row for row in measured if row.peer]  # projections: no peer, a target
    assert [] == [row.workload for row in measured if row.ours is None or row.ours.value <= 0]
    assert [] == [row.workload for row in with_peer if row.theirs is None or row.theirs.value <= 0]
    assert ["rebuild three projections (order summary, revenue, shipping)"] == [
        row.workload for row in measured if not row.peer
    ]


def test_the_report_has_a_line_per_row_and_names_the_machine(smoke: list[run.Row]) -> None:
    text = report.markdown(smoke, 5_000, 1, {"cores": "2"})
    table = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(smoke) + 1 == len(table)
    assert "- cores: 2" in text


def test_the_work_folder_is_removed_after_the_run(tmp_path: Path) -> None:
    work = tmp_path / "work"
    run.run(2_000, 1, work, notebooks=False, only=["generate"])
    assert not work.exists()


def test_sizes_read_like_the_make_option() -> None:
    assert [20_000, 1_000_000, 10_000_000, 1500] == [
        run.size(text) for text in ("20k", "1M", "10M", "1500")
    ]


def test_every_workload_has_a_unique_name() -> None:
    names = [name for name, _ in WORKLOADS]
    assert len(set(names)) == len(names)


@pytest.mark.slow
def test_the_postgres_benchmark_measures_both_stores_on_the_same_server() -> None:
    from benchmarks import postgres

    rows = postgres.run(repeats=1)

    assert [
        "single-event appends, one transaction each",
        "batched appends, 1,000 per batch",
        "load one aggregate of 10,000 events to its state",
        "read every event of the store",
    ] == [row[0] for row in rows]
    assert all(ours and theirs and ratio > 0 for _, ours, theirs, ratio, _ in rows)
