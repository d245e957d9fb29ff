"""The orders domain in SQL: every order as of a time, and a fast check of loaded orders.

Both are derived from the domain's own definitions: the status of an order is the one
``orders.STATUS_AFTER`` gives its last event, and the order lines' keys are
``orders.LINE_KEYS``. The rules themselves live in ``orders.parse_items``; the SQL check
only spares the loader the rows it can vouch for.
"""

from __future__ import annotations

from eventsim.domains.orders import LINE_KEYS, STATUS_AFTER


def _status_case() -> str:
    """``CASE <last event type> WHEN ... THEN <status> END``, from STATUS_AFTER."""
    whens = " ".join(
        f"WHEN '{cls.__name__}' THEN '{status}'" for cls, status in STATUS_AFTER.items()
    )
    return f"CASE arg_max(event_type, version) {whens} END"


# Parameter 1: the moment (events with timestamp <= it count).
_STATE_SQL = """
SELECT stream_id AS order_id,
       any_value(data->>'customer_id') FILTER (WHERE event_type = 'OrderPlaced') AS customer_id,
       {status_case} AS status,
       any_value(CAST(data->>'total' AS DECIMAL(38, 2)))
           FILTER (WHERE event_type = 'OrderPlaced') AS total,
       coalesce(sum(CAST(data->>'amount' AS DECIMAL(38, 2))
                    * CASE event_type WHEN 'PaymentRefunded' THEN -1 ELSE 1 END)
                FILTER (WHERE event_type IN ('PaymentCharged', 'PaymentRefunded')), 0) AS paid,
       CASE arg_max(event_type, version)
                FILTER (WHERE event_type IN ('InventoryReserved', 'InventoryReleased'))
           WHEN 'InventoryReserved' THEN arg_max(data->>'warehouse', version)
                FILTER (WHERE event_type = 'InventoryReserved') END AS warehouse,
       CAST(max(version) AS INTEGER) AS version
FROM event_store
WHERE timestamp <= ? AND stream_id IN (
    SELECT stream_id FROM event_store WHERE version = 1 AND event_type = 'OrderPlaced')
GROUP BY stream_id
ORDER BY stream_id
"""
STATE_SQL = _STATE_SQL.format(status_case=_status_case())

# True only where ``parse_items`` and the total check certainly accept the payload: a
# load runs it over every OrderPlaced row and parses just the rest in Python (for the
# exact message). It may refuse a valid payload (huge numbers, unusual SKUs), never
# accept an invalid one; the tests hold it to that. Factors are bounded in magnitude
# below 10**12 (a larger one turns NULL and the row goes to Python), so their DECIMAL
# products, and sums of up to a million lines, cannot overflow.
_ORDER_PLACED_VALID = """
json_type(data, '$.items') = 'ARRAY'
AND list_aggregate(list_transform(CAST(json_extract(data, '$.items') AS JSON[]), lambda line:
        json_type(line) = 'OBJECT'
        AND list_sort(json_keys(line)) = {line_keys}
        AND json_type(line, '$.sku') = 'VARCHAR'
        AND regexp_full_match(json_extract_string(line, '$.sku'), '[A-Za-z0-9][A-Za-z0-9._-]*')
        AND json_type(line, '$.quantity') IN ('BIGINT', 'UBIGINT')
        AND TRY_CAST(json_extract_string(line, '$.quantity') AS BIGINT) BETWEEN 1 AND 1000000
        AND json_type(line, '$.unit_price') IN ('BIGINT', 'UBIGINT', 'DOUBLE')
        AND TRY_CAST(json_extract_string(line, '$.unit_price') AS DOUBLE) > 0
        AND TRY_CAST(json_extract_string(line, '$.unit_price') AS DOUBLE) < 1e12
        AND TRY_CAST(json_extract_string(line, '$.unit_price') AS DOUBLE)
            = round(TRY_CAST(json_extract_string(line, '$.unit_price') AS DOUBLE), 2)),
    'bool_and')
AND json_array_length(data, '$.items') >= 1
AND len(list_distinct(list_transform(CAST(json_extract(data, '$.items') AS JSON[]),
        lambda line: json_extract_string(line, '$.sku')))) = json_array_length(data, '$.items')
AND TRY_CAST(json_extract_string(data, '$.total') AS DOUBLE) < 1e12
AND list_sum(list_transform(CAST(json_extract(data, '$.items') AS JSON[]), lambda line:
        CAST({bounded_quantity} AS DECIMAL(38, 2)) * {bounded_price}))
    = CASE WHEN abs(TRY_CAST(json_extract_string(data, '$.total') AS DOUBLE)) < 1e12
           THEN TRY_CAST(json_extract_string(data, '$.total') AS DECIMAL(38, 2)) END
"""
# DuckDB evaluates every term of an AND, so the product is computed even for lines the
# terms above refuse: each factor is bounded first (a CASE only evaluates its branch where
# the condition holds), and so is the total it is compared with, or a huge one would
# overflow the DECIMAL instead of failing the check. Valid factors are far below the
# bound (quantity <= 10**6, price < 10**12).
_BOUNDED = (
    "CASE WHEN abs(TRY_CAST(json_extract_string(line, '$.{key}') AS DOUBLE)) < 1e12 "
    "THEN TRY_CAST(json_extract_string(line, '$.{key}') AS DECIMAL(18, 2)) END"
)
ORDER_PLACED_VALID = _ORDER_PLACED_VALID.format(
    bounded_quantity=_BOUNDED.format(key="quantity"),
    bounded_price=_BOUNDED.format(key="unit_price"),
    line_keys="[" + ", ".join(f"'{key}'" for key in sorted(LINE_KEYS)) + "]",
)
