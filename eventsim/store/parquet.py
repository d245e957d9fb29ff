"""Parquet in and out: the portable hand-off to DuckDB, pandas, Spark or Trino.

A load checks the whole file before it writes a row, with the same rules as
``EventStore.append``: known event types and payload fields, aware timestamps in time
order, versions 1..n per stream continuing from the stream's head, unique event ids.
The first bad row is named; nothing is written.

The happy path is built for speed, the refusals for exactness: payloads in their writer's
shape are vouched for without parsing (``eventsim.store.shapes``), the rules run as a few
set queries over the staged file, the log's keys are built once after the insert into an
empty log (``eventsim.store.bulk_keys``), and only when something is refused do the exact
checks run to name the first bad row, the same one whichever way it was found. A refused
load touches neither the tables nor the database file.

A path is a path, never a pattern: DuckDB's ``read_parquet`` reads its argument as a glob
(``events[1].parquet`` matches ``events1.parquet``) and has no option to read it
literally, so DuckDB reads the file through a link of the loader's own naming, which
holds no pattern's character (or, where that cannot be, pyarrow reads exactly the file
named). The export writes to a name of the store's own choosing and renames it into place.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from eventsim.errors import EventSimError, InvalidArgument, InvalidDataset, shown
from eventsim.events import (
    BASE_PARSERS,
    EARLIEST,
    LATEST,
    MAX_PAYLOAD_BYTES,
    MONEY_LIMIT,
    STREAM_ID_PATTERN,
    EventTypes,
    field_kinds,
)
from eventsim.store import bulk_keys, companion, files, shapes

INTEGER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")
TEXT = ("VARCHAR", "JSON")
EXPECTED_COLUMNS = {
    "stream_id": ("VARCHAR",),
    "version": INTEGER,
    "event_id": ("VARCHAR", "UUID"),
    "event_type": ("VARCHAR",),
    "data": TEXT,
    "metadata": TEXT,
    "timestamp": ("TIMESTAMP WITH TIME ZONE",),
}
OPTIONAL_COLUMNS = {"position": INTEGER}  # written by export_parquet; reassigned on load

# The rows are staged in stream order (the order they are stored in: see INSERT_SQL),
# each with its row number in the file and whether its payload's shape vouches for it
# (eventsim.store.shapes; parameters: its row pattern and metadata pattern).
STAGE_SQL = """
CREATE OR REPLACE TEMP TABLE _incoming AS
SELECT *, coalesce(regexp_full_match(event_type || chr(0) || data, ?)
                   AND (metadata IS NULL OR regexp_full_match(metadata, ?)), false) AS vouched
FROM (
    SELECT stream_id, CAST(version AS BIGINT) AS version,
           CAST(event_id AS VARCHAR) AS event_id, event_type, CAST(data AS VARCHAR) AS data,
           CAST(metadata AS VARCHAR) AS metadata, timestamp, row
    FROM _parquet_file)
ORDER BY stream_id, row
"""

# Parameters: stream id pattern, known types, the payload limit (twice), earliest and
# latest time.
_ROW_CHECK_TEMPLATE = """
WITH w AS (
    SELECT i.*, coalesce(h.version, 0) + row_number() OVER s AS next_version,
           coalesce(lag(i.timestamp) OVER s, h.last_timestamp) AS previous_time,
           {id_uses} AS id_uses
    FROM _incoming i LEFT JOIN event_streams h USING (stream_id)
    WINDOW s AS (PARTITION BY i.stream_id ORDER BY i.row))
