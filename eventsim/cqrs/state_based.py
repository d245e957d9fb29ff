"""CQRS without event sourcing: a state-based write model and a read model updated on write.

The write side is a plain table of current orders, overwritten in place (the orders
domain's ``OrdersTable`` enforces the rules). The read side is ``customer_dashboard``, a
denormalized table one query answers. Each command updates both in ONE transaction, so a
reader never sees one without the other. No event is stored anywhere: CQRS is about
splitting the models, and works as well without a log (what is lost is the history).
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from eventsim.domains import orders
from eventsim.store import transaction

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS orders_current (
    order_id VARCHAR PRIMARY KEY, customer_id VARCHAR NOT NULL, status VARCHAR NOT NULL,
    total DECIMAL(18, 2) NOT NULL, paid DECIMAL(18, 2) NOT NULL);
CREATE TABLE IF NOT EXISTS customer_dashboard (
    customer_id VARCHAR PRIMARY KEY, orders INTEGER NOT NULL, open_orders INTEGER NOT NULL,
    spent DECIMAL(18, 2) NOT NULL);
"""
CLOSED = ["cancelled", "delivered"]  # the statuses no command can leave
# The read model's row of one customer, derived from the write model's rows on each write.
DASHBOARD_SQL = """
INSERT OR REPLACE INTO customer_dashboard
SELECT customer_id, count(*), count(*) FILTER (WHERE NOT list_contains($2, status)), sum(paid)
FROM orders_current WHERE customer_id = $1 GROUP BY customer_id"""


class StateBasedOrders:
    """The write model (a table of current orders) and its read model, in one database."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.rules = con, orders.OrdersTable()
        con.execute(SCHEMA_SQL)

    def handle(self, order_id: str, command: orders.Command) -> None:
        """Check the command, overwrite the order's row and update the dashboard, atomically."""
        with transaction(self.con):
            row = self._checked(order_id, command)  # raises an OrderError before any write
            self.con.execute(
                "INSERT OR REPLACE INTO orders_current VALUES (?, ?, ?, ?, ?)",
                [order_id, row["customer_id"], row["status"], row["total"], row["paid"]],
            )
            self.con.execute(DASHBOARD_SQL, [row["customer_id"], CLOSED])
        self.rules.rows[order_id] = row  # kept in memory only once both tables committed

    def _checked(self, order_id: str, command: orders.Command) -> dict[str, Any]:
        """The order's row after the command, by the domain's rules, on a scratch copy."""
        scratch = orders.OrdersTable()
        if order_id in self.rules.rows:
            scratch.rows[order_id] = self.rules.rows[order_id]
        scratch.handle(order_id, command)
        return scratch.rows[order_id]

    def dashboard(self) -> pd.DataFrame:
        """The query side: one row per customer, read as is."""
        return self.con.execute("SELECT * FROM customer_dashboard ORDER BY customer_id").df()
