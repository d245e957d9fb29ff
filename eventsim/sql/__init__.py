"""Each domain's SQL, handed to the store and to ``replay`` (the domains hold none).

``STATE_SQL``: per domain, the query that folds every stream as of a time (parameter 1).
``LOAD_CHECKS``: per event type, a SQL condition that vouches for a loaded payload, so the
bulk loader parses in Python only the rows it does not vouch for.
"""

from eventsim.sql import bank, orders

STATE_SQL: dict[str, str] = {"bank": bank.STATE_SQL, "orders": orders.STATE_SQL}
LOAD_CHECKS: dict[str, str] = {"OrderPlaced": orders.ORDER_PLACED_VALID}
