"""Seeded, vectorized bank histories: accounts that open, pay in, take out and close.

Every account's events are drawn as numbers for a block of accounts at once (times,
kinds, amounts in cents); withdrawals take a share of the balance at that moment, so no
history overdraws and ``bank.decide`` allows every one. Each block of ``BLOCK_ACCOUNTS``
draws from its own random stream, so blocks are drawn on any number of threads with the
same result; their events are merged into commit order, and only then turned into Arrow
columns, one chunk at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
CHUNK_ROWS = 1 << 18
"""Rows per Arrow batch by default: a batch's temporary arrays stay small enough to be
reused from the heap, not mapped afresh (at 1M rows, faulting the pages in took longer
than building the text)."""
BLOCK_ACCOUNTS = 10_000
"""Accounts per random stream. Each block draws from its own generator, so blocks can be
drawn in any order, on any number of threads, with a bounded memory per block. A constant,
not an argument: the bytes of a data set must never depend on it."""


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
    chunk_rows: int = CHUNK_ROWS,
    workers: int = 1,
) -> Iterator[pa.RecordBatch]:
    """Like ``simulate``, one Arrow batch of at most ``chunk_rows`` events at a time.

    ``workers`` threads draw the blocks and build the chunks; the events are the same
    whatever ``chunk_rows`` and ``workers``. The arguments are checked at once; the events
    are drawn when iteration starts.
    """
    history = History(accounts, seed, kit.check_start(start), days, transactions, close_rate)
    kit.check_positive("chunk_rows", chunk_rows)
    kit.check_positive("workers", workers, limit=64)
    return history_batches(history, chunk_rows=chunk_rows, workers=workers)


@dataclass(frozen=True)
class History:
    """What a bank data set is drawn from, checked. Only tests shrink ``block_accounts``."""

    accounts: int
    seed: int
    start: datetime
    days: int
    transactions: int
    close_rate: float
    block_accounts: int = BLOCK_ACCOUNTS

    def __post_init__(self) -> None:
        kit.rng_for(self.seed)  # refuses a bad seed
        kit.check_positive("accounts", self.accounts)
        kit.check_positive("days", self.days, limit=36_500)
        kit.check_positive("transactions", self.transactions, limit=100_000)
        if not 0 <= self.close_rate <= 1:
            raise InvalidArgument(f"close_rate must be between 0 and 1, got {self.close_rate!r}")

    def rng(self, block: int) -> np.random.Generator:
        """Block 0 draws from the seed's own generator, as a single-generator run did, so
        every data set of up to one block keeps its bytes; block k from its own spawn."""
        if block == 0:
            return kit.rng_for(self.seed)
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(block,)))


def history_batches(history: History, *, chunk_rows: int, workers: int) -> Iterator[pa.RecordBatch]:
    """Draw the blocks (in any order), merge them into commit order, emit Arrow chunks."""
    firsts = range(0, history.accounts, history.block_accounts)
    with kit.pool(workers) as pool:
        blocks = list(pool.map(lambda n: _draw_block(history, n, firsts[n]), range(len(firsts))))
        events = _merge(blocks, history.accounts)
        text = _Text.of(history, events.owners)
        bounds = kit.chunk_bounds(len(events.key), chunk_rows)
        chunk = functools.partial(_chunk, text, events)
        yield from kit.ordered_map(pool, chunk, bounds, ahead=workers - 1)


@dataclass(frozen=True)
class _Events:
    """Every event as numbers in commit order, one array per column, and the owners."""

    key: np.ndarray  # int64: seconds since the start * accounts + the account's index
    kind: np.ndarray  # int8: an index into TYPES
    cents: np.ndarray  # int32 where every amount fits, else int64
    version: np.ndarray  # int32
    channel: np.ndarray  # int8: an index into CHANNELS
    owners: np.ndarray  # (accounts, 2): indices into FIRST_NAMES and LAST_NAMES
    accounts: int

    def seconds_and_streams(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        seconds, stream = np.divmod(self.key[lo:hi], np.int64(self.accounts))
        return seconds, stream


_PER_EVENT = ("key", "kind", "cents", "version", "channel")


def _draw_block(history: History, number: int, first: int) -> dict[str, np.ndarray]:
    """One block of accounts: its events in its own commit order and its owners.

    The commit key (time, then account, in one int64) is all that is kept of each
    event's time and account: the merge sorts by it, the text is built from it.
    """
    rng = history.rng(number)
    accounts = min(history.block_accounts, history.accounts - first)
    stream, kind, seconds, cents, version = _draw_history(
        rng, accounts, history.start, history.days, history.transactions, history.close_rate
    )
    key = seconds * np.int64(history.accounts) + (stream + first)
    order = np.argsort(key, kind="stable")  # ties (one account, one second) keep their order
    owners = np.stack(
        [rng.integers(0, len(FIRST_NAMES), accounts), rng.integers(0, len(LAST_NAMES), accounts)],
        axis=1,
    )
    channel = rng.integers(0, len(CHANNELS), len(stream)).astype(np.int8)  # in commit order
    if cents.max(initial=0) < 2**31:  # half the memory for the amounts, when they allow it
        cents = cents.astype(np.int32)
    in_order = (column[order] for column in (key, kind, cents, version))
    return dict(zip(_PER_EVENT, (*in_order, channel), strict=True)) | {"owners": owners}


def _merge(blocks: list[dict[str, np.ndarray]], accounts: int) -> _Events:
    """All blocks' events in commit order; each block's arrays are released once copied.

    Each block is already sorted by the key, so the stable sort only merges sorted runs.
    """
    count = len(blocks)
    merged = {name: np.concatenate([b.pop(name) for b in blocks]) for name in list(blocks[0])}
    blocks.clear()
    if count > 1:
        order = np.argsort(merged["key"], kind="stable")
        for name in _PER_EVENT:  # one column at a time: one extra column in memory
            merged[name] = merged[name][order]
    return _Events(**merged, accounts=accounts)


@dataclass(frozen=True)
class _Text:
    """What turns numbers into the text columns: built once per data set."""

    seed: int
    start: datetime
    stream_names: pa.Array
    owner_json: pa.Array  # each account's opening payload, then the closing payload
    types: pa.Array
    channel_json: pa.Array

    @classmethod
    def of(cls, history: History, owners: np.ndarray) -> _Text:
        names = [f"{FIRST_NAMES[f]} {LAST_NAMES[n]}" for f, n in owners]
        opening = kit.json_object("owner", pa.array(names, pa.string()), quoted=True)
        closing = kit.json_object("reason", pa.array(["customer request"]), quoted=True)
        return cls(
            history.seed,
            history.start,
            pa.array(kit.padded_ids("account", history.accounts), pa.string()),
            pa.concat_arrays([opening, closing]),
            pa.array(TYPES, pa.string()),
            kit.json_object("channel", pa.array(CHANNELS, pa.string()), quoted=True),
        )


def _chunk(text: _Text, events: _Events, lo: int, hi: int) -> pa.RecordBatch:
    """Rows lo..hi of the commit order as an Arrow batch."""
    seconds, s = events.seconds_and_streams(lo, hi)
    k, cents, channel = events.kind[lo:hi], events.cents[lo:hi], events.channel[lo:hi]
    return kit.to_batch(
        {
            "stream_id": text.stream_names.take(s),
            "version": pa.array(events.version[lo:hi], pa.int32()),
            "event_id": kit.event_ids(text.seed, "bank", np.arange(lo, hi)),
            "event_type": text.types.take(k),
            "data": _payloads(text, s, k, cents),
            "metadata": text.channel_json.take(channel),
            "timestamp": kit.timestamps(text.start, seconds),
        }
    )


def _payloads(text: _Text, stream: np.ndarray, kind: np.ndarray, cents: np.ndarray) -> pa.Array:
    """Deposits and withdrawals carry the amount; the few openings and closings are put
    in over them, so their payloads are built once per data set, not per row."""
    # One join for the whole text, not one for the number and one for the object.
    whole, hundredths = kit.money_parts(cents)
    amounts = pc.binary_join_element_wise('{"amount":', whole, ".", hundredths, "}", "")
    special = (kind == OPEN) | (kind == CLOSE)
    if not special.any():
        return amounts
    closing = len(text.owner_json) - 1
    which = np.where(kind[special] == OPEN, stream[special], closing)
    return pc.replace_with_mask(amounts, pa.array(special), text.owner_json.take(which))


def _draw_history(
    rng: np.random.Generator,
    accounts: int,
    start: datetime,
    days: int,
    transactions: int,
    close_rate: float,
) -> tuple[np.ndarray, ...]:
    """Every event as numbers (account, kind, seconds, cents, version), by part.

    An account's events come in the order of its parts (opening, transactions in time
    order, payout, closing) and their times never decrease in that order, so each
    event's version is its place in that order; a stable sort by time keeps it.
    """
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
    at = kit.sorted_within(at, account)
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
    first = np.cumsum(count) - count
    after = count + 2  # the version after the opening and the transactions
    parts = [
        (ids, np.full(accounts, OPEN), open_at, np.zeros(accounts, np.int64), np.ones(accounts)),
        (account, kind, at, cents, np.arange(len(account)) - first[account] + 2),
        (
            ids[payout],
            np.full(payout.sum(), WITHDRAW),
            close_at[payout],
            balance[payout],
            after[payout],
        ),
        (
            ids[closes],
            np.full(closes.sum(), CLOSE),
            close_at[closes] + 1,
            np.zeros(closes.sum(), np.int64),
            after[closes] + payout[closes],
        ),
    ]
    stream, kinds, seconds, amounts, version = (
        np.concatenate(col) for col in zip(*parts, strict=True)
    )
    return (
        stream.astype(np.int32),
        kinds.astype(np.int8),
        seconds.astype(np.int64),
        amounts,
        version.astype(np.int32),
    )


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
