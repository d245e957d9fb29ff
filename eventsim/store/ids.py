"""New event ids that sort by the time they were made: UUID version 7 (RFC 9562).

The log's unique index on ``event_id`` is a tree ordered by id. Random ids (version 4)
land all over it, so every append touches pages of the index that no recent append
touched, a cost that grows with the log; ids whose first 48 bits are the time in
milliseconds land next to each other, at the index's newest edge. The remaining 74 bits
are random, so ids made in the same millisecond, by any process, still differ. The time
in an id is a hint for the index, never the event's time: that is ``timestamp``.

>>> first, second = time_ordered_id(), time_ordered_id()
>>> first.version, first.variant == uuid.RFC_4122, first != second
(7, True, True)
"""

from __future__ import annotations

import os
import time
import uuid

_VERSION_7 = 0x7 << 76
_VARIANT = 0x2 << 62
_KEEP = ~((0xF << 76) | (0x3 << 62))  # every bit but the version's and the variant's


def time_ordered_id() -> uuid.UUID:
    """A new UUID version 7: the Unix time in milliseconds, then random bits."""
    milliseconds = time.time_ns() // 1_000_000
    value = (milliseconds << 80) | int.from_bytes(os.urandom(10), "big")
    return uuid.UUID(int=(value & _KEEP) | _VERSION_7 | _VARIANT)
