"""What a saga run left behind: outcomes, a timeline, the invariants, the two styles compared.

Everything here reads the event store with SQL (and, for the invariants, the
participants' own books), so it checks what was written, not what the code meant to do.

>>> from eventsim import EventStore
>>> from eventsim.sagas import saga
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

from eventsim.catalog import EventStore
from eventsim.errors import InvalidArgument
from eventsim.sagas.participants import Inventory, Participant, Payments, Shipping, Shop
from eventsim.sagas.saga import (
    CHOREOGRAPHY,
    ORCHESTRATION,
    PIVOT,
    SAGA,
    SagaError,
    SagaRun,
)

FAILURES = ("PaymentFailed", "InventoryReservationFailed", "ShipmentFailed")
COMPENSATIONS = ("ShipmentCancelled", "InventoryReleased", "PaymentRefunded", "OrderCancelled")
TERMINAL = {"OrderDelivered": "delivered", "OrderCancelled": "cancelled"}
ON_FAILURE = {
    ORCHESTRATION: "the orchestrator sends each undo",
    CHOREOGRAPHY: "each undo's event wakes the one before",
}
# A saga's events sit in four participants' streams: the correlation id gathers them,
# and (time, position) puts them in the order they happened.
OUTCOMES_SQL = """
WITH saga AS (
    SELECT *, metadata->>'correlation_id' AS order_id FROM event_store
    WHERE list_contains(?, metadata->>'correlation_id'))
SELECT order_id,  -- money in cents, exact as BIGINT
       CASE arg_max(event_type, (timestamp, position)) WHEN 'OrderDelivered' THEN 'delivered'
            WHEN 'OrderCancelled' THEN 'cancelled' ELSE 'open' END AS outcome,
       coalesce(arg_min(metadata->>'failed_step', position)
                FILTER (WHERE metadata->>'failed_step' IS NOT NULL), '') AS failed_at,
       coalesce(arg_min(metadata->>'reason', position)
                FILTER (WHERE metadata->>'reason' IS NOT NULL), '') AS reason,
       CAST(count(*) AS INTEGER) AS events,
       CAST(count(*) FILTER (WHERE list_contains(?, event_type)) AS INTEGER) AS compensations,
       coalesce(sum(CAST(data->>'amount' AS DECIMAL(38, 2)) * 100)
                FILTER (WHERE event_type = 'PaymentCharged'), 0)::BIGINT AS charged,
       coalesce(sum(CAST(data->>'amount' AS DECIMAL(38, 2)) * 100)
                FILTER (WHERE event_type = 'PaymentRefunded'), 0)::BIGINT AS refunded,
       any_value(CAST(data->>'total' AS DECIMAL(38, 2)) * 100)
           FILTER (WHERE event_type = 'OrderPlaced')::BIGINT AS total,
       string_agg(event_type, ' → ' ORDER BY timestamp, position) AS sequence
FROM saga
GROUP BY order_id
ORDER BY order_id
"""
SHIPPED_UNITS_SQL = """
WITH saga AS (
    SELECT *, metadata->>'correlation_id' AS order_id FROM event_store
    WHERE list_contains(?, metadata->>'correlation_id'))
SELECT item.sku AS sku, CAST(sum(item.quantity) AS INTEGER) AS units
FROM (SELECT unnest(from_json(data->'items', '[{"sku": "VARCHAR", "quantity": "INTEGER"}]'))
             AS item
      FROM saga
      WHERE event_type = 'OrderPlaced'
        AND order_id IN (SELECT order_id FROM saga WHERE event_type = 'OrderShipped'))
GROUP BY item.sku
ORDER BY item.sku
"""
# Each step's bar runs from the event that caused it (its start) to its own event.
TIMELINE_SQL = """
WITH saga AS (
    SELECT *, metadata->>'correlation_id' AS order_id FROM event_store
    WHERE list_contains(?, metadata->>'correlation_id'))
SELECT e.order_id, e.stream_id, e.event_type AS step,
       e.metadata->>'participant' AS participant,
       coalesce(c.timestamp, e.timestamp) AS start, e.timestamp AS "end"