SELECT row, stream_id, version, problem FROM (
    SELECT *, CASE
        WHEN stream_id IS NULL OR NOT regexp_full_match(stream_id, ?)
            THEN 'stream_id is not a valid stream id (1-255 of letters, digits, ._:@-)'
        WHEN version IS NULL THEN 'version is missing'
        WHEN event_id IS NULL OR TRY_CAST(event_id AS UUID) IS NULL
            THEN 'event_id ' || coalesce('''' || event_id || '''', 'NULL') || ' is not a UUID'
        WHEN event_type IS NULL OR NOT list_contains(?, event_type)
            THEN 'event_type ' || coalesce('''' || event_type || '''', 'NULL')
                 || ' is not a known type'
        WHEN NOT vouched AND (data IS NULL OR NOT json_valid(data) OR json_type(data) <> 'OBJECT')
            THEN 'data is not a JSON object: ' || coalesce(left(data, 200), 'NULL')
        WHEN NOT vouched AND metadata IS NOT NULL
             AND (NOT json_valid(metadata) OR json_type(metadata) <> 'OBJECT')
            THEN 'metadata is not a JSON object: ' || left(metadata, 200)
        WHEN greatest(strlen(data), strlen(coalesce(metadata, ''))) > ?
            THEN 'data or metadata is ' || greatest(strlen(data), strlen(coalesce(metadata, '')))
                 || ' bytes, over the ' || ? || '-byte limit of an event'
        WHEN timestamp IS NULL OR timestamp < ? OR timestamp >= ?
            THEN 'timestamp ' || coalesce(CAST(timestamp AS VARCHAR), 'NULL')
                 || ' is missing or outside 1970..2099'
        WHEN version <> next_version
            THEN 'version ' || version || ' breaks the sequence: expected ' || next_version
        WHEN timestamp < previous_time
            THEN 'timestamp ' || timestamp || ' is earlier than the stream''s previous event, at '
                 || previous_time
        WHEN id_uses > 1 THEN 'event_id ' || event_id || ' appears more than once in the file'
    END AS problem FROM w)
WHERE problem IS NOT NULL ORDER BY row LIMIT 1
"""

ROW_CHECK_SQL = _ROW_CHECK_TEMPLATE.format(
    id_uses="count(*) OVER (PARTITION BY TRY_CAST(i.event_id AS UUID))"
)
# The happy path runs the same per-row rules without the duplicate-id window (one
# template, so the rules cannot drift apart), and a hash count of duplicate ids. Only if
# either finds something do the exact checks run, to name the first bad row (see
# _check_rows). The keys would refuse a duplicate too, but only after the insert had
# begun writing to the database file: a refused load must not touch the file.
ROW_QUICK_SQL = _ROW_CHECK_TEMPLATE.format(id_uses="1")
DUPLICATE_IDS_SQL = """
SELECT count(*) FROM (SELECT 1 FROM _incoming GROUP BY TRY_CAST(event_id AS UUID)
                      HAVING count(*) > 1)
"""

STORED_ID_SQL = """
SELECT i.row, i.stream_id, i.version,
       'event_id ' || i.event_id || ' is already stored (was this file loaded before?)'
FROM _incoming i JOIN event_store e ON e.event_id = TRY_CAST(i.event_id AS UUID)
ORDER BY i.row LIMIT 1
"""

# Parameters: the characters Python's str.strip() removes (a blank str field is refused),
# and events.MONEY_LIMIT. Money mirrors events.parse_money on what json.loads gives it: a
# double (or an int), > 0, below the limit and with at most 2 decimals; casting the text
# to a DECIMAL instead would round 1.0000000000001 to 1 and let it through.
FIELD_CHECK_SQL = """
SELECT i.row, i.stream_id, i.version,
       CASE WHEN list_sort(json_keys(i.data)) <> f.all_fields
            THEN i.event_type || ' data must have exactly the fields '
                 || CAST(f.all_fields AS VARCHAR)
            ELSE 'data field ' || f.field || ' of ' || i.event_type
                 || ' is missing or not a valid ' || f.kind
       END || ': ' || left(i.data, 200)
FROM _incoming i JOIN _fields f USING (event_type)
WHERE NOT i.vouched AND (NOT coalesce(CASE f.kind
    WHEN 'str' THEN json_type(i.data, f.field) = 'VARCHAR'
                    AND trim(json_extract_string(i.data, f.field), ?) <> ''
    WHEN 'int' THEN json_type(i.data, f.field) IN ('BIGINT', 'UBIGINT')
    WHEN 'Money' THEN json_type(i.data, f.field) IN ('BIGINT', 'UBIGINT', 'DOUBLE')
        AND TRY_CAST(json_extract_string(i.data, f.field) AS DOUBLE) > 0
        AND TRY_CAST(json_extract_string(i.data, f.field) AS DOUBLE) < ?
        AND TRY_CAST(json_extract_string(i.data, f.field) AS DOUBLE)
            = round(TRY_CAST(json_extract_string(i.data, f.field) AS DOUBLE), 2)
    WHEN 'none' THEN true
    END, false)
   OR list_sort(json_keys(i.data)) <> f.all_fields)
ORDER BY i.row LIMIT 1
"""

# DuckDB's JSON reader accepts what Python's json (every reader of the store) refuses:
# trailing commas, NaN and Infinity, numbers beyond a double, nesting deeper than Python's
# recursion limit. Rows whose text might hold one are parsed again strictly in Python; the
# pattern may over-match, never under-match (nesting: 500 opening brackets in all).
# String literals are blanked first, so ids and names inside them cannot trigger it. No
# alternative of the pattern holds a quote, so a match after blanking is a match before:
# the plain match is a cheap exact pre-filter, and only its few rows are blanked.
SUSPECT_JSON = r"(?i)nan|inf|,\s*[\]}]|[0-9]{300}|e\+?[0-9]{3}|([\[{][^\[{]*){500}"
STRING_LITERAL = r'"(?:[^"\\]|\\.)*"'
SUSPECT_JSON_SQL = """
SELECT row, stream_id, version, data, metadata FROM _incoming
WHERE NOT vouched AND ((regexp_matches(data, $suspect)
       AND regexp_matches(regexp_replace(data, $literal, '""', 'g'), $suspect))
   OR (regexp_matches(coalesce(metadata, ''), $suspect)
       AND regexp_matches(regexp_replace(coalesce(metadata, ''), $literal, '""', 'g'), $suspect)))
ORDER BY row
"""
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())  # str.strip()'s set

# Stored sorted by stream (positions still follow the file's row order): a stream's
# events then sit in one or two row groups, which DuckDB's min/max statistics find
# without scanning the table, and the primary key's index is built in key order. The
# rows are staged in that order and an INSERT keeps the order of what it scans (DuckDB's
# preserve_insertion_order), so the insert itself sorts nothing.
INSERT_SQL = """
INSERT INTO event_store
SELECT stream_id, CAST(version AS INTEGER), CAST(event_id AS UUID), event_type,
       CAST(data AS JSON), CAST(metadata AS JSON), timestamp, ? + row + 1
FROM _incoming
"""

HEADS_SQL = """
INSERT INTO event_streams
SELECT stream_id, max(version), max(timestamp) FROM _incoming GROUP BY stream_id
ON CONFLICT (stream_id) DO UPDATE
SET version = excluded.version, last_timestamp = excluded.last_timestamp
"""


def load_parquet(
    con: duckdb.DuckDBPyConnection,
    path: str,
    types: EventTypes,
    checks: Mapping[str, str] | None = None,
) -> int:
    """Check and append a Parquet file of events; return how many were appended.

    ``checks``: per event type, a SQL condition over ``data`` that vouches for a payload
    (e.g. ``eventsim.sql.LOAD_CHECKS``); rows it does not vouch for are parsed in Python.
    """
    if not os.path.isfile(path):
        raise InvalidDataset(f"no Parquet file at {shown(path)}; check the path")
    _stage(con, path, types)
    try:
        return _load_staged(con, path, types, checks or {})
    finally:
        con.execute("DROP TABLE IF EXISTS _incoming")


def _stage(con: duckdb.DuckDBPyConnection, path: str, types: EventTypes) -> None:
    """The file's rows into the ``_incoming`` table (see ``STAGE_SQL``).

    Staged outside the load's transaction, so the rows are still there to name the bad
    one when the insert is refused and rolled back (the caller holds the writer lock).
    DuckDB reads the file itself where it can; where pyarrow reads it, its Arrow table is
    let go as soon as it is staged (at ten million events it holds gigabytes).
    """
    patterns = [shapes.row_pattern(types), shapes.METADATA_PATTERN]
    if not _staged_by_duckdb(con, path, patterns):
        _stage_from(con, path, patterns, con.from_arrow(_read(path)))


def _staged_by_duckdb(con: duckdb.DuckDBPyConnection, path: str, patterns: list[str]) -> bool:
    """Stage the file as DuckDB reads it through a link; False if it cannot (the Arrow
    path then reads it, or names what is wrong with it)."""
    try:
        with tempfile.TemporaryDirectory(prefix="eventsim-load-") as folder:
            link = os.path.join(folder, "events.parquet")
            if _PATTERN_CHARACTERS.search(link):
                return False
            os.symlink(os.path.abspath(path), link)
            read = con.read_parquet(link, file_row_number=True)
            if "row" in read.columns:
                return False
            _stage_from(con, path, patterns, read.project(_NUMBERED))
            return True
    except (OSError, duckdb.Error):  # no temporary folder or link; not readable so
        return False


# DuckDB reads the file itself (in parallel, streaming into the staged sort, never the
# whole file in Python's memory) through a link of the loader's own naming: DuckDB reads
# a path as a glob pattern, and the link's name holds none of a pattern's characters,
# whatever the file's own name holds. Where it cannot, pyarrow reads the file (_read).
_PATTERN_CHARACTERS = re.compile(r"[*?\[\]{}\\]")
_NUMBERED = "* EXCLUDE (file_row_number), file_row_number AS row"


def _stage_from(
    con: duckdb.DuckDBPyConnection, path: str, patterns: list[str], rows: duckdb.DuckDBPyRelation
) -> None:
    """Stage ``rows`` (the file's, numbered in a column ``row``) into ``_incoming``."""
    # Registered, not created as a view: DuckDB's create_view makes a view in the
    # database itself, which writes to its file.
    con.register("_parquet_file", rows)
    try:
        _check_columns(con, path)
        con.execute(STAGE_SQL, patterns)
    finally:
        con.unregister("_parquet_file")


def _read(path: str) -> pa.Table:
    """The file as an Arrow table, with its row numbers; its text checked as UTF-8."""
    try:
        with pa.OSFile(path) as source:
            table = pq.read_table(source)
    except (OSError, pa.ArrowException) as exc:
        raise InvalidDataset(
            f"cannot read {shown(path)} as Parquet: {_first_line(exc)}; check the file"
        ) from None
    _check_utf8(table, path)
    if "row" in table.column_names:
        raise InvalidDataset(
            f"{shown(path)} has a column 'row', which is not a column of the event schema"
        )
    return table.append_column("row", pa.array(range(table.num_rows), pa.int64()))


def _check_utf8(table: pa.Table, path: str) -> None:
    """Text that is not UTF-8 is refused naming its row (pyarrow does not check on read)."""
    try:
        table.validate(full=True)
    except pa.ArrowInvalid:
        pass
    else:
        return
    for name in table.column_names:
        column = table[name]
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            continue
        for row, raw in enumerate(column.cast(pa.large_binary()).to_pylist()):
            try:
                raw is None or raw.decode()
            except UnicodeDecodeError:
                raise InvalidDataset(
                    f"{shown(path)}, row {row + 1}: column {name!r} holds text that is not "
                    f"UTF-8: {shown(raw)}; decode the text properly and write the file again"
                ) from None
    raise InvalidDataset(f"{shown(path)} is not a valid Parquet table; check the file")


def _load_staged(
    con: duckdb.DuckDBPyConnection, path: str, types: EventTypes, checks: Mapping[str, str]
) -> int:
    (count,) = con.execute("SELECT count(*) FROM _incoming").fetchall()[0]
    if count == 0:
        raise InvalidDataset(f"{shown(path)} holds no events; nothing to load")
    _check_rows(con, path, types, checks, quick=True)
    _insert_staged(con, path, types, checks, count)
    return int(count)


def _insert_staged(
    con: duckdb.DuckDBPyConnection,
    path: str,
    types: EventTypes,
    checks: Mapping[str, str],
    count: int,
) -> None:
    """Append the checked rows, their companion rows and the heads in one transaction."""
    con.begin()
    try:
        (position,) = con.execute("SELECT position FROM event_log").fetchall()[0]
        with bulk_keys.keys_built_after(con):
            con.execute(INSERT_SQL, [position])
        companion.insert_from(con, "incoming", types)
        con.execute(HEADS_SQL)
        con.execute("UPDATE event_log SET position = position + ?", [count])
        con.commit()
    except duckdb.Error as exc:
        with suppress(duckdb.TransactionException):  # a failed commit has rolled back
            con.rollback()
        # Refused by the keys (a writer past the lock, on raw SQL): name the row if any.
        _check_rows(con, path, types, checks, quick=False)
        raise InvalidDataset(f"cannot load {shown(path)}: {_first_line(exc)}") from None
    except BaseException:
        con.rollback()
        raise


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _check_columns(con: duckdb.DuckDBPyConnection, path: str) -> None:
    described = con.execute("DESCRIBE SELECT * EXCLUDE (row) FROM _parquet_file").fetchall()
    columns = {name: type_ for name, type_, *_ in described}
    missing = sorted(set(EXPECTED_COLUMNS) - set(columns))
    extra = sorted(set(columns) - set(EXPECTED_COLUMNS) - set(OPTIONAL_COLUMNS))
    if missing or extra:
        raise InvalidDataset(
            f"{shown(path)} must have the columns {list(EXPECTED_COLUMNS)}; "
            f"missing {missing}, unexpected {shown(extra)}"
        )
    allowed = {**EXPECTED_COLUMNS, **OPTIONAL_COLUMNS}
    for name, type_ in columns.items():
        if type_ not in allowed[name]:
            hint = (
                " (a naive timestamp: store times in UTC with a zone)"
                if name == "timestamp"
                else ""
            )
            raise InvalidDataset(
                f"{shown(path)}: column {name!r} is {type_}, "
                f"expected one of {list(allowed[name])}{hint}"
            )


def _check_rows(
    con: duckdb.DuckDBPyConnection,
    path: str,
    types: EventTypes,
    checks: Mapping[str, str],
    *,
    quick: bool,
) -> None:
    """Raise naming the first bad row, in the order the checks below are listed.

    ``quick`` skips the duplicate-id window, and on finding anything runs the exact
    checks, so the row named is the one the exact checks name first.
    """
    limit = MAX_PAYLOAD_BYTES
    params = [STREAM_ID_PATTERN.pattern, types.names(), limit, limit, EARLIEST, LATEST]
    _raise_first(_first(con.execute(STORED_ID_SQL)), path)  # an anti-join: cheap either way
    if quick:
        try:
            _raise_first(_first(con.execute(ROW_QUICK_SQL, params)), path)
            if _first(con.execute(DUPLICATE_IDS_SQL)) != (0,):
                raise InvalidDataset("a duplicate id")  # the exact checks name its row
            _check_payloads(con, path, types, checks)
        except InvalidDataset:
            _check_rows(con, path, types, checks, quick=False)
            raise
        return
    _raise_first(_first(con.execute(ROW_CHECK_SQL, params)), path)
    _check_payloads(con, path, types, checks)


def _check_payloads(
    con: duckdb.DuckDBPyConnection, path: str, types: EventTypes, checks: Mapping[str, str]
) -> None:
    """Strict JSON, the fields of each type, a domain's own kinds: on the rows whose shape
    no pattern vouches for (eventsim.store.shapes)."""
    _check_strict_json(con, path)
    fields = _field_table(types)
    con.register("_fields", fields)
    try:
        _raise_first(_first(con.execute(FIELD_CHECK_SQL, [WHITESPACE, MONEY_LIMIT])), path)
    finally:
        con.unregister("_fields")
    _check_custom_payloads(con, path, types, checks)


def _field_table(types: EventTypes) -> pa.Table:
    """One row per (event type, field) whose kind SQL can check; all_fields for the key check."""
    rows = []
    for name in types.names():
        fields = field_kinds(types.get(name))
        all_fields = sorted(fields)
        kinds = [(field, kind) for field, kind in fields.items() if kind in BASE_PARSERS]
        for field, kind in kinds or [("", "none")]:
            rows.append(
                {"event_type": name, "field": field, "kind": kind, "all_fields": all_fields}
            )
    return pa.Table.from_pylist(rows)


def _check_custom_payloads(
    con: duckdb.DuckDBPyConnection, path: str, types: EventTypes, checks: Mapping[str, str]
) -> None:
    """Fields with a domain's own parser (e.g. order lines) are checked by that parser,
    on the rows the type's SQL check (if it has one) does not vouch for."""
    custom = [
        n for n in types.names() if set(field_kinds(types.get(n)).values()) - set(BASE_PARSERS)
    ]
    if not custom:
        return
    rows = []
    for name in custom:
        # The type's SQL check (handed in, a package constant) spares Python the rows it passes.
        valid = checks.get(name, "false")
        query = f"SELECT row, stream_id, version, event_type, data FROM _incoming WHERE event_type = ? AND NOT coalesce(({valid}), false)"  # noqa: S608, E501 (constant)
        rows += con.execute(query, [name]).fetchall()
    for row, stream_id, version, event_type, data in sorted(rows):
        try:
            types.parse(event_type, json.loads(data))
        except EventSimError as exc:
            _raise_first((row, stream_id, version, str(exc)), path)


def _check_strict_json(con: duckdb.DuckDBPyConnection, path: str) -> None:
    params = {"literal": STRING_LITERAL, "suspect": SUSPECT_JSON}
    rows = con.execute(SUSPECT_JSON_SQL, params).fetchall()
    for row, stream_id, version, data, metadata in rows:
        for column, text in (("data", data), ("metadata", metadata)):
            try:
                if text is not None:
                    json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
            except (ValueError, RecursionError) as exc:
                message = f"{column} is not valid JSON ({exc}): {text[:200]}"
                _raise_first((row, stream_id, version, message), path)


def _refuse_constant(token: str) -> None:
    raise ValueError(f"{token} is not a JSON number")


def _finite(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ValueError(f"{token[:20]} is beyond the range of a JSON number")
    return value


def _raise_first(problem: tuple[object, ...] | None, path: str) -> None:
    if problem is not None:
        row, stream_id, version, message = problem
        raise InvalidDataset(
            f"{shown(path)}, row {int(row) + 1} (stream_id={shown(stream_id)}, "  # type: ignore[call-overload]
            f"version={version}): {message}; fix the file and load it again (nothing was written)"
        )


def export_parquet(con: duckdb.DuckDBPyConnection, path: str, store_file: str | None) -> int:
    """Write the log in commit order with portable types (ids and JSON as text)."""
    relation = con.sql(
        "SELECT stream_id, version, CAST(event_id AS VARCHAR) AS event_id, event_type, "
        "CAST(data AS VARCHAR) AS data, CAST(metadata AS VARCHAR) AS metadata, timestamp, "
        "position FROM event_store ORDER BY position"
    )
    write_whole(
        path, store_file, lambda partial: relation.write_parquet(partial, compression="zstd")
    )
    (count,) = con.execute("SELECT count(*) FROM event_store").fetchall()[0]
    return int(count)


def write_whole(path: str, store_file: str | None, write: Callable[[str], object]) -> None:
    """Export to ``path`` so that the file appears whole or not at all: ``write`` fills a
    name of the store's own choosing in the same folder, then it is renamed into place."""
    target = _export_target(path, store_file)
    folder = files.for_duckdb(os.path.dirname(target))
    partial = os.path.join(folder, f".eventsim-export-{uuid.uuid4().hex}")
    try:
        write(partial)
        os.replace(partial, target)
    except (duckdb.Error, OSError) as exc:
        raise InvalidArgument(f"cannot write {shown(path)}: {_first_line(exc)}") from None
    finally:
        Path(partial).unlink(missing_ok=True)


def _export_target(path: str, store_file: str | None) -> str:
    """The absolute path to export to; a missing folder, a folder or the store's own
    files are refused."""
    target = os.path.abspath(path)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise InvalidArgument(
            f"cannot export to {shown(path)}: the folder {shown(folder)} does not exist; "
            "create it first"
        )
    if os.path.isdir(target):
        raise InvalidArgument(
            f"cannot export to {shown(path)}: it is a folder; name a .parquet file in it"
        )
    store_files = (store_file, store_file + ".wal") if store_file else ()
    if any(files.same_file(target, own) for own in store_files):
        raise InvalidArgument(
            f"cannot export to {shown(path)}: it is the store's own database file; "
            "name a new .parquet file"
        )
    return target


def write_batches(batches: Iterable[pa.RecordBatch], path: Path, schema: pa.Schema) -> int:
    """Stream record batches into one Parquet file; return the row count."""
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def _first(cursor: duckdb.DuckDBPyConnection) -> tuple[object, ...] | None:
    # fetchall, not fetchone: DuckDB 2 refuses new work while a result is half read.
    rows = cursor.fetchall()
    return rows[0] if rows else None
