"""Three read models of the orders stream, each kept up to date by set-based SQL.

Every projection here folds a range of positions ``(after, upto]`` of an events table
into its own table in one statement per table: the events of one order inside the
range are first reduced to one row (``arg_max`` by version, sums, ``FILTER``), then
merged into the table (``MERGE INTO``), so a batch of a million events costs a few
scans, never a Python loop. The result does not depend on how the log is cut into
batches: a row's last event wins, sums add up, and a column a batch does not touch
keeps its value (``coalesce``).

- ``order_summary``: the customer dashboard, one row per order (status, total, version).
- ``revenue_by_day``: finance, per UTC day: charged, refunded and net.
- ``shipping_manifest``: the warehouse, orders with a shipment to pick and ship.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from eventsim.cqrs.projections import SOURCES, Batch
from eventsim.domains import orders
from eventsim.errors import InvalidArgument

ORDER_TYPES = sorted(orders.EVENT_TYPES)
# The status each event leaves an order in, as SQL (the same mapping as orders.STATUS_AFTER).
_STATUS_CASE = " ".join(
    f"WHEN '{cls.__name__}' THEN '{status}'" for cls, status in orders.STATUS_AFTER.items()
)
# The warehouse's view of a reserved order: which step of the shipment it is at.
SHIPPING_STATUS = {
    "InventoryReserved": "reserved",
    "ShipmentCreated": "to_ship",
    "ShipmentFailed": "rejected",
    "OrderShipped": "shipped",
    "OrderDelivered": "delivered",
    "ShipmentCancelled": "cancelled",
    "InventoryReleased": "released",
}
_SHIPPING_CASE = " ".join(f"WHEN '{t}' THEN '{s}'" for t, s in SHIPPING_STATUS.items())
MONEY = "DECIMAL(38, 2)"
# $1, $2: fold the positions after $1 up to $2; $3: the event types the projection handles.
_RANGE = "position > $1 AND position <= $2"


@dataclass(frozen=True)
class SqlProjection:
    """A read model kept by SQL: its table, how to create it, how to fold a range into it.

    It keeps the runner's ``Projection`` protocol. ``update`` reads the events table named
    by ``{source}`` (a constant the runner picks: ``event_store``, or a registered batch
    of pushed events) with three parameters: the positions after which and up to which
    to fold, and the event types it handles.
    """

    name: str
    table: str
    schema: str
    update: str
    query: str
    event_types: frozenset[str] = frozenset(ORDER_TYPES)

    def open(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(self.schema)

    def reset(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"DELETE FROM {self.table}")  # noqa: S608 (a constant of this module)

    def apply(self, con: duckdb.DuckDBPyConnection, batch: Batch) -> None:
        """Fold the events with ``after < position <= upto`` of the batch's source."""
        if batch.source not in SOURCES:  # a table name goes into the SQL text: constants only
            raise InvalidArgument(f"source must be one of {SOURCES}, got {batch.source!r}")
        con.execute(
            self.update.format(source=batch.source),
            [batch.after, batch.upto, sorted(batch.event_types)],
        )

    def frame(self, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        """The read model as its users see it, sorted."""
        return con.execute(self.query).df()


ORDER_SUMMARY = SqlProjection(
    name="order_summary",
    table="order_summary",
    schema=f"""
CREATE TABLE IF NOT EXISTS order_summary (
    order_id VARCHAR NOT NULL, customer_id VARCHAR, status VARCHAR NOT NULL,
    total {MONEY}, paid {MONEY} NOT NULL, version INTEGER NOT NULL,
    last_update TIMESTAMPTZ NOT NULL)""",
    update=f"""
MERGE INTO order_summary AS old USING (
SELECT last.stream_id AS order_id, placed.customer_id, last.status, placed.total,
       coalesce(money.paid, 0) AS paid, last.version, last.last_update
FROM (SELECT stream_id, CASE arg_max(event_type, version) {_STATUS_CASE} END AS status,
             max(version) AS version, max(timestamp) AS last_update
      FROM {{source}} WHERE {_RANGE} AND list_contains($3, event_type)
      GROUP BY stream_id) AS last
LEFT JOIN (SELECT stream_id, field[1] AS customer_id, CAST(field[2] AS {MONEY}) AS total
           FROM (SELECT stream_id, json_extract_string(data, ['$.customer_id', '$.total'])
                       AS field  -- one parse of the large OrderPlaced payload, not two
                 FROM {{source}} WHERE {_RANGE} AND event_type = 'OrderPlaced')) AS placed
    USING (stream_id)
LEFT JOIN (SELECT stream_id, sum(CAST(data->>'amount' AS {MONEY})
                  * CASE event_type WHEN 'PaymentRefunded' THEN -1 ELSE 1 END) AS paid
           FROM {{source}}
           WHERE {_RANGE} AND event_type IN ('PaymentCharged', 'PaymentRefunded')
           GROUP BY stream_id) AS money
    USING (stream_id)
) AS new ON old.order_id = new.order_id
WHEN MATCHED THEN UPDATE SET
    customer_id = coalesce(new.customer_id, old.customer_id), status = new.status,
    total = coalesce(new.total, old.total), paid = old.paid + new.paid,
    version = new.version, last_update = new.last_update
WHEN NOT MATCHED THEN INSERT BY NAME""",  # noqa: S608 (constants of this module)
    query="SELECT * FROM order_summary ORDER BY order_id",
)

REVENUE_BY_DAY = SqlProjection(
    name="revenue_by_day",
    table="revenue_by_day",
    schema=f"""
CREATE TABLE IF NOT EXISTS revenue_by_day (
    day DATE NOT NULL, charged {MONEY} NOT NULL, refunded {MONEY} NOT NULL,
    net {MONEY} NOT NULL, payments INTEGER NOT NULL, refunds INTEGER NOT NULL)""",
    update=f"""
MERGE INTO revenue_by_day AS old USING (
SELECT CAST(timestamp AS DATE) AS day,
       coalesce(sum(CAST(data->>'amount' AS {MONEY}))
                FILTER (WHERE event_type = 'PaymentCharged'), 0) AS charged,
       coalesce(sum(CAST(data->>'amount' AS {MONEY}))
                FILTER (WHERE event_type = 'PaymentRefunded'), 0) AS refunded,
       charged - refunded AS net,
       count(*) FILTER (WHERE event_type = 'PaymentCharged') AS payments,
       count(*) FILTER (WHERE event_type = 'PaymentRefunded') AS refunds
FROM {{source}}
WHERE {_RANGE} AND list_contains($3, event_type)
  AND event_type IN ('PaymentCharged', 'PaymentRefunded')
GROUP BY day
) AS new ON old.day = new.day
WHEN MATCHED THEN UPDATE SET
    charged = old.charged + new.charged, refunded = old.refunded + new.refunded,
    net = old.net + new.net, payments = old.payments + new.payments,
    refunds = old.refunds + new.refunds
WHEN NOT MATCHED THEN INSERT BY NAME""",  # noqa: S608 (constants of this module)
    query="SELECT * FROM revenue_by_day ORDER BY day",
)

SHIPPING_MANIFEST = SqlProjection(
    name="shipping_manifest",
    table="shipping_manifest",
    schema="""
CREATE TABLE IF NOT EXISTS shipping_manifest (
    order_id VARCHAR NOT NULL, warehouse VARCHAR, carrier VARCHAR,
    status VARCHAR NOT NULL, shipment_created_at TIMESTAMPTZ, version INTEGER NOT NULL)""",
    update=f"""
MERGE INTO shipping_manifest AS old USING (
SELECT last.stream_id AS order_id, reserved.warehouse, created.carrier, last.status,
       created.created_at AS shipment_created_at, last.version
FROM (SELECT stream_id, CASE arg_max(event_type, version) {_SHIPPING_CASE} END AS status,
             max(version) AS version
      FROM {{source}}
      WHERE {_RANGE} AND event_type IN ({", ".join(f"'{t}'" for t in SHIPPING_STATUS)})
        AND list_contains($3, event_type)
      GROUP BY stream_id) AS last
LEFT JOIN (SELECT stream_id, arg_max(data->>'warehouse', version) AS warehouse
           FROM {{source}} WHERE {_RANGE} AND event_type = 'InventoryReserved'
           GROUP BY stream_id) AS reserved
    USING (stream_id)
LEFT JOIN (SELECT stream_id, arg_max(data->>'carrier', version) AS carrier,
                  max(timestamp) AS created_at
           FROM {{source}} WHERE {_RANGE} AND event_type = 'ShipmentCreated'
           GROUP BY stream_id) AS created
    USING (stream_id)
) AS new ON old.order_id = new.order_id
WHEN MATCHED THEN UPDATE SET
    warehouse = coalesce(new.warehouse, old.warehouse),
    carrier = coalesce(new.carrier, old.carrier), status = new.status,
    shipment_created_at = coalesce(new.shipment_created_at, old.shipment_created_at),
    version = new.version
WHEN NOT MATCHED THEN INSERT BY NAME""",  # noqa: S608 (constants of this module)
    query="SELECT * FROM shipping_manifest ORDER BY order_id",
)

ORDER_VIEWS = (ORDER_SUMMARY, REVENUE_BY_DAY, SHIPPING_MANIFEST)
"""The three read models, in the order the runner keeps them."""


def order_summary(con: duckdb.DuckDBPyConnection, customer_id: str | None = None) -> pd.DataFrame:
    """The customer dashboard: one row per order (of one customer, if given), by order id."""
    if customer_id is None:
        return ORDER_SUMMARY.frame(con)
    return con.execute(
        "SELECT * FROM order_summary WHERE customer_id = ? ORDER BY order_id", [customer_id]
    ).df()


def revenue_report(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Finance's report: per UTC day, the money charged, refunded and kept (net), by day."""
    return REVENUE_BY_DAY.frame(con)


def shipping_manifest(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The warehouse's pick list: orders with a shipment booked and not yet shipped.

    Sorted by warehouse, then oldest shipment first: the order a picker works in.
    """
    return con.execute(
        "SELECT order_id, warehouse, carrier, shipment_created_at, version "
        "FROM shipping_manifest WHERE status = 'to_ship' "
        "ORDER BY warehouse, shipment_created_at, order_id"
    ).df()
