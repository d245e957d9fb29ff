"""The audit trail: flows by correlation id, actors, cause chains, tree layout, bug replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventsim import EventStore, NewEvent, TickingClock, data_file, seeded_ids
from eventsim.domains import bank
from eventsim.errors import InvalidArgument
from eventsim.lifecycle import audit


def checkout_store() -> tuple[EventStore, str]:
    store = EventStore(
        clock=TickingClock(datetime(2024, 3, 1, 9, tzinfo=UTC)), new_id=seeded_ids(1)
    )
    store.append(
        "account-0007",
        [bank.AccountOpened("Ada"), bank.MoneyDeposited(Decimal(500))],
        expected_version=0,
    )
    root = audit.record_failed_checkout(
        store, order_id="order-9001", account_id="account-0007", customer_id="customer-0007"
    )
    return store, str(root.event_id)


def test_a_flow_holds_every_event_of_the_checkout_across_streams() -> None:
    store, root = checkout_store()
    actual = audit.flow(store, root)
    expected = store.sql(
        "SELECT position FROM event_store WHERE metadata->>'correlation_id' = ? "
        "OR CAST(event_id AS VARCHAR) = ? ORDER BY position",
        [root, root],
    )
    assert expected["position"].tolist() == actual["position"].tolist()
    assert ["account-0007", "order-9001"] == sorted(actual["stream_id"].unique())
    assert 9 == len(actual)


def test_each_event_names_the_type_of_its_cause() -> None:
    store, root = checkout_store()
    actual = audit.flow(store, root)
    causes = dict(zip(actual["event_id"], actual["event_type"], strict=True))
    expected = [causes.get(c) if isinstance(c, str) else None for c in actual["causation_id"]]
    assert expected == [c if isinstance(c, str) else None for c in actual["caused_by"]]


def test_the_saga_did_three_things_all_because_the_shipment_failed() -> None:
    store, _ = checkout_store()
    actual = audit.by_actor(store, user="saga")
    assert ["InventoryReleased", "PaymentRefunded", "OrderCancelled"] == actual[
        "event_type"
    ].tolist()
    assert {"ShipmentFailed"} == set(actual["caused_by"])


def test_by_channel_finds_what_the_customer_did_on_the_web() -> None:
    store, _ = checkout_store()
    assert ["OrderPlaced"] == audit.by_actor(store, channel="web")["event_type"].tolist()


def test_asking_for_no_actor_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="user"):
        audit.by_actor(EventStore())


def test_the_cause_chain_of_the_refund_deposit_leads_back_to_the_order() -> None:
    store, root = checkout_store()
    events = audit.flow(store, root)
    deposit = events.loc[events["event_type"] == "MoneyDeposited", "event_id"].item()
    expected = [
        "MoneyDeposited",
        "PaymentRefunded",
        "ShipmentFailed",
        "InventoryReserved",
        "PaymentCharged",
        "OrderPlaced",
    ]
    assert expected == audit.cause_chain(events, deposit)["event_type"].tolist()


def test_the_failed_shipment_caused_the_compensations_and_the_refund_deposit() -> None:
    store, root = checkout_store()
    events = audit.flow(store, root)
    failed = events.loc[events["event_type"] == "ShipmentFailed", "event_id"].item()
    expected = ["InventoryReleased", "PaymentRefunded", "MoneyDeposited", "OrderCancelled"]
    assert expected == audit.effects(store, failed)["event_type"].tolist()


def test_the_first_event_caused_every_other_event_of_its_flow_and_a_leaf_nothing() -> None:
    store, root = checkout_store()
    events = audit.flow(store, root)
    assert events["event_id"].iloc[1:].tolist() == audit.effects(store, root)["event_id"].tolist()
    last = events["event_id"].iloc[-1]
    assert audit.effects(store, last).empty


def test_a_causation_cycle_ends_the_walk_instead_of_looping() -> None:
    with EventStore(new_id=seeded_ids(3)) as store:
        store.append("s", [bank.AccountOpened("Ada")], expected_version=0)
        (first,) = store.read_stream("s")
        second = NewEvent("MoneyDeposited", {"amount": 1}, {"causation_id": str(first.event_id)})
        store.append("s", [second], expected_version=1)
        (_, made) = store.read_stream("s")
        # A buggy writer points the first event's cause at its own effect: a cycle.
        store.connection.execute(
            "UPDATE event_store SET metadata = ? WHERE version = 1",
            [json.dumps({"causation_id": str(made.event_id)})],
        )
        found = audit.effects(store, str(first.event_id))["event_id"].tolist()
    assert sorted([str(first.event_id), str(made.event_id)]) == sorted(found)


def test_a_simulated_order_is_one_linear_chain() -> None:
    store = EventStore()
    store.load_parquet(data_file("orders.parquet"))
    first = store.read_stream("order-0001")
    events = audit.flow(store, str(first[0].event_id))
    assert [e.version for e in first] == events["version"].tolist()
    assert list(range(len(first))) == audit.tree_layout(events)["depth"].tolist()


def test_the_layout_puts_each_parent_between_its_children() -> None:
    store, root = checkout_store()
    layout = audit.tree_layout(audit.flow(store, root)).set_index("event_id")
    for event_id, row in layout.iterrows():
        kids = layout[layout["parent"] == event_id]
        if len(kids):
            assert (kids["row"].min() + kids["row"].max()) / 2 == row["row"]
            assert {row["depth"] + 1} == set(kids["depth"])


@given(parents=st.lists(st.integers(min_value=-1, max_value=30), min_size=1, max_size=30))
def test_every_leaf_gets_its_own_row_in_any_forest(parents: list[int]) -> None:
    # Event i's cause is an earlier event, or none (-1 or a later index: not in the flow).
    ids = [f"e{i}" for i in range(len(parents))]
    causes = [f"e{p}" if 0 <= p < i else None for i, p in enumerate(parents)]
    events = pd.DataFrame(
        {"event_id": ids, "causation_id": causes, "stream_id": "s", "event_type": "T"}
    )
    layout = audit.tree_layout(events)
    leaves = layout[~layout["event_id"].isin(set(c for c in causes if c))]
    assert list(range(len(leaves))) == sorted(leaves["row"].astype(int))
    assert len(ids) == len(layout)


def test_replay_finds_the_planted_overdraft_and_the_state_before_it() -> None:
    store, _ = checkout_store()
    version = store.version("account-0007")
    store.append("account-0007", [bank.MoneyWithdrawn(Decimal(900))], expected_version=version)
    store.append("account-0007", [bank.MoneyDeposited(Decimal(1000))], expected_version=version + 1)
    found = audit.reproduce(store, "account-0007", audit.no_overdraft)
    assert version + 1 == found.version
    assert Decimal(500) == found.before.balance
    assert {"amount": 900} == found.offending.data
    assert Decimal(-400) == found.after.balance


def test_a_healthy_stream_has_nothing_to_reproduce() -> None:
    store, _ = checkout_store()
    assert audit.first_broken_version(store, "account-0007", audit.no_overdraft) is None
    with pytest.raises(InvalidArgument, match="account-0007"):
        audit.reproduce(store, "account-0007", audit.no_overdraft)
