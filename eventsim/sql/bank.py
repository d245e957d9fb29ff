"""The bank domain in SQL: every account as of a time, folded in one query; and one long
account summed into its ``Account``.

``STATE_SQL`` sums the typed companion (``eventsim.store.companion``), not the JSON; only
the owner is read from the payload, of the opening events alone. ``replay.all_states``
runs it, ``replay.state_at`` the one-account sums; the tests hold both to the Python fold
(``bank.evolve``) on the same events.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eventsim.domains.bank import Account

# Parameter 1: the moment (events with timestamp <= it count).
STATE_SQL = """
WITH folded AS (
    SELECT stream_id,
           -- two filtered sums: cheaper than a signed product per row
           coalesce(sum(amount) FILTER (WHERE event_type = 'MoneyDeposited'), 0)
               - coalesce(sum(amount) FILTER (WHERE event_type = 'MoneyWithdrawn'), 0)
               AS balance,
           CASE WHEN bool_or(event_type = 'AccountClosed') THEN 'closed' ELSE 'open' END
               AS status,
           CAST(max(version) AS INTEGER) AS version
    FROM event_typed WHERE timestamp <= $1 GROUP BY stream_id),
opened AS (
    SELECT stream_id, data->>'owner' AS owner FROM event_store
    WHERE version = 1 AND event_type = 'AccountOpened' AND timestamp <= $1)
SELECT stream_id AS account_id, owner, balance, status, version
FROM folded JOIN opened USING (stream_id)
ORDER BY stream_id
"""

# One account as of a version and a time, summed by DuckDB over its rows of ``event_store``
# (parameters: stream id, last version, last time): a row per event type and JSON kind of
# amount. ``account_from_sums`` makes them the state ``bank.evolve`` folds the same events
# to; ``replay.state_at`` uses it for long streams, where folding costs ~2.5 us an event.
STREAM_SUMS_SQL = """
SELECT event_type, kind, count(*), max(version), sum(amount),
       bool_or(amount * 10 % 1 <> 0), any_value(owner)
FROM (SELECT event_type, version, json_type(data, '$.amount') AS kind,
             CAST(data->>'amount' AS DECIMAL(38, 2)) AS amount, data->>'owner' AS owner
      FROM event_store WHERE stream_id = ? AND version <= ? AND timestamp <= ?)
GROUP BY event_type, kind
"""
# Below this, a JSON number is the same exact amount to DuckDB and to Python (a double holds
# every cent of it), and sums of such amounts stay within Decimal's 28 digits.
_EXACT_BELOW = Decimal(10**15)
_PLACES = [Decimal(1), Decimal("0.1"), Decimal("0.01")]


def account_from_sums(rows: list[tuple[Any, ...]]) -> Account | None:
    """The state the rows of ``STREAM_SUMS_SQL`` stand for, as ``evolve`` folds it; None
    where only ``evolve`` answers: no event, an event of another domain, an opening after
    the first event (it restarts the account, which a sum does not), amounts summing to
    10**15 or more."""
    events, balance, owner, closed, places = 0, Decimal(0), None, False, 0
    for event_type, kind, count, last_version, total, cents, name in rows:
        events += count
        if event_type == "AccountOpened" and last_version == 1:
            owner = name
        elif event_type in ("MoneyDeposited", "MoneyWithdrawn"):
            if total >= _EXACT_BELOW:
                return None
            balance += total if event_type == "MoneyDeposited" else -total
            # The exponent of a Decimal sum is its terms' smallest. A stored amount is a
            # JSON number (append writes numbers, the loader refuses text): an integer
            # parses to a whole Decimal, a fraction to a float whose repr has one place
            # ("100.0", "12.5") or two ("0.07").
            places = max(places, 2 if cents else 1 if kind == "DOUBLE" else 0)
        elif event_type == "AccountClosed":
            closed = True
        else:
            return None
    if not events:
        return None
    status = "closed" if closed else "open" if owner is not None else "new"
    return Account(owner, balance.quantize(_PLACES[places]), status, events)
