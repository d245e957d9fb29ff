"""A schema registry: each version of an event type's payload, and compatibility checks.

A schema is a small JSON-Schema-like dict: ``properties`` (name -> ``{"type": ...}``,
optionally a ``default``) and ``required`` (names). Registering a new version checks it
against the latest one:

- BACKWARD: new readers can read old events (a new field needs a default);
- FORWARD: old readers can read new events (a field old readers need stays, required);
- FULL: both; NONE: no check (the step then needs an upcaster).

>>> registry = SchemaRegistry()
>>> registry.register("MoneyDeposited", {"properties": {"amount": {"type": "number"}},
...                                      "required": ["amount"]})
1
>>> registry.register("MoneyDeposited", {"properties": {"amount": {"type": "number"},
...     "memo": {"type": "string", "default": ""}}, "required": ["amount"]}, mode="FULL")
2
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eventsim.errors import InvalidArgument, InvalidEvent

MODES = ("BACKWARD", "FORWARD", "FULL", "NONE")
# JSON type name -> the Python values a JSON parser gives for it (bool is not a number).
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


class IncompatibleSchema(InvalidArgument):
    """A new schema version breaks the compatibility rule it was registered under."""


@dataclass(frozen=True)
class Field:
    """One payload field: its JSON type, and whether a reader can do without it."""

    name: str
    type: str
    required: bool
    has_default: bool
    default: Any = None

    @property
    def always_present(self) -> bool:
        """A reader always gets a value: the writer must send it, or the reader fills it in."""
        return self.required or self.has_default


def parse_schema(schema: Mapping[str, Any]) -> dict[str, Field]:
    """The fields of a schema dict, or ``InvalidArgument`` naming what is malformed."""
    properties = schema.get("properties")
    required = schema.get("required", [])
    if not isinstance(properties, Mapping) or not isinstance(required, list):
        raise InvalidArgument(
            f"a schema needs 'properties' (a dict) and 'required' (a list), got {dict(schema)!r}"
        )
    unknown = sorted(set(required) - set(properties))
    if unknown:
        raise InvalidArgument(f"'required' names fields that are not in 'properties': {unknown}")
    fields = {}
    for name, spec in properties.items():
        kind = spec.get("type") if isinstance(spec, Mapping) else None
        if kind not in JSON_TYPES:
            raise InvalidArgument(
                f"field {name!r} has type {kind!r}; use one of {sorted(JSON_TYPES)}"
            )
        fields[name] = Field(name, kind, name in required, "default" in spec, spec.get("default"))
    return fields


def violations(old: Mapping[str, Any], new: Mapping[str, Any], mode: str) -> list[str]:
    """Every way ``new`` breaks ``mode`` against ``old``, one sentence each; [] if none."""
    if mode not in MODES:
        raise InvalidArgument(f"unknown compatibility mode {mode!r}; use one of {MODES}")
    before, after = parse_schema(old), parse_schema(new)
    found = [
        f"field {name!r}: type changed from {before[name].type} to {after[name].type}; "
        "add a new field instead"
        for name in sorted(set(before) & set(after))
        if mode != "NONE" and before[name].type != after[name].type
    ]
    if mode in ("BACKWARD", "FULL"):
        found += _backward(before, after)
    if mode in ("FORWARD", "FULL"):
        found += _forward(before, after)
    return found


def _backward(before: dict[str, Field], after: dict[str, Field]) -> list[str]:
    """New readers, old events: what the new schema needs, old events must have or default."""
    return [
        f"field {f.name!r}: BACKWARD broken: new readers require it, old events may lack it, "
        "and it has no default; give it a default"
        for f in after.values()
        if f.required and not f.has_default and not (f.name in before and before[f.name].required)
    ]


def _forward(before: dict[str, Field], after: dict[str, Field]) -> list[str]:
    """Old readers, new events: what old readers need, new events must still carry."""
    return [
        f"field {f.name!r}: FORWARD broken: old readers require it, but new events "
        + ("no longer have it" if f.name not in after else "may leave it out")
        + "; keep it and keep it required"
        for f in before.values()
        if f.required and not f.has_default and (f.name not in after or not after[f.name].required)
    ]


class SchemaRegistry:
    """Versions 1, 2, ... of each event type's schema, each checked against the one before."""

    def __init__(self) -> None:
        self._versions: dict[str, list[dict[str, Any]]] = {}

    def register(
        self, event_type: str, schema: Mapping[str, Any], *, mode: str = "BACKWARD"
    ) -> int:
        """Add the next version if it keeps ``mode`` with the latest; return its number."""
        versions = self._versions.setdefault(event_type, [])
        parse_schema(schema)
        if versions:
            broken = violations(versions[-1], schema, mode)
            if broken:
                raise IncompatibleSchema(
                    f"{event_type} v{len(versions) + 1} is not {mode} compatible with "
                    f"v{len(versions)}: " + "; ".join(broken)
                )
        versions.append(dict(schema))
        return len(versions)

    def check(self, event_type: str, schema: Mapping[str, Any], mode: str) -> list[str]:
        """What registering ``schema`` under ``mode`` would object to (nothing is stored)."""
        return violations(self.schema(event_type, self.latest(event_type)), schema, mode)

    def latest(self, event_type: str) -> int:
        return len(self._versions.get(event_type, []))

    def schema(self, event_type: str, version: int) -> dict[str, Any]:
        versions = self._versions.get(event_type, [])
        if not 1 <= version <= len(versions):
            raise InvalidArgument(
                f"{event_type} has schema versions 1..{len(versions)}, not {version!r}"
            )
        return versions[version - 1]

    def validate(self, event_type: str, version: int, data: Mapping[str, Any]) -> None:
        """Raise ``InvalidEvent`` naming the field if ``data`` does not fit that version."""
        fields = parse_schema(self.schema(event_type, version))
        for f in fields.values():
            if f.name not in data:
                if f.required:
                    raise InvalidEvent(
                        f"{event_type} v{version}: required field {f.name!r} missing"
                    )
                continue
            value = data[f.name]
            if isinstance(value, bool) != (f.type == "boolean") or not isinstance(
                value, JSON_TYPES[f.type]
            ):
                raise InvalidEvent(
                    f"{event_type} v{version}: field {f.name!r} must be a {f.type}, got {value!r}"
                )
        extra = sorted(set(data) - set(fields))
        if extra:
            raise InvalidEvent(f"{event_type} v{version}: unexpected fields {extra}")


def money_event_schemas() -> list[dict[str, Any]]:
    """The bank money events' three payload shapes (see ``evolution.upcasting``), as schemas."""
    return [
        {"properties": {"amt": {"type": "string"}}, "required": ["amt"]},
        {"properties": {"amount": {"type": "string"}}, "required": ["amount"]},
        {"properties": {"amount": {"type": "number"}}, "required": ["amount"]},
    ]
