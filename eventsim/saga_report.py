"""What a saga run left behind: outcomes, a timeline, the invariants, the two styles compared.

Everything here reads the event store with SQL (and, for the invariants, the
participants' own books), so it checks what was written, not what the code meant to do.

>>> from eventsim import EventStore, saga
>>> with EventStore() as store:
...     run = saga.run_choreographed(store, saga.make_orders(4, seed=2))
...     bool(invariants(store, run)["holds"].all())
True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

import pandas as pd

from eventsim.errors import InvalidArgument
from eventsim.saga import CHOREOGRAPHY, ORCHESTRATION, SagaError, SagaRun
from eventsim.store import EventStore

FAILED_STEP = {
    "PaymentFailed": "payment",
    "InventoryReservationFailed": "inventory",
    "ShipmentFailed": "shipping",
    "ShipmentCancelled": "dispatch",  # the carrier missed the pickup: the booking is undone
}
COMPENSATIONS = ("ShipmentCancelled", "InventoryReleased", "PaymentRefunded", "OrderCancelled")
TERMINAL = {"OrderDelivered": "delivered", "OrderCancelled": "cancelled"}
ON_FAILURE = {
    ORCHESTRATION: "the orchestrator receives the failure and sends each undo in turn",
    CHOREOGRAPHY: "the failure event wakes the step before, whose undo wakes the one before",
}

OUTCOMES_SQL = """
SELECT stream_id AS order_id,  -- money in cents, exact as BIGINT
       CASE arg_max(event_type, version) WHEN 'OrderDelivered' THEN 'delivered'
            WHEN 'OrderCancelled' THEN 'cancelled' ELSE 'open' END AS outcome,
       coalesce(arg_min(event_type, version) FILTER (WHERE list_contains(?, event_type)), '')
           AS failure,
       CAST(count(*) AS INTEGER) AS events,
       coalesce(sum(CAST(data->>'amount' AS DECIMAL(38, 2)) * 100)
                FILTER (WHERE event_type = 'PaymentCharged'), 0)::BIGINT AS charged,
       coalesce(sum(CAST(data->>'amount' AS DECIMAL(38, 2)) * 100)
                FILTER (WHERE event_type = 'PaymentRefunded'), 0)::BIGINT AS refunded,
       any_value(CAST(data->>'total' AS DECIMAL(38, 2)) * 100)
           FILTER (WHERE event_type = 'OrderPlaced')::BIGINT AS total,
       string_agg(event_type, ' → ' ORDER BY version) AS sequence
FROM event_store
WHERE list_contains(?, stream_id)
GROUP BY stream_id
ORDER BY stream_id
"""
SHIPPED_UNITS_SQL = """
SELECT item.sku AS sku, CAST(sum(item.quantity) AS INTEGER) AS units
FROM (SELECT unnest(from_json(data->'items', '[{"sku": "VARCHAR", "quantity": "INTEGER"}]'))
             AS item
      FROM event_store
      WHERE event_type = 'OrderPlaced' AND list_contains(?, stream_id)
        AND stream_id IN (SELECT stream_id FROM event_store WHERE event_type = 'OrderShipped'))
GROUP BY item.sku
ORDER BY item.sku
"""
# Each step's bar runs from the event that caused it (its start) to its own event.
TIMELINE_SQL = """
SELECT e.stream_id AS order_id, e.version, e.event_type AS step,
       e.metadata->>'participant' AS participant,
       coalesce(c.timestamp, e.timestamp) AS start, e.timestamp AS "end"
