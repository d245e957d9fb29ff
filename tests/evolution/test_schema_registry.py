"""The registry accepts compatible schema changes and names the field and rule of a broken one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventsim.errors import InvalidArgument, InvalidEvent
from eventsim.evolution.schema_registry import (
    IncompatibleSchema,
    SchemaRegistry,
    money_event_schemas,
    violations,
)
from eventsim.evolution.upcasting import (
    BANK_UPCASTERS,
    legacy_money_event,
    parse_amount,
    rename_amt,
)

AMOUNT = {"properties": {"amount": {"type": "number"}}, "required": ["amount"]}


def with_field(name: str, spec: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {
        "properties": {**AMOUNT["properties"], name: spec},
        "required": ["amount", *([name] if required else [])],
    }


def registry() -> SchemaRegistry:
    fresh = SchemaRegistry()
    fresh.register("MoneyDeposited", AMOUNT)
    return fresh


def test_an_optional_field_with_a_default_is_fully_compatible() -> None:
    new = with_field("memo", {"type": "string", "default": ""})
    assert 2 == registry().register("MoneyDeposited", new, mode="FULL")


def test_a_new_required_field_without_default_breaks_backward_and_the_message_says_so() -> None:
    new = with_field("channel", {"type": "string"}, required=True)
    with pytest.raises(IncompatibleSchema) as raised:
        registry().register("MoneyDeposited", new, mode="BACKWARD")
    expected = (
        "MoneyDeposited v2 is not BACKWARD compatible with v1: field 'channel': BACKWARD broken: "
        "new readers require it, old events may lack it, and it has no default; give it a default"
    )
    assert expected == str(raised.value)


def test_a_new_required_field_is_still_forward_compatible() -> None:
    new = with_field("channel", {"type": "string"}, required=True)
    assert [] == violations(AMOUNT, new, "FORWARD")


def test_removing_a_required_field_breaks_forward_but_not_backward() -> None:
    new = {"properties": {"memo": {"type": "string", "default": ""}}, "required": []}
    assert [] == violations(AMOUNT, new, "BACKWARD")
    (message,) = violations(AMOUNT, new, "FORWARD")
    assert "field 'amount': FORWARD broken" in message and "no longer have it" in message


def test_making_a_required_field_optional_breaks_forward() -> None:
    new = {"properties": {"amount": {"type": "number"}}, "required": []}
    (message,) = violations(AMOUNT, new, "FORWARD")
    assert "may leave it out" in message


def test_a_type_change_breaks_every_mode_but_none() -> None:
    new = {"properties": {"amount": {"type": "string"}}, "required": ["amount"]}
    expected = ["field 'amount': type changed from number to string; add a new field instead"]
    assert [expected, expected, expected, []] == [
        violations(AMOUNT, new, mode) for mode in ("BACKWARD", "FORWARD", "FULL", "NONE")
    ]


def test_a_refused_schema_is_not_registered() -> None:
    fresh = registry()
    with pytest.raises(IncompatibleSchema):
        fresh.register("MoneyDeposited", with_field("x", {"type": "integer"}, required=True))
    assert 1 == fresh.latest("MoneyDeposited")


def test_check_reports_without_registering() -> None:
    fresh = registry()
    found = fresh.check(
        "MoneyDeposited", with_field("x", {"type": "integer"}, required=True), "FULL"
    )
    assert (1, 1) == (len(found), fresh.latest("MoneyDeposited"))


def test_the_bank_history_is_breaking_at_each_step_which_is_why_it_has_upcasters() -> None:
    v1, v2, v3 = money_event_schemas()
    assert violations(v1, v2, "BACKWARD") and violations(v2, v3, "BACKWARD")
    fresh = SchemaRegistry()
    versions = [fresh.register("MoneyDeposited", s, mode="NONE") for s in (v1, v2, v3)]
    assert [1, 2, 3] == versions


@given(cents=st.integers(1, 10**11))
def test_each_upcaster_output_fits_the_next_versions_schema(cents: int) -> None:
    fresh = SchemaRegistry()
    for schema in money_event_schemas():
        fresh.register("MoneyDeposited", schema, mode="NONE")
    v1 = dict(legacy_money_event("MoneyDeposited", Decimal(cents) / 100, 1).data)
    fresh.validate("MoneyDeposited", 1, v1)
    fresh.validate("MoneyDeposited", 2, rename_amt(v1))
    v3 = parse_amount(rename_amt(v1))
    fresh.validate("MoneyDeposited", 3, {"amount": float(v3["amount"])})
    assert v3 == BANK_UPCASTERS.upcast("MoneyDeposited", v1, 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "required field 'amount' missing"),
        ({"amount": "12"}, "'amount' must be a number, got '12'"),
        ({"amount": True}, "'amount' must be a number, got True"),
        ({"amount": 1, "amt": "1"}, r"unexpected fields \['amt'\]"),
    ],
)
def test_validate_names_the_field_that_does_not_fit(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        registry().validate("MoneyDeposited", 1, data)


@pytest.mark.parametrize(
    "bad",
    [
        {"properties": {"amount": {"type": "money"}}, "required": []},
        {"properties": {}, "required": ["amount"]},
        {"required": []},
    ],
)
def test_a_malformed_schema_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        registry().register("MoneyDeposited", bad, mode="NONE")


def test_an_unknown_mode_or_version_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidArgument, match="'SIDEWAYS'.*BACKWARD"):
        registry().register("MoneyDeposited", AMOUNT, mode="SIDEWAYS")
    with pytest.raises(InvalidArgument, match="versions 1..1, not 5"):
        registry().schema("MoneyDeposited", 5)
