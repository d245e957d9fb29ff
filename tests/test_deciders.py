"""Given/when/then scenarios: they pass on the domain's rules and fail loudly otherwise."""

from __future__ import annotations

from decimal import Decimal

import pytest

from eventsim.deciders import decider, given
from eventsim.domains import bank

OPENED = (bank.AccountOpened("Ada"), bank.MoneyDeposited(Decimal("100")))


def test_a_scenario_passes_when_decide_returns_exactly_the_expected_events() -> None:
    given(bank, *OPENED).when(bank.Withdraw(Decimal("30"))).then(bank.MoneyWithdrawn(Decimal("30")))


def test_a_scenario_fails_with_a_one_line_summary_when_the_events_differ() -> None:
    with pytest.raises(AssertionError) as failure:
        given(bank, *OPENED).when(bank.Withdraw(Decimal("30"))).then(
            bank.MoneyWithdrawn(Decimal("31"))
        )

    summary = str(failure.value).splitlines()[0]
    assert "given 2 past event(s), when Withdraw: decide returned other events" == summary[:66]
    assert "31" not in summary


def test_then_raises_passes_on_the_named_error_and_fails_when_the_command_is_accepted() -> None:
    given(bank, *OPENED).when(bank.Withdraw(Decimal("500"))).then_raises(bank.InsufficientFunds)

    with pytest.raises(AssertionError, match="accepted the command"):
        given(bank, *OPENED).when(bank.Withdraw(Decimal("5"))).then_raises(bank.InsufficientFunds)


def test_then_fails_when_decide_raises_and_then_raises_fails_on_another_error() -> None:
    with pytest.raises(AssertionError, match="raised InsufficientFunds"):
        given(bank, *OPENED).when(bank.Withdraw(Decimal("500"))).then()
    with pytest.raises(AssertionError, match="raised InsufficientFunds, not AccountNotOpen"):
        given(bank, *OPENED).when(bank.Withdraw(Decimal("500"))).then_raises(bank.AccountNotOpen)


def test_a_learners_own_decide_plugs_in_with_the_domains_state_and_evolve() -> None:
    def lenient_decide(state: bank.Account, command: object) -> list[object]:
        return [bank.MoneyWithdrawn(Decimal("500"))]  # forgets the overdraft rule

    mine = decider(bank.INITIAL_STATE, lenient_decide, bank.evolve)

    with pytest.raises(AssertionError, match="accepted the command"):
        given(mine, *OPENED).when(bank.Withdraw(Decimal("500"))).then_raises(bank.InsufficientFunds)


@pytest.mark.parametrize("outcome", ["then", "then_raises"])
def test_a_decide_still_to_be_written_is_not_done_rather_than_wrong(outcome: str) -> None:
    def unwritten(state: object, command: object) -> list[object]:
        raise NotImplementedError

    scenario = given(decider(bank.INITIAL_STATE, unwritten, bank.evolve)).when(
        bank.OpenAccount("Ada")
    )
    with pytest.raises(NotImplementedError):
        if outcome == "then":
            scenario.then(bank.AccountOpened("Ada"))
        else:
            scenario.then_raises(bank.InvalidAmount)
