"""New event ids are UUID version 7: unique, and ordered by the millisecond they were made."""

from __future__ import annotations

import time
import uuid

from eventsim import EventStore, NewEvent
from eventsim.store.ids import time_ordered_id


def test_an_id_is_a_version_7_uuid_whose_first_48_bits_are_the_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    made = time_ordered_id()
    after = time.time_ns() // 1_000_000
    assert (7, uuid.RFC_4122) == (made.version, made.variant)
    assert before <= made.int >> 80 <= after


def test_ids_are_unique_and_ids_from_a_later_millisecond_sort_after_earlier_ones() -> None:
    early = [time_ordered_id() for _ in range(50_000)]
    time.sleep(0.002)
    late = [time_ordered_id() for _ in range(1_000)]
    assert len(set(early + late)) == len(early) + len(late)
    assert max(early) < min(late)
    assert max(str(i) for i in early) < min(str(i) for i in late)  # as text too


def test_the_store_gives_an_event_without_an_id_a_time_ordered_one() -> None:
    with EventStore() as store:
        store.append("note-1", [NewEvent("AccountOpened", {"owner": "Ada"})], expected_version=0)
        (event,) = store.read_stream("note-1")
    assert 7 == uuid.UUID(str(event.event_id)).version
