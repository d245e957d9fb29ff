"""What the broker gets wrong on purpose (``Faults``), and what it counts (``Stats``).

>>> Faults(duplicate_rate=0.1, reorder_window=5, crash_rate=0.05, seed=7).duplicate_rate
0.1
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from eventsim.errors import InvalidArgument


class InvalidFaults(InvalidArgument):
    """A fault setting is out of range."""


@dataclass(frozen=True)
class Faults:
    """What the broker gets wrong on purpose, all drawn from ``seed``.

    ``duplicate_rate``: share of deliveries sent twice. ``reorder_window``: a message may
    overtake up to ``window - 1`` earlier ones of its partition (0 or 1: in order).
    ``delay_rate`` / ``max_delay``: share of messages held back 1..max_delay ticks.
    ``crash_rate``: share of handled messages whose ack is lost (handled, then redelivered).
    """

    duplicate_rate: float = 0.0
    reorder_window: int = 0
    delay_rate: float = 0.0
    max_delay: int = 0
    crash_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("duplicate_rate", "delay_rate", "crash_rate"):
            rate = getattr(self, name)
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate < 1:
                raise InvalidFaults(f"{name} must be a share in [0, 1), got {rate!r}")
        for name in ("reorder_window", "max_delay", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidFaults(f"{name} must be a whole number >= 0, got {value!r}")
        if self.delay_rate and not self.max_delay:
            raise InvalidFaults(f"delay_rate {self.delay_rate} needs max_delay >= 1 (ticks)")


NO_FAULTS = Faults()


@dataclass
class Stats:
    """What the broker did: counts of messages, handler calls and injected faults."""

    published: int = 0  # messages appended to a topic
    delivered: int = 0  # handler calls
    acked: int = 0  # messages whose handler returned and whose ack arrived
    duplicates: int = 0  # extra deliveries injected
    reordered: int = 0  # deliveries that overtook an earlier message of their partition
    delayed: int = 0  # messages held back
    crashes: int = 0  # acks lost after the handler ran
    failures: int = 0  # handler calls that raised
    dead_lettered: int = 0
    replayed: int = 0  # dead letters sent again

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
