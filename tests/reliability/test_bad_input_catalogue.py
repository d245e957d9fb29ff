"""One catalogue of bad input, tried against one file store: every case is refused with
an ``EventSimError`` subclass whose message names the bad value (or, on the command
line, exit code 2 and one line on stderr), and no row of the store changes.

Each case is (name, attempt, error class, text the message must hold). The attempt gets
the store and a scratch folder; the store holds an open account, a closed account and a
cancelled order, so "closed streams" and "wrong version" have something to refuse.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from eventsim import (
    ConcurrencyError,
    DomainError,
    DuplicateEventId,
    EventSimError,
    EventStore,
    InvalidArgument,
    InvalidDataset,
    InvalidEvent,
    NewEvent,
    StreamNotFound,
    TickingClock,
    UnknownEventType,
    cli,
    seeded_ids,
)
from eventsim.catalog import open_store
from eventsim.domains import bank, orders
from eventsim.replay import all_states, state_at
from eventsim.sim import kit as simkit
from eventsim.store import EventStoreContract
from tests.conftest import START, reproducible_store, snapshot

Attempt = Callable[[EventStore, Path], object]
T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
MINUS_5, PLUS_5 = timezone(timedelta(hours=-5)), timezone(timedelta(hours=5))
ID = uuid.UUID(int=77, version=4)


@dataclass(frozen=True)
class Case:
    name: str
    attempt: Attempt
    error: type[EventSimError]
    named: str


# -- the store every case runs against -------------------------------------------------
def fill(store: EventStore) -> None:
    store.append(
        "account-1",
        [bank.AccountOpened("Ada"), bank.MoneyDeposited(Decimal(100))],
        expected_version=0,
    )
    store.append("account-1", [bank.MoneyWithdrawn(Decimal("30.25"))], expected_version=2)
    store.append("account-2", [bank.AccountOpened("Alan")], expected_version=0)
    store.append("account-2", [bank.AccountClosed("moved abroad")], expected_version=1)
    order = [orders.PlaceOrder("customer-1", (orders.LineItem("SKU-001", 2, Decimal("24.90")),))]
    order += [orders.DeclinePayment(), orders.CancelOrder("payment failed")]
    state = orders.INITIAL_STATE
    for command in order:
        events = orders.decide(state, command)
        store.append("order-1", events, expected_version=state.version)
        for event in events:
            state = orders.evolve(state, event)


@dataclass
class Tally:
    tried: int = 0
    rows_changed: int = 0


TALLY = Tally()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("catalogue")


@pytest.fixture(scope="module")
def shared_store(folder: Path) -> Iterator[EventStore]:
    with reproducible_store(folder / "catalogue.duckdb") as store:
        fill(store)
        yield store
    print(f"\nbad inputs tried: {TALLY.tried}, rows changed: {TALLY.rows_changed}")


def rows_changed(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> int:
    """Rows added, removed or altered in any of the store's tables."""
    changed = 0
    for name, frame in before.items():
        old = set(frame.astype(str).itertuples(index=False, name=None))
        new = set(after[name].astype(str).itertuples(index=False, name=None))
        changed += len(old ^ new)
    return changed


@pytest.fixture
def unchanged_store(shared_store: EventStore) -> Iterator[EventStore]:
    """The shared store; the test fails if the case changed any of its rows."""
    before = snapshot(shared_store)
    yield shared_store
    changed = rows_changed(before, snapshot(shared_store))
    TALLY.tried += 1
    TALLY.rows_changed += changed
    assert 0 == changed


# -- appends -------------------------------------------------------------------------
def deposit(amount: object = 10, **fields: Any) -> NewEvent:
    return NewEvent("MoneyDeposited", {"amount": amount}, **fields)


def append(stream: object, events: object, expected: object = 3, *, lead: bool = True) -> Attempt:
    """Append to account-1 (at version 3) unless told otherwise; a good event goes first
    (unless ``lead`` is false), so a half-written batch would show."""
    good_first = [deposit()] if lead and isinstance(events, list) and stream == "account-1" else []
    batch = [*good_first, *events] if isinstance(events, list) else events
    return lambda store, _: store.append(stream, batch, expected_version=expected)  # type: ignore[arg-type]