FROM saga AS e
LEFT JOIN event_store AS c ON CAST(c.event_id AS VARCHAR) = e.metadata->>'causation_id'
ORDER BY e.order_id, e.timestamp, e.position
"""


class InvariantBroken(SagaError):
    """A saga run broke an invariant: money kept, stock leaked, or a saga left open."""


PARTICIPANT_TYPES: tuple[type[Participant], ...] = (Shop, Payments, Inventory, Shipping)


def flow_table(style: str) -> pd.DataFrame:
    """Where the flow logic lives: the orchestrator's steps, or each participant's list.

    >>> len(flow_table("orchestration")), len(flow_table("choreography"))
    (5, 11)
    """
    if style == ORCHESTRATION:
        names = [step.name for step in SAGA]
        rows = [
            (
                step.name + (" (pivot)" if step.name == PIVOT else ""),
                ".".join(step.action),
                step.done_when,
                int(step.deadline.total_seconds() // 60),
                ".".join(step.compensation) if step.compensation else "(none: only forward)",
                "ask again" if names.index(step.name) >= names.index(PIVOT) else "undo, go back",
            )
            for step in SAGA
        ]
        columns = ["step", "command", "done when", "deadline (min)", "undo", "on no reply"]
        return pd.DataFrame(rows, columns=columns)
    if style == CHOREOGRAPHY:
        subscribed = [
            (kind.name, event, operation)
            for kind in PARTICIPANT_TYPES
            for event, operation in kind.SUBSCRIPTIONS.items()
        ]
        return pd.DataFrame(subscribed, columns=["participant", "reacts to", "by calling"])
    raise InvalidArgument(f"style must be {ORCHESTRATION!r} or {CHOREOGRAPHY!r}, got {style!r}")


def _ids(order_ids: Sequence[str]) -> list[str]:
    if isinstance(order_ids, str) or not order_ids:
        raise InvalidArgument(f"order_ids must be a non-empty list of ids, got {order_ids!r}")
    return list(order_ids)


def outcomes(store: EventStore, order_ids: Sequence[str]) -> pd.DataFrame:
    """Per order: delivered or cancelled, the step that failed and why, money, the events in order.

    ``failed_at`` is the step that failed or missed its deadline; empty if none did.
    """
    table = store.sql(OUTCOMES_SQL, [_ids(order_ids), list(COMPENSATIONS)])
    for money in ("total", "charged", "refunded"):  # cents in SQL: exact, then Decimal
        exact = [Decimal(int(cents)).scaleb(-2) for cents in table[money]]
        table[money] = pd.Series(exact, index=table.index, dtype=object)
    return table.set_index("order_id")[
        [
            "outcome",
            "failed_at",
            "reason",
            "events",
            "compensations",
            "total",
            "charged",
            "refunded",
            "sequence",
        ]
    ]


def timeline(store: EventStore, order_ids: Sequence[str]) -> pd.DataFrame:
    """One row per event: its step's start and end in virtual time, and its kind.

    Kinds: ``placed``, ``forward``, ``failed`` (a step that could not be done) and
    ``compensation`` (an undo, or the cancellation that closes the saga).
    """
    table = store.sql(TIMELINE_SQL, [_ids(order_ids)])
    kind = pd.Series("forward", index=table.index)
    kind[table["step"].isin(FAILURES)] = "failed"
    kind[table["step"].isin(COMPENSATIONS)] = "compensation"
    kind[table["step"] == "OrderPlaced"] = "placed"
    return table.assign(kind=kind)


def most_in_flight(timeline_df: pd.DataFrame) -> int:
    """The most sagas open at one moment: placed, not yet delivered or cancelled.

    >>> start = pd.to_datetime(["2024-03-01 09:00", "2024-03-01 09:10", "2024-03-01 09:40"])
    >>> end = pd.to_datetime(["2024-03-01 09:30", "2024-03-01 09:40", "2024-03-01 09:50"])
    >>> steps = pd.DataFrame({"order_id": ["a", "b", "c"], "start": start, "end": end})
    >>> most_in_flight(steps)  # c starts as b ends: never three at once
    2
    """
    spans = timeline_df.groupby("order_id").agg(first=("start", "min"), last=("end", "max"))
    # At equal times an end comes first (-1 sorts before +1): a saga closing as another
    # opens never counts twice.
    changes = pd.concat(
        [
            pd.DataFrame({"at": spans["first"], "step": 1}),
            pd.DataFrame({"at": spans["last"], "step": -1}),
        ]
    ).sort_values(["at", "step"], kind="stable")
    return int(changes["step"].cumsum().max())


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
            "commands sent": run.commands,
            "events delivered": run.deliveries,
            "messages sent": run.messages,
            "messages per order": round(run.messages / len(run.order_ids), 1),
            "places that know the flow": run.places_knowing_flow,
            "flow rules (steps or subscriptions)": run.flow_rules,
            "on a failure": ON_FAILURE[run.style],
        }
    return pd.DataFrame(rows)
