"""Hypothesis strategies for the bank domain: amounts, commands and command sequences."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from eventsim.domains import bank
from eventsim.messaging.bus import Faults

seeds = st.integers(min_value=0, max_value=2**32 - 1)

# Cents up to ten million dollars: exact as a JSON number and as a DataFrame float.
amounts = st.one_of(st.integers(min_value=1, max_value=10_000), st.integers(1, 10**9)).map(
    lambda cents: Decimal(cents) / 100
)

bad_amounts = st.one_of(
    st.sampled_from(
        [
            Decimal(0),
            Decimal("-0.01"),
            Decimal("NaN"),
            Decimal("Infinity"),
            Decimal("-Infinity"),
            Decimal("1e30"),
        ]
    ),
    st.integers(max_value=0).map(Decimal),
    # Three or more decimals that do not round away: 0.001, 12.345, ...
    st.integers(min_value=1, max_value=10**7)
    .filter(lambda n: n % 10)
    .map(lambda n: Decimal(n) / 1000),
)

owners = st.sampled_from(["Ada Lovelace", "Alan Turing", "Grace Hopper", " Edsger ", "", "  "])
reasons = st.sampled_from(["customer request", "moved abroad", "fees", "", "\t"])

WITHDRAW_ALL = "withdraw the whole balance"
"""Stands for ``Withdraw(balance)``: the test fills in the balance, so closing can succeed."""

commands = st.one_of(
    owners.map(bank.OpenAccount),
    st.one_of(amounts, amounts, bad_amounts).map(bank.Deposit),
    st.one_of(amounts, amounts, bad_amounts).map(bank.Withdraw),
    st.just(WITHDRAW_ALL),
    reasons.map(bank.CloseAccount),
)
"""Any bank command, valid or not (or ``WITHDRAW_ALL``): the rules decide."""


@st.composite
def plausible_commands(draw: st.DrawFn) -> list[bank.Command | str]:
    """A session that opens the account first, so most later commands get a chance."""
    first = bank.OpenAccount(draw(owners.filter(str.strip)))
    rest: list[bank.Command | str] = draw(st.lists(commands, max_size=25))
    if draw(st.booleans()):  # empty the account and close it somewhere in the session
        at = draw(st.integers(0, len(rest)))
        rest[at:at] = [WITHDRAW_ALL, bank.CloseAccount(draw(reasons))]
    return [first, *rest]


# Mostly sessions that open first; sometimes anything at all, even nothing opened.
command_sequences = st.one_of(
    plausible_commands(),
    plausible_commands(),
    plausible_commands(),
    st.lists(commands, max_size=25),
)


def broker_faults(
    *, duplicates: float, delays: float, crashes: float, window: int, max_delay: int
) -> st.SearchStrategy[Faults]:
    """Seeded broker faults: each rate from 0 up to its cap, reordering windows up to
    ``window``, delays of 1 up to ``max_delay`` ticks."""
    return st.builds(
        Faults,
        duplicate_rate=st.floats(0, duplicates),
        reorder_window=st.integers(0, window),
        delay_rate=st.floats(0, delays),
        max_delay=st.integers(1, max_delay),
        crash_rate=st.floats(0, crashes),
        seed=seeds,
    )
