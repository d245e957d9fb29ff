"""Seeded, vectorized bank histories: accounts that open, pay in, take out and close.

Every account's events are drawn as numbers for all accounts at once (times, kinds,
amounts in cents); withdrawals take a share of the balance at that moment, so no
history overdraws and ``bank.decide`` allows every one. Only then are the numbers turned
into Arrow columns, one chunk at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from eventsim.domains import bank
from eventsim.errors import InvalidArgument
from eventsim.sim import kit

FIRST_NAMES = (
    "Ada",
    "Alan",
    "Grace",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Margaret",
    "Dennis",
    "Radia",
    "John",
    "Hedy",
    "Tim",
    "Karen",
    "Linus",
)
LAST_NAMES = (
    "Lovelace",
    "Turing",
    "Hopper",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Hamilton",
    "Ritchie",
    "Perlman",
    "Backus",
    "Lamarr",
    "Berners-Lee",
    "Jones",
    "Torvalds",
)
# The event types in the domain's own order (the kinds below index into it).
TYPES = tuple(bank.EVENT_TYPES)
CHANNELS = ("branch", "online", "mobile", "atm")
OPEN, DEPOSIT, WITHDRAW, CLOSE = range(4)


def simulate(
    accounts: int = 300,
    *,
    seed: int,
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
    days: int = 90,
    transactions: int = 25,
    close_rate: float = 0.1,
) -> pa.Table:
    """A seeded history of ``accounts`` bank accounts as an Arrow table in commit order.

    >>> table = simulate(5, seed=1)
    >>> table.column_names[:4], table.num_rows == simulate(5, seed=1).num_rows
    (['stream_id', 'version', 'event_id', 'event_type'], True)
    """
    batches = simulate_batches(
        accounts,
        seed=seed,
        start=start,
        days=days,
        transactions=transactions,
        close_rate=close_rate,
    )
    return pa.Table.from_batches(list(batches), schema=kit.SCHEMA)


def simulate_batches(
    accounts: int = 300,
    *,
    seed: int,
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
    days: int = 90,
    transactions: int = 25,
    close_rate: float = 0.1,
    chunk_rows: int = 1_000_000,
) -> Iterator[pa.RecordBatch]:
    """Like ``simulate``, one Arrow batch of at most ``chunk_rows`` events at a time.

    The arguments are checked at once; the events are drawn when iteration starts.
    """
    start = kit.check_start(start)
    kit.check_positive("accounts", accounts)
    kit.check_positive("days", days, limit=36_500)
    kit.check_positive("transactions", transactions, limit=100_000)
    kit.check_positive("chunk_rows", chunk_rows)
    if not 0 <= close_rate <= 1:
        raise InvalidArgument(f"close_rate must be between 0 and 1, got {close_rate!r}")
    rng = kit.rng_for(seed)
    return _batches(rng, seed, accounts, start, days, transactions, close_rate, chunk_rows)


def _batches(
    rng: np.random.Generator,
    seed: int,
    accounts: int,
    start: datetime,
    days: int,
    transactions: int,
    close_rate: float,
    chunk_rows: int,
) -> Iterator[pa.RecordBatch]:
    """Draw every event as numbers, sort them into commit order, emit Arrow chunks."""
    stream, kind, seconds, cents = _draw_history(
        rng, accounts, start, days, transactions, close_rate
    )
    order = np.lexsort((stream, seconds))  # commit order: by time, then account
    stream, kind, seconds, cents = stream[order], kind[order], seconds[order], cents[order]
    version = _versions(stream, accounts)
    owners = rng.integers(0, len(FIRST_NAMES), accounts), rng.integers(0, len(LAST_NAMES), accounts)
    owner_names = [f"{FIRST_NAMES[f]} {LAST_NAMES[n]}" for f, n in zip(*owners, strict=True)]
    channel = rng.integers(0, len(CHANNELS), len(stream))
    stream_names = kit.padded_ids("account", accounts)
    # Each account's opening and the closing payloads are built once, then taken per row.
    owner_json = kit.json_object("owner", pa.array(owner_names, pa.string()), quoted=True)
    reason_json = kit.json_object("reason", pa.array(["customer request"]), quoted=True)
    for lo, hi in kit.chunk_bounds(len(stream), chunk_rows):
        s, k = stream[lo:hi], kind[lo:hi]
        amount = kit.json_object("amount", kit.money_text(cents[lo:hi]), quoted=False)
        data = pa.compute.choose(
            pa.array(k),
            owner_json.take(pa.array(s)),
            amount,  # deposits and withdrawals share the shape
            amount,
            reason_json.take(pa.array(np.zeros_like(s))),
        )
        metadata = kit.json_object("channel", kit.pick(CHANNELS, channel[lo:hi]), quoted=True)
        yield kit.to_batch(
            {
                "stream_id": kit.pick(stream_names, s),
                "version": pa.array(version[lo:hi], pa.int32()),
                "event_id": kit.event_ids(seed, "bank", np.arange(lo, hi)),
                "event_type": kit.pick(TYPES, k),
                "data": data,
                "metadata": metadata,
                "timestamp": kit.timestamps(start, seconds[lo:hi]),
            }
        )


def _versions(stream: np.ndarray, accounts: int) -> np.ndarray:
    """1, 2, 3... per stream, in the order events appear."""
    by_stream = np.argsort(stream, kind="stable")
    counts = np.bincount(stream, minlength=accounts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    version = np.empty(len(stream), dtype=np.int32)
    version[by_stream] = np.arange(len(stream)) - first + 1
    return version


def _draw_history(
    rng: np.random.Generator,
    accounts: int,
    start: datetime,
    days: int,
    transactions: int,
    close_rate: float,
) -> tuple[np.ndarray, ...]:
    """Every event as numbers, grouped by account and in time order within it."""
    weights = kit.business_day_weights(start, days)
    open_day = kit.draw_days(rng, weights[: max(1, days // 3)], np.zeros(accounts, dtype=np.int64))
    open_at = open_day * 86_400 + kit.draw_seconds_of_day(rng, accounts)
    # Activity varies a lot between customers: a gamma-Poisson mix, not one rate for all.
    count = rng.poisson(rng.gamma(2.0, transactions / 2.0, accounts))
    account = np.repeat(np.arange(accounts), count)
    day = kit.draw_days(rng, weights, open_day[account])
    at = np.maximum(
        day * 86_400 + kit.draw_seconds_of_day(rng, len(account)), open_at[account] + 60
    )
    at = at[np.lexsort((at, account))]
    same = np.concatenate([[False], account[1:] == account[:-1]])
    at = kit.add_bursts(rng, at, same, p=0.2)
    end = days * 86_400 - 1
    kind, cents = _amounts(rng, account, count)
    closes = rng.random(accounts) < close_rate
    at = np.minimum(at, end)
    last = np.where(count > 0, at[np.maximum(np.cumsum(count) - 1, 0)] if len(at) else 0, open_at)
    close_at = np.minimum(last + rng.exponential(3 * 86_400, accounts).astype(np.int64) + 60, end)
    close_at = np.maximum(close_at, last + 1)
    balance = np.bincount(
        account, weights=np.where(kind == DEPOSIT, cents, -cents), minlength=accounts
    )
    balance = np.rint(balance).astype(np.int64)
    payout = closes & (balance > 0)
    ids = np.arange(accounts)
    parts = [
        (ids, np.full(accounts, OPEN), open_at, np.zeros(accounts, np.int64)),
        (account, kind, at, cents),
        (ids[payout], np.full(payout.sum(), WITHDRAW), close_at[payout], balance[payout]),
        (
            ids[closes],
            np.full(closes.sum(), CLOSE),
            close_at[closes] + 1,
            np.zeros(closes.sum(), np.int64),
        ),
    ]
    stream, kinds, seconds, amounts = (np.concatenate(col) for col in zip(*parts, strict=True))
    return stream.astype(np.int32), kinds.astype(np.int8), seconds.astype(np.int64), amounts


def _amounts(
    rng: np.random.Generator, account: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Kind and cents of each transaction, walking all accounts' n-th transaction at once.

    A withdrawal takes a share of the balance at that moment, so no history overdraws.
    """
    n = len(account)
    first = np.cumsum(count) - count
    kind = np.empty(n, dtype=np.int8)
    cents = np.empty(n, dtype=np.int64)
    balance = np.zeros(len(count), dtype=np.int64)
    deposit_cents = np.rint(np.exp(rng.normal(np.log(18_000), 1.0, n))).astype(np.int64) + 100
    share = rng.beta(2.0, 5.0, n)
    wants_deposit = rng.random(n) < 0.45
    for step in range(int(count.max(initial=0))):
        who = np.flatnonzero(count > step)
        i = first[who] + step
        deposit = wants_deposit[i] | (balance[who] < 100)
        take = np.maximum(1, (share[i] * balance[who]).astype(np.int64))
        amount = np.where(deposit, deposit_cents[i], take)
        kind[i] = np.where(deposit, DEPOSIT, WITHDRAW)
        cents[i] = amount
        balance[who] += np.where(deposit, amount, -amount)
    return kind, cents
