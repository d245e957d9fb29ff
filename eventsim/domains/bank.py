"""Bank accounts: the event-sourced model, its state-based twin, and a seeded simulator.

Rules: amounts are positive, finite and in cents; no overdraft; an account closes only
at a zero balance; nothing happens to a closed account.

>>> state = Account()
>>> for command in [OpenAccount("Ada"), Deposit(Decimal("1000")), Withdraw(Decimal("250"))]:
...     for event in decide(state, command):
...         state = evolve(state, event)
>>> state.balance, state.version
(Decimal('750'), 3)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa

from eventsim import simkit
from eventsim.errors import DomainError, InvalidArgument, InvalidEvent
from eventsim.events import DomainEvent, parse_money

Money = Decimal  # the annotation "Money" makes DomainEvent.from_data parse an exact amount


# -- events (past tense) ---------------------------------------------------------------
@dataclass(frozen=True)
class AccountOpened(DomainEvent):
    owner: str


@dataclass(frozen=True)
class MoneyDeposited(DomainEvent):
    amount: Money


@dataclass(frozen=True)
class MoneyWithdrawn(DomainEvent):
    amount: Money


@dataclass(frozen=True)
class AccountClosed(DomainEvent):
    reason: str


BankEvent = AccountOpened | MoneyDeposited | MoneyWithdrawn | AccountClosed
EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.__name__: cls for cls in (AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed)
}


# -- commands (imperative) -------------------------------------------------------------
@dataclass(frozen=True)
class OpenAccount:
    owner: str


@dataclass(frozen=True)
class Deposit:
    amount: Decimal


@dataclass(frozen=True)
class Withdraw:
    amount: Decimal


@dataclass(frozen=True)
class CloseAccount:
    reason: str = "customer request"


Command = OpenAccount | Deposit | Withdraw | CloseAccount


# -- errors ----------------------------------------------------------------------------
class InvalidAmount(DomainError):
    """The amount is not a positive number of cents."""


class InsufficientFunds(DomainError):
    """A withdrawal larger than the balance."""


class AccountNotOpen(DomainError):
    """A command for an account that was never opened, or is already closed."""


# -- state -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Account:
    """What the account looks like after ``version`` events."""

    owner: str | None = None
    balance: Decimal = Decimal(0)
    status: str = "new"  # new -> open -> closed
    version: int = 0


INITIAL_STATE = Account()


def evolve(state: Account, event: DomainEvent) -> Account:
    """Apply one event; pure, and trusts the event (the rules ran in ``decide``)."""
    version = state.version + 1
    match event:
        case AccountOpened(owner=owner):
            return Account(owner=owner, status="open", version=version)
        case MoneyDeposited(amount=amount):
            return replace(state, balance=state.balance + amount, version=version)
        case MoneyWithdrawn(amount=amount):
            return replace(state, balance=state.balance - amount, version=version)
        case AccountClosed():
            return replace(state, status="closed", version=version)
    raise InvalidEvent(f"the bank domain cannot apply {type(event).__name__}: {event!r}")


def _amount(amount: object) -> Decimal:
    try:
        return parse_money("amount", amount)
    except InvalidEvent as exc:
        raise InvalidAmount(str(exc)) from None


def _require_open(status: str, command: object) -> None:
    if status != "open":
        raise AccountNotOpen(f"cannot {type(command).__name__}: the account is {status}")


def check(status: str, balance: Decimal, command: Command) -> None:
    """The domain's rules for ``command`` given the current status and balance."""
    if isinstance(command, OpenAccount):
        if status != "new":
            raise AccountNotOpen(f"cannot open the account again: it is {status}")
        if not command.owner.strip():
            raise DomainError(f"owner must be a non-empty name, got {command.owner!r}")
        return
    _require_open(status, command)
    if isinstance(command, Withdraw) and _amount(command.amount) > balance:
        raise InsufficientFunds(
            f"cannot withdraw {command.amount}: the balance is {balance}; no overdraft"
        )
    if isinstance(command, Deposit):
        _amount(command.amount)
    if isinstance(command, CloseAccount) and balance != 0:
        raise DomainError(f"cannot close with a balance of {balance}: withdraw it first")
    if isinstance(command, CloseAccount) and not command.reason.strip():
        # AccountClosed needs a non-empty reason; refuse here, not later in the store.
        raise DomainError(f"reason must be a non-empty text, got {command.reason!r}")


def decide(state: Account, command: Command) -> list[DomainEvent]:
    """The events ``command`` produces, or a ``DomainError`` if a rule forbids it."""
    check(state.status, state.balance, command)
    match command:
        case OpenAccount(owner=owner):
            return [AccountOpened(owner)]
        case Deposit(amount=amount):
            return [MoneyDeposited(_amount(amount))]
        case Withdraw(amount=amount):
            return [MoneyWithdrawn(_amount(amount))]
        case CloseAccount(reason=reason):
            return [AccountClosed(reason)]
    raise DomainError(f"the bank domain has no command {command!r}")


