"""The event store: schema, append with optimistic concurrency, idempotency, reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eventsim import (
    ConcurrencyError,
    DuplicateEventId,
    EventSimError,
    EventStore,
    InvalidArgument,
    InvalidEvent,
    NewEvent,
    StreamNotFound,
    TickingClock,
    UnknownEventType,
    seeded_ids,
)
from eventsim.domains import bank
from eventsim.sim import bank as bank_sim
from tests.conftest import START, reproducible_store, snapshot

Unchanged = Callable[[EventStore], AbstractContextManager[None]]
MINUTE = timedelta(minutes=1)


def deposit(amount: object = 10, **fields: Any) -> NewEvent:
    return NewEvent("MoneyDeposited", {"amount": amount}, **fields)


def stored_ids(store: EventStore, stream_id: str) -> list[uuid.UUID]:
    return [event.event_id for event in store.read_stream(stream_id)]


# -- schema ---------------------------------------------------------------------------
def test_the_table_has_exactly_the_canonical_columns_plus_position(
    duckdb_store: EventStore,
) -> None:
    store = duckdb_store
    expected = [
        ("stream_id", "VARCHAR"),
        ("version", "INTEGER"),
        ("event_id", "UUID"),
        ("event_type", "VARCHAR"),
        ("data", "JSON"),
        ("metadata", "JSON"),
        ("timestamp", "TIMESTAMP WITH TIME ZONE"),
        ("position", "BIGINT"),
    ]
    described = store.sql("DESCRIBE event_store")
    assert expected == list(zip(described["column_name"], described["column_type"], strict=True))


def test_the_primary_key_is_stream_and_version(duckdb_store: EventStore) -> None:
    store = duckdb_store
    keys = store.sql(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE table_name = 'event_store' AND constraint_type = 'PRIMARY KEY'"
    )
    assert [["stream_id", "version"]] == [list(k) for k in keys["constraint_column_names"]]


# -- appending ------------------------------------------------------------------------
def test_append_returns_the_new_version_and_stores_every_field(store: EventStore) -> None:
    event_id = uuid.UUID(int=99, version=4)
    opened_at = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    first = store.append(
        "account-1",
        [NewEvent("AccountOpened", {"owner": "Ada"}, {"channel": "atm"}, event_id, opened_at)],
        expected_version=0,
    )
    second = store.append("account-1", [deposit(5), deposit("7.25")], expected_version=1)
    events = store.read_stream("account-1")
    assert (1, 3) == (first, second)
    assert [1, 2, 3] == [e.version for e in events]
    assert [1, 2, 3] == [e.position for e in events]
    assert (event_id, "AccountOpened", {"owner": "Ada"}, {"channel": "atm"}, opened_at) == (
        events[0].event_id,
        events[0].event_type,
        events[0].data,
        events[0].metadata,
        events[0].timestamp,
    )
    assert timedelta(0) == events[0].timestamp.utcoffset()
    assert 3 == store.version("account-1")


def test_an_amount_given_as_text_is_stored_as_a_json_number(duckdb_store: EventStore) -> None:
    store = duckdb_store
    store.append(
        "account-1",
        [NewEvent("AccountOpened", {"owner": "Ada"}), deposit("10.50")],
        expected_version=0,
    )
    assert ["DOUBLE"] == list(
        store.sql(
            "SELECT json_type(data, 'amount') AS t FROM event_store "
            "WHERE event_type = 'MoneyDeposited'"
        )["t"]
    )
    assert {"amount": 10.5} == store.read_stream("account-1")[1].data


def test_domain_events_and_new_events_can_share_a_batch(store: EventStore) -> None:
    version = store.append(
        "account-7", [bank.AccountOpened("Grace"), deposit(1)], expected_version=0
    )
    assert ["AccountOpened", "MoneyDeposited"] == [
        e.event_type for e in store.read_stream("account-7")
    ]
    assert 2 == version


def test_a_missing_stream_is_at_version_zero(store: EventStore) -> None:
    assert 0 == store.version("account-404")


def test_expected_version_none_skips_the_check(filled_store: EventStore) -> None:
    assert 4 == filled_store.append("account-1", [deposit()], expected_version=None)
    assert 1 == filled_store.append("account-3", [bank.AccountOpened("Ken")], expected_version=None)


@pytest.mark.parametrize(
    ("stream_id", "expected", "actual"),
    [
        ("account-1", 0, 3),
        ("account-1", 2, 3),
        ("account-1", 4, 3),
        ("account-2", 3, 1),
        ("account-9", 1, 0),
    ],
)
def test_a_wrong_expected_version_raises_a_concurrency_error_and_writes_nothing(
    filled_store: EventStore, unchanged: Unchanged, stream_id: str, expected: int, actual: int
) -> None:
    with unchanged(filled_store), pytest.raises(ConcurrencyError) as caught:
        filled_store.append(stream_id, [deposit()], expected_version=expected)
    error = caught.value
    assert (stream_id, expected, actual) == (error.stream_id, error.expected, error.actual)
    assert f"version {actual}" in str(error) and f"expected {expected}" in str(error)


# Each case builds (stream id, events, expected version, error, text the message must hold)
# from the filled store; every bad batch starts with a good event, so a half-written
# batch would show in the snapshot.
BadAppend = Callable[[EventStore], tuple[str, Any, Any, type[EventSimError], str]]
BAD_APPENDS: dict[str, BadAppend] = {
    "unknown event type": lambda s: (
        "account-1",
        [deposit(), NewEvent("MoneyTeleported", {"amount": 5})],
        3,
        UnknownEventType,
        "'MoneyTeleported'",
    ),
    "zero amount": lambda s: ("account-1", [deposit(), deposit(0)], 3, InvalidEvent, "got 0"),
    "negative amount": lambda s: ("account-1", [deposit(), deposit(-5)], 3, InvalidEvent, "-5"),
    "NaN amount": lambda s: (
        "account-1",
        [deposit(), deposit(float("nan"))],
        3,
        InvalidEvent,
        "nan",
    ),
    "infinite amount": lambda s: (
        "account-1",
        [deposit(), deposit(float("inf"))],
        3,
        InvalidEvent,
        "inf",
    ),
    "three decimals": lambda s: (
        "account-1",
        [deposit(), deposit("1.005")],
        3,
        InvalidEvent,
        "'1.005'",
    ),
    "amount not a number": lambda s: (
        "account-1",
        [deposit(), deposit("lots")],
        3,
        InvalidEvent,
        "'lots'",
    ),
    "huge amount": lambda s: ("account-1", [deposit(), deposit("1e30")], 3, InvalidEvent, "'1e30'"),
    "missing field": lambda s: (
        "account-1",
        [deposit(), NewEvent("MoneyDeposited", {})],
        3,
        InvalidEvent,
        "missing ['amount']",
    ),
    "extra field": lambda s: (
        "account-1",
        [deposit(), NewEvent("MoneyDeposited", {"amount": 5, "memo": "rent"})],
        3,
        InvalidEvent,
        "['memo']",
    ),
    "data is a list": lambda s: (
        "account-1",
        [deposit(), NewEvent("MoneyDeposited", ["amount", 5])],
        3,
        InvalidEvent,
        "['amount', 5]",
    ),  # type: ignore[arg-type]
    "data is text": lambda s: (
        "account-1",
        [deposit(), NewEvent("MoneyDeposited", "amount=5")],
        3,
        InvalidEvent,
        "'amount=5'",
    ),  # type: ignore[arg-type]
    "blank owner": lambda s: (
        "account-3",
        [NewEvent("AccountOpened", {"owner": "  "})],
        0,
        InvalidEvent,
        "'  '",
    ),
    "metadata not an object": lambda s: (
        "account-1",
        [deposit(), deposit(metadata=["atm"])],
        3,
        InvalidEvent,
        "['atm']",
    ),  # type: ignore[arg-type]
    "NaN in metadata": lambda s: (
        "account-1",
        [deposit(), deposit(metadata={"score": float("nan")})],
        3,
        InvalidEvent,
        "nan",
    ),
    "event id not a UUID": lambda s: (
        "account-1",
        [deposit(), deposit(event_id="not-a-uuid")],
        3,
        InvalidEvent,
        "'not-a-uuid'",
    ),  # type: ignore[arg-type]
    "naive timestamp": lambda s: (
        "account-1",
        [deposit(), deposit(timestamp=datetime(2024, 3, 16, 9, 0))],
        3,
        InvalidEvent,
        "2024-03-16T09:00:00",
    ),
    "timestamp before the stream's last": lambda s: (
        "account-1",
        [deposit(), deposit(timestamp=datetime(2024, 3, 14, 9, 0, tzinfo=UTC))],
        3,
        InvalidEvent,
        "2024-03-14T09:00:00+00:00",
    ),
    "timestamp in year 2100": lambda s: (
        "account-1",
        [deposit(), deposit(timestamp=datetime(2100, 6, 1, tzinfo=UTC))],
        3,
        InvalidEvent,
        "2100-06-01",
    ),
    "negative expected version": lambda s: ("account-1", [deposit()], -1, InvalidArgument, "-1"),
    "expected version as text": lambda s: ("account-1", [deposit()], "3", InvalidArgument, "'3'"),
    "expected version a bool": lambda s: ("account-1", [deposit()], True, InvalidArgument, "True"),
    "empty stream id": lambda s: ("", [deposit()], None, InvalidArgument, "''"),
    "over-long stream id": lambda s: ("a" * 256, [deposit()], None, InvalidArgument, "a" * 256),
    "quote in stream id": lambda s: ("account'1", [deposit()], None, InvalidArgument, "account'1"),
    "semicolon in stream id": lambda s: (
        "account;1",
        [deposit()],
        None,
        InvalidArgument,
        "'account;1'",
    ),
    "SQL in stream id": lambda s: (
        "x'); DELETE FROM event_store; --",
        [deposit()],
        None,
        InvalidArgument,
        "DELETE FROM event_store",
    ),
    "empty batch": lambda s: ("account-1", [], 3, InvalidArgument, "got 0"),
    "a lone event, not a list": lambda s: ("account-1", deposit(), 3, InvalidArgument, "NewEvent"),
    "duplicate ids in the batch": lambda s: (
        "account-1",
        [
            deposit(event_id=uuid.UUID(int=5, version=4)),
            deposit(event_id=uuid.UUID(int=5, version=4)),
        ],
        3,
        DuplicateEventId,
        str(uuid.UUID(int=5, version=4)),
    ),
    "an id stored in another stream": lambda s: (
        "account-2",
        [deposit(event_id=stored_ids(s, "account-1")[1])],
        1,
        DuplicateEventId,
        str(stored_ids(s, "account-1")[1]),
    ),
    "stored and new ids mixed": lambda s: (
        "account-1",
        [
            deposit(event_id=stored_ids(s, "account-1")[2]),
            deposit(event_id=uuid.UUID(int=6, version=4)),
        ],
        3,
        DuplicateEventId,
        str(stored_ids(s, "account-1")[2]),
    ),
    "stored and new ids mixed, stale version": lambda s: (
        "account-1",
        [
            deposit(event_id=stored_ids(s, "account-1")[2]),
            deposit(event_id=uuid.UUID(int=6, version=4)),
        ],
        2,
        DuplicateEventId,
        str(stored_ids(s, "account-1")[2]),
    ),
}


@pytest.mark.parametrize("case", list(BAD_APPENDS), ids=str)
def test_bad_input_raises_an_error_naming_the_value_and_changes_nothing(
    filled_store: EventStore, unchanged: Unchanged, case: str
) -> None:
    stream_id, events, expected_version, error, named = BAD_APPENDS[case](filled_store)
    with unchanged(filled_store), pytest.raises(error) as caught:
        filled_store.append(stream_id, events, expected_version=expected_version)
    assert isinstance(caught.value, EventSimError)
    assert named in str(caught.value)


def test_the_store_still_works_after_a_refused_batch(filled_store: EventStore) -> None:
    ids = stored_ids(filled_store, "account-1")
    with pytest.raises(DuplicateEventId):
        filled_store.append("account-2", [deposit(event_id=ids[0])], expected_version=None)
    assert 2 == filled_store.append("account-2", [deposit()], expected_version=1)
    assert list(range(1, 6)) == list(snapshot(filled_store)["event_store"]["position"])


def test_a_stream_id_of_255_characters_is_accepted(store: EventStore) -> None:
    assert 1 == store.append("a" * 255, [bank.AccountOpened("Ada")], expected_version=0)


# -- idempotency ----------------------------------------------------------------------
@pytest.mark.parametrize("resend_expected", [0, 2, None], ids=["stale", "current", "unchecked"])
def test_re_sending_a_stored_batch_returns_the_current_version_and_adds_nothing(
    store: EventStore, unchanged: Unchanged, resend_expected: int | None
) -> None:
    batch = [
        NewEvent("AccountOpened", {"owner": "Ada"}, event_id=uuid.UUID(int=1, version=4)),
        deposit(event_id=uuid.UUID(int=2, version=4)),
    ]
    assert 2 == store.append("account-1", batch, expected_version=0)
    with unchanged(store):
        assert 2 == store.append("account-1", batch, expected_version=resend_expected)
    assert 3 == store.append("account-1", [deposit()], expected_version=2)


def test_a_re_send_after_the_stream_moved_on_returns_the_newer_version(
    filled_store: EventStore, unchanged: Unchanged
) -> None:
    first = filled_store.read_stream("account-1", to_version=2)
    batch = [NewEvent(e.event_type, e.data, e.metadata, e.event_id, e.timestamp) for e in first]
    with unchanged(filled_store):
        assert 3 == filled_store.append("account-1", batch, expected_version=0)


# -- two writers ----------------------------------------------------------------------
def test_a_stale_writer_gets_a_concurrency_error_and_wins_after_re_reading(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.duckdb"
    with EventStore(path) as setup:
        setup.append("account-1", [bank.AccountOpened("Ada"), deposit(100)], expected_version=0)
    with EventStore(path) as alice, EventStore(path) as bob:
        read_by_alice, read_by_bob = alice.version("account-1"), bob.version("account-1")
        assert (2, 2) == (read_by_alice, read_by_bob)
        assert 3 == alice.append("account-1", [deposit(1)], expected_version=read_by_alice)
        before = snapshot(bob)
        with pytest.raises(ConcurrencyError) as caught:
            bob.append("account-1", [deposit(2)], expected_version=read_by_bob)
        assert ("account-1", 2, 3) == (
            caught.value.stream_id,
            caught.value.expected,
            caught.value.actual,
        )
        assert before["event_store"].equals(snapshot(bob)["event_store"])
        assert 4 == bob.append("account-1", [deposit(2)], expected_version=bob.version("account-1"))
        assert [100, 1, 2] == [e.data["amount"] for e in alice.read_stream("account-1")[1:]]
        assert [1, 2, 3, 4] == [e.position for e in alice.read_all()]


# -- reading --------------------------------------------------------------------------
def test_a_missing_stream_raises_stream_not_found(store: EventStore) -> None:
    with pytest.raises(StreamNotFound) as caught:
        store.read_stream("account-404")
    assert "account-404" == caught.value.stream_id
    assert "'account-404'" in str(caught.value)


@pytest.mark.parametrize(
    ("to_version", "as_of", "versions"),
    [
        (None, None, [1, 2, 3]),
        (2, None, [1, 2]),
        (3, None, [1, 2, 3]),
        (99, None, [1, 2, 3]),
        (None, START, [1]),
        (None, START + MINUTE, [1, 2]),  # the bound is inclusive
        (None, START + MINUTE - timedelta(microseconds=1), [1]),
        (None, START + 2 * MINUTE, [1, 2]),  # account-2 opened then, not account-1
        (None, START + 3 * MINUTE, [1, 2, 3]),
        (None, START - timedelta(microseconds=1), []),
        (2, START + 3 * MINUTE, [1, 2]),
        (3, START + MINUTE, [1, 2]),
    ],
)
def test_read_stream_stops_at_a_version_and_at_a_time_both_inclusive(
    filled_store: EventStore, to_version: int | None, as_of: datetime | None, versions: list[int]
) -> None:
    events = filled_store.read_stream("account-1", to_version=to_version, as_of=as_of)
    assert versions == [e.version for e in events]


@pytest.mark.parametrize(
    ("bounds", "named"),
    [
        ({"to_version": 0}, "0"),
        ({"to_version": -1}, "-1"),
        ({"to_version": 1.5}, "1.5"),
        ({"as_of": datetime(2024, 3, 15, 9, 0)}, "2024-03-15T09:00:00"),
    ],
    ids=repr,
)
def test_a_bad_read_bound_is_refused_by_value(
    filled_store: EventStore, bounds: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidArgument, match=named.replace(".", r"\.")):
        filled_store.read_stream("account-1", **bounds)


def test_read_all_follows_commit_order_across_streams(filled_store: EventStore) -> None:
    events = filled_store.read_all()
    assert [1, 2, 3, 4] == [e.position for e in events]
    assert ["account-1", "account-1", "account-2", "account-1"] == [e.stream_id for e in events]
    assert [3, 4] == [e.position for e in filled_store.read_all(after=2)]
    assert [] == filled_store.read_all(after=4)
    assert [1, 2] == [e.position for e in filled_store.read_all(limit=2)]
    assert [2] == [e.position for e in filled_store.read_all(event_types=["MoneyDeposited"])]
    opened = filled_store.read_all(after=1, event_types=["AccountOpened", "MoneyWithdrawn"])
    assert [3, 4] == [e.position for e in opened]


@pytest.mark.parametrize(
    ("arguments", "error", "named"),
    [
        ({"after": -1}, InvalidArgument, "-1"),
        ({"limit": 0}, InvalidArgument, "0"),
        ({"event_types": ["Nope"]}, UnknownEventType, "'Nope'"),
        ({"event_types": "AccountOpened"}, InvalidArgument, "'AccountOpened'"),
    ],
    ids=repr,
)
def test_read_all_refuses_bad_arguments_by_value(
    filled_store: EventStore, arguments: dict[str, Any], error: type[EventSimError], named: str
) -> None:
    with pytest.raises(error) as caught:
        filled_store.read_all(**arguments)
    assert named in str(caught.value)


def test_sql_takes_parameters_and_returns_a_data_frame(filled_store: EventStore) -> None:
    param = filled_store.PARAM  # each backend's own placeholder
    frame = filled_store.sql(
        f"SELECT version FROM event_store WHERE stream_id = {param} ORDER BY version",
        ["account-1"],
    )
    assert [1, 2, 3] == list(frame["version"])
    hostile = filled_store.sql(
        f"SELECT count(*) AS n FROM event_store WHERE stream_id = {param}", ["x' OR '1'='1"]
    )
    assert [0] == list(hostile["n"])


def test_info_counts_streams_events_and_types(filled_store: EventStore) -> None:
    info = filled_store.info()
    assert (2, 4) == (info["streams"], info["events"])
    assert {"AccountOpened": 2, "MoneyDeposited": 1, "MoneyWithdrawn": 1} == info["event_types"]
    assert (START, START + 3 * MINUTE) == (info["first"], info["last"])


# -- positions, files, reproducibility ----------------------------------------------
def test_positions_stay_gap_free_across_appends_and_loads(
    store: EventStore, write_parquet: Callable[..., Path]
) -> None:
    store.append("early-1", [bank.AccountOpened("Ada")], expected_version=0)
    store.load_parquet(write_parquet(bank_sim.simulate(4, seed=1), "one.parquet"))
    store.append("early-1", [deposit()], expected_version=1)
    renamed = bank_sim.simulate(3, seed=2).to_pylist()
    for row in renamed:
        row["stream_id"] = "second-" + str(row["stream_id"])
    store.load_parquet(write_parquet(renamed, "two.parquet"))
    store.append("early-1", [deposit()], expected_version=2)
    positions = list(store.sql("SELECT position FROM event_store ORDER BY position")["position"])
    assert list(range(1, len(positions) + 1)) == positions
    assert [[len(positions)]] == store.sql("SELECT position FROM event_log").values.tolist()


def test_a_file_store_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "bank.duckdb"
    with reproducible_store(path) as first:
        first.append("account-1", [bank.AccountOpened("Ada"), deposit(5)], expected_version=0)
        before = snapshot(first)
    later = TickingClock(START + timedelta(days=1))
    with EventStore(path, clock=later, new_id=seeded_ids(8)) as second:
        assert_frames = snapshot(second)
        for name, frame in before.items():
            assert frame.equals(assert_frames[name]), name
        assert 3 == second.append("account-1", [deposit(6)], expected_version=2)
        assert [1, 2, 3] == [e.position for e in second.read_stream("account-1")]


def test_a_file_that_is_not_a_duckdb_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database")
    with pytest.raises(InvalidArgument, match="notes.txt"):
        EventStore(path)


def test_a_ticking_clock_and_seeded_ids_make_appends_reproducible() -> None:
    def session(store: EventStore) -> None:
        store.append("account-1", [bank.AccountOpened("Ada"), deposit(5)], expected_version=0)
        store.append("account-2", [bank.AccountOpened("Alan")], expected_version=0)

    with (
        reproducible_store() as one,
        reproducible_store() as two,
        EventStore(clock=TickingClock(START), new_id=seeded_ids(8)) as other_seed,
    ):
        for store in (one, two, other_seed):
            session(store)
        first, second, third = snapshot(one), snapshot(two), snapshot(other_seed)
    assert first["event_store"].equals(second["event_store"])
    assert [START + i * MINUTE for i in range(3)] == list(first["event_store"]["timestamp"])
    assert not set(first["event_store"]["event_id"]) & set(third["event_store"]["event_id"])


def test_big_amounts_stay_exact(store: EventStore) -> None:
    amount = Decimal("9876543210987.65")
    store.append(
        "account-1", [bank.AccountOpened("Ada"), bank.MoneyDeposited(amount)], expected_version=0
    )
    stored = store.read_stream("account-1")[1]
    assert amount == bank.MoneyDeposited.from_data(stored.data).amount


def test_a_time_the_store_supplies_never_goes_back_though_its_clock_does() -> None:
    times = iter([START, START - MINUTE])  # the wall clock stepped back a minute
    with EventStore(clock=lambda: next(times)) as store:
        store.append("account-1", [bank.AccountOpened("Ada")], expected_version=0)
        store.append("account-1", [deposit()], expected_version=1)
        assert [START, START] == [e.timestamp for e in store.read_stream("account-1")]
        with pytest.raises(InvalidEvent, match="earlier than the stream's previous event"):
            store.append("account-1", [deposit(timestamp=START - MINUTE)], expected_version=2)


def test_read_bounds_beyond_any_version_or_position_read_everything(
    filled_store: EventStore,
) -> None:
    assert 3 == len(filled_store.read_stream("account-1", to_version=2**200))
    assert 4 == len(filled_store.read_all(limit=2**63))
    assert [] == filled_store.read_all(after=2**200)


@pytest.mark.parametrize("path", [None, b"x.duckdb", 123, "", "a\0b"], ids=repr)
def test_a_store_path_that_is_not_a_file_name_is_refused_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: object
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidArgument, match="file name"):
        EventStore(path)  # type: ignore[arg-type]
    assert [] == list(tmp_path.iterdir())
