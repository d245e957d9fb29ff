"""Bank accounts: the event-sourced model and its state-based twin.

Its simulator is ``eventsim.sim.bank``; its SQL fold, ``eventsim.sql.bank``.

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

from dataclasses import dataclass
from decimal import Decimal

from eventsim.errors import DomainError, InvalidEvent, shown
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
    # The new state is built field by field: ``dataclasses.replace`` costs as much again.
    version = state.version + 1
    match event:
        case MoneyDeposited(amount=amount):
            return Account(state.owner, state.balance + amount, state.status, version)
        case MoneyWithdrawn(amount=amount):
            return Account(state.owner, state.balance - amount, state.status, version)
        case AccountOpened(owner=owner):
            return Account(owner=owner, status="open", version=version)
        case AccountClosed():
            return Account(state.owner, state.balance, "closed", version)
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
    if not isinstance(command, Command):
        raise DomainError(
            f"the bank domain has no command {shown(command)}; "
            "use OpenAccount, Deposit, Withdraw or CloseAccount"
        )
    if isinstance(command, OpenAccount):
        if status != "new":
            raise AccountNotOpen(f"cannot open the account again: it is {status}")
        if not isinstance(command.owner, str) or not command.owner.strip():
            raise DomainError(f"owner must be a non-empty name, got {shown(command.owner)}")
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
    if isinstance(command, CloseAccount) and (
        not isinstance(command.reason, str) or not command.reason.strip()
    ):
        # AccountClosed needs a non-empty reason; refuse here, not later in the store.
        raise DomainError(f"reason must be a non-empty text, got {shown(command.reason)}")


def decide(state: Account, command: Command) -> list[DomainEvent]:
    """The events ``command`` produces, or a ``DomainError`` if a rule forbids it."""
    if not isinstance(state, Account):
        raise DomainError(
            f"the state must be an Account, got {shown(state)}; start from INITIAL_STATE"
        )
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
