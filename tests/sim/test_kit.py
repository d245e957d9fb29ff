"""The simulators' shared building blocks."""

from __future__ import annotations

import uuid
import zlib
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventsim import InvalidArgument
from eventsim.sim import bank as bank_sim
from eventsim.sim import kit as simkit
from eventsim.sim import orders as orders_sim


def test_event_ids_depend_only_on_seed_domain_and_position() -> None:
    whole = simkit.event_ids(7, "bank", np.arange(10)).to_pylist()
    parts = (
        simkit.event_ids(7, "bank", np.arange(4)).to_pylist()
        + simkit.event_ids(7, "bank", np.arange(4, 10)).to_pylist()
    )
    assert whole == parts


def test_event_ids_are_version_4_uuids_that_differ_by_seed_and_domain() -> None:
    ids = simkit.event_ids(7, "bank", np.arange(1000)).to_pylist()
    assert {4} == {uuid.UUID(i).version for i in ids}
    assert 1000 == len(set(ids))
    assert ids[0] != simkit.event_ids(8, "bank", np.arange(1)).to_pylist()[0]
    assert ids[0] != simkit.event_ids(7, "orders", np.arange(1)).to_pylist()[0]


def test_money_text_writes_cents_as_a_json_number() -> None:
    assert ["0.01", "12.30", "1000.00"] == simkit.money_text(
        np.array([1, 1230, 100000])
    ).to_pylist()


def test_weekends_are_quieter_and_pay_days_busier() -> None:
    weights = simkit.business_day_weights(datetime(2024, 1, 1, tzinfo=UTC), 31)
    monday_2nd, saturday_6th, monday_15th = weights[1], weights[5], weights[14]
    assert saturday_6th < monday_2nd < monday_15th


@pytest.mark.parametrize(
    "simulate", [bank_sim.simulate, orders_sim.simulate], ids=["bank", "orders"]
)
@pytest.mark.parametrize("seed", [-1, None, 1.5, True, 2**63])
def test_a_bad_seed_is_refused_naming_it(simulate: object, seed: object) -> None:
    with pytest.raises(InvalidArgument, match="seed") as caught:
        simulate(5, seed=seed)  # type: ignore[operator]
    assert repr(seed) in str(caught.value)


@pytest.mark.parametrize("start", [datetime(2024, 1, 1), "2024-01-01"])
def test_a_naive_or_textual_start_is_refused(start: object) -> None:
    with pytest.raises(InvalidArgument, match="timezone-aware"):
        bank_sim.simulate(5, seed=1, start=start)  # type: ignore[arg-type]


@pytest.mark.parametrize("module", [bank_sim, orders_sim], ids=["bank", "orders"])
def test_simulate_batches_checks_its_arguments_before_any_iteration(module: object) -> None:
    with pytest.raises(InvalidArgument, match="days"):
        module.simulate_batches(5, seed=1, days=0)  # type: ignore[attr-defined]


def plain_event_id(seed: int, domain: str, position: int) -> str:
    """The id of one event, in plain Python: the reference for the vectorized ids."""

    def splitmix64(x: int) -> int:
        mask = 2**64 - 1
        z = (x + 0x9E3779B97F4A7C15) & mask
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    key = splitmix64(seed) ^ zlib.crc32(domain.encode())
    words = splitmix64((2 * position) ^ key), splitmix64((2 * position + 1) ^ key)
    raw = bytearray(b"".join(w.to_bytes(8, "big") for w in words))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


@given(
    seed=st.integers(0, 2**63 - 1),
    domain=st.sampled_from(["bank", "orders"]),
    first=st.integers(0, 2**40),
)
def test_event_ids_are_the_plain_pythons_ids(seed: int, domain: str, first: int) -> None:
    positions = np.arange(first, first + 20)
    expected = [plain_event_id(seed, domain, int(p)) for p in positions]
    assert expected == simkit.event_ids(seed, domain, positions).to_pylist()


@given(
    groups=st.lists(
        st.lists(st.integers(0, 3_000_000_000), min_size=1, max_size=6), min_size=0, max_size=8
    )
)
def test_sorted_within_sorts_each_group_like_a_two_key_sort(groups: list[list[int]]) -> None:
    values = np.array([v for g in groups for v in g], dtype=np.int64)
    group = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    expected = values[np.lexsort((values, group))]
    assert expected.tolist() == simkit.sorted_within(values, group).tolist()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_ordered_map_keeps_the_order_and_computes_at_most_ahead_items_early(
    workers: int,
) -> None:
    started: list[int] = []

    def work(lo: int, hi: int) -> tuple[int, int]:
        started.append(lo)
        return lo, hi

    bounds = list(simkit.chunk_bounds(100, 7))
    with simkit.pool(workers) as pool:
        for i, result in enumerate(simkit.ordered_map(pool, work, bounds, ahead=workers - 1)):
            assert bounds[i] == result
            assert len(started) <= i + workers


@given(st.lists(st.integers(0, 2**31 - 1), max_size=50))
def test_money_text_is_the_same_for_amounts_held_as_int32_or_int64(cents: list[int]) -> None:
    narrow, wide = np.array(cents, dtype=np.int32), np.array(cents, dtype=np.int64)
    assert simkit.money_text(wide).to_pylist() == simkit.money_text(narrow).to_pylist()
    assert [f"{c // 100}.{c % 100:02d}" for c in cents] == simkit.money_text(wide).to_pylist()


def test_money_text_writes_amounts_beyond_32_bits() -> None:
    assert ["21474836.48", "10000000000000.01"] == simkit.money_text(
        np.array([2**31, 10**15 + 1], dtype=np.int64)
    ).to_pylist()
