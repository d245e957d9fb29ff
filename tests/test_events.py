"""The event record, payload parsing, JSON rules, ids, clocks and argument checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from eventsim import (
    Event,
    EventSimError,
    InvalidArgument,
    InvalidEvent,
    NewEvent,
    TickingClock,
    UnknownEventType,
    caused_by,
    seeded_ids,
)
from eventsim.domains import EVENT_TYPES, bank
from eventsim.events import (
    MAX_PAYLOAD_BYTES,
    as_new_event,
    check_stream_id,
    check_timestamp,
    parse_money,
    to_json,
    to_jsonable,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1000.5, Decimal("1000.5")),
        (0.1, Decimal("0.1")),  # through str(): no binary tail
        (7, Decimal("7")),
        ("12.34", Decimal("12.34")),
        (Decimal("0.01"), Decimal("0.01")),
        (10**20, Decimal(10**20)),
    ],
)
def test_an_amount_parses_to_the_exact_decimal(value: object, expected: Decimal) -> None:
    assert expected == parse_money("amount", value)


@pytest.mark.parametrize(
    "value",
    [
        0,
        -5,
        Decimal("-0.01"),
        float("nan"),
        float("inf"),
        float("-inf"),
        "NaN",
        "Infinity",
        "1.001",
        0.015,
        1e-11,
        True,
        None,
        "ten",
        [10],
        1e30,  # more digits than Decimal keeps: used to leak decimal.InvalidOperation
        Decimal("123456789012345678.99"),  # a JSON number (a double) would round it
    ],
    ids=repr,
)
def test_a_bad_amount_is_refused_with_its_value_in_the_message(value: object) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_money("amount", value)
    assert repr(value) in str(caught.value)


def test_a_domain_event_round_trips_through_its_json_payload() -> None:
    event = bank.MoneyDeposited(Decimal("12.5"))
    assert {"amount": 12.5} == event.to_data()
    assert event == bank.MoneyDeposited.from_data(event.to_data())
    assert "MoneyDeposited" == event.event_type()


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({}, "missing ['amount']"),
        ({"amount": 5, "note": "x"}, "unexpected ['note']"),
        ({"sum": 5}, "unexpected ['sum']"),
        ([5], "[5]"),
        ("amount=5", "'amount=5'"),
        (None, "None"),
        ({"amount": 0}, "got 0"),
    ],
    ids=repr,
)
def test_a_bad_payload_is_refused_naming_what_is_wrong(data: object, named: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        bank.MoneyDeposited.from_data(data)
    assert named in str(caught.value)


def test_a_blank_string_field_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="'owner'"):
        bank.AccountOpened.from_data({"owner": " \t "})


def test_an_unknown_event_type_names_itself_and_the_known_ones() -> None:
    with pytest.raises(UnknownEventType) as caught:
        EVENT_TYPES.get("MoneyTeleported")
    assert "'MoneyTeleported'" in str(caught.value)
    assert "MoneyDeposited" in str(caught.value)
    assert isinstance(caught.value, EventSimError)


def test_the_registry_parses_a_stored_payload_into_its_domain_event() -> None:
    assert bank.AccountOpened("Ada") == EVENT_TYPES.parse("AccountOpened", {"owner": "Ada"})
    assert "AccountOpened" in EVENT_TYPES
    assert "Nope" not in EVENT_TYPES


def test_decimals_become_json_numbers_whole_ones_as_integers() -> None:
    expected = {"a": 5, "b": 2.5, "c": [1, 0.1]}
    assert expected == to_jsonable(
        {"a": Decimal("5.00"), "b": Decimal("2.5"), "c": (Decimal(1), Decimal("0.1"))}
    )


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ({"x": float("nan")}, "nan"),
        ({"x": float("inf")}, "inf"),
        ({"x": object()}, "object"),
        ({"x": "y" * MAX_PAYLOAD_BYTES}, "byte limit"),
    ],
    ids=["nan", "infinity", "unserializable", "oversized"],
)
def test_json_that_other_readers_could_not_read_is_refused(
    value: dict[str, object], named: str
) -> None:
    with pytest.raises(InvalidEvent, match=named):
        to_json(value, "metadata")


def test_json_is_compact() -> None:
    assert '{"a":1,"b":[2,3]}' == to_json({"a": 1, "b": [2, 3]}, "data")


def test_a_ticking_clock_steps_by_its_interval() -> None:
    clock = TickingClock(datetime(2024, 1, 1, tzinfo=UTC), step=timedelta(seconds=30))
    expected = [datetime(2024, 1, 1, 0, 0, s, tzinfo=UTC) for s in (0, 30)]
    assert expected == [clock(), clock()]


def test_seeded_ids_repeat_for_a_seed_and_differ_between_seeds() -> None:
    first, again, other = seeded_ids(3), seeded_ids(3), seeded_ids(4)
    ids = [first() for _ in range(5)]
    assert ids == [again() for _ in range(5)]
    assert not set(ids) & {other() for _ in range(5)}
    assert {4} == {i.version for i in ids}
    assert 5 == len(set(ids))


@pytest.mark.parametrize("stream_id", ["a", "account-42", "x" * 255, "Order_7.v2:eu@shop"])
def test_a_good_stream_id_passes(stream_id: str) -> None:
    assert stream_id == check_stream_id(stream_id)


@pytest.mark.parametrize(
    "stream_id",
    [
        "",
        "x" * 256,
        "-leading-dash",
        "with space",
        "quote'd",
        'double"quote',
        "semi;colon",
        "a'; DROP TABLE event_store; --",
        "accent-é",
        "new\nline",
        None,
        42,
    ],
    ids=repr,
)
def test_a_bad_stream_id_is_refused_with_its_value_in_the_message(stream_id: object) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_stream_id(stream_id)
    assert repr(stream_id) in str(caught.value)


def test_a_naive_timestamp_is_refused_with_a_suggestion() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_timestamp(datetime(2024, 3, 15, 9, 30))
    assert "2024-03-15T09:30:00" in str(caught.value)
    assert "tzinfo=UTC" in str(caught.value)


def test_an_aware_timestamp_comes_back_in_utc() -> None:
    paris = datetime(2024, 3, 15, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    assert datetime(2024, 3, 15, 9, 30, tzinfo=UTC) == check_timestamp(paris)
    assert UTC == check_timestamp(paris).tzinfo


@pytest.mark.parametrize(
    "value",
    [datetime(1969, 12, 31, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC), "2024-01-01", 0],
    ids=repr,
)
def test_an_implausible_or_non_datetime_timestamp_is_refused(value: object) -> None:
    with pytest.raises(InvalidArgument):
        check_timestamp(value)


def test_a_domain_event_is_wrapped_as_a_new_event_with_its_metadata() -> None:
    new = as_new_event(bank.MoneyWithdrawn(Decimal("3")), {"channel": "atm"})
    assert NewEvent("MoneyWithdrawn", {"amount": 3}, {"channel": "atm"}) == new
    assert new is as_new_event(new)


def test_something_that_is_no_event_is_refused_by_name() -> None:
    with pytest.raises(InvalidEvent, match="dict"):
        as_new_event({"event_type": "AccountOpened"})  # type: ignore[arg-type]


def test_an_effect_keeps_the_correlation_and_points_at_its_cause() -> None:
    cause_id = uuid.UUID(int=1, version=4)
    cause = Event(
        "account-1",
        1,
        cause_id,
        "AccountOpened",
        {"owner": "Ada"},
        {"correlation_id": "flow-9"},
        datetime(2024, 1, 1, tzinfo=UTC),
        1,
    )
    expected = {"correlation_id": "flow-9", "causation_id": str(cause_id), "schema_version": 2}
    assert expected == caused_by(cause, schema_version=2)


def test_the_first_event_of_a_flow_starts_the_correlation() -> None:
    cause_id = uuid.UUID(int=2, version=4)
    cause = Event(
        "account-1",
        1,
        cause_id,
        "AccountOpened",
        {"owner": "Ada"},
        {},
        datetime(2024, 1, 1, tzinfo=UTC),
        1,
    )
    assert str(cause_id) == caused_by(cause)["correlation_id"]
