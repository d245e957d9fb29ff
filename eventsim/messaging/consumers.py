"""Consumers under at-least-once delivery: a naive one, and an idempotent one that dedupes.

The idempotent consumer keeps the ids of the events it has handled in a
``processed_events`` table, in the SAME DuckDB transaction as its effect: a crash
cannot apply the effect without recording the id, nor record the id without the effect.
A redelivered event is then seen and skipped. The naive consumer applies every delivery.

The shop's two consumers (payments and inventory) react to ``OrderPlaced``: one charges
the order's total, the other takes its lines out of stock.

>>> from decimal import Decimal
>>> from eventsim.domains.orders import LineItem
>>> from eventsim.messaging.bus import domain_message
>>> shop = open_shop({"SKU-001": 5})
>>> charge = IdempotentConsumer(shop, "payments", payment_effect())
>>> order = OrderPlaced("c-1", (LineItem("SKU-001", 2, Decimal("24.90")),), Decimal("49.80"))
>>> placed = domain_message(order, stream_id="order-1")
>>> charge(placed); charge(placed)  # delivered twice
>>> charge.applied, charge.skipped, double_charges(shop)
(1, 1, 0)
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import duckdb
import pandas as pd

from eventsim.domains.orders import OrderPlaced
from eventsim.errors import InvalidArgument
from eventsim.events import Event
from eventsim.messaging.bus import NO_FAULTS, Broker, Faults
from eventsim.store import transaction

Effect = Callable[[duckdb.DuckDBPyConnection, Event], None]
"""What a consumer does with one event, on the connection it is given (inside a transaction)."""
Parse = Callable[[Mapping[str, Any]], OrderPlaced]
PLACED = OrderPlaced.event_type()  # the event the shop's consumers react to

PROCESSED_SQL = """
CREATE TABLE IF NOT EXISTS processed_events (
    consumer VARCHAR NOT NULL,
    event_id UUID    NOT NULL,
    PRIMARY KEY (consumer, event_id)
)
"""
SHOP_SQL = """
CREATE TABLE IF NOT EXISTS payments (
    order_id VARCHAR NOT NULL, amount DECIMAL(18, 2) NOT NULL, event_id UUID NOT NULL);
CREATE TABLE IF NOT EXISTS stock (sku VARCHAR PRIMARY KEY, quantity INTEGER NOT NULL);
"""


class NaiveConsumer:
    """Applies every delivery in its own transaction: a duplicate is applied again."""

    def __init__(self, con: duckdb.DuckDBPyConnection, effect: Effect) -> None:
        self.con = con
        self.effect = effect
        self.applied = 0

    def __call__(self, event: Event) -> None:
        with transaction(self.con):
            self.effect(self.con, event)
        self.applied += 1


class IdempotentConsumer:
    """Applies each event id once: the effect and its ``processed_events`` row commit together."""

    def __init__(self, con: duckdb.DuckDBPyConnection, name: str, effect: Effect) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InvalidArgument(f"consumer name must be non-empty text, got {name!r}")
        self.con = con
        self.name = name
        self.effect = effect
        self.applied = 0
        self.skipped = 0
        con.execute(PROCESSED_SQL)

    def __call__(self, event: Event) -> None:
        self.con.begin()
        try:
            if self._seen(event):
                self.con.rollback()
                self.skipped += 1
                return
            self.effect(self.con, event)
            self.con.execute(
                "INSERT INTO processed_events VALUES (?, ?)", [self.name, str(event.event_id)]
            )
            self.con.commit()
        except BaseException:
            self.con.rollback()  # neither the effect nor the record: the redelivery retries
            raise
        self.applied += 1

    def _seen(self, event: Event) -> bool:
        query = "SELECT count(*) FROM processed_events WHERE consumer = ? AND event_id = ?"
        return int(_one(self.con, query, [self.name, str(event.event_id)])) > 0


def _one(con: duckdb.DuckDBPyConnection, query: str, params: list[object] | None = None) -> Any:
    # fetchall, not fetchone: DuckDB refuses new work while a result is left unfinished.
    return con.execute(query, params or []).fetchall()[0][0]


# -- the shop: payments and stock ------------------------------------------------------
def open_shop(stock: Mapping[str, int]) -> duckdb.DuckDBPyConnection:
    """An in-memory shop database: no payments yet, and ``stock`` units of each SKU."""
    con = duckdb.connect(":memory:")
    con.execute(SHOP_SQL)
    for sku, quantity in sorted(stock.items()):
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise InvalidArgument(f"stock of {sku!r} must be a whole number >= 0, got {quantity!r}")
        con.execute("INSERT INTO stock VALUES (?, ?)", [sku, quantity])
    return con


def parse_order(data: Mapping[str, Any]) -> OrderPlaced:
    """The order in an ``OrderPlaced`` payload; ``InvalidEvent`` if it is malformed."""
    return OrderPlaced.from_data(data)


def parse_order_any_version(data: Mapping[str, Any]) -> OrderPlaced:
    """Like ``parse_order``, and also reads the old payload that named the lines ``lines``."""
    if "lines" in data and "items" not in data:
        data = {("items" if key == "lines" else key): value for key, value in data.items()}
    return parse_order(data)


def payment_effect(parse: Parse = parse_order) -> Effect:
    """Charge an order's total: one row in ``payments`` per ``OrderPlaced`` handled."""

    def charge(con: duckdb.DuckDBPyConnection, event: Event) -> None:
        if event.event_type == PLACED:
            order = parse(event.data)
            con.execute(
                "INSERT INTO payments VALUES (?, ?, ?)",
                [event.stream_id, order.total, str(event.event_id)],
            )

    return charge


