"""Hypothesis strategies: the bank domain's amounts, commands and command sequences, and
anything a caller might pass (odd text, huge numbers, extreme times, odd paths)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
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


# -- anything a caller might pass: for the fuzz tests of the public API -----------------
odd_text = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs", "Co", "Cs"]), max_size=10),
    st.sampled_from(["", " ", "\n", "a\nb", "\x00", "'; DROP TABLE event_store; --", "kontø-1"]),
)
huge_numbers = st.one_of(
    # Built when drawn: a 5000-digit int has no repr for Hypothesis to show a strategy by.
    st.sampled_from([5000, -5000, 200, 64, 63]).map(lambda n: 2**n if n < 1000 else 10**n),
    st.sampled_from([0, -1, -(2**63)]),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")]
        + [Decimal("1e999999999"), Decimal("-1e-999999999"), Decimal("1e30"), Decimal("0.001")]
    ),
    st.decimals(allow_nan=True, allow_infinity=True),
)
extreme_times = st.one_of(
    st.datetimes(timezones=st.timezones()),
    st.datetimes(),  # naive
    st.sampled_from(
        [
            datetime.max.replace(tzinfo=timezone(timedelta(hours=-5))),
            datetime.min.replace(tzinfo=timezone(timedelta(hours=5))),
            datetime.max.replace(tzinfo=timezone(timedelta(hours=23, minutes=59))),
            datetime(1969, 12, 31, 23, 59, tzinfo=UTC),
            datetime(2100, 1, 1, tzinfo=UTC),
        ]
    ),
)
odd_paths = st.one_of(
    st.sampled_from(["", ".", "..", "/", "~", "*", "?", "[1]", "{a,b}", "a b", "'q'", "a\nb"]),
    st.sampled_from(["nowhere/x.parquet", "x.parquet/", "\x00", "a" * 300, "http://x/y"]),
    odd_text.map(lambda t: t + ".parquet"),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    huge_numbers,
    odd_text,
    st.binary(max_size=10),
    extreme_times,
    st.uuids(),
    st.just(object()),
    st.just(...),
    st.just(print),
)
any_value = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(odd_text, st.integers(), st.none()), inner, max_size=4),
        st.sets(st.integers(), max_size=3),
    ),
    max_leaves=10,
)