def nested(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(depth):
        node["x"] = {}
        node = node["x"]
    return root


def opened(owner: object) -> list[NewEvent]:
    return [NewEvent("AccountOpened", {"owner": owner})]


def stored_id(store: EventStore) -> uuid.UUID:
    return store.read_stream("account-1")[0].event_id


APPEND_CASES = [
    Case(
        "unknown event type",
        append("account-1", [NewEvent("MoneyTeleported", {})]),
        UnknownEventType,
        "'MoneyTeleported'",
    ),
    Case(
        "data is a JSON list",
        append("account-1", [NewEvent("MoneyDeposited", [1])]),  # type: ignore[arg-type]
        InvalidEvent,
        "[1]",
    ),
    Case(
        "data is text",
        append("account-1", [NewEvent("MoneyDeposited", "amount=5")]),  # type: ignore[arg-type]
        InvalidEvent,
        "'amount=5'",
    ),
    Case(
        "data is None",
        append("account-1", [NewEvent("MoneyDeposited", None)]),  # type: ignore[arg-type]
        InvalidEvent,
        "None",
    ),
    Case(
        "metadata is a list",
        append("account-1", [deposit(metadata=["atm"])]),
        InvalidEvent,
        "['atm']",
    ),
    Case("NaN amount", append("account-1", [deposit(float("nan"))]), InvalidEvent, "nan"),
    Case("infinite amount", append("account-1", [deposit(float("inf"))]), InvalidEvent, "inf"),
    Case(
        "minus infinity in metadata",
        append("account-1", [deposit(metadata={"score": float("-inf")})]),
        InvalidEvent,
        "-inf",
    ),
    Case(
        "NaN in metadata",
        append("account-1", [deposit(metadata={"score": float("nan")})]),
        InvalidEvent,
        "nan",
    ),
    Case(
        "payload over 64 KiB",
        append("account-1", [deposit(metadata={"note": "x" * 70_000})]),
        InvalidEvent,
        "70011 bytes",
    ),
    Case(
        "a set in metadata",
        append("account-1", [deposit(metadata={"tags": {1}})]),
        InvalidEvent,
        "{1}",
    ),
    Case(
        "a tuple as a metadata key",
        append("account-1", [deposit(metadata={(1, 2): 1})]),
        InvalidEvent,
        "(1, 2)",
    ),
    Case(
        "deeply nested metadata",
        append("account-1", [deposit(metadata=nested(100_000))]),
        InvalidEvent,
        "nested too deeply",
    ),
    Case(
        "deeply nested data",
        append("account-1", [deposit(nested(100_000))]),
        InvalidEvent,
        "nested too deeply",
    ),
    Case(
        "bytes that are not UTF-8 as the owner",
        append("account-3", opened(b"\xff\xfe"), 0),
        InvalidEvent,
        "b'\\xff\\xfe'",
    ),
    Case(
        "a lone surrogate (not UTF-8) in the owner",
        append("account-3", opened("Ad\udcffa"), 0),
        InvalidEvent,
        "'\\udcff'",
    ),
    Case(
        "a lone surrogate in a metadata key",
        append("account-1", [deposit(metadata={"k\ud800": 1})]),
        InvalidEvent,
        "'\\ud800'",
    ),
    Case("blank owner", append("account-3", opened("  "), 0), InvalidEvent, "'  '"),
    Case("owner a number", append("account-3", opened(42), 0), InvalidEvent, "42"),
    Case("zero amount", append("account-1", [deposit(0)]), InvalidEvent, "got 0"),
    Case("negative amount", append("account-1", [deposit(-5)]), InvalidEvent, "-5"),
    Case("three decimals", append("account-1", [deposit("1.005")]), InvalidEvent, "'1.005'"),
    Case("amount a boolean", append("account-1", [deposit(True)]), InvalidEvent, "True"),
    Case("amount beyond 28 digits", append("account-1", [deposit("1e30")]), InvalidEvent, "1e30"),
    Case(
        "missing field",
        append("account-1", [NewEvent("MoneyDeposited", {})]),
        InvalidEvent,
        "['amount']",
    ),
    Case(
        "extra field",
        append("account-1", [NewEvent("MoneyDeposited", {"amount": 1, "memo": 2})]),
        InvalidEvent,
        "['memo']",
    ),
    Case(
        "order total not the sum of its lines",
        append(
            "order-9",
            [
                NewEvent(
                    "OrderPlaced",
                    {
                        "customer_id": "c-1",
                        "total": 9.99,
                        "items": [{"sku": "SKU-001", "quantity": 1, "unit_price": 5}],
                    },
                )
            ],
            0,
        ),
        InvalidEvent,
        "9.99",
    ),
    Case(
        "order lines not a list",
        append(
            "order-9",
            [NewEvent("OrderPlaced", {"customer_id": "c-1", "total": 5, "items": "SKU-001"})],
            0,
        ),
        InvalidEvent,
        "'SKU-001'",
    ),
    Case(
        "naive timestamp",
        append("account-1", [deposit(timestamp=datetime(2024, 3, 16, 9))]),
        InvalidEvent,
        "2024-03-16T09:00:00",
    ),
    Case(
        "far-future timestamp",
        append("account-1", [deposit(timestamp=datetime(2200, 1, 1, tzinfo=UTC))]),
        InvalidEvent,
        "2200-01-01",
    ),
    Case(
        "timestamp before 1970",
        append(
            "account-3",
            [
                NewEvent(
                    "AccountOpened", {"owner": "Ada"}, timestamp=datetime(1960, 1, 1, tzinfo=UTC)
                )
            ],
            0,
        ),
        InvalidEvent,
        "1960-01-01",
    ),
    Case(
        "timestamp as text",
        append("account-1", [deposit(timestamp="2024-03-16")]),
        InvalidEvent,
        "'2024-03-16'",
    ),
    Case(
        "timestamp before the stream's last event",
        append("account-1", [deposit(timestamp=datetime(2024, 3, 14, tzinfo=UTC))]),
        InvalidEvent,
        "2024-03-14T00:00:00+00:00",
    ),
    Case(
        "event id not a UUID", append("account-1", [deposit(event_id="42")]), InvalidEvent, "'42'"
    ),
    Case(
        "the same id twice in a batch",
        append("account-1", [deposit(event_id=ID)] * 2),
        DuplicateEventId,
        str(ID),
    ),
    Case(
        "an id already stored in another stream",
        lambda s, _: s.append("account-2", [deposit(event_id=stored_id(s))], expected_version=2),
        DuplicateEventId,
        "already stored",
    ),
    Case(
        "stale expected version",
        append("account-1", [deposit()], 2),
        ConcurrencyError,
        "not the expected 2",
    ),
    Case(
        "expected version ahead of the stream",
        append("account-1", [deposit()], 99),
        ConcurrencyError,
        "not the expected 99",
    ),
    Case(
        "expected version 0 for an existing stream",
        append("account-1", [deposit()], 0),
        ConcurrencyError,
        "not the expected 0",
    ),
    Case("negative expected version", append("account-1", [deposit()], -1), InvalidArgument, "-1"),
    Case("expected version as text", append("account-1", [deposit()], "3"), InvalidArgument, "'3'"),
    Case("expected version a float", append("account-1", [deposit()], 3.0), InvalidArgument, "3.0"),
    Case(
        "stream id with a quote",
        append("account'1", [deposit()], None),
        InvalidArgument,
        "account'1",
    ),
    Case(
        "stream id with a semicolon",
        append("account;1", [deposit()], None),
        InvalidArgument,
        "account;1",
    ),
    Case(
        "stream id with SQL",
        append("x'); DELETE FROM event_store; --", [deposit()], None),
        InvalidArgument,
        "DELETE FROM event_store",
    ),
    Case(
        "stream id with a newline",
        append("account-1\n", [deposit()], None),
        InvalidArgument,
        "'account-1\\n'",
    ),
    Case("stream id not ASCII", append("kontø-1", [deposit()], None), InvalidArgument, "kontø-1"),
    Case("empty stream id", append("", [deposit()], None), InvalidArgument, "''"),
    Case(
        "stream id of 256 characters",
        append("a" * 256, [deposit()], None),
        InvalidArgument,
        "a" * 256,
    ),
    Case("stream id a number", append(42, [deposit()], None), InvalidArgument, "42"),
    Case("empty batch", append("account-1", [], lead=False), InvalidArgument, "got 0"),
    Case(
        "batch over 100,000 events",
        append("account-1", [deposit()] * 100_001, lead=False),
        InvalidArgument,
        "100,001",
    ),
    Case("a lone event, not a list", append("account-1", deposit()), InvalidArgument, "NewEvent"),
    Case("events as a string", append("account-1", "MoneyDeposited"), InvalidEvent, "'M'"),
    Case("events as None", append("account-1", None), InvalidArgument, "NoneType"),
    Case(
        "event type a list",
        append("account-1", [NewEvent(["MoneyDeposited"], {"amount": 1})]),  # type: ignore[arg-type]
        InvalidEvent,
        "['MoneyDeposited']",
    ),
    Case(
        "event type with a newline",
        append("account-1", [NewEvent("Money\nDeposited", {"amount": 1})]),
        UnknownEventType,
        "'Money\\nDeposited'",
    ),
    Case(
        "data with a key that is not text",
        append("account-1", [NewEvent("MoneyDeposited", {1: 2, "b": 3})]),
        InvalidEvent,
        "[1, 'b']",
    ),
    Case(
        "Decimal infinity in metadata",
        append("account-1", [deposit(metadata={"x": Decimal("Infinity")})]),
        InvalidEvent,
        "Infinity",
    ),
    Case(
        "signalling Decimal NaN in metadata",
        append("account-1", [deposit(metadata={"x": Decimal("sNaN")})]),
        InvalidEvent,
        "sNaN",
    ),
    Case(
        "Decimal of a billion digits in metadata",
        append("account-1", [deposit(metadata={"x": Decimal("1e999999999")})]),
        InvalidEvent,
        "1E+999999999",
    ),
    Case("amount of 10**5000", append("account-1", [deposit(10**5000)]), InvalidEvent, "bits"),
    Case(
        "amount of a billion digits",
        append("account-1", [deposit(Decimal("1e999999999"))]),
        InvalidEvent,
        "1E+999999999",
    ),
    Case(
        "timestamp of datetime.max at -05:00",
        append("account-1", [deposit(timestamp=datetime.max.replace(tzinfo=MINUS_5))]),
        InvalidEvent,
        "9999-12-31",
    ),
    Case("event id a list", append("account-1", [deposit(event_id=[1])]), InvalidEvent, "[1]"),
    Case(
        "metadata key with a newline",
        append("account-1", [deposit(metadata={"a\nb": object()})]),
        InvalidEvent,
        "a\\nb",
    ),
    Case(
        "stream id a list",
        append(["account-1"], [deposit()], None),
        InvalidArgument,
        "['account-1']",
    ),
    Case(
        "expected version 2**200",
        append("account-1", [deposit()], 2**200),
        ConcurrencyError,
        "account-1",
    ),
]

# -- reads and replays ---------------------------------------------------------------
READ_CASES = [
    Case(
        "read of a missing stream",
        lambda s, _: s.read_stream("account-404"),
        StreamNotFound,
        "'account-404'",
    ),
    Case(
        "read of a stream id with SQL",
        lambda s, _: s.read_stream("x' OR '1'='1"),
        InvalidArgument,
        "x' OR '1'='1",
    ),
    Case(
        "read up to version 0",
        lambda s, _: s.read_stream("account-1", to_version=0),
        InvalidArgument,
        "got 0",
    ),
    Case(
        "read as of a naive time",
        lambda s, _: s.read_stream("account-1", as_of=datetime(2024, 3, 15)),
        InvalidArgument,
        "2024-03-15T00:00:00",
    ),
    Case("read all after -1", lambda s, _: s.read_all(after=-1), InvalidArgument, "-1"),
    Case(
        "read all of an unknown type",
        lambda s, _: s.read_all(event_types=["Nope"]),
        UnknownEventType,
        "'Nope'",
    ),
    Case(
        "read all with a string of types",
        lambda s, _: s.read_all(event_types="AccountOpened"),
        InvalidArgument,
        "'AccountOpened'",
    ),
    Case("read all with limit 0", lambda s, _: s.read_all(limit=0), InvalidArgument, "got 0"),
    Case(
        "read all with a number as the types",
        lambda s, _: s.read_all(event_types=123),  # type: ignore[arg-type]
        InvalidArgument,
        "123",
    ),
    Case(
        "read all with a list inside the types",
        lambda s, _: s.read_all(event_types=[["AccountOpened"]]),  # type: ignore[list-item]
        UnknownEventType,
        "['AccountOpened']",
    ),
    Case(
        "read as of datetime.max at -05:00",
        lambda s, _: s.read_stream("account-1", as_of=datetime.max.replace(tzinfo=MINUS_5)),
        InvalidArgument,
        "9999-12-31",
    ),
    Case(
        "read as of datetime.min at +05:00",
        lambda s, _: s.read_stream("account-1", as_of=datetime.min.replace(tzinfo=PLUS_5)),
        InvalidArgument,
        "0001-01-01",
    ),
    Case(
        "read up to a version as text",
        lambda s, _: s.read_stream("account-1", to_version="2"),  # type: ignore[arg-type]
        InvalidArgument,
        "'2'",
    ),
    Case(
        "sql with a query that is not text",
        lambda s, _: s.sql(42),  # type: ignore[arg-type]
        InvalidArgument,
        "42",
    ),
    Case(
        "sql that DuckDB refuses",
        lambda s, _: s.sql("SELEC 1"),
        InvalidArgument,
        "SELEC 1",
    ),
    Case(
        "a bank command with an owner that is not text",
        lambda s, _: bank.decide(bank.Account(), bank.OpenAccount(42)),  # type: ignore[arg-type]
        DomainError,
        "42",
    ),
    Case(
        "a bank command with a reason that is not text",
        lambda s, _: bank.decide(bank.Account("Ada", status="open"), bank.CloseAccount(None)),  # type: ignore[arg-type]
        DomainError,
        "None",
    ),
    Case(
        "a bank command that is not a command",
        lambda s, _: bank.decide(bank.Account(), "OpenAccount"),  # type: ignore[arg-type]
        DomainError,
        "'OpenAccount'",
    ),
    Case(
        "a bank state that is not a state",
        lambda s, _: bank.decide(None, bank.OpenAccount("Ada")),  # type: ignore[arg-type]
        DomainError,
        "None",
    ),
    Case(
        "an orders state that is not a state",
        lambda s, _: orders.decide({}, orders.CancelOrder("x")),  # type: ignore[arg-type]
        DomainError,
        "{}",
    ),
    Case(
        "state before the stream existed",
        lambda s, _: state_at(s, "account-1", as_of=datetime(2000, 1, 1, tzinfo=UTC)),
        InvalidArgument,
        "2000-01-01",
    ),
    Case(
        "all states of an unknown domain",
        lambda s, _: all_states(s, "crypto"),
        InvalidArgument,
        "'crypto'",
    ),
]


# -- closed streams: the domain refuses, the store is not touched -----------------------
def command_on(stream: str, command: object) -> Attempt:
    """Decide ``command`` against the stream's stored state; append what it yields."""

    def attempt(store: EventStore, _: Path) -> object:
        state = state_at(store, stream)
        domain = bank if stream.startswith("account") else orders
        events = domain.decide(state, command)
        return store.append(stream, events, expected_version=state.version)

    return attempt


CLOSED_CASES = [
    Case(
        "deposit to a closed account",
        command_on("account-2", bank.Deposit(Decimal(5))),
        DomainError,
        "closed",
    ),
    Case(
        "withdraw from a closed account",
        command_on("account-2", bank.Withdraw(Decimal(5))),
        DomainError,
        "closed",
    ),
    Case(
        "close a closed account",
        command_on("account-2", bank.CloseAccount()),
        DomainError,
        "closed",
    ),
    Case(
        "overdraft", command_on("account-1", bank.Withdraw(Decimal("69.76"))), DomainError, "69.76"
    ),
    Case(
        "charge a cancelled order",
        command_on("order-1", orders.ChargePayment(Decimal("49.8"))),
        DomainError,
        "'cancelled'",
    ),
    Case(
        "ship a cancelled order",
        command_on("order-1", orders.ShipOrder("JD1")),
        DomainError,
        "'cancelled'",
    ),
]


# -- opening something that is not a store -------------------------------------------
def open_file(name: str, content: bytes) -> Attempt:
    def attempt(_: EventStore, folder: Path) -> object:
        path = folder / name
        path.write_bytes(content)
        return EventStore(path)

    return attempt


OPEN_CASES = [
    Case(
        "a Parquet file opened as a store",
        open_file("events.parquet", b"PAR1" + b"\0" * 64),
        InvalidArgument,
        "events.parquet",
    ),
    Case(
        "a CSV file opened as a store",
        open_file("events.csv", b"stream_id,version\na,1\n"),
        InvalidArgument,
        "events.csv",
    ),
    Case(
        "random bytes opened as a store",
        open_file("noise.duckdb", bytes(range(256)) * 8),
        InvalidArgument,
        "noise.duckdb",
    ),
    Case(
        "a folder opened as a store",
        lambda _, folder: EventStore(folder),
        InvalidArgument,
        "catalogue",
    ),
]


# -- bulk loads ----------------------------------------------------------------------
def good_rows() -> list[dict[str, Any]]:
    return [
        {
            "stream_id": "acct-new",
            "version": v,
            "event_id": str(uuid.UUID(int=9000 + v, version=4)),
            "event_type": "AccountOpened" if v == 1 else "MoneyDeposited",
            "data": '{"owner":"Ada"}' if v == 1 else '{"amount":10}',
            "metadata": "{}",
            "timestamp": T0 + timedelta(minutes=v),
        }
        for v in (1, 2, 3)
    ]


def load_rows(index: int, **values: Any) -> Attempt:
    """Load the good rows with row ``index`` changed."""

    def attempt(store: EventStore, folder: Path) -> object:
        rows = good_rows()
        rows[index].update(values)
        path = folder / f"rows-{uuid.uuid4().hex}.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=simkit.SCHEMA), path)
        return store.load_parquet(path)

    return attempt


def load_table(build: Callable[[pa.Table], pa.Table]) -> Attempt:
    def attempt(store: EventStore, folder: Path) -> object:
        path = folder / f"table-{uuid.uuid4().hex}.parquet"
        pq.write_table(build(pa.Table.from_pylist(good_rows(), schema=simkit.SCHEMA)), path)
        return store.load_parquet(path)

    return attempt


def load_bytes(name: str, damage: Callable[[bytes], bytes]) -> Attempt:
    def attempt(store: EventStore, folder: Path) -> object:
        path = folder / name
        pq.write_table(pa.Table.from_pylist(good_rows(), schema=simkit.SCHEMA), path)
        path.write_bytes(damage(path.read_bytes()))
        return store.load_parquet(path)

    return attempt


def not_utf8(table: pa.Table) -> pa.Table:
    """The data column with bytes that are not UTF-8, slipped past pyarrow's checks."""
    raw = pa.array([b'{"owner":"\xff\xfe"}', b'{"amount":1}', b'{"amount":2}'], pa.binary())
    return table.set_column(4, "data", pa.Array.from_buffers(pa.string(), 3, raw.buffers()))


LOAD_CASES = [
    Case(
        "garbage bytes as Parquet",
        load_bytes("garbage.parquet", lambda b: b"PAR1 no PAR1"),
        InvalidDataset,
        "garbage.parquet",
    ),
    Case(
        "truncated Parquet",
        load_bytes("cut.parquet", lambda b: b[: len(b) // 2]),
        InvalidDataset,
        "cut.parquet",
    ),
    Case(
        "empty file as Parquet",
        load_bytes("empty.parquet", lambda b: b""),
        InvalidDataset,
        "empty.parquet",
    ),
    Case(
        "missing Parquet file",
        lambda s, f: s.load_parquet(f / "nowhere.parquet"),
        InvalidDataset,
        "nowhere.parquet",
    ),
    Case(
        "a DuckDB file loaded as Parquet",
        lambda s, _: s.load_parquet(Path(s.path)),
        InvalidDataset,
        "catalogue.duckdb",
    ),
    Case(
        "missing column",
        load_table(lambda t: t.drop_columns(["metadata"])),
        InvalidDataset,
        "missing ['metadata']",
    ),
    Case(
        "extra column",
        load_table(lambda t: t.append_column("colour", pa.array(["r"] * 3))),
        InvalidDataset,
        "unexpected ['colour']",
    ),
    Case(
        "version as text",
        load_table(lambda t: t.set_column(1, "version", pc.cast(t["version"], pa.string()))),
        InvalidDataset,
        "'version' is VARCHAR",
    ),
    Case(
        "data as a number",
        load_table(lambda t: t.set_column(4, "data", pa.array([1, 2, 3]))),
        InvalidDataset,
        "'data' is BIGINT",
    ),
    Case(
        "naive timestamp column",
        load_table(
            lambda t: t.set_column(6, "timestamp", pc.cast(t["timestamp"], pa.timestamp("us")))
        ),
        InvalidDataset,
        "naive timestamp",
    ),
    Case("no rows", load_table(lambda t: t.slice(0, 0)), InvalidDataset, "holds no events"),
    Case("text that is not UTF-8", load_table(not_utf8), InvalidDataset, "\\xff\\xfe"),
    Case("version gap", load_rows(2, version=4), InvalidDataset, "version 4 breaks the sequence"),
    Case(
        "version repeated", load_rows(2, version=2), InvalidDataset, "version 2 breaks the sequence"
    ),
    Case(
        "an existing stream restarted at version 1",
        load_rows(0, stream_id="account-1"),
        InvalidDataset,
        "expected 4",
    ),
    Case(
        "duplicate id in the file",
        load_rows(2, event_id=good_rows()[1]["event_id"]),
        InvalidDataset,
        str(good_rows()[1]["event_id"]),
    ),
    Case(
        "unknown event type in a file",
        load_rows(1, event_type="MoneyTeleported"),
        InvalidDataset,
        "'MoneyTeleported'",
    ),
    Case("data not a JSON object", load_rows(1, data="[1,2]"), InvalidDataset, "[1,2]"),
    Case("data not JSON", load_rows(1, data="amount=10"), InvalidDataset, "amount=10"),
    Case("NaN in data", load_rows(1, data='{"amount":NaN}'), InvalidDataset, "NaN"),
    Case(
        "Infinity in metadata", load_rows(1, metadata='{"x":Infinity}'), InvalidDataset, "Infinity"
    ),
    Case(
        "payload over 64 KiB in a file",
        load_rows(0, data='{"owner":"' + "A" * 70_000 + '"}'),
        InvalidDataset,
        "70012 bytes, over the 65536-byte limit",
    ),
    Case(
        "deeply nested metadata in a file",
        load_rows(1, metadata='{"x":' + "[" * 30_000 + "]" * 30_000 + "}"),
        InvalidDataset,
        "maximum recursion depth",
    ),
    Case("amount as text", load_rows(1, data='{"amount":"10"}'), InvalidDataset, '"10"'),
    Case(
        "stream id with SQL in a file",
        load_rows(0, stream_id="a'; DROP TABLE event_store; --"),
        InvalidDataset,
        "DROP TABLE event_store",
    ),
    Case(
        "far-future timestamp in a file",
        load_rows(2, timestamp=datetime(2200, 1, 1, tzinfo=UTC)),
        InvalidDataset,
        "2200-01-01",
    ),
    Case(
        "timestamps out of order",
        load_rows(2, timestamp=T0),
        InvalidDataset,
        "earlier than the stream's previous event",
    ),
    Case(
        "an id already in the store",
        lambda s, f: load_rows(1, event_id=str(stored_id(s)))(s, f),
        InvalidDataset,
        "already stored",
    ),
]

EXPORT_CASES = [
    Case(
        "export into a missing folder",
        lambda s, f: s.export_parquet(f / "nowhere" / "out.parquet"),
        InvalidArgument,
        "nowhere",
    ),
    Case("export onto a folder", lambda s, f: s.export_parquet(f), InvalidArgument, "a folder"),
    Case(
        "export onto the store's own file",
        lambda s, _: s.export_parquet(s.path),
        InvalidArgument,
        "catalogue.duckdb",
    ),
    Case(
        "export to None",
        lambda s, _: s.export_parquet(None),  # type: ignore[arg-type]
        InvalidArgument,
        "None",
    ),
    Case(
        "load None",
        lambda s, _: s.load_parquet(None),  # type: ignore[arg-type]
        InvalidArgument,
        "None",
    ),
    Case(
        "load a path given as bytes",
        lambda s, f: s.load_parquet(bytes(f / "x.parquet")),  # type: ignore[arg-type]
        InvalidArgument,
        "x.parquet",
    ),
    Case(
        "load a file whose name holds a newline",
        lambda s, f: s.load_parquet(f / "two\nlines.parquet"),
        InvalidDataset,
        "two\\nlines",
    ),
    Case("a store at None", lambda _, f: EventStore(None), InvalidArgument, "None"),  # type: ignore[arg-type]
    Case(
        "a store at bytes",
        lambda _, f: EventStore(b"x.duckdb"),  # type: ignore[arg-type]
        InvalidArgument,
        "b'x.duckdb'",
    ),
    Case("a store at a number", lambda _, f: EventStore(123), InvalidArgument, "123"),  # type: ignore[arg-type]
    Case("a store at ''", lambda _, f: EventStore(""), InvalidArgument, "''"),
    Case(
        "a store in a missing folder",
        lambda _, f: EventStore(f / "nowhere" / "x.duckdb"),
        InvalidArgument,
        "nowhere",
    ),
]

CASES = EXPORT_CASES + APPEND_CASES + READ_CASES + CLOSED_CASES + OPEN_CASES + LOAD_CASES


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_by_name_and_changes_no_row(
    unchanged_store: EventStore, folder: Path, case: Case
) -> None:
    with pytest.raises(EventSimError) as caught:
        case.attempt(unchanged_store, folder)
    assert isinstance(caught.value, case.error)
    assert case.named in str(caught.value)


def test_the_catalogue_names_each_case_once_and_has_at_least_50() -> None:
    names = [c.name for c in CASES + CLI_CASES]
    assert len(names) == len(set(names))
    assert len(names) >= 50


# -- the command line: exit code 2, one line on stderr -----------------------------------
@dataclass(frozen=True)
class CliCase:
    name: str
    argv: list[str]  # "{db}" and "{folder}" are filled in
    named: str


CLI_CASES = [
    CliCase("cli: a stream id with SQL", ["state", "--db", "{db}", "--stream", "a';--"], "a';--"),
    CliCase(
        "cli: a missing stream", ["state", "--db", "{db}", "--stream", "account-9"], "account-9"
    ),
    CliCase(
        "cli: a naive --as-of",
        ["state", "--db", "{db}", "--stream", "account-1", "--as-of", "2024-03-15T10:00"],
        "2024-03-15T10:00",
    ),
    CliCase(
        "cli: a far-future --as-of",
        ["state", "--db", "{db}", "--stream", "account-1", "--as-of", "2200-01-01T00:00Z"],
        "2200-01-01",
    ),
    CliCase(
        "cli: a negative --version",
        ["state", "--db", "{db}", "--stream", "account-1", "--version", "-1"],
        "-1",
    ),
    CliCase(
        "cli: a truncated Parquet file",
        ["load", "{folder}/cut.parquet", "--db", "{db}"],
        "cut.parquet",
    ),
    CliCase(
        "cli: a Parquet file as the database",
        ["info", "--db", "{folder}/cut.parquet"],
        "cut.parquet",
    ),
    CliCase(
        "cli: an --as-of of the last instant at -05:00",
        ["state", "--db", "{db}", "--stream", "account-1", "--as-of", "9999-12-31T23:59:59-05:00"],
        "9999-12-31",
    ),
    CliCase(
        "cli: generate onto a folder",
        ["generate", "bank", "--seed", "1", "--out", "{folder}"],
        "is a folder",
    ),
    CliCase("cli: generate to ''", ["generate", "bank", "--seed", "1", "--out", ""], "--out"),
    CliCase(
        "cli: generate from 1960",
        ["generate", "bank", "--seed", "1", "--start", "1960-01-01", "--out", "{folder}/g.parquet"],
        "1960-01-01",
    ),
    CliCase(
        "cli: generate past 2099",
        ["generate", "bank", "--seed", "1", "--start", "2099-12-01", "--days", "90"]
        + ["--out", "{folder}/g.parquet"],
        "2099-12-01",
    ),
    CliCase(
        "cli: a database name with a newline",
        ["info", "--db", "{folder}/two\nlines.duckdb"],
        "two\\nlines",
    ),
    CliCase(
        "cli: a seed that is not a number",
        ["generate", "bank", "--seed", "NaN", "--out", "{folder}/x.parquet"],
        "'NaN'",
    ),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.name for c in CLI_CASES])
def test_bad_input_on_the_command_line_exits_2_with_one_line_and_changes_no_row(
    unchanged_store: EventStore, folder: Path, case: CliCase, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "cut.parquet").write_bytes(b"PAR1\x15\x04")
    argv = [a.format(db=unchanged_store.path, folder=folder) for a in case.argv]
    assert 2 == cli.main(argv)
    stderr = capsys.readouterr().err
    assert 1 == len(stderr.strip().splitlines()), stderr
    assert case.named in stderr


def test_a_version_past_any_stream_on_the_command_line_reads_the_whole_stream(
    shared_store: EventStore, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["state", "--db", shared_store.path, "--stream", "account-1", "--version", "9" * 40]
    assert 0 == cli.main(argv)
    assert '"version": 3' in capsys.readouterr().out


# -- the same catalogue on the PostgreSQL backend ----------------------------------------
# What every backend takes the same way: appends, reads, loads and exports. (Opening a
# file, its own file as a target or a source, a closed stream's SQL folds and the command
# line are the DuckDB store's own.)
DUCKDB_FILE_CASES = {"export onto the store's own file", "a DuckDB file loaded as Parquet"}
CONTRACT_CASES = [
    case
    for case in APPEND_CASES + READ_CASES + LOAD_CASES + EXPORT_CASES
    if case.name not in DUCKDB_FILE_CASES
]


@pytest.fixture(scope="module")
def postgres_shared_store(postgres_run_database: str) -> Iterator[EventStoreContract]:
    with psycopg.connect(postgres_run_database, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS event_store, event_streams, event_log")
    clock = TickingClock(START)  # as reproducible_store's, so the cases' times mean the same
    with open_store(postgres_run_database, clock=clock, new_id=seeded_ids(7)) as store:
        fill(store)  # type: ignore[arg-type]
        yield store


@pytest.mark.parametrize("case", CONTRACT_CASES, ids=[c.name for c in CONTRACT_CASES])
def test_bad_input_is_refused_alike_on_postgres(
    postgres_shared_store: EventStoreContract, folder: Path, case: Case
) -> None:
    before = snapshot(postgres_shared_store)  # type: ignore[arg-type]
    with pytest.raises(EventSimError) as caught:
        case.attempt(postgres_shared_store, folder)  # type: ignore[arg-type]
    assert isinstance(caught.value, case.error)
    assert case.named in str(caught.value)
    assert 0 == rows_changed(before, snapshot(postgres_shared_store))  # type: ignore[arg-type]