FROM event_store AS e
LEFT JOIN event_store AS c ON CAST(c.event_id AS VARCHAR) = e.metadata->>'causation_id'
WHERE list_contains(?, e.stream_id)
ORDER BY e.stream_id, e.version
"""


class InvariantBroken(SagaError):
    """A saga run broke an invariant: money kept, stock leaked, or a saga left open."""


def _ids(order_ids: Sequence[str]) -> list[str]:
    if isinstance(order_ids, str) or not order_ids:
        raise InvalidArgument(f"order_ids must be a non-empty list of ids, got {order_ids!r}")
    return list(order_ids)


def outcomes(store: EventStore, order_ids: Sequence[str]) -> pd.DataFrame:
    """Per order: delivered or cancelled, the step that failed, money, the events in order."""
    table = store.sql(OUTCOMES_SQL, [list(FAILED_STEP), _ids(order_ids)])
    table["failed_at"] = table.pop("failure").map(FAILED_STEP).fillna("")
    for money in ("total", "charged", "refunded"):  # cents in SQL: exact, then Decimal
        exact = [Decimal(int(cents)).scaleb(-2) for cents in table[money]]
        table[money] = pd.Series(exact, index=table.index, dtype=object)
    return table.set_index("order_id")[
        ["outcome", "failed_at", "events", "total", "charged", "refunded", "sequence"]
    ]


def timeline(store: EventStore, order_ids: Sequence[str]) -> pd.DataFrame:
    """One row per event: its step's start and end in virtual time, and its kind.

    Kinds: ``placed``, ``forward``, ``failed`` (a step that could not be done) and
    ``compensation`` (an undo, or the cancellation that closes the saga).
    """
    table = store.sql(TIMELINE_SQL, [_ids(order_ids)])
    kind = pd.Series("forward", index=table.index)
    kind[table["step"].isin(list(FAILED_STEP))] = "failed"
    kind[table["step"].isin(COMPENSATIONS)] = "compensation"
    kind[table["step"] == "OrderPlaced"] = "placed"
    return table.assign(kind=kind)


def invariants(store: EventStore, run: SagaRun) -> pd.DataFrame:
    """Each invariant of the run, whether it holds, and the numbers behind it."""
    facts = outcomes(store, run.order_ids)
    kept = facts["charged"] - facts["refunded"]
    cancelled, delivered = facts["outcome"] == "cancelled", facts["outcome"] == "delivered"
    shipped = store.sql(SHIPPED_UNITS_SQL, [list(run.order_ids)])
    shipped_units = Counter(dict(zip(shipped["sku"], shipped["units"].astype(int), strict=True)))
    books = run.inventory
    skus = sorted(set(books.initial) | set(shipped_units) | set(books.reserved))
    net = {sku: books.reserved[sku] - books.released[sku] for sku in skus}
    left = {sku: books.initial[sku] - shipped_units[sku] for sku in skus}
    paid = run.payments
    ledger = {i: (paid.charged[i], paid.refunded[i]) for i in run.order_ids}
    money = zip(facts["charged"], facts["refunded"], strict=True)
    stored = dict(zip(facts.index, money, strict=True))
    rows = [
        (
            "every saga ended delivered or cancelled",
            bool((cancelled | delivered).all()),
            f"{int(delivered.sum())} delivered + {int(cancelled.sum())} cancelled "
            f"of {len(facts)} orders",
        ),
        (
            "no money kept for a cancelled order (charged − refunded = 0)",
            bool((kept[cancelled] == 0).all()),
            f"{int(cancelled.sum())} cancelled orders keep {kept[cancelled].sum():.2f}",
        ),
        (
            "a delivered order keeps exactly its total",
            bool((kept[delivered] == facts["total"][delivered]).all()),
            f"{int(delivered.sum())} delivered orders keep {kept[delivered].sum():.2f}",
        ),
        (
            "no stock leaked (reserved − released = shipped, per SKU)",
            all(net[sku] == shipped_units[sku] for sku in skus),
            f"{sum(net.values())} units held = {shipped_units.total()} units shipped",
        ),
        (
            "final stock = initial − shipped, per SKU",
            all(books.stock[sku] == left[sku] for sku in skus),
            f"{books.stock.total()} units left of {books.initial.total()}",
        ),
        (
            "the payments books match the event store",
            ledger == stored,
            f"{len(run.order_ids)} orders compared",
        ),
    ]
    return pd.DataFrame(rows, columns=["invariant", "holds", "detail"])


def check_invariants(store: EventStore, run: SagaRun) -> None:
    """Raise ``InvariantBroken`` naming every invariant the run broke; else return None."""
    checks = invariants(store, run)
    broken = checks[~checks["holds"]]
    if len(broken):
        lines = "; ".join(f"{r.invariant} ({r.detail})" for r in broken.itertuples())
        raise InvariantBroken(f"the {run.style} run broke {len(broken)} invariant(s): {lines}")


def compare(*runs: SagaRun) -> pd.DataFrame:
    """The runs side by side: outcomes, events, messages, and where the flow logic lives."""
    rows = {}
    for run in runs:
        status = Counter(run.final_status.values())
        rows[run.style] = {
            "orders": len(run.order_ids),
            "delivered": status["delivered"],
            "cancelled": status["cancelled"],
            "events written": run.events_written,
            "messages sent": run.messages,
            "messages per order": round(run.messages / len(run.order_ids), 1),
            "places that know the flow": run.places_knowing_flow,
            "flow rules": run.flow_rules,
            "on a failure": ON_FAILURE[run.style],
        }
    return pd.DataFrame(rows)
