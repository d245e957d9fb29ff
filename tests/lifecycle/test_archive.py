"""Archiving closed streams: verified copies, one delete, hot + cold answers, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventsim import EventStore, all_states, data_file, replay
from eventsim.domains import bank
from eventsim.errors import InvalidArgument
from eventsim.lifecycle import archive

NOW = datetime(2024, 5, 1, tzinfo=UTC)
BANK = data_file("bank.parquet")


def loaded() -> EventStore:
    store = EventStore()
    store.load_parquet(BANK)
    return store


def test_closed_streams_are_those_with_a_closing_event() -> None:
    store = loaded()
    expected = sorted(
        store.sql("SELECT DISTINCT stream_id FROM event_store WHERE event_type = 'AccountClosed'")[
            "stream_id"
        ]
    )
    assert expected == archive.closed_streams(store)


def test_keep_hot_for_n_days_only_picks_streams_closed_earlier() -> None:
    store = loaded()
    cut = datetime(2024, 4, 1, tzinfo=UTC)
    expected = sorted(
        store.sql(
            "SELECT stream_id FROM event_store WHERE event_type = 'AccountClosed' "
            "AND timestamp <= ?",
            [cut],
        )["stream_id"]
    )
    actual = archive.closed_streams(store, closed_before=cut)
    assert expected == actual
    assert 0 < len(actual) < len(archive.closed_streams(store))


def test_archiving_moves_every_row_with_its_position_to_parquet(tmp_path: Path) -> None:
    store = loaded()
    closed = archive.closed_streams(store)
    expected = store.sql(
        f"SELECT {archive.CANONICAL} FROM event_store "  # noqa: S608 (constant)
        "WHERE list_contains(?, stream_id) ORDER BY position",
        [closed],
    )
    run = archive.archive_streams(store, closed, tmp_path, now=NOW)
    actual = pq.read_table(run.file).to_pandas()
    pd.testing.assert_frame_equal(expected, actual, check_dtype=False)
    assert len(expected) == run.rows
    assert (
        0
        == store.sql(
            "SELECT count(*) AS n FROM event_store WHERE list_contains(?, stream_id)", [closed]
        )["n"][0]
    )


def test_archived_streams_records_last_version_file_checksum_and_virtual_time(
    tmp_path: Path,
) -> None:
    store = loaded()
    closed = archive.closed_streams(store)[:3]
    heads = store.sql(
        "SELECT stream_id, version FROM event_streams WHERE list_contains(?, stream_id) "
        "ORDER BY stream_id",
        [closed],
    )
    run = archive.archive_streams(store, closed, tmp_path, now=NOW)
    table = archive.archived(store)
    assert heads["version"].tolist() == table["last_version"].tolist()
    assert [str(run.file)] * 3 == table["file"].tolist()
    assert [run.checksum] * 3 == table["checksum"].tolist()
    assert [NOW] * 3 == table["archived_at"].tolist()


def test_stream_heads_survive_so_the_version_is_still_known(tmp_path: Path) -> None:
    store = loaded()
    stream = archive.closed_streams(store)[0]
    before = store.version(stream)
    archive.archive_streams(store, [stream], tmp_path, now=NOW)
    assert before == store.version(stream)


def test_appending_to_an_archived_stream_is_refused(tmp_path: Path) -> None:
    store = loaded()
    stream = archive.closed_streams(store)[0]
    archive.archive_streams(store, [stream], tmp_path, now=NOW)
    with pytest.raises(archive.StreamArchived, match=stream):
        archive.guarded_append(
            store, stream, [bank.MoneyDeposited(Decimal(5))], expected_version=store.version(stream)
        )


def test_guarded_append_writes_to_a_live_stream() -> None:
    store = EventStore()
    assert 1 == archive.guarded_append(
        store, "account-1", [bank.AccountOpened("Ada")], expected_version=0
    )


def test_open_streams_cannot_be_archived_and_nothing_changes(tmp_path: Path) -> None:
    store = loaded()
    before = store.info()["events"]
    with pytest.raises(InvalidArgument, match="account-0001"):
        archive.archive_streams(store, ["account-0001"], tmp_path, now=NOW)
    assert before == store.info()["events"]
    assert [] == list(tmp_path.iterdir())


def test_a_failed_verification_removes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = loaded()
    before = store.info()["events"]
    # Simulate a damaged write: the file read back lacks its last row.
    real_read = pq.read_table
    monkeypatch.setattr(pq, "read_table", lambda *a, **k: real_read(*a, **k).slice(0, 1))
    with pytest.raises(archive.ArchiveVerificationFailed):
        archive.archive_streams(store, archive.closed_streams(store), tmp_path, now=NOW)
    assert before == store.info()["events"]
    assert [] == list(tmp_path.iterdir())


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    picks=st.lists(st.integers(0, 32), min_size=1, max_size=10, unique=True),
    day=st.integers(0, 120),
)
def test_hot_plus_cold_answers_as_before_archiving(
    tmp_path_factory: pytest.TempPathFactory, picks: list[int], day: int
) -> None:
    store = loaded()
    closed = archive.closed_streams(store)
    as_of = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=day)
    expected = all_states(store, "bank", as_of=as_of)
    archive.archive_streams(
        store, [closed[i % len(closed)] for i in picks], tmp_path_factory.mktemp("a"), now=NOW
    )
    actual = archive.all_states_over(store, "bank", archive.archive_files(store), as_of=as_of)
    pd.testing.assert_frame_equal(expected, actual)


def test_one_stream_replays_the_same_from_cold_now_and_as_of_a_time(tmp_path: Path) -> None:
    store = loaded()
    stream = archive.closed_streams(store)[0]
    moment = datetime(2024, 2, 1, tzinfo=UTC)
    expected = (replay.state_at(store, stream), replay.state_at(store, stream, as_of=moment))
    archive.archive_streams(store, [stream], tmp_path, now=NOW)
    files = archive.archive_files(store)
    actual = (
        archive.state_over(store, stream, files),
        archive.state_over(store, stream, files, as_of=moment),
    )
    assert expected == actual


def test_retention_drops_old_files_and_their_history_cannot_be_replayed(tmp_path: Path) -> None:
    store = loaded()
    stream = archive.closed_streams(store)[0]
    run = archive.archive_streams(store, [stream], tmp_path, now=NOW)
    assert [] == archive.drop_expired(store, now=NOW + timedelta(days=100), keep_days=365)
    dropped = archive.drop_expired(store, now=NOW + timedelta(days=366), keep_days=365)
    assert [str(run.file)] == dropped
    assert not run.file.exists()
    assert [] == archive.archive_files(store)
    with pytest.raises(archive.ArchiveDropped, match=stream):
        archive.stream_over(store, stream, archive.archive_files(store))


def test_orders_close_when_delivered_or_cancelled_and_replay_the_same_from_cold(
    tmp_path: Path,
) -> None:
    store = EventStore()
    store.load_parquet(data_file("orders.parquet"))
    expected_closed = sorted(
        store.sql(
            "SELECT stream_id FROM event_store GROUP BY stream_id "
            "HAVING arg_max(event_type, version) IN ('OrderDelivered', 'OrderCancelled')"
        )["stream_id"]
    )
    assert expected_closed == archive.closed_streams(store)
    expected = all_states(store, "orders", as_of=NOW)
    archive.archive_streams(store, expected_closed, tmp_path, now=NOW)
    actual = archive.all_states_over(store, "orders", archive.archive_files(store), as_of=NOW)
    pd.testing.assert_frame_equal(expected, actual)
    assert {"delivered", "cancelled"} == set(
        actual.loc[actual["order_id"].isin(expected_closed), "status"]
    )


@pytest.mark.parametrize(
    ("stream_ids", "directory", "now", "message"),
    [
        ("account-0009", ".", NOW, "non-empty list"),
        ([], ".", NOW, "non-empty list"),
        (["account-0009"], "no-such-folder", NOW, "no-such-folder"),
        (["account-0009"], ".", datetime(2024, 5, 1), "time zone"),
    ],
)
def test_bad_arguments_are_refused_and_nothing_changes(
    tmp_path: Path, stream_ids: object, directory: str, now: datetime, message: str
) -> None:
    store = loaded()
    before = store.info()["events"]
    folder = tmp_path / directory
    with pytest.raises(InvalidArgument, match=message):
        archive.archive_streams(store, stream_ids, folder, now=now)  # type: ignore[arg-type]
    assert before == store.info()["events"]
    assert [] == list(tmp_path.iterdir())
    assert [] == archive.archive_files(store)


def test_a_negative_retention_period_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="-1"):
        archive.drop_expired(EventStore(), now=NOW, keep_days=-1)
