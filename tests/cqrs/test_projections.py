"""Projections: checkpoints committed with each batch, rebuilds, lag, and pushed delivery."""

from __future__ import annotations

import functools
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim import Event, EventStore, InvalidArgument, all_states, data_file, fold
from eventsim.cqrs import order_views as views
from eventsim.cqrs.order_views import SqlProjection
from eventsim.cqrs.projections import (
    Batch,
    ProjectionRunner,
    PythonProjection,
    UnknownProjection,
)
from eventsim.domains import bank
from eventsim.sim import orders as orders_sim
from tests.conftest import reproducible_store

NAMES = [p.name for p in views.ORDER_VIEWS]


@functools.cache
def orders_file(count: int, seed: int) -> Path:
    """A small simulated orders data set, written once per (count, seed)."""
    path = Path(tempfile.mkdtemp(prefix="projections-")) / "orders.parquet"
    orders_sim.simulate(count, seed=seed, days=20).to_pandas().to_parquet(path)
    return path


def orders_store(count: int = 60, seed: int = 5) -> EventStore:
    store = EventStore()
    store.load_parquet(orders_file(count, seed))
    return store


def read_models(runner: ProjectionRunner) -> dict[str, pd.DataFrame]:
    return {name: runner.frame(name) for name in runner.projections}


def assert_same_read_models(expected: dict[str, pd.DataFrame], actual: dict[str, Any]) -> None:
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(frame, actual[name], obj=name)


def rebuilt(store: EventStore, make: Callable[[], list[Any]] | None = None) -> dict[str, Any]:
    """The read models a fresh rebuild from position 0 gives, in a separate store."""
    clean = EventStore()
    events = store.sql("SELECT * FROM event_store ORDER BY position")
    clean.connection.register("copied_events", events)
    clean.connection.execute("INSERT INTO event_store SELECT * FROM copied_events")
    runner = ProjectionRunner(clean, make() if make else views.ORDER_VIEWS)
    runner.run()
    return read_models(runner)


# -- the three read models against independent folds --------------------------------------
def test_a_run_folds_the_whole_log_and_leaves_no_lag() -> None:
    store = orders_store()
    runner = ProjectionRunner(store, views.ORDER_VIEWS, batch_size=50)

    folded = runner.run()

    head = store.info()["events"]
    assert head == folded
    assert {name: 0 for name in NAMES} == runner.lag()
    assert {name: head for name in NAMES} == runner.checkpoints()


def test_the_order_summary_agrees_with_the_domains_own_fold_of_every_order() -> None:
    store = orders_store()
    runner = ProjectionRunner(store, views.ORDER_VIEWS, batch_size=37)
    runner.run()

    expected = all_states(store, "orders")[
        ["order_id", "customer_id", "status", "total", "paid", "version"]
    ]
    actual = views.order_summary(store.connection)[expected.columns]

    pd.testing.assert_frame_equal(expected, actual, check_dtype=False)


def test_the_revenue_report_adds_up_every_payment_and_refund_per_utc_day() -> None:
    store = orders_store()
    ProjectionRunner(store, views.ORDER_VIEWS, batch_size=29).run()
    expected = {}
    for event in store.read_all(event_types=["PaymentCharged", "PaymentRefunded"]):
        day = event.timestamp.date()
        charged, refunded = expected.get(day, (Decimal(0), Decimal(0)))
        amount = Decimal(str(event.data["amount"]))
        if event.event_type == "PaymentCharged":
            expected[day] = (charged + amount, refunded)
        else:
            expected[day] = (charged, refunded + amount)

    report = views.revenue_report(store.connection)

    actual = {
        row.day.date(): (Decimal(f"{row.charged:.2f}"), Decimal(f"{row.refunded:.2f}"))
        for row in report.itertuples()
    }
    assert expected == actual
    assert (report["net"] - (report["charged"] - report["refunded"])).abs().max() < 1e-9