class AccountsTable:
    """The state-based twin: one row per account, overwritten in place, no history.

    The same rules as ``decide``; the difference is what is kept: after a withdrawal the
    row says the new balance, and nothing says what it was before.
    """

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, object]] = {}

    def handle(self, account_id: str, command: Command) -> None:
        row = self.rows.get(account_id, {"owner": None, "balance": Decimal(0), "status": "new"})
        balance = Decimal(str(row["balance"]))
        check(str(row["status"]), balance, command)
        match command:
            case OpenAccount(owner=owner):
                row = {"owner": owner, "balance": Decimal(0), "status": "open"}
            case Deposit(amount=amount):
                row["balance"] = balance + _amount(amount)
            case Withdraw(amount=amount):
                row["balance"] = balance - _amount(amount)
            case CloseAccount():
                row["status"] = "closed"
        self.rows[account_id] = row


# SQL fold of every account as of a time (parameter 1), for replay.all_states.
STATE_SQL = """
SELECT stream_id AS account_id,
       any_value(data->>'owner') FILTER (WHERE event_type = 'AccountOpened') AS owner,
       coalesce(sum(CAST(data->>'amount' AS DECIMAL(38, 2))
                    * CASE event_type WHEN 'MoneyWithdrawn' THEN -1 ELSE 1 END)
                FILTER (WHERE event_type IN ('MoneyDeposited', 'MoneyWithdrawn')), 0)
           AS balance,
       CASE WHEN bool_or(event_type = 'AccountClosed') THEN 'closed' ELSE 'open' END AS status,
       CAST(max(version) AS INTEGER) AS version
FROM event_store
WHERE timestamp <= ? AND stream_id IN (
    SELECT stream_id FROM event_store WHERE version = 1 AND event_type = 'AccountOpened')
GROUP BY stream_id
ORDER BY stream_id
"""


# -- simulation ------------------------------------------------------------------------
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
TYPES = ("AccountOpened", "MoneyDeposited", "MoneyWithdrawn", "AccountClosed")
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
    return pa.Table.from_batches(list(batches), schema=simkit.SCHEMA)


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
    """Like ``simulate``, one Arrow batch of at most ``chunk_rows`` events at a time."""
    start = simkit.check_start(start)
    simkit.check_positive("accounts", accounts)
    simkit.check_positive("days", days, limit=36_500)
    simkit.check_positive("transactions", transactions, limit=100_000)
    if not 0 <= close_rate <= 1:
        raise InvalidArgument(f"close_rate must be between 0 and 1, got {close_rate!r}")
    rng = np.random.default_rng(seed)
    stream, kind, seconds, cents = _draw_history(
        rng, accounts, start, days, transactions, close_rate
    )
    order = np.lexsort((stream, seconds))  # commit order: by time, then account
    stream, kind, seconds, cents = stream[order], kind[order], seconds[order], cents[order]
    version = _versions(stream, accounts)
    owners = rng.integers(0, len(FIRST_NAMES), accounts), rng.integers(0, len(LAST_NAMES), accounts)
    owner_names = [f"{FIRST_NAMES[f]} {LAST_NAMES[n]}" for f, n in zip(*owners, strict=True)]
    channel = rng.integers(0, len(CHANNELS), len(stream))
    stream_names = simkit.padded_ids("account", accounts)
    for lo, hi in simkit.chunk_bounds(len(stream), chunk_rows):
        s, k = stream[lo:hi], kind[lo:hi]
        data = pa.compute.choose(
            pa.array(k),
            simkit.json_object("owner", simkit.pick(owner_names, s), quoted=True),
            simkit.json_object("amount", simkit.money_text(cents[lo:hi]), quoted=False),
            simkit.json_object("amount", simkit.money_text(cents[lo:hi]), quoted=False),
            simkit.json_object(
                "reason", simkit.pick(["customer request"], np.zeros_like(s)), quoted=True
            ),
        )
        metadata = simkit.json_object("channel", simkit.pick(CHANNELS, channel[lo:hi]), quoted=True)
        yield simkit.to_batches(
            {
                "stream_id": simkit.pick(stream_names, s),
                "version": pa.array(version[lo:hi], pa.int32()),
                "event_id": simkit.event_ids(seed, "bank", np.arange(lo, hi)),
                "event_type": simkit.pick(TYPES, k),
                "data": data,
                "metadata": metadata,
                "timestamp": simkit.timestamps(start, seconds[lo:hi]),
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
    weights = simkit.business_day_weights(start, days)
    open_day = simkit.draw_days(
        rng, weights[: max(1, days // 3)], np.zeros(accounts, dtype=np.int64)
    )
    open_at = open_day * 86_400 + simkit.draw_seconds_of_day(rng, accounts)
    # Activity varies a lot between customers: a gamma-Poisson mix, not one rate for all.
    count = rng.poisson(rng.gamma(2.0, transactions / 2.0, accounts))
    account = np.repeat(np.arange(accounts), count)
    day = simkit.draw_days(rng, weights, open_day[account])
    at = np.maximum(
        day * 86_400 + simkit.draw_seconds_of_day(rng, len(account)), open_at[account] + 60
    )
    at = at[np.lexsort((at, account))]
    same = np.concatenate([[False], account[1:] == account[:-1]])
    at = simkit.add_bursts(rng, at, same, p=0.2)
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
