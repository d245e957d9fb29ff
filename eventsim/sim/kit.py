"""Vectorized building blocks the domain simulators share.

A simulator first draws every event as numbers (stream index, kind, time in seconds,
amount in cents), sorts them into commit order, then turns them into Arrow columns one
chunk at a time, so tens of millions of events never exist as Python objects at once.

Event ids are a pure function of (seed, domain, position): the same seed gives the same
bytes whatever the chunk size.
"""

from __future__ import annotations

import collections
import contextlib
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventsim.errors import InvalidArgument

SCHEMA = pa.schema(
    [
        pa.field("stream_id", pa.string(), nullable=False),
        pa.field("version", pa.int32(), nullable=False),
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("data", pa.string(), nullable=False),
        pa.field("metadata", pa.string()),
        pa.field("timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
"""The canonical columns of a generated data set (``position`` is its row order)."""

_R = TypeVar("_R")
_HUNDREDTHS = pa.array([f"{i:02d}" for i in range(100)], pa.string())


def check_start(start: object) -> datetime:
    """A simulation's start: an aware datetime, returned in UTC."""
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise InvalidArgument(
            f"start must be a timezone-aware datetime, got {start!r}; "
            "e.g. datetime(2024, 1, 1, tzinfo=UTC)"
        )
    return start.astimezone(UTC)


def rng_for(seed: object) -> np.random.Generator:
    """The generator a simulation draws from; the seed must be a whole number >= 0."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise InvalidArgument(f"seed must be a whole number from 0 to 2**63 - 1, got {seed!r}")
    return np.random.default_rng(seed)


def check_positive(name: str, value: object, *, limit: int = 100_000_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= limit:
        raise InvalidArgument(f"{name} must be a whole number from 1 to {limit:,}, got {value!r}")
    return value


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def event_ids(seed: int, domain: str, positions: np.ndarray) -> pa.Array:
    """UUID-4-shaped ids as text, derived from the seed, the domain and the position."""
    key = _splitmix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    key ^= np.uint64(zlib.crc32(domain.encode()))
    n = len(positions)
    counters = positions.astype(np.uint64) * np.uint64(2)
    words = np.empty((n, 2), dtype=">u8")  # big-endian: the bytes read in the text's order
    words[:, 0] = _splitmix64(counters ^ key)
    words[:, 1] = _splitmix64((counters + np.uint64(1)) ^ key)
    raw = words.view(np.uint8).reshape(n, 16)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    # Nibbles to hex digits in uint8 arithmetic: a lookup table would index with a
    # temporary of 8-byte integers, 128 bytes per id, mapped and faulted in afresh.
    nibbles = np.empty((n, 16, 2), dtype=np.uint8)
    nibbles[:, :, 0] = raw >> 4
    nibbles[:, :, 1] = raw & 0x0F
    nibbles += np.uint8(ord("0")) + (nibbles > 9).view(np.uint8) * np.uint8(ord("a") - ord("9") - 1)
    hexed = nibbles.reshape(n, 32)
    text = np.empty((n, 36), dtype=np.uint8)
    text[:, [8, 13, 18, 23]] = ord("-")
    for src, dst, width in ((0, 0, 8), (8, 9, 4), (12, 14, 4), (16, 19, 4), (20, 24, 12)):
        text[:, dst : dst + width] = hexed[:, src : src + width]
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text)])


def business_day_weights(start: datetime, days: int, *, weekend: float = 0.35) -> np.ndarray:
    """Relative activity per day: weekdays 1, weekends ``weekend``, pay days (1st, 15th) 2."""
    dates = np.datetime64(start.date()) + np.arange(days)
    weekday = (dates.astype("datetime64[D]").view("int64") + 3) % 7  # 0 = Monday
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    weights = np.where(weekday >= 5, weekend, 1.0)
    pay_days: np.ndarray = np.where(np.isin(day_of_month, (1, 15)), 2.0, 1.0)
    result: np.ndarray = weights * pay_days
    return result


def draw_days(rng: np.random.Generator, weights: np.ndarray, first_day: np.ndarray) -> np.ndarray:
    """One day index per entry, drawn by ``weights`` among days >= ``first_day``."""
    cdf = np.concatenate([[0.0], np.cumsum(weights)])
    low = cdf[first_day]
    target = low + rng.random(len(first_day)) * (cdf[-1] - low)
    days: np.ndarray = np.searchsorted(cdf, target, side="right") - 1
    clipped: np.ndarray = np.clip(days, first_day, len(weights) - 1)
    return clipped


def draw_seconds_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mostly office hours (around 13:00), a tail through the evening and night."""
    office = np.clip(rng.normal(13 * 3600, 2.6 * 3600, n), 7 * 3600, 21 * 3600)
    anytime = rng.uniform(0, 86_400, n)
    return np.where(rng.random(n) < 0.88, office, anytime).astype(np.int64)


def add_bursts(
    rng: np.random.Generator, seconds: np.ndarray, same_stream: np.ndarray, p: float
) -> np.ndarray:
    """Pull some events to a few minutes after their predecessor in the same stream.

    ``seconds`` must be sorted within each stream; ``same_stream[i]`` says whether event
    i-1 belongs to the same stream. The result stays sorted within each stream.
    """
    burst = same_stream & (rng.random(len(seconds)) < p)
    gaps = np.where(burst, rng.exponential(240, len(seconds)).astype(np.int64) + 5, 0)
    anchor = np.maximum.accumulate(np.where(burst, 0, np.arange(len(seconds))))
    total = np.cumsum(gaps)
    bursted = seconds[anchor] + total - total[anchor]
    result: np.ndarray = np.where(burst, bursted, seconds)
    if len(result):
        # A burst can land after the stream's next event; a running maximum per stream
        # (streams kept apart by an offset) carries it forward so each stream stays sorted.
        base = result.min()
        offset = np.cumsum(~same_stream).astype(np.int64) * np.int64(result.max() - base + 1)
        result = np.maximum.accumulate(result - base + offset) - offset + base
    return result


def sorted_within(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """``values`` sorted within each run of equal ``group`` (non-negative, non-decreasing).

    One sort of ``group * span + value`` instead of a two-key lexsort: several times faster.
    """
    if not len(values):
        return values
    low = values.min()
    offset = group.astype(np.int64) * np.int64(values.max() - low + 1)
    result: np.ndarray = np.sort(values - low + offset) - offset + low
    return result


def pool(workers: int) -> contextlib.AbstractContextManager[Executor]:
    """``workers`` threads, or the caller itself for one (no thread at all)."""
    return ThreadPoolExecutor(workers) if workers > 1 else contextlib.nullcontext(_IN_CALLER)


class _InCaller(Executor):
    """An executor that runs each task at once, in the caller."""

    def submit(self, fn: Callable[..., _R], /, *args: object, **kwargs: object) -> Future[_R]:
        future: Future[_R] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to whoever asks for the result
            future.set_exception(exc)
        return future


_IN_CALLER = _InCaller()


def ordered_map(
    pool: Executor, fn: Callable[[int, int], _R], bounds: Iterable[tuple[int, int]], *, ahead: int
) -> Iterator[_R]:
    """``fn(lo, hi)`` for each bound, in order, at most ``ahead`` computed ahead of the
    caller: the pool builds the next chunks while the caller consumes this one, and the
    memory stays bounded (``Executor.map`` would submit every chunk at once)."""
    pending: collections.deque[Future[_R]] = collections.deque()
    for lo, hi in bounds:
        pending.append(pool.submit(fn, lo, hi))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def money_text(cents: np.ndarray) -> pa.Array:
    """Cents as JSON number text: 12345 -> '123.45'."""
    whole, hundredths = money_parts(cents)
    return pc.binary_join_element_wise(whole, hundredths, ".")


def money_parts(cents: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """The text before and after the point of ``money_text``: '123' and '45'."""
    whole = pa.array(cents // 100).cast(pa.string())
    return whole, _HUNDREDTHS.take(pa.array(cents % 100))


def json_object(key: str, values: pa.Array, *, quoted: bool) -> pa.Array:
    """``{"key":value}`` per row; ``quoted`` values must need no JSON escaping."""
    quote = '"' if quoted else ""
    return pc.binary_join_element_wise(f'{{"{key}":{quote}', values, f"{quote}}}", "")


def to_batch(columns: dict[str, pa.Array]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([columns[f.name] for f in SCHEMA], schema=SCHEMA)


def chunk_bounds(n: int, chunk_rows: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, n, chunk_rows):
        yield lo, min(lo + chunk_rows, n)


def timestamps(start: datetime, seconds: np.ndarray) -> pa.Array:
    base = np.datetime64(start.replace(tzinfo=None), "us")
    return pa.array(base + seconds.astype("timedelta64[s]"), pa.timestamp("us")).cast(
        pa.timestamp("us", tz="UTC")
    )


def padded_ids(prefix: str, count: int) -> list[str]:
    width = max(4, len(str(count)))
    return [f"{prefix}-{i:0{width}d}" for i in range(1, count + 1)]


def pick(names: Sequence[str], indices: np.ndarray) -> pa.Array:
    return pa.array(names, pa.string()).take(pa.array(indices))