def test_the_shipping_manifest_lists_exactly_the_orders_waiting_for_pickup() -> None:
    store = orders_store(80, seed=9)
    runner = ProjectionRunner(store, views.ORDER_VIEWS, batch_size=41)
    runner.run(until=store.info()["events"] // 2)  # mid-way, many shipments are booked
    upto = runner.checkpoint("shipping_manifest")
    events = store.read_all(limit=upto)
    by_stream: dict[str, list[Event]] = {}
    for event in events:
        by_stream.setdefault(event.stream_id, []).append(event)
    waiting = sorted(s for s, evs in by_stream.items() if fold(evs).status == "shipment_created")

    manifest = views.shipping_manifest(store.connection)

    assert waiting, "the test needs orders waiting for pickup"
    assert waiting == sorted(manifest["order_id"])
    assert not manifest["warehouse"].isna().any() and not manifest["carrier"].isna().any()


def test_the_read_models_ignore_events_of_other_domains() -> None:
    store = orders_store()
    store.append("account-1", [bank.AccountOpened("Ada")], expected_version=0)
    runner = ProjectionRunner(store, views.ORDER_VIEWS)

    runner.run()

    assert "account-1" not in set(views.order_summary(store.connection)["order_id"])
    assert {name: 0 for name in NAMES} == runner.lag()


def test_the_dashboard_query_for_one_customer_returns_only_that_customers_orders() -> None:
    store = orders_store()
    ProjectionRunner(store, views.ORDER_VIEWS).run()
    everyone = views.order_summary(store.connection)
    customer = everyone["customer_id"].iloc[0]

    mine = views.order_summary(store.connection, customer)

    expected = everyone[everyone["customer_id"] == customer].reset_index(drop=True)
    pd.testing.assert_frame_equal(expected, mine)


# -- checkpoints, resume, rebuild ----------------------------------------------------------
@settings(max_examples=12, deadline=None)
@given(
    batch_size=st.integers(8, 400),
    split=st.floats(0, 1),
    seed=st.sampled_from([5, 6]),
)
def test_stopping_anywhere_and_resuming_gives_what_a_rebuild_gives(
    batch_size: int, split: float, seed: int
) -> None:
    with orders_store(30, seed) as store:
        runner = ProjectionRunner(store, views.ORDER_VIEWS, batch_size=batch_size)
        runner.run(until=int(split * store.info()["events"]))
        # as after a restart
        resumed = ProjectionRunner(store, views.ORDER_VIEWS, batch_size=batch_size)
        resumed.run()

        incremental = read_models(resumed)
        for name in NAMES:
            resumed.rebuild(name)

        assert_same_read_models(incremental, read_models(resumed))
        assert_same_read_models(rebuilt(store), incremental)  # one batch: batching is invisible


def test_a_restart_from_a_file_resumes_at_the_stored_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "orders.duckdb"
    with EventStore(path) as store:
        store.load_parquet(data_file("orders.parquet"))
        ProjectionRunner(store, views.ORDER_VIEWS).run(until=1000)
    with EventStore(path) as store:
        runner = ProjectionRunner(store, views.ORDER_VIEWS)

        assert {name: 1000 for name in NAMES} == runner.checkpoints()
        assert store.info()["events"] - 1000 == runner.run()
        assert_same_read_models(rebuilt(store), read_models(runner))


def test_rebuilding_one_projection_leaves_the_others_and_their_checkpoints_alone() -> None:
    store = orders_store()
    runner = ProjectionRunner(store, views.ORDER_VIEWS)
    runner.run(until=100)
    store.connection.execute("DELETE FROM revenue_by_day")  # damage one read model
    untouched = runner.frame("order_summary")

    runner.rebuild("revenue_by_day", until=100)

    pd.testing.assert_frame_equal(untouched, runner.frame("order_summary"))
    assert {name: 100 for name in NAMES} == runner.checkpoints()
    assert len(runner.frame("revenue_by_day")) > 0


def test_lag_is_the_head_position_minus_each_checkpoint() -> None:
    store = orders_store()
    runner = ProjectionRunner(store, views.ORDER_VIEWS)
    runner.run(until=70)
    runner.rebuild("shipping_manifest", until=20)

    head = store.info()["events"]
    assert {
        "order_summary": head - 70,
        "revenue_by_day": head - 70,
        "shipping_manifest": head - 20,
    } == runner.lag()


# -- a crash inside a batch ------------------------------------------------------------------
@dataclass(frozen=True)
class CrashingProjection(SqlProjection):
    """A SQL projection that raises after its update ran, before the batch commits."""

    crash: Callable[[], bool] = lambda: True

    def apply(self, con: duckdb.DuckDBPyConnection, batch: Batch) -> None:
        super().apply(con, batch)
        if self.crash():
            raise RuntimeError("the process died before the commit")


def crashing(projection: SqlProjection, crash: Callable[[], bool]) -> CrashingProjection:
    fields = {f: getattr(projection, f) for f in ("name", "table", "schema", "update", "query")}
    return CrashingProjection(**fields, crash=crash)


def test_a_crash_after_applying_and_before_the_commit_changes_neither_table_nor_checkpoint() -> (
    None
):
    store = orders_store()
    ProjectionRunner(store, views.ORDER_VIEWS).run(until=50)
    runner = ProjectionRunner(
        store, [views.ORDER_SUMMARY, crashing(views.SHIPPING_MANIFEST, lambda: True)]
    )
    before = read_models(runner)

    with pytest.raises(RuntimeError, match="died"):
        runner.run()

    assert {"order_summary": 50, "shipping_manifest": 50} == runner.checkpoints()
    assert_same_read_models(before, read_models(runner))


class OrdersPerCustomer(PythonProjection):
    """A learner's projection: how many orders each customer placed, and their total."""

    name = "orders_per_customer"

    def __init__(self, crash_after: int | None = None) -> None:
        super().__init__()
        self.handlers = {"OrderPlaced": self.placed}
        self.crash_after = crash_after

    def placed(self, event: Event) -> None:
        row = self.rows.setdefault(event.data["customer_id"], {"orders": 0, "total": 0})
        row["orders"] += 1
        row["total"] = round(row["total"] + event.data["total"], 2)
        if self.crash_after is not None and sum(r["orders"] for r in self.rows.values()) > (
            self.crash_after
        ):
            raise RuntimeError("the handler crashed half-way through a batch")


def test_a_python_projection_runs_beside_the_sql_ones_and_agrees_with_sql() -> None:
    store = orders_store()
    runner = ProjectionRunner(store, [*views.ORDER_VIEWS, OrdersPerCustomer()], batch_size=33)

    runner.run()

    expected = store.sql(
        "SELECT data->>'customer_id' AS key, count(*) AS orders, "
        "round(sum(CAST(data->>'total' AS DECIMAL(18, 2))), 2) AS total "
        "FROM event_store WHERE event_type = 'OrderPlaced' GROUP BY 1 ORDER BY 1"
    )
    actual = runner.frame("orders_per_customer")
    pd.testing.assert_frame_equal(expected, actual, check_dtype=False)


def test_a_python_projection_that_crashes_mid_batch_keeps_only_committed_rows() -> None:
    store = orders_store()
    runner = ProjectionRunner(store, [OrdersPerCustomer()])
    runner.run(until=40)
    committed = dict(runner.projections["orders_per_customer"].rows)  # type: ignore[union-attr]
    flaky = ProjectionRunner(store, [OrdersPerCustomer(crash_after=len(committed) + 3)])

    with pytest.raises(RuntimeError, match="half-way"):
        flaky.run()

    assert committed == flaky.projections["orders_per_customer"].rows  # type: ignore[union-attr]
    assert 40 == flaky.checkpoint("orders_per_customer")


# -- pushed delivery ---------------------------------------------------------------------------
def test_a_pushed_duplicate_is_skipped_and_counted() -> None:
    store = orders_store()
    runner = ProjectionRunner(store, views.ORDER_VIEWS)
    first, second = store.read_all(limit=2)
    runner.handle(first)
    runner.handle(second)
    before = read_models(runner)

    runner.handle(first)

    assert 1 == runner.duplicates
    assert {name: 2 for name in NAMES} == runner.checkpoints()
    assert_same_read_models(before, read_models(runner))


def test_a_pushed_event_past_a_gap_folds_the_missing_positions_from_the_store_first() -> None:
    store = orders_store()
    runner = ProjectionRunner(store, views.ORDER_VIEWS)
    tenth = store.read_all(after=9, limit=1)[0]

    runner.handle(tenth)

    assert {name: 10 for name in NAMES} == runner.checkpoints()
    reference = ProjectionRunner(orders_store(), views.ORDER_VIEWS, batch_size=1)
    reference.run(until=10)
    assert_same_read_models(read_models(reference), read_models(runner))


def test_a_pushed_event_the_store_does_not_hold_is_refused_and_changes_nothing() -> None:
    store = orders_store()
    runner = ProjectionRunner(store, views.ORDER_VIEWS)
    last = store.read_all()[-1]
    ghost = Event(**{**last.__dict__, "position": last.position + 5})

    with pytest.raises(InvalidArgument, match=f"position {last.position + 5} .* {last.position}"):
        runner.handle(ghost)

    assert {name: 0 for name in NAMES} == runner.checkpoints()


def faulty_delivery(events: list[Event], seed: int) -> list[Event]:
    """At-least-once delivery: 10% duplicated, shuffled within windows of 6."""
    rng = random.Random(seed)
    sent = [e for event in events for e in ([event, event] if rng.random() < 0.1 else [event])]
    for start in range(0, len(sent), 6):
        window = sent[start : start + 6]
        rng.shuffle(window)
        sent[start : start + 6] = window
    return sent


@pytest.mark.parametrize("seed", [1, 2])
def test_after_duplicates_reordering_and_crashes_every_projection_equals_a_rebuild(
    seed: int,
) -> None:
    store = orders_store(25, seed=seed)
    rng = random.Random(seed)
    crash = lambda: rng.random() < 0.15  # noqa: E731 (a one-line fault for the wrapper)

    def projections() -> list[Any]:
        return [
            views.ORDER_SUMMARY,
            views.REVENUE_BY_DAY,
            crashing(views.SHIPPING_MANIFEST, crash),
            OrdersPerCustomer(),
        ]

    runner = ProjectionRunner(store, projections())
    queue = faulty_delivery(store.read_all(), seed)
    crashes = 0
    while queue:
        event = queue.pop(0)
        try:
            runner.handle(event)
        except RuntimeError:
            crashes += 1
            queue.insert(rng.randint(0, min(5, len(queue))), event)  # the broker redelivers

    assert crashes > 0 and runner.duplicates > 0
    assert {name: store.info()["events"] for name in runner.projections} == runner.checkpoints()
    clean = rebuilt(store, lambda: [*views.ORDER_VIEWS, OrdersPerCustomer()])
    assert_same_read_models(clean, read_models(runner))


# -- bad input -------------------------------------------------------------------------------
def test_an_unknown_projection_name_is_refused_with_the_names_it_keeps() -> None:
    runner = ProjectionRunner(EventStore(), views.ORDER_VIEWS)

    with pytest.raises(UnknownProjection, match="'revenue'.*order_summary"):
        runner.rebuild("revenue")


@pytest.mark.parametrize("batch_size", [0, -3, 1.5, True])
def test_a_batch_size_that_is_not_a_positive_whole_number_is_refused(batch_size: object) -> None:
    with pytest.raises(InvalidArgument, match=f"batch_size .* got {batch_size!r}"):
        ProjectionRunner(EventStore(), views.ORDER_VIEWS, batch_size=batch_size)  # type: ignore[arg-type]


def test_two_projections_with_one_name_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="distinct names"):
        ProjectionRunner(EventStore(), [views.ORDER_SUMMARY, views.ORDER_SUMMARY])


