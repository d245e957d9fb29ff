"""The migration figure draws both histories, marks the migration, and labels everything."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")  # before pyplot: no window, no display needed

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pytest

from eventsim import EventStore, TickingClock, bank, history, plots, seeded_ids
from eventsim.plots.migration import HOLD

MIGRATED_AT = datetime(2024, 5, 1, 6, tzinfo=UTC)


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def account(start: datetime, *commands: bank.Command) -> EventStore:
    store = EventStore(clock=TickingClock(start), new_id=seeded_ids(1))
    state = bank.INITIAL_STATE
    for command in commands:
        events = bank.decide(state, command)
        store.append("account-1", events, expected_version=state.version)
        for event in events:
            state = bank.evolve(state, event)
    return store


def test_both_histories_are_drawn_up_to_the_migration_and_past_it() -> None:
    old = account(
        datetime(2024, 3, 1, tzinfo=UTC), bank.OpenAccount("Ada"), bank.Deposit(Decimal("7"))
    )
    new = account(MIGRATED_AT, bank.OpenAccount("Ada"), bank.Deposit(Decimal("7")))
    _, given = plt.subplots()

    ax = plots.lost_history(
        history(old, "account-1"),
        history(new, "account-1"),
        account_id="account-1",
        migrated_at=MIGRATED_AT,
        ax=given,
    )

    before, after = ax.lines[0], ax.lines[1]
    assert given is ax
    assert [0.0, 7.0, 7.0] == list(before.get_ydata())
    assert MIGRATED_AT == mdates.num2date(ax.get_xlim()[1]) - HOLD
    assert [7.0, 7.0] == list(after.get_ydata())[-2:]
    labels = ax.get_legend_handles_labels()[1]
    assert ["what happened (2 events, not kept)", "what the event store knows (2 events)"] == [
        label for label in labels if label.startswith("what")
    ]
    assert "account-1" in ax.get_title() and "balance ($)" == ax.get_ylabel()
