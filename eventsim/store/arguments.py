"""Checks of the arguments every backend takes the same way."""

from __future__ import annotations

from eventsim.errors import InvalidArgument, shown


def check_expected_version(expected: object) -> None:
    if expected is not None and (
        isinstance(expected, bool) or not isinstance(expected, int) or expected < 0
    ):
        raise InvalidArgument(
            "expected_version must be None or a version >= 0 (0: a new stream), "
            f"got {shown(expected)}"
        )


def positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"{name} must be a whole number >= 1, got {shown(value)}")
    return value