@pytest.mark.parametrize("until", [-1, 2.5, "10"])
def test_a_bad_until_is_refused_and_nothing_is_folded(until: object) -> None:
    store = orders_store()
    runner = ProjectionRunner(store, views.ORDER_VIEWS)

    with pytest.raises(InvalidArgument, match="until must be a position"):
        runner.run(until=until)  # type: ignore[arg-type]

    assert {name: 0 for name in NAMES} == runner.checkpoints()


def test_handle_refuses_what_is_not_an_event() -> None:
    with pytest.raises(InvalidArgument, match="got dict"):
        ProjectionRunner(EventStore(), views.ORDER_VIEWS).handle({"position": 1})  # type: ignore[arg-type]


def test_a_projection_reads_events_only_from_the_known_sources() -> None:
    batch = Batch("users; DROP TABLE event_store", 0, 1, frozenset({"OrderPlaced"}), list)
    with reproducible_store() as store, pytest.raises(InvalidArgument, match="source must be"):
        views.ORDER_SUMMARY.apply(store.connection, batch)


# -- the protocol: any read model that keeps it -----------------------------------------------
class EventCounts:
    """Neither SQL nor a PythonProjection: per event type, how many, in its own table."""

    name = "event_counts"

    def __init__(self, event_types: set[str]) -> None:
        self.event_types = frozenset(event_types)
        self.batches: list[tuple[int, int]] = []

    def open(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            "CREATE TABLE IF NOT EXISTS event_counts "
            "(event_type VARCHAR PRIMARY KEY, n INTEGER NOT NULL)"
        )

    def apply(self, con: duckdb.DuckDBPyConnection, batch: Batch) -> None:
        self.batches.append((batch.after, batch.upto))
        for event in batch.events():
            con.execute(
                "INSERT INTO event_counts VALUES (?, 1) "
                "ON CONFLICT (event_type) DO UPDATE SET n = n + 1",
                [event.event_type],
            )

    def reset(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute("DELETE FROM event_counts")

    def frame(self, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        return con.execute("SELECT * FROM event_counts ORDER BY event_type").df()


def test_the_runner_drives_a_projection_through_the_protocol_alone() -> None:
    store = orders_store()
    types = {"OrderPlaced", "PaymentCharged"}
    first = EventCounts(types)
    ProjectionRunner(store, [first], batch_size=25).run(until=40)
    restarted = EventCounts(types)  # as after a restart: resumes from the checkpoint
    runner = ProjectionRunner(store, [views.ORDER_SUMMARY, restarted], batch_size=25)

    runner.run()

    head = runner.head()
    expected = store.sql(
        "SELECT event_type, count(*) AS n FROM event_store "
        "WHERE event_type IN ('OrderPlaced', 'PaymentCharged') GROUP BY 1 ORDER BY 1"
    )
    pd.testing.assert_frame_equal(expected, runner.frame("event_counts"), check_dtype=False)
    ranges = first.batches + restarted.batches
    # order_summary starts at 0, so batches end at 25, 50, ...; event_counts resumes at 40
    assert [(0, 25), (25, 40), (40, 50), (50, 75)] == ranges[:4]
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    assert head == ranges[-1][1] == runner.checkpoint("event_counts")


def test_a_rebuild_resets_a_protocol_projection_and_replays_it_to_the_same_rows() -> None:
    store = orders_store()
    runner = ProjectionRunner(store, [EventCounts({"OrderPlaced", "OrderShipped"})])
    runner.run()
    before = runner.frame("event_counts")

    runner.rebuild("event_counts")

    pd.testing.assert_frame_equal(before, runner.frame("event_counts"))
    assert set(before["event_type"]) == {"OrderPlaced", "OrderShipped"}
