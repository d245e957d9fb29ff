"""Naive and idempotent consumers against real DuckDB, under the broker's faults."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings

from eventsim import EventStore, data_file
from eventsim.errors import InvalidArgument, InvalidEvent
from eventsim.events import Event
from eventsim.messaging import consumers
from eventsim.messaging.bus import Faults, message
from eventsim.messaging.consumers import (
    IdempotentConsumer,
    NaiveConsumer,
    demand,
    double_charges,
    negative_stock,
    open_shop,
    parse_order_any_version,
    payment_effect,
    run_shop,
    same_state,
    shop_state,
    stock_effect,
    summary,
)
from tests.strategies import broker_faults

LINE = {"sku": "SKU-001", "quantity": 2, "unit_price": 24.9}


@pytest.fixture(scope="module")
def placed() -> list[Event]:
    with EventStore() as store:
        store.load_parquet(data_file("orders.parquet"))
        return store.read_all(event_types=["OrderPlaced"], limit=40)


def order(n: int = 1, **data: object) -> Event:
    payload = {"customer_id": "c-1", "items": [LINE], "total": 49.8, **data}
    return message("OrderPlaced", payload, stream_id=f"order-{n}")


def test_the_naive_consumer_applies_a_duplicate_twice() -> None:
    shop = open_shop({"SKU-001": 2})
    consume = NaiveConsumer(shop, stock_effect())
    consume(order())
    consume(order())
    assert (2, 1) == (consume.applied, negative_stock(shop))
    assert -2 == shop.execute("SELECT quantity FROM stock").fetchone()[0]  # type: ignore[index]


def test_the_idempotent_consumer_applies_each_event_id_once() -> None:
    shop = open_shop({"SKU-001": 2})
    consume = IdempotentConsumer(shop, "inventory", stock_effect())
    for _ in range(3):
        consume(order())
    assert (1, 2, 0) == (consume.applied, consume.skipped, negative_stock(shop))


def test_two_idempotent_consumers_keep_separate_records() -> None:
    shop = open_shop({"SKU-001": 4})
    IdempotentConsumer(shop, "inventory", stock_effect())(order())
    IdempotentConsumer(shop, "payments", payment_effect())(order())
    rows = shop.execute("SELECT consumer FROM processed_events ORDER BY consumer").fetchall()
    assert [("inventory",), ("payments",)] == rows


def test_a_crash_inside_the_effect_leaves_neither_effect_nor_record() -> None:
    shop = open_shop({"SKU-001": 4})

    def crash_after_writing(con: duckdb.DuckDBPyConnection, event: Event) -> None:
        stock_effect()(con, event)
        raise RuntimeError("power cut")

    consume = IdempotentConsumer(shop, "inventory", crash_after_writing)
    before = shop_state(shop)
    with pytest.raises(RuntimeError):
        consume(order())
    assert before["stock"].equals(shop_state(shop)["stock"])
    assert [(0,)] == shop.execute("SELECT count(*) FROM processed_events").fetchall()


def test_a_malformed_order_is_refused_and_the_old_shape_is_read_after_the_fix() -> None:
    legacy = {"customer_id": "c-1", "lines": [LINE], "total": 49.8}
    shop = open_shop({"SKU-001": 4})
    with pytest.raises(InvalidEvent, match="items"):
        payment_effect()(shop, message("OrderPlaced", legacy, stream_id="order-1"))
    assert parse_order_any_version(legacy).total == parse_order_any_version(order().data).total


def test_demand_sums_units_per_sku() -> None:
    other = {"sku": "SKU-002", "quantity": 1, "unit_price": 5}
    events = [order(1), order(2, items=[LINE, other], total=54.8)]
    assert {"SKU-001": 4, "SKU-002": 1} == demand(events)


def test_bad_stock_and_names_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="SKU-001"):
        open_shop({"SKU-001": -1})
    with pytest.raises(InvalidArgument, match="name"):
        IdempotentConsumer(open_shop({}), " ", stock_effect())


def test_under_faults_the_naive_shop_breaks_its_invariants(placed: list[Event]) -> None:
    faults = Faults(duplicate_rate=0.2, crash_rate=0.1, seed=7)
    shop, broker = run_shop(placed, faults=faults, idempotent=False, stock=demand(placed))
    facts = summary(shop)
    assert broker.stats.duplicates + broker.stats.crashes > 0
    assert facts["double_charged_orders"] > 0 and facts["negative_skus"] > 0


fault_settings = broker_faults(duplicates=0.4, delays=0.3, crashes=0.3, window=5, max_delay=6)


@settings(max_examples=15, deadline=None)
@given(faults=fault_settings)
def test_an_idempotent_shop_ends_as_the_fault_free_run(placed: list[Event], faults: Faults) -> None:
    events = placed[:15]
    stock = demand(events)
    clean, _ = run_shop(events, idempotent=True, stock=stock)
    faulty, _ = run_shop(events, faults=faults, idempotent=True, stock=stock)
    assert same_state(clean, faulty)
    assert (0, 0) == (double_charges(faulty), negative_stock(faulty))


def test_the_sweep_finds_double_charges_only_for_the_naive_consumer(placed: list[Event]) -> None:
    runs = consumers.double_charge_sweep(placed, [0.0, 0.3], seed=1, stock=demand(placed))
    by = runs.set_index(["consumer", "duplicate_rate"])["double_charged"]
    assert (0, 0, 0) == (by["naive", 0.0], by["idempotent", 0.0], by["idempotent", 0.3])
    assert by["naive", 0.3] > 0


def test_a_reissued_order_is_charged_twice_by_event_id_and_once_by_business_key(
    placed: list[Event],
) -> None:
    events = [*placed[:3], consumers.reissued(placed[0])]
    by_id, by_key = open_shop({}), open_shop({})
    for shop, effect in [(by_id, payment_effect()), (by_key, consumers.charge_once_per_order())]:
        consumer = IdempotentConsumer(shop, "payments", effect)
        for event in [*events, events[-1]]:  # the reissued one also redelivered
            consumer(event)
    assert (1, 0) == (double_charges(by_id), double_charges(by_key))
    assert consumers.reissued(placed[0]).event_id != placed[0].event_id
