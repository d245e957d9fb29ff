"""The transactional outbox and its relay, and internal events translated to integration events."""

from __future__ import annotations

import pytest

from eventsim.messaging import integration, outbox
from eventsim.messaging.mediator import order_placed
from eventsim.messaging.payloads import OrderService


def place(con: object, *numbers: int) -> None:
    for n in numbers:
        outbox.place_order(con, f"order-{n}", f"c-{n}", {"SKU-001": n})  # type: ignore[arg-type]


def test_the_order_and_its_outbox_row_commit_together_or_not_at_all() -> None:
    con = outbox.open_producer()
    place(con, 1)
    with pytest.raises(Exception, match="order-1"):
        place(con, 1)  # the same order id again: the order row is refused
    counts = con.execute("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM outbox)")
    assert (1, 1) == counts.fetchall()[0]


def test_a_dual_write_that_crashes_before_publishing_loses_the_message() -> None:
    con, sent = outbox.open_producer(), []
    with pytest.raises(outbox.Crash):
        outbox.place_order_dual_write(
            con, sent.append, "order-1", "c-1", {"SKU-001": 1}, crash_before_publish=True
        )
    assert (1, []) == (con.execute("SELECT count(*) FROM orders").fetchall()[0][0], sent)


def test_the_relay_resumes_from_its_checkpoint_and_loses_nothing() -> None:
    con, sent = outbox.open_producer(), []
    place(con, 1, 2, 3, 4)
    with pytest.raises(outbox.Crash):
        outbox.relay_once(con, outbox.crashing(sent.append, on_call=3))
    assert 2 == outbox.checkpoint(con)
    assert 2 == outbox.relay_once(con, sent.append)
    expected = [
        row[0] for row in con.execute("SELECT event_id FROM outbox ORDER BY position").fetchall()
    ]
    assert expected == [event.event_id for event in sent]
    assert 0 == outbox.relay_once(con, sent.append)


def test_a_crash_after_publishing_and_before_the_checkpoint_publishes_that_row_again() -> None:
    con, sent = outbox.open_producer(), []
    place(con, 1, 2, 3)
    with pytest.raises(outbox.Crash):
        outbox.relay_once(con, outbox.crashing(sent.append, on_call=2, after=True))
    outbox.relay_once(con, sent.append)
    assert ["order-1", "order-2", "order-2", "order-3"] == [event.stream_id for event in sent]


def test_relays_keep_their_own_checkpoints() -> None:
    con = outbox.open_producer()
    place(con, 1, 2)
    outbox.relay_once(con, lambda event: None, "a")
    assert (2, 0) == (outbox.checkpoint(con, "a"), outbox.checkpoint(con, "b"))


def test_only_the_contracted_internal_events_are_published_and_in_the_contract_shape() -> None:
    shop = OrderService()
    shop.place("order-1", {"SKU-001": 2})
    shop.cancel("order-1")
    published = [integration.to_integration(event) for event in shop.history["order-1"]]
    assert [integration.PLACED, integration.CANCELLED] == [e.event_type for e in published if e]
    placed = integration.to_integration(order_placed("order-2", {"SKU-001": 3}))
    assert placed is not None
    assert {"order_id", "customer_id", "lines", "total"} == set(placed.data)
    assert (1, "30.00") == (placed.metadata["schema_version"], placed.data["total"])


def test_an_internal_event_without_a_contract_stays_internal() -> None:
    shop = OrderService()
    placed = shop.place("order-1", {"SKU-001": 2})
    internal = placed.__class__(**{**placed.__dict__, "event_type": "PaymentCharged"})
    assert integration.to_integration(internal) is None
