"""Payload shapes: a pattern per event type that vouches for a payload without parsing it.

A load checks every payload against its type's fields, and DuckDB's JSON functions parse
the text once per function: several parses per row, most of a load's checking time. Yet
nearly every payload in a file has the shape its writer gives it: compact JSON, the fields
in their declared order, plain values, e.g. ``{"amount":123.45}``. One regular expression
per event type recognises exactly such texts in a single pass (DuckDB's RE2, linear time;
the patterns use only what RE2 and Python's ``re`` read alike) and vouches that the
type's parser accepts them; any other text (another key order, escapes, exponents,
nesting) is not vouched for and takes the full checks.

A shape may refuse a valid payload (it is then checked in full), never accept an invalid
one: ``tests/store/test_shapes.py`` generates texts from every pattern and parses them.

>>> from eventsim.domains.bank import MoneyDeposited
>>> import re
>>> bool(re.fullmatch(payload_pattern(MoneyDeposited), '{"amount":123.45}'))
True
>>> bool(re.fullmatch(payload_pattern(MoneyDeposited), '{"amount":0}'))
False
"""

from __future__ import annotations

import re

from eventsim.events import DomainEvent, EventTypes, field_kinds

# A JSON string with no escapes and no control characters, holding a letter or digit
# (str fields must not be blank: str.strip() removes no letter or digit).
_CHAR = r'[^"\\\x00-\x1f]'
_TEXT = f'"{_CHAR}*[0-9A-Za-z]{_CHAR}*"'
VALUES = {
    "str": _TEXT,
    # Fits a BIGINT, which DuckDB and Python read alike.
    "int": r"-?(0|[1-9][0-9]{0,17})",
    # Money: > 0, at most two decimals, at most 15 significant digits, so the double that
    # json.loads makes of it prints back as the same decimal (parse_money reads it so).
    "Money": r"(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,12}(\.[0-9]{1,2})?)",
}
# Metadata: an object of text values (the store's correlation and causation ids, a
# channel...), or empty.
_ENTRY = f'"{_CHAR}*": ?"{_CHAR}*"'
METADATA_PATTERN = rf"\{{({_ENTRY}(, ?{_ENTRY})*)?\}}"


def payload_pattern(event_class: type[DomainEvent]) -> str | None:
    """The pattern of the type's payloads as compact JSON, or None if a field's kind has
    no pattern (a domain's own kind, e.g. order lines: its SQL check or parser decides)."""
    parts = []
    for name, kind in field_kinds(event_class).items():
        if kind not in VALUES or not name.isidentifier():
            return None
        parts.append(f'"{name}": ?{VALUES[kind]}')
    return r"\{" + ", ?".join(parts) + r"\}"


def row_pattern(types: EventTypes) -> str:
    """One pattern over ``event_type || chr(0) || data``: the row's type, then a payload of
    that type's shape. One fixed query and one pattern serve any set of types."""
    alternatives = []
    for name in types.names():
        pattern = payload_pattern(types.get(name))
        if pattern is not None:
            alternatives.append(rf"{re.escape(name)}\x00{pattern}")
    return "|".join(f"({a})" for a in alternatives) or NOTHING


NOTHING = r"$x"  # no text has an "x" after its end
