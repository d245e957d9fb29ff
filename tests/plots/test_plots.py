"""The plot helpers draw the data they are given, label it, and use the Axes passed in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")  # before pyplot: no window, no display needed

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from eventsim import EventStore, TickingClock, bank, fold, history, plots, seeded_ids

COMMANDS = [
    bank.OpenAccount("Ada Lovelace"),
    bank.Deposit(Decimal("1000")),
    bank.Withdraw(Decimal("200")),
    bank.Withdraw(Decimal("50")),
]
START = datetime(2024, 1, 10, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def handle(store: EventStore, stream_id: str, command: bank.Command) -> None:
    state = fold(store.read_stream(stream_id)) if store.version(stream_id) else bank.INITIAL_STATE
    store.append(stream_id, bank.decide(state, command), expected_version=state.version)


@pytest.fixture
def two_accounts() -> Iterator[EventStore]:
    """Two accounts with the same four commands, interleaved: 1, 2, 1, 2..."""
    clock = TickingClock(START, step=timedelta(days=10))
    with EventStore(clock=clock, new_id=seeded_ids(1)) as store:
        for command in COMMANDS:
            for stream_id in ("account-1", "account-2"):
                handle(store, stream_id, command)
        yield store


@pytest.fixture
def running(two_accounts: EventStore) -> pd.DataFrame:
    frames = [history(two_accounts, s).assign(account_id=s) for s in ("account-1", "account-2")]
    return pd.concat(frames).rename(columns={"state_balance": "balance"})


def test_balance_history_steps_through_the_balance_after_each_event(
    two_accounts: EventStore,
) -> None:
    ax = plots.balance_history(history(two_accounts, "account-1"))

    line = ax.get_lines()[0]
    assert [0.0, 1000.0, 800.0, 750.0] == list(line.get_ydata())
    assert "steps-post" == line.get_drawstyle()
    assert "Balance rebuilt from 4 events" == ax.get_title()
    assert "balance ($)" == ax.get_ylabel()
    assert "time (UTC)" == ax.get_xlabel()


def test_balance_history_marks_each_event_by_its_type(two_accounts: EventStore) -> None:
    ax = plots.balance_history(history(two_accounts, "account-1"))

    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert ["balance rebuilt from events", "account opened", "deposit", "withdrawal"] == labels
    withdrawals = ax.collections[2].get_offsets()[:, 1]
    assert [800.0, 750.0] == list(withdrawals)


def test_balance_history_draws_the_state_based_rows_single_number(two_accounts: EventStore) -> None:
    ax = plots.balance_history(history(two_accounts, "account-1"), crud_balance=Decimal("750"))

    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [750.0, 750.0] == list(dashed[0].get_ydata())
    assert "state-based row keeps $750.00" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_balance_history_draws_on_the_axes_it_is_given(two_accounts: EventStore) -> None:
    _, (left, right) = plt.subplots(1, 2)

    returned = plots.balance_history(
        history(two_accounts, "account-1"), ax=right, title="account-1"
    )

    assert right is returned
    assert "account-1" == right.get_title()
    assert [] == left.get_lines()


def test_a_new_figure_has_the_course_size(two_accounts: EventStore) -> None:
    ax = plots.balance_history(history(two_accounts, "account-1"))

    assert (9.0, 4.5) == tuple(ax.figure.get_size_inches())


def test_balances_over_time_draws_every_account_and_highlights_some(
    running: pd.DataFrame,
) -> None:
    ax = plots.balances_over_time(running, highlight=["account-2"])

    lines = ax.get_lines()
    assert 3 == len(lines)  # two accounts in grey, one of them again in colour
    assert [0.0, 1000.0, 800.0, 750.0] == list(lines[2].get_ydata())
    assert "account-2" == lines[2].get_label()
    assert "Balances of 2 accounts, rebuilt from 8 events" == ax.get_title()
    assert "balance ($)" == ax.get_ylabel()


def test_month_end_balances_draws_one_box_per_month_end() -> None:
    month_ends = pd.DataFrame(
        {
            "as_of": pd.to_datetime(
                ["2024-01-31", "2024-01-31", "2024-02-29", "2024-02-29"], utc=True
            ),
            "account_id": ["account-1", "account-2", "account-1", "account-2"],
            "balance": [100.0, 300.0, 50.0, 70.0],
        }
    )

    ax = plots.month_end_balances(month_ends, highlight=["account-2"])

    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ["Jan 31\n2 accounts", "Feb 29\n2 accounts"] == ticks
    highlighted = next(line for line in ax.get_lines() if line.get_label() == "account-2")
    assert [300.0, 70.0] == list(highlighted.get_ydata())
    medians = [line for line in ax.get_lines() if line.get_color() == plots.MEDIAN][:2]
    assert [200.0, 60.0] == [float(np.mean(line.get_ydata())) for line in medians]
    assert "balance ($)" == ax.get_ylabel()


def test_storage_growth_counts_every_event_against_one_row_per_stream(
    two_accounts: EventStore,
) -> None:
    log = two_accounts.sql("SELECT stream_id, timestamp FROM event_store ORDER BY position")

    ax = plots.storage_growth(log)

    log_line, table_line = ax.get_lines()
    assert list(range(1, 9)) == list(log_line.get_ydata())
    assert [1, 2, 2, 2, 2, 2, 2, 2] == list(table_line.get_ydata())
    assert "rows kept" == ax.get_ylabel()
    assert "time (UTC)" == ax.get_xlabel()
