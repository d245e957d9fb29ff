"""Seeded, vectorized generators of each domain's events (the domains never import them)."""

from types import ModuleType

from eventsim.sim import bank, orders

SIMULATORS: dict[str, ModuleType] = {"bank": bank, "orders": orders}
