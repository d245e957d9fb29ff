"""Seeded, vectorized order histories: the fulfilment saga, its failures and compensations.

Each order follows one flow, a fixed sequence of event types: the happy path, or a
failure followed by its compensations in reverse. The flow, the times and the payload
values are drawn as numpy arrays for all orders at once; only then are they turned
into Arrow columns, one chunk at a time. Orders still in flight when the window ends
simply stop: every stream is a prefix of its flow, so ``orders.decide`` allows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventsim.domains import orders
from eventsim.errors import InvalidArgument
from eventsim.sim import kit

# What the simulated shop sells: (sku, name, unit price in cents). Earlier lines sell more.
CATALOGUE: tuple[tuple[str, str, int], ...] = (
    ("SKU-001", "Espresso beans 1 kg", 2490),
    ("SKU-002", "Paper filters, 100", 599),
    ("SKU-003", "Ceramic mug", 1250),
    ("SKU-004", "Pour-over kettle", 4900),
    ("SKU-005", "Descaling tablets", 899),
    ("SKU-006", "Travel tumbler", 2199),
    ("SKU-007", "Milk frother", 3450),
    ("SKU-008", "Digital scale", 2999),
    ("SKU-009", "Cold brew jar", 1899),
    ("SKU-010", "Burr grinder", 12900),
    ("SKU-011", "Tasting notebook", 750),
    ("SKU-012", "Espresso machine", 39900),
)
# The event types in the domain's own order (the simulator's kinds index into it).
TYPES = tuple(orders.EVENT_TYPES)
PLACED, CHARGED, PAY_FAILED, RESERVED, NO_STOCK, SHIPMENT, SHIP_FAILED = range(7)
SHIPPED, DELIVERED, SHIP_CANCELLED, RELEASED, REFUNDED, CANCELLED = range(7, len(TYPES))
# The flows, as event kinds: forward steps, then a failure's compensations in reverse.
_FLOW_KINDS = {
    "happy": (PLACED, CHARGED, RESERVED, SHIPMENT, SHIPPED, DELIVERED),
    "payment_failed": (PLACED, PAY_FAILED, CANCELLED),
    "out_of_stock": (PLACED, CHARGED, NO_STOCK, REFUNDED, CANCELLED),
    "shipment_failed": (PLACED, CHARGED, RESERVED, SHIP_FAILED, RELEASED, REFUNDED, CANCELLED),
    "customer_cancelled": (
        PLACED,
        CHARGED,
        RESERVED,
        SHIPMENT,
        SHIP_CANCELLED,
        RELEASED,
        REFUNDED,
        CANCELLED,
    ),
}
FLOWS = {name: tuple(TYPES[k] for k in kinds) for name, kinds in _FLOW_KINDS.items()}
"""Each flow's event types in order; a simulated stream is one of them, or a prefix."""
_STEPS = np.array([kinds + (-1,) * (8 - len(kinds)) for kinds in _FLOW_KINDS.values()])
_LENGTHS = np.array([len(kinds) for kinds in _FLOW_KINDS.values()])
# Delay before an event, after the order's previous one: lognormal (median seconds, spread).
_DELAYS = {
    CHARGED: (40, 0.8),  # card authorisation: seconds
    PAY_FAILED: (30, 0.8),
    RESERVED: (300, 0.7),  # the warehouse system: minutes
    NO_STOCK: (300, 0.7),
    SHIPMENT: (4 * 3600, 0.8),  # booking a carrier and printing the label: hours
    SHIP_FAILED: (4 * 3600, 0.8),
    SHIPPED: (8 * 3600, 0.6),  # the carrier's next pickup
    SHIP_CANCELLED: (3 * 3600, 0.9),  # the customer changes their mind before dispatch
    RELEASED: (20, 0.7),  # compensations are automatic: seconds to a minute apart
    REFUNDED: (60, 0.8),
    CANCELLED: (15, 0.7),
}  # OrderDelivered: uniform, 1 to 5 days after shipping
_DELAY = np.array([_DELAYS.get(k, (1, 0.0)) for k in range(len(TYPES))])
METHODS, METHOD_SHARE = ("card", "paypal", "apple_pay", "bank_transfer"), (0.6, 0.2, 0.12, 0.08)
DECLINES = ("card declined", "insufficient funds", "fraud check failed", "3-D Secure timed out")
WAREHOUSES = ("AMS-1", "LEJ-1", "MAD-1")
CARRIERS, TRACKING_PREFIX = ("DHL", "UPS", "PostNL", "DPD"), ("JD", "1Z", "3S", "05")
CARRIER_REJECTIONS = (
    "address not serviceable",
    "parcel over the weight limit",
    "no pickup capacity",
)
CUSTOMER_REASONS = ("changed my mind", "ordered by mistake", "found it cheaper elsewhere")
CANCEL_REASONS = {
    "payment_failed": "payment failed",
    "out_of_stock": "out of stock",
    "shipment_failed": "shipment failed",
    "customer_cancelled": "customer request",
}


