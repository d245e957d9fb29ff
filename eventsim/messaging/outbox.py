"""The transactional outbox: the state change and the message to publish, in one commit.

A service that writes its database and then publishes to the broker makes two writes
that no transaction spans (a "dual write"): a crash between them keeps the order and
loses the message. With an outbox, the order row and the message row commit together
in the service's own database; a relay reads the outbox after its checkpoint, publishes,
and moves the checkpoint. A crash anywhere loses nothing: unpublished rows wait, and a
row published but not yet checkpointed is published again (at least once: consumers
deduplicate, notebook 07). For an event-sourced service the event log itself is the
outbox: the relay reads ``read_all(after=checkpoint)``.

>>> con = open_producer()
>>> _ = place_order(con, "order-1", "c-1", {"SKU-001": 2})
>>> sent = []
>>> relay_once(con, sent.append), relay_once(con, sent.append), len(sent)
(1, 0, 1)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping

import duckdb

from eventsim.domains import orders
from eventsim.events import Event, to_json
from eventsim.messaging.bus import domain_message, message
from eventsim.messaging.integration import to_integration
from eventsim.messaging.payloads import line_items

Publish = Callable[[Event], object]
"""Hands one message to the broker; raising means it was not published."""

PRODUCER_SQL = """
CREATE TABLE orders (
    order_id VARCHAR PRIMARY KEY, customer_id VARCHAR NOT NULL,
    total DECIMAL(18, 2) NOT NULL, status VARCHAR NOT NULL);
CREATE SEQUENCE outbox_position START 1;
CREATE TABLE outbox (
    position   BIGINT PRIMARY KEY DEFAULT nextval('outbox_position'),
    event_id   UUID NOT NULL UNIQUE, event_type VARCHAR NOT NULL,
    stream_id  VARCHAR NOT NULL, payload JSON NOT NULL, metadata JSON NOT NULL);
CREATE TABLE relay_checkpoints (relay VARCHAR PRIMARY KEY, position BIGINT NOT NULL);
"""


class Crash(Exception):  # noqa: N818 (a simulated process death, not an error of the caller)
    """The process died here (simulated): nothing after this point ran."""


def crashing(publish: Publish, *, on_call: int, after: bool = False) -> Publish:
    """``publish``, except that the process dies at call ``on_call`` (before it, or ``after``)."""
    calls = 0

    def publish_or_die(event: Event) -> None:
        nonlocal calls
        calls += 1
        if calls == on_call and not after:
            raise Crash(f"the relay died before publishing message {calls}")
        publish(event)
        if calls == on_call:
            raise Crash(f"the relay died after publishing message {calls}, before its checkpoint")

    return publish_or_die


def open_producer() -> duckdb.DuckDBPyConnection:
    """The order service's own database: orders, the outbox, the relay's checkpoints."""
    con = duckdb.connect(":memory:")
    con.execute(PRODUCER_SQL)
    return con


def _order_placed(order_id: str, customer_id: str, lines: Mapping[str, int]) -> Event:
    [fact] = orders.decide(orders.INITIAL_STATE, orders.PlaceOrder(customer_id, line_items(lines)))
    return domain_message(fact, stream_id=order_id)


def _save_order(con: duckdb.DuckDBPyConnection, placed: Event) -> None:
    status = orders.STATUS_AFTER[orders.OrderPlaced]
    row = [placed.stream_id, placed.data["customer_id"], placed.data["total"], status]
    con.execute("INSERT INTO orders VALUES (?, ?, ?, ?)", row)


def place_order(
    con: duckdb.DuckDBPyConnection, order_id: str, customer_id: str, lines: Mapping[str, int]
) -> Event:
    """Save the order and its integration event in the outbox, in ONE transaction."""
    placed = _order_placed(order_id, customer_id, lines)
    published = to_integration(placed)
    assert published is not None  # an OrderPlaced is always published
    con.begin()
    try:
        _save_order(con, placed)
        con.execute(
            "INSERT INTO outbox (event_id, event_type, stream_id, payload, metadata) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                str(published.event_id),
                published.event_type,
                published.stream_id,
                to_json(published.data, "payload"),
                to_json(published.metadata, "metadata"),
            ],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return published


def place_order_dual_write(
    con: duckdb.DuckDBPyConnection,
    publish: Publish,
    order_id: str,
    customer_id: str,
    lines: Mapping[str, int],
    *,
    crash_before_publish: bool = False,
) -> None:
    """Save the order, commit, then publish: two writes, no transaction around both."""
    placed = _order_placed(order_id, customer_id, lines)
    _save_order(con, placed)  # auto-commit: the order is saved for good
    if crash_before_publish:
        raise Crash(f"the process died after saving {order_id!r}, before publishing")
    published = to_integration(placed)
    assert published is not None
    publish(published)


def checkpoint(con: duckdb.DuckDBPyConnection, relay: str = "relay") -> int:
    """The outbox position the relay has published up to (0: nothing yet)."""
    rows = con.execute("SELECT position FROM relay_checkpoints WHERE relay = ?", [relay]).fetchall()
    return int(rows[0][0]) if rows else 0


def pending(con: duckdb.DuckDBPyConnection, relay: str = "relay") -> list[tuple[int, Event]]:
    """The outbox rows after the relay's checkpoint, oldest first, as (position, message)."""
    rows = con.execute(
        "SELECT position, event_id, event_type, stream_id, payload, metadata FROM outbox "
        "WHERE position > ? ORDER BY position",
        [checkpoint(con, relay)],
    ).fetchall()
    return [
        (
            position,
            message(
                kind,
                json.loads(data),
                stream_id=stream,
                metadata=json.loads(meta),
                event_id=uuid.UUID(str(event_id)),
            ),
        )
        for position, event_id, kind, stream, data, meta in rows
    ]


def save_checkpoint(con: duckdb.DuckDBPyConnection, relay: str, position: int) -> None:
    con.execute(
        "INSERT INTO relay_checkpoints VALUES (?, ?) "
        "ON CONFLICT (relay) DO UPDATE SET position = excluded.position",
        [relay, position],
    )


def relay_once(con: duckdb.DuckDBPyConnection, publish: Publish, relay: str = "relay") -> int:
    """Publish the pending outbox rows in order, checkpointing after each; how many."""
    published = 0
    for position, event in pending(con, relay):
        publish(event)  # a crash here: the row stays pending, published again on restart
        save_checkpoint(con, relay, position)
        published += 1
    return published
