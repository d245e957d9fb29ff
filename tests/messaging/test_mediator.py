"""The orders flow in the broker topology and in the mediator topology."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim.messaging.bus import Broker
from eventsim.messaging.mediator import (
    Choreography,
    Services,
    coupling,
    mediated,
    order_placed,
    producer_latency,
    traffic,
)


def place(n: int, publish: object) -> None:
    for i in range(n):
        publish(order_placed(f"order-{i}", {"SKU-001": 2}, customer_id=f"c-{i}"))  # type: ignore[operator]


def test_choreography_runs_each_step_once_per_order() -> None:
    broker = Broker()
    flow = Choreography(broker, Services(stock={"SKU-001": 100}))
    place(4, flow.place)
    broker.run()
    assert {"payment": 4, "inventory": 4, "shipping": 4} == flow.services.calls
    assert 16 == broker.stats.published  # OrderPlaced + three results per order


def test_the_mediator_runs_the_same_steps_and_records_outcomes() -> None:
    broker = Broker()
    services = Services(stock={"SKU-001": 100}, declined={"c-1"})
    mediator = mediated(broker, services)
    place(3, lambda event: broker.publish("orders", event))
    broker.run()
    expected = {"order-0": "completed", "order-1": "failed: PaymentFailed", "order-2": "completed"}
    assert expected == mediator.outcomes
    assert {"payment": 3, "inventory": 2, "shipping": 2} == services.calls


def test_a_redelivered_order_resumes_where_the_mediator_stopped() -> None:
    broker = Broker(max_attempts=2)
    services = Services(stock={"SKU-001": 100}, down={"inventory"})
    mediator = mediated(broker, services)
    place(2, lambda event: broker.publish("orders", event))
    broker.run()
    assert {"payment": 2, "inventory": 0, "shipping": 0} == services.calls
    services.down.clear()
    broker.replay_dead_letters()
    broker.run()
    assert {"payment": 2, "inventory": 2, "shipping": 2} == services.calls
    assert {"completed"} == set(mediator.outcomes.values())


def test_out_of_stock_stops_the_flow_in_both_topologies() -> None:
    broker = Broker()
    flow = Choreography(broker, Services(stock={"SKU-001": 3}))
    place(2, flow.place)
    broker.run()
    assert 1 == flow.services.calls["shipping"]


def test_only_the_mediator_knows_other_components() -> None:
    broker = Broker()
    Choreography(broker, Services(stock={}))
    assert 0 == coupling(broker)["components it knows"].sum()
    other = Broker()
    mediator = mediated(other, Services(stock={}))
    table = coupling(other, mediator).set_index("component")["components it knows"]
    assert {"mediator": 3} == {k: v for k, v in table.items() if v}


def test_the_producer_waits_for_the_sum_when_calling_and_not_at_all_when_publishing() -> None:
    table = producer_latency([2, 7, 1])
    assert [2, 9, 10] == list(table["waiting"])
    assert [0, 0, 0] == list(table["publishing"])
    assert list(table["waiting"]) == list(table["done here"])  # one handler at a time
    assert [2, 7, 7] == list(table["done in parallel"])


def test_traffic_counts_hops_as_transfers_between_components() -> None:
    broker = Broker()
    flow = Choreography(broker, Services(stock={"SKU-001": 100}))
    place(2, flow.place)
    stats = broker.run()
    table = traffic({"broker": (stats, 0)})
    assert [8, 6, 0, 14] == table["broker"].tolist()


@settings(max_examples=30, deadline=None)
@given(declined=st.sets(st.integers(0, 9)), stock=st.integers(0, 20))
def test_both_topologies_reach_the_same_steps_for_any_declines_and_stock(
    declined: set[int], stock: int
) -> None:
    customers = {f"c-{i}" for i in declined}
    choreographed, orchestrated = Broker(), Broker()
    flow = Choreography(choreographed, Services(stock={"SKU-001": stock}, declined=customers))
    services = Services(stock={"SKU-001": stock}, declined=customers)
    mediated(orchestrated, services)
    place(10, flow.place)
    place(10, lambda event: orchestrated.publish("orders", event))
    choreographed.run()
    orchestrated.run()
    paid = 10 - len(declined)
    reserved = min(paid, stock // 2)
    expected = {"payment": 10, "inventory": paid, "shipping": reserved}
    assert expected == flow.services.calls == services.calls
