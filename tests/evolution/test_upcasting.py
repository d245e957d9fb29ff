"""Upcasters turn every stored version into today's event; migration and reading agree."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim import EventStore, TickingClock, all_states, bank, seeded_ids
from eventsim.errors import InvalidEvent
from eventsim.events import Event, NewEvent, parse_money
from eventsim.evolution.upcasting import (
    BANK_UPCASTERS,
    SCHEMA_VERSION,
    UnknownSchemaVersion,
    Upcasters,
    add_usd,
    bank_upcasters,
    legacy_money_event,
    legacy_writer,
    migrate_copy,
    parse_amount,
    payload_bytes,
    read_model,
    rename_amt,
    write_mixed_history,
)

AT = datetime(2024, 3, 1, tzinfo=UTC)
cents = st.integers(1, 10**11)
money_types = st.sampled_from(["MoneyDeposited", "MoneyWithdrawn"])


def stored(event_type: str, data: dict[str, object], metadata: dict[str, object]) -> Event:
    return Event("account-1", 1, uuid.UUID(int=1), event_type, data, metadata, AT, 1)


def new_store() -> EventStore:
    return EventStore(clock=TickingClock(AT), new_id=seeded_ids(11))


def mixed_store() -> EventStore:
    store = new_store()
    write_mixed_history(store, accounts=5, seed=2)
    return store


current_bank_events = st.one_of(
    st.builds(bank.MoneyDeposited, cents.map(lambda c: Decimal(c) / 100)),
    st.builds(bank.MoneyWithdrawn, cents.map(lambda c: Decimal(c) / 100)),
    st.builds(bank.AccountOpened, st.text(min_size=1).filter(str.strip)),
    st.builds(bank.AccountClosed, st.text(min_size=1).filter(str.strip)),
)


@settings(max_examples=200)
@given(domain_event=current_bank_events)
def test_upcasting_a_current_event_is_the_identity(domain_event: bank.BankEvent) -> None:
    written = BANK_UPCASTERS.stamp(domain_event)
    event = stored(written.event_type, dict(written.data), dict(written.metadata))
    current = BANK_UPCASTERS.current_version(written.event_type)
    assert current == written.metadata[SCHEMA_VERSION]
    assert event == BANK_UPCASTERS.upcast_event(event)
    assert domain_event == BANK_UPCASTERS.deserialize(event)


def test_stamp_adds_the_current_version_and_keeps_the_rest() -> None:
    written = BANK_UPCASTERS.stamp(NewEvent("MoneyDeposited", {"amount": 5}, {"user": "ada"}))
    expected = NewEvent("MoneyDeposited", {"amount": 5}, {"user": "ada", SCHEMA_VERSION: 3})
    assert expected == written


def test_an_event_without_a_version_is_read_as_the_first_shape() -> None:
    first = stored("MoneyDeposited", {"amt": "7.25"}, {})
    assert bank.MoneyDeposited(Decimal("7.25")) == BANK_UPCASTERS.deserialize(first)
    unversioned = stored("AccountOpened", {"owner": "Ada"}, {})
    assert bank.AccountOpened("Ada") == BANK_UPCASTERS.deserialize(unversioned)


def test_an_unstamped_event_of_a_later_shape_is_refused_with_advice_not_misread() -> None:
    unstamped = stored("MoneyDeposited", {"amount": 12.5}, {})
    with pytest.raises(UnknownSchemaVersion, match="no field 'amt'.*Upcasters.stamp"):
        BANK_UPCASTERS.upcast_event(unstamped)


@given(amount_cents=cents, event_type=money_types)
def test_once_v4_exists_a_stored_v3_event_is_read_as_v3_and_gets_its_currency(
    amount_cents: int, event_type: str
) -> None:
    v3 = BANK_UPCASTERS.stamp(bank.EVENT_TYPES[event_type](Decimal(amount_cents) / 100))
    event = stored(event_type, dict(v3.data), dict(v3.metadata))
    upcast = bank_upcasters(4).upcast_event(event)
    assert {**v3.data, "currency": "USD"} == upcast.data
    assert 4 == upcast.metadata[SCHEMA_VERSION]


@given(amount_cents=cents, version=st.sampled_from([1, 2, 3]))
def test_the_v4_chain_gives_every_stored_version_the_same_amount_in_usd(
    amount_cents: int, version: int
) -> None:
    amount = Decimal(amount_cents) / 100
    old = legacy_money_event("MoneyWithdrawn", amount, version)
    upcast = bank_upcasters(4).upcast("MoneyWithdrawn", old.data, version)
    assert ({"amount", "currency"}, "USD") == (set(upcast), upcast["currency"])
    assert amount == parse_money("amount", upcast["amount"])


def test_a_chain_built_with_another_last_step_uses_it() -> None:
    chain = bank_upcasters(4, v3_to_v4=lambda data: {**data, "currency": "EUR"})
    assert {"amount": Decimal("1.00"), "currency": "EUR"} == chain.upcast(
        "MoneyDeposited", {"amt": "1.00"}, 1
    )


@settings(max_examples=200)
@given(event_type=money_types, amount_cents=cents, version=st.sampled_from([1, 2, 3]))
def test_every_old_version_upcasts_to_a_valid_current_event_of_the_same_amount(
    event_type: str, amount_cents: int, version: int
) -> None:
    amount = Decimal(amount_cents) / 100
    old = legacy_money_event(event_type, amount, version)
    event = stored(event_type, dict(old.data), dict(old.metadata))
    expected = bank.EVENT_TYPES[event_type](amount)
    assert expected == BANK_UPCASTERS.deserialize(event)
    upcast = BANK_UPCASTERS.upcast_event(event)
    assert expected == bank.EVENT_TYPES[event_type].from_data(upcast.data)


def test_each_step_is_one_small_function() -> None:
    assert {"amount": "12.50", "memo": "x"} == rename_amt({"amt": "12.50", "memo": "x"})
    assert {"amount": Decimal("12.50")} == parse_amount({"amount": "12.50"})
    assert {"amount": Decimal("12.50"), "currency": "USD"} == add_usd({"amount": Decimal("12.50")})


@pytest.mark.parametrize("text", ["12,50", "1.005", "-3.00", "ten"])
def test_a_v2_amount_that_is_not_an_exact_amount_is_refused_not_rounded(text: str) -> None:
    with pytest.raises(InvalidEvent, match=f"'{text}'"):
        BANK_UPCASTERS.upcast("MoneyDeposited", {"amount": text}, 2)


def test_a_type_that_never_changed_is_read_as_it_is() -> None:
    assert {"owner": "Ada"} == BANK_UPCASTERS.upcast("AccountOpened", {"owner": "Ada"}, 1)


def test_a_version_newer_than_the_reader_is_refused_with_advice() -> None:
    with pytest.raises(UnknownSchemaVersion, match="version 4 is newer.*upgrade the reader"):
        BANK_UPCASTERS.upcast("MoneyDeposited", {"amount": 1}, 4)


@pytest.mark.parametrize("bad", [0, -1, "2", True, None])
def test_a_version_that_is_not_a_whole_number_from_1_is_refused(bad: object) -> None:
    with pytest.raises(UnknownSchemaVersion, match=repr(bad)):
        BANK_UPCASTERS.upcast("MoneyDeposited", {"amt": "1.00"}, bad)  # type: ignore[arg-type]


def test_a_gap_in_the_chain_names_the_missing_step() -> None:
    upcasters = Upcasters({"MoneyDeposited": 3})
    upcasters.register("MoneyDeposited", 2)(lambda d: d)
    with pytest.raises(UnknownSchemaVersion, match=r"from version 1 to 2.*\('MoneyDeposited', 1\)"):
        upcasters.upcast("MoneyDeposited", {"amt": "1.00"}, 1)


def test_registering_a_step_twice_or_out_of_range_is_refused() -> None:
    upcasters = Upcasters({"MoneyDeposited": 3})
    upcasters.register("MoneyDeposited", 1)(lambda d: d)
    with pytest.raises(UnknownSchemaVersion, match="already has an upcaster from version 1"):
        upcasters.register("MoneyDeposited", 1)
    with pytest.raises(UnknownSchemaVersion, match="from version 3"):
        upcasters.register("MoneyDeposited", 3)


def test_a_v1_amount_with_a_fraction_of_a_cent_is_refused_not_rounded() -> None:
    with pytest.raises(InvalidEvent, match="'1.005'"):
        BANK_UPCASTERS.upcast("MoneyWithdrawn", {"amt": "1.005"}, 1)


def test_the_store_refuses_a_v1_payload_outside_a_legacy_writer() -> None:
    with new_store() as store:
        store.append("account-1", [bank.AccountOpened("Ada")], expected_version=0)
        old = legacy_money_event("MoneyDeposited", Decimal("5"), 1)
        with pytest.raises(InvalidEvent, match="missing \\['amount'\\]"):
            store.append("account-1", [old], expected_version=1)
        with legacy_writer(store, 1):
            store.append("account-1", [old], expected_version=1)
        assert store.event_types is not None and "MoneyDeposited" in store.event_types
        with pytest.raises(InvalidEvent):  # the current classes are back after the block
            store.append("account-1", [old], expected_version=2)


def test_reading_a_mixed_store_gives_only_current_events() -> None:
    with mixed_store() as store:
        stored_versions = set(
            store.sql("SELECT DISTINCT metadata->>'schema_version' AS v FROM event_store")["v"]
        )
        events = BANK_UPCASTERS.read_stream(store, "account-001")
    assert {"1", "2", "3"} == stored_versions
    assert all(e.metadata[SCHEMA_VERSION] in (1, 3) for e in events)
    assert all("amount" in e.data for e in events if e.event_type != "AccountOpened")


def test_copy_and_transform_keeps_ids_times_and_order_and_the_read_model() -> None:
    with mixed_store() as source, EventStore() as target:
        migration = migrate_copy(source, target, BANK_UPCASTERS)
        columns = "stream_id, version, event_id, event_type, timestamp, position"
        before = source.sql(f"SELECT {columns} FROM event_store ORDER BY position")  # noqa: S608
        after = target.sql(f"SELECT {columns} FROM event_store ORDER BY position")  # noqa: S608
        pd.testing.assert_frame_equal(before, after)
        pd.testing.assert_frame_equal(
            read_model(source, BANK_UPCASTERS), read_model(target, BANK_UPCASTERS)
        )
        (old_events,) = source.connection.execute(
            "SELECT count(*) FROM event_store WHERE event_type LIKE 'Money%' "
            "AND metadata->>'schema_version' IN ('1', '2')"
        ).fetchone()
        assert (len(before), old_events) == (migration.events_copied, migration.events_transformed)
        assert (payload_bytes(source), payload_bytes(target)) == (
            migration.source_bytes,
            migration.target_bytes,
        )
        sql_model = all_states(target, "bank")
        assert [float(b) for b in read_model(target, BANK_UPCASTERS)["balance"]] == list(
            sql_model["balance"]
        )


def test_after_migration_reading_applies_no_upcaster_steps() -> None:
    with mixed_store() as source, EventStore() as target:
        migrate_copy(source, target, BANK_UPCASTERS)
        start = BANK_UPCASTERS.steps_applied
        read_model(source, BANK_UPCASTERS)
        on_source = BANK_UPCASTERS.steps_applied - start
        read_model(target, BANK_UPCASTERS)
        on_target = BANK_UPCASTERS.steps_applied - start - on_source
        (v1, v2) = source.connection.execute(
            "SELECT count(*) FILTER (metadata->>'schema_version' = '1' "
            "AND event_type LIKE 'Money%'), "
            "count(*) FILTER (metadata->>'schema_version' = '2') FROM event_store"
        ).fetchone()
    assert (2 * v1 + v2, 0) == (on_source, on_target)


def test_a_new_event_appended_with_current_classes_needs_no_upcasting() -> None:
    with new_store() as store:
        store.append("account-1", [NewEvent("AccountOpened", {"owner": "Ada"})], expected_version=0)
        (event,) = store.read_stream("account-1")
    assert BANK_UPCASTERS.upcast_event(event).data == event.data
