"""The bank domain in SQL: every account as of a time, folded in one query.

It sums the typed companion (``eventsim.store.companion``), not the JSON; only the owner
is read from the payload, of the opening events alone. ``replay.all_states`` runs it; the
tests hold it to the Python fold (``bank.evolve``) on the same events.
"""

from __future__ import annotations

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
