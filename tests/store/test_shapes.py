"""The payload shapes vouch only for payloads the types' parsers accept, and DuckDB's RE2
reads every pattern as Python's re does."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim.domains import EVENT_TYPES
from eventsim.store import shapes

SHAPED = [n for n in EVENT_TYPES.names() if shapes.payload_pattern(EVENT_TYPES.get(n))]


def test_every_type_of_plain_fields_has_a_shape_and_order_lines_have_none() -> None:
    assert "MoneyDeposited" in SHAPED and "AccountOpened" in SHAPED
    assert shapes.payload_pattern(EVENT_TYPES.get("OrderPlaced")) is None


@pytest.mark.parametrize("name", SHAPED)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_payload_a_shape_accepts_is_accepted_by_its_type(
    name: str, data: st.DataObject
) -> None:
    pattern = shapes.payload_pattern(EVENT_TYPES.get(name))
    assert pattern is not None
    text = data.draw(st.from_regex(pattern, fullmatch=True))
    payload = json.loads(text)
    EVENT_TYPES.parse(name, payload)  # raises if the shape vouched for a bad payload
    assert text.startswith("{") and isinstance(payload, dict)


@settings(max_examples=150, deadline=None)
@given(text=st.from_regex(shapes.METADATA_PATTERN, fullmatch=True))
def test_metadata_a_shape_accepts_is_a_json_object(text: str) -> None:
    assert isinstance(json.loads(text), dict)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("MoneyDeposited", '{"amount":0}'),
        ("MoneyDeposited", '{"amount":0.00}'),
        ("MoneyDeposited", '{"amount":-5}'),
        ("MoneyDeposited", '{"amount":1.005}'),
        ("MoneyDeposited", '{"amount":1e3}'),
        ("MoneyDeposited", '{"amount":12345678901234}'),
        ("MoneyDeposited", '{"amount":"5"}'),
        ("MoneyDeposited", '{"amount":5,"amount":6}'),
        ("MoneyDeposited", '{"amount":5,}'),
        ("MoneyDeposited", '{ "amount":5}'),
        ("AccountOpened", '{"owner":"   "}'),
        ("AccountOpened", '{"owner":"A\\u0000"}'),
        ("AccountOpened", '{"owner":1}'),
        ("AccountOpened", '{"owner":"Ada","extra":"x"}'),
    ],
)
def test_a_payload_off_the_shape_is_not_vouched_for(name: str, text: str) -> None:
    pattern = shapes.payload_pattern(EVENT_TYPES.get(name))
    assert pattern is not None and re.fullmatch(pattern, text) is None


TEXTS = st.text(alphabet='{}":,. 0123456789-amountAdarsewhX\\\x00\x1f\u3000é', max_size=30)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(st.one_of(TEXTS, st.from_regex(shapes.row_pattern(EVENT_TYPES))), max_size=20)
)
def test_duckdb_and_python_read_the_row_pattern_alike(texts: list[str]) -> None:
    rows = [(t,) for t in texts] or [("",)]
    pattern = shapes.row_pattern(EVENT_TYPES)
    matched = duckdb.execute(
        "SELECT regexp_full_match(t, ?) FROM (SELECT unnest(?) AS t)",
        [pattern, [t for (t,) in rows]],
    ).fetchall()
    assert [m for (m,) in matched] == [re.fullmatch(pattern, t) is not None for (t,) in rows]


def test_the_pattern_for_no_shaped_type_matches_nothing() -> None:
    assert re.search(shapes.NOTHING, "anything\nat all") is None
    (found,) = duckdb.execute("SELECT regexp_matches('x', ?)", [shapes.NOTHING]).fetchall()[0]
    assert found is False
