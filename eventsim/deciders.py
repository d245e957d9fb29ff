"""Given/when/then for deciders: past events, one command, the new events or an error.

A decider is three things: an initial state, ``decide(state, command) -> events`` and
``evolve(state, event) -> state``. Each domain module is one (``bank``, ``orders``), and a
learner's own ``decide`` makes another with :func:`decider`. A scenario reads like the
rule it checks, in the style of the aggregate test fixtures of the well-known ES frameworks:

>>> from decimal import Decimal
>>> from eventsim.domains import bank
>>> opened = [bank.AccountOpened("Ada"), bank.MoneyDeposited(Decimal("100"))]
>>> given(bank, *opened).when(bank.Withdraw(Decimal("30"))).then(
...     bank.MoneyWithdrawn(Decimal("30")))
>>> given(bank, *opened).when(bank.Withdraw(Decimal("500"))).then_raises(bank.InsufficientFunds)

A failed scenario raises ``AssertionError``: its first line says what went wrong, the
lines after it show the events; a notebook's check prints only the first line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Decider(Protocol):
    """What a scenario needs: a domain module, or the result of :func:`decider`."""

    @property
    def INITIAL_STATE(self) -> Any: ...  # noqa: N802 (the domains' module constant)

    def decide(self, state: Any, command: Any) -> Sequence[Any]: ...

    def evolve(self, state: Any, event: Any) -> Any: ...


@dataclass(frozen=True)
class _Functions:
    INITIAL_STATE: Any
    decide: Callable[[Any, Any], Sequence[Any]]
    evolve: Callable[[Any, Any], Any]


def decider(
    initial_state: Any,
    decide: Callable[[Any, Any], Sequence[Any]],
    evolve: Callable[[Any, Any], Any],
) -> Decider:
    """A decider from three parts, e.g. a domain's state and ``evolve`` with your ``decide``."""
    return _Functions(initial_state, decide, evolve)


def given(domain: Decider, *events: Any) -> Given:
    """Start a scenario: ``domain``'s state after ``events`` (none: a new stream)."""
    return Given(domain, tuple(events))


@dataclass(frozen=True)
class Given:
    domain: Decider
    events: tuple[Any, ...]

    def state(self) -> Any:
        """The state the past events leave."""
        state = self.domain.INITIAL_STATE
        for event in self.events:
            state = self.domain.evolve(state, event)
        return state

    def when(self, command: Any) -> When:
        """The command to decide on, in the state the past events leave."""
        return When(self, command)


@dataclass(frozen=True)
class When:
    given: Given
    command: Any

    def _decide(self) -> list[Any]:
        # A decide still to be written (NotImplementedError) is not a wrong answer: it
        # passes through, so a notebook's check says "not done yet".
        return list(self.given.domain.decide(self.given.state(), self.command))

    def then(self, *expected: Any) -> None:
        """Assert that ``decide`` returns exactly ``expected`` (none: nothing happens)."""
        try:
            actual = self._decide()
        except NotImplementedError:
            raise
        except Exception as exc:
            raise AssertionError(
                f"{self._story()}: decide raised {type(exc).__name__} instead of "
                f"returning {len(expected)} event(s)\n  error: {exc}"
            ) from exc
        if list(expected) != actual:
            raise AssertionError(
                f"{self._story()}: decide returned other events than expected\n"
                f"  expected: {list(expected)}\n  actual:   {actual}"
            )

    def then_raises(self, error: type[BaseException]) -> None:
        """Assert that ``decide`` refuses the command with ``error`` (or a subclass)."""
        try:
            actual = self._decide()
        except NotImplementedError:
            raise
        except error:
            return
        except Exception as exc:
            raise AssertionError(
                f"{self._story()}: decide raised {type(exc).__name__}, not {error.__name__}"
                f"\n  error: {exc}"
            ) from exc
        raise AssertionError(
            f"{self._story()}: decide accepted the command; it should raise {error.__name__}"
            f"\n  events: {actual}"
        )

    def _story(self) -> str:
        past = len(self.given.events)
        return f"given {past} past event(s), when {type(self.command).__name__}"
