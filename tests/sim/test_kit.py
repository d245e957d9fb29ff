"""The simulators' shared building blocks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np
import pytest

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