@dataclass(frozen=True)
class _Orders:
    """Everything drawn per order and per order line (order indices are in placing order)."""

    flow: np.ndarray
    customer: np.ndarray
    placed_at: np.ndarray
    line_start: np.ndarray
    line_count: np.ndarray
    line_sku: np.ndarray
    line_quantity: np.ndarray
    total_cents: np.ndarray
    picks: np.ndarray  # per order, one index per attribute column below
    customers: list[str]


def simulate(
    orders: int = 400,
    *,
    seed: int,
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
    days: int = 90,
    payment_failure: float = 0.05,
    out_of_stock: float = 0.04,
    carrier_rejection: float = 0.02,
    customer_cancel: float = 0.03,
) -> pa.Table:
    """A seeded history of ``orders`` orders as an Arrow table in commit order.

    Each rate applies to the orders that reach its step: ``out_of_stock`` is a share of
    the paid orders, ``customer_cancel`` a share of the created shipments.

    >>> table = simulate(50, seed=7)
    >>> table.column("event_type")[0].as_py(), table.equals(simulate(50, seed=7))
    ('OrderPlaced', True)
    """
    batches = simulate_batches(
        orders,
        seed=seed,
        start=start,
        days=days,
        payment_failure=payment_failure,
        out_of_stock=out_of_stock,
        carrier_rejection=carrier_rejection,
        customer_cancel=customer_cancel,
    )
    return pa.Table.from_batches(list(batches), schema=kit.SCHEMA)


def simulate_batches(
    orders: int = 400,
    *,
    seed: int,
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
    days: int = 90,
    payment_failure: float = 0.05,
    out_of_stock: float = 0.04,
    carrier_rejection: float = 0.02,
    customer_cancel: float = 0.03,
    chunk_rows: int = 1_000_000,
) -> Iterator[pa.RecordBatch]:
    """Like ``simulate``, one Arrow batch of at most ``chunk_rows`` events at a time.

    The arguments are checked at once; the events are drawn when iteration starts.
    """
    start = kit.check_start(start)
    kit.check_positive("orders", orders, limit=20_000_000)
    kit.check_positive("days", days, limit=36_500)
    kit.check_positive("chunk_rows", chunk_rows)
    rates = {
        "payment_failure": payment_failure,
        "out_of_stock": out_of_stock,
        "carrier_rejection": carrier_rejection,
        "customer_cancel": customer_cancel,
    }
    for name, rate in rates.items():
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise InvalidArgument(f"{name} must be a rate between 0 and 1, got {rate!r}")
    rng = kit.rng_for(seed)
    return _batches(rng, seed, orders, start, days, rates, chunk_rows)


def _batches(
    rng: np.random.Generator,
    seed: int,
    orders: int,
    start: datetime,
    days: int,
    rates: dict[str, float],
    chunk_rows: int,
) -> Iterator[pa.RecordBatch]:
    """Draw every event as numbers, sort them into commit order, emit Arrow chunks."""
    drawn = _draw_orders(rng, orders, start, days, list(rates.values()))
    order, kind, version, seconds = _draw_events(rng, drawn, days)
    commit = np.lexsort((version, order, seconds))  # by time; ties by order, then version
    order, kind, version, seconds = order[commit], kind[commit], version[commit], seconds[commit]
    first, previous = _causes(order, version, orders)
    names = kit.padded_ids("order", orders)
    for lo, hi in kit.chunk_bounds(len(order), chunk_rows):
        o, v = order[lo:hi], version[lo:hi]
        correlation = kit.event_ids(seed, "orders", first[o])
        cause = kit.event_ids(seed, "orders", previous[lo:hi])
        metadata = pc.if_else(
            pa.array(v == 1),
            pc.binary_join_element_wise(
                '{"correlation_id":"', correlation, '","schema_version":1}', ""
            ),
            pc.binary_join_element_wise(
                '{"correlation_id":"',
                correlation,
                '","causation_id":"',
                cause,
                '","schema_version":1}',
                "",
            ),
        )
        yield kit.to_batch(
            {
                "stream_id": kit.pick(names, o),
                "version": pa.array(v, pa.int32()),
                "event_id": kit.event_ids(seed, "orders", np.arange(lo, hi)),
                "event_type": kit.pick(TYPES, kind[lo:hi]),
                "data": _payloads(drawn, o, kind[lo:hi]),
                "metadata": metadata,
                "timestamp": kit.timestamps(start, seconds[lo:hi]),
            }
        )