def charge_once_per_order(parse: Parse = parse_order) -> Effect:
    """Charge an order's total unless ``payments`` already holds a charge for that order.

    The business key (the order id) is the guard: it also catches the same order published
    again under a new event id, which an event-id check cannot tell from a new order.
    """
    charge = payment_effect(parse)

    def charge_once(con: duckdb.DuckDBPyConnection, event: Event) -> None:
        query = "SELECT count(*) FROM payments WHERE order_id = ?"
        if not _one(con, query, [event.stream_id]):
            charge(con, event)

    return charge_once


def reissued(event: Event, attempt: int = 2) -> Event:
    """The same fact published again under a new event id, as by a producer that retried.

    For example, a shop front that timed out, sent its command again, and whose producer
    published the order a second time, with an id of its own.
    """
    new_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{event.event_id}/attempt-{attempt}")
    return dataclasses.replace(event, event_id=new_id)


def stock_effect(parse: Parse = parse_order) -> Effect:
    """Take an order's lines out of stock; trusts the order, so stock can go below zero."""

    def reserve(con: duckdb.DuckDBPyConnection, event: Event) -> None:
        if event.event_type == PLACED:
            for line in parse(event.data).items:
                con.execute(
                    "UPDATE stock SET quantity = quantity - ? WHERE sku = ?",
                    [line.quantity, line.sku],
                )

    return reserve


def demand(events: Iterable[Event]) -> dict[str, int]:
    """Units ordered per SKU over the ``OrderPlaced`` events: the stock a clean run uses up."""
    total: dict[str, int] = {}
    for event in events:
        if event.event_type == PLACED:
            for line in parse_order(event.data).items:
                total[line.sku] = total.get(line.sku, 0) + line.quantity
    return dict(sorted(total.items()))


# -- invariants ------------------------------------------------------------------------
def double_charges(con: duckdb.DuckDBPyConnection) -> int:
    """Orders charged more than once (the invariant: zero)."""
    query = (
        "SELECT count(*) FROM (SELECT order_id FROM payments GROUP BY order_id HAVING count(*) > 1)"
    )
    return int(_one(con, query))


def negative_stock(con: duckdb.DuckDBPyConnection) -> int:
    """SKUs with stock below zero (the invariant: zero)."""
    return int(_one(con, "SELECT count(*) FROM stock WHERE quantity < 0"))


def shop_state(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Everything the shop's consumers changed, sorted, to compare two runs."""
    return {
        "payments": con.execute(
            "SELECT order_id, amount, count(*) AS charges FROM payments "
            "GROUP BY order_id, amount ORDER BY order_id"
        ).df(),
        "stock": con.execute("SELECT sku, quantity FROM stock ORDER BY sku").df(),
    }


def same_state(a: duckdb.DuckDBPyConnection, b: duckdb.DuckDBPyConnection) -> bool:
    """True if the two shops hold the same payments and the same stock."""
    left, right = shop_state(a), shop_state(b)
    return all(left[name].equals(right[name]) for name in left)


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The numbers a lesson reports: charges, money taken, broken invariants, lowest stock."""
    low = _one(con, "SELECT min(quantity) FROM stock")
    return {
        "charges": int(_one(con, "SELECT count(*) FROM payments")),
        "taken": _one(con, "SELECT coalesce(sum(amount), 0) FROM payments"),
        "double_charged_orders": double_charges(con),
        "negative_skus": negative_stock(con),
        "lowest_stock": int(low) if low is not None else 0,
    }


def run_shop(
    events: Iterable[Event],
    *,
    faults: Faults = NO_FAULTS,
    idempotent: bool,
    stock: Mapping[str, int],
    parse: Parse = parse_order,
    groups: Sequence[str] = ("payments", "inventory"),
) -> tuple[duckdb.DuckDBPyConnection, Broker]:
    """Publish ``events`` to topic ``orders``; the ``groups`` (payments, inventory) consume them.

    The consumer groups are all idempotent or all naive; returns the shop and the broker
    (whose ``stats`` and ``dead_letters`` tell what happened on the way).
    """
    shop = open_shop(stock)
    broker = Broker(faults=faults)
    effects = {"payments": payment_effect(parse), "inventory": stock_effect(parse)}
    unknown = sorted(set(groups) - set(effects))
    if unknown:
        raise InvalidArgument(f"unknown consumer groups {unknown}; pick from {sorted(effects)}")
    for group in groups:
        effect = effects[group]
        handler = (
            IdempotentConsumer(shop, group, effect) if idempotent else NaiveConsumer(shop, effect)
        )
        broker.subscribe("orders", group, handler)
    for event in events:
        broker.publish("orders", event)
    broker.run()
    return shop, broker


def double_charge_sweep(
    events: list[Event], rates: Iterable[float], *, seed: int, stock: Mapping[str, int]
) -> pd.DataFrame:
    """Orders charged twice, naive against idempotent, for each duplicate rate (payments only)."""
    rows = []
    for rate in rates:
        for idempotent in (False, True):
            faults = Faults(duplicate_rate=rate, seed=seed)
            shop, _ = run_shop(
                events, faults=faults, idempotent=idempotent, stock=stock, groups=["payments"]
            )
            consumer = "idempotent" if idempotent else "naive"
            rows.append(
                {
                    "duplicate_rate": rate,
                    "consumer": consumer,
                    "double_charged": double_charges(shop),
                }
            )
    return pd.DataFrame(rows)