def _draw_orders(
    rng: np.random.Generator, orders: int, start: datetime, days: int, rates: list[float]
) -> _Orders:
    pay, stock, carrier, cancel = rates
    # Each rate is conditional on reaching its step, so the flows' shares multiply out.
    share = [
        (1 - pay) * (1 - stock) * (1 - carrier) * (1 - cancel),
        pay,
        (1 - pay) * stock,
        (1 - pay) * (1 - stock) * carrier,
        (1 - pay) * (1 - stock) * (1 - carrier) * cancel,
    ]
    flow = rng.choice(len(FLOWS), size=orders, p=np.array(share) / sum(share))
    # Few customers order often, most rarely: a gamma-weighted choice, not a uniform one.
    n_customers = max(1, orders * 2 // 5)
    weight = rng.gamma(0.7, 1.0, n_customers)
    customer = rng.choice(n_customers, size=orders, p=weight / weight.sum())
    day = kit.draw_days(
        rng, kit.business_day_weights(start, days), np.zeros(orders, dtype=np.int64)
    )
    at = day * 86_400 + kit.draw_seconds_of_day(rng, orders)
    # Bursts: a customer often comes back minutes later with a second, forgotten order.
    by_customer = np.lexsort((at, customer))
    same = np.concatenate([[False], customer[by_customer][1:] == customer[by_customer][:-1]])
    at[by_customer] = kit.add_bursts(rng, at[by_customer], same, p=0.15)
    at = np.minimum(at, days * 86_400 - 1)
    placing = np.argsort(at, kind="stable")  # order-0001 is the first order placed
    at, customer = at[placing], customer[placing]
    line_count = np.minimum(rng.geometric(0.55, orders), 5)
    line_start = np.cumsum(line_count) - line_count
    line_sku = _distinct_skus(rng, line_count)
    line_quantity = np.minimum(rng.geometric(0.7, len(line_sku)), 4)
    prices = np.array([price for _, _, price in CATALOGUE], dtype=np.int64)
    total_cents = np.add.reduceat(line_quantity * prices[line_sku], line_start)
    picks = np.stack(
        [
            rng.choice(len(METHODS), orders, p=METHOD_SHARE),
            rng.integers(0, len(DECLINES), orders),
            rng.integers(0, len(WAREHOUSES), orders),
            rng.integers(0, len(CARRIERS), orders),
            rng.integers(0, len(CARRIER_REJECTIONS), orders),
            rng.integers(0, len(CUSTOMER_REASONS), orders),
            np.floor(rng.random(orders) * line_count).astype(np.int64),  # the line out of stock
            rng.integers(10**9, 10**10, orders),  # tracking number digits
        ],
        axis=1,
    )
    return _Orders(
        flow,
        customer,
        at,
        line_start,
        line_count,
        line_sku,
        line_quantity,
        total_cents,
        picks,
        kit.padded_ids("customer", n_customers),
    )


def _distinct_skus(rng: np.random.Generator, line_count: np.ndarray) -> np.ndarray:
    """SKUs for every line, distinct within an order, popular ones more often.

    Weighted sampling without replacement: each product gets a random key
    ``Exp(1) / weight`` and an order takes the products with the smallest keys.
    """
    weight = 1.0 / np.arange(1, len(CATALOGUE) + 1) ** 0.8
    width = int(line_count.max(initial=1))
    top = np.empty((len(line_count), width), dtype=np.int64)
    for lo, hi in kit.chunk_bounds(len(line_count), 1 << 18):  # bounded memory
        keys = rng.exponential(size=(hi - lo, len(CATALOGUE))) / weight
        top[lo:hi] = np.argsort(keys, axis=1)[:, :width]
    return top[np.arange(width) < line_count[:, None]]


def _draw_events(rng: np.random.Generator, drawn: _Orders, days: int) -> tuple[np.ndarray, ...]:
    """Every event of every order as numbers: order, kind, version, second from start."""
    count = _LENGTHS[drawn.flow]
    order = np.repeat(np.arange(len(count)), count)
    version = np.arange(len(order)) - np.repeat(np.cumsum(count) - count, count) + 1
    kind = _STEPS[drawn.flow[order], version - 1]
    median, spread = _DELAY[kind, 0], _DELAY[kind, 1]
    delay = np.minimum(median * np.exp(spread * rng.standard_normal(len(kind))), 20 * median)
    delay = np.where(kind == DELIVERED, rng.uniform(86_400, 5 * 86_400, len(kind)), delay)
    delay = np.maximum(np.rint(delay).astype(np.int64), 1)  # strictly later than the last
    delay[version == 1] = 0
    elapsed = np.cumsum(delay)
    elapsed -= np.repeat(elapsed[version == 1], count)  # restart the sum at each order
    seconds = drawn.placed_at[order] + elapsed
    keep = seconds < days * 86_400  # in flight at the end: the stream stops there
    return (
        order[keep].astype(np.int64),
        kind[keep].astype(np.int64),
        version[keep].astype(np.int32),
        seconds[keep],
    )


def _causes(order: np.ndarray, version: np.ndarray, orders: int) -> tuple[np.ndarray, ...]:
    """Per order, the position of its first event; per event, its predecessor's position."""
    first = np.zeros(orders, dtype=np.int64)
    first[order[version == 1]] = np.flatnonzero(version == 1)
    by_stream = np.lexsort((version, order))
    previous = np.empty(len(order), dtype=np.int64)
    previous[by_stream[1:]] = by_stream[:-1]
    previous[by_stream[:1]] = by_stream[:1]  # a first event has no cause; masked later
    return first, previous


def _payloads(drawn: _Orders, order: np.ndarray, kind: np.ndarray) -> pa.Array:
    """The JSON payloads: built per event type for just its rows, then put back in place."""
    by_kind = np.argsort(kind, kind="stable")
    bounds = np.searchsorted(kind[by_kind], np.arange(len(TYPES) + 1))
    parts = [
        _payload(drawn, k, order[by_kind[bounds[k] : bounds[k + 1]]])
        for k in range(len(TYPES))
        if bounds[k] < bounds[k + 1]
    ]
    back = np.empty(len(kind), dtype=np.int64)
    back[by_kind] = np.arange(len(kind))
    return pa.concat_arrays(parts).take(pa.array(back))


def _payload(drawn: _Orders, kind: int, o: np.ndarray) -> pa.Array:
    pick = drawn.picks[o]
    text = kit.pick
    if kind == PLACED:
        return pc.binary_join_element_wise(
            '{"customer_id":"',
            text(drawn.customers, drawn.customer[o]),
            '","items":[',
            _items(drawn, o),
            '],"total":',
            kit.money_text(drawn.total_cents[o]),
            "}",
            "",
        )
    if kind in (CHARGED, REFUNDED):
        money = kit.money_text(drawn.total_cents[o])  # always the whole total
        if kind == REFUNDED:
            return kit.json_object("amount", money, quoted=False)
        return pc.binary_join_element_wise(
            '{"amount":', money, ',"method":"', text(METHODS, pick[:, 0]), '"}', ""
        )
    if kind == SHIP_FAILED:
        return pc.binary_join_element_wise(
            '{"carrier":"',
            text(CARRIERS, pick[:, 3]),
            '","reason":"',
            text(CARRIER_REJECTIONS, pick[:, 4]),
            '"}',
            "",
        )
    if kind == DELIVERED:
        return text(["{}"], np.zeros(len(o), dtype=np.int64))
    if kind == NO_STOCK:
        line = drawn.line_sku[drawn.line_start[o] + pick[:, 6]]
        return kit.json_object("sku", text([sku for sku, _, _ in CATALOGUE], line), quoted=True)
    if kind == SHIPPED:
        number = pc.binary_join_element_wise(
            text(TRACKING_PREFIX, pick[:, 3]), pa.array(pick[:, 7]).cast(pa.string()), ""
        )
        return kit.json_object("tracking_number", number, quoted=True)
    key, values = {
        PAY_FAILED: ("reason", text(DECLINES, pick[:, 1])),
        RESERVED: ("warehouse", text(WAREHOUSES, pick[:, 2])),
        RELEASED: ("warehouse", text(WAREHOUSES, pick[:, 2])),
        SHIPMENT: ("carrier", text(CARRIERS, pick[:, 3])),
        SHIP_CANCELLED: ("reason", text(CUSTOMER_REASONS, pick[:, 5])),
        CANCELLED: ("reason", text([CANCEL_REASONS.get(f, "") for f in FLOWS], drawn.flow[o])),
    }[kind]
    return kit.json_object(key, values, quoted=True)


def _items(drawn: _Orders, o: np.ndarray) -> pa.Array:
    """The order lines' JSON text (without brackets), one string per order in ``o``."""
    count = drawn.line_count[o]
    offsets = np.concatenate([[0], np.cumsum(count)])
    line = np.repeat(drawn.line_start[o] - offsets[:-1], count) + np.arange(offsets[-1])
    sku = drawn.line_sku[line]
    head = [f'{{"sku":"{sku}","quantity":' for sku, _, _ in CATALOGUE]
    tail = [f',"unit_price":{price // 100}.{price % 100:02d}}}' for _, _, price in CATALOGUE]
    lines = pc.binary_join_element_wise(
        kit.pick(head, sku),
        pa.array(drawn.line_quantity[line]).cast(pa.string()),
        kit.pick(tail, sku),
        "",
    )
    return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), lines), ",")
