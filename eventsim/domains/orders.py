"""E-commerce orders: the fulfilment saga as one event-sourced order, its twin, a simulator.

An order moves forward: placed, paid, stock reserved, shipment created, shipped,
delivered. When a step fails, the saga compensates in reverse: cancel the shipment,
release the stock, refund the payment, cancel the order. Rules: nothing happens to a
cancelled or delivered order; a payment is exactly the order's total; each step needs
the one before it; an order is cancelled only once no money is kept and no stock is held.

>>> lines = (LineItem("SKU-001", 2, Decimal("24.90")),)
>>> state = INITIAL_STATE
>>> for command in [PlaceOrder("customer-0001", lines), ChargePayment(Decimal("49.80"))]:
...     for event in decide(state, command):
...         state = evolve(state, event)
>>> state.status, state.paid, state.version
('paid', Decimal('49.80'), 2)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from eventsim.errors import DomainError, InvalidEvent, shown
from eventsim.events import DomainEvent, Parser, parse_money

Money = Decimal  # the annotation "Money" makes DomainEvent.from_data parse an exact amount
LINE_KEYS = ("quantity", "sku", "unit_price")


@dataclass(frozen=True)
class LineItem:
    """One line of an order: how many of a product, at what price each."""

    sku: str
    quantity: int
    unit_price: Money


LineItems = tuple[LineItem, ...]


def parse_items(name: str, value: object) -> LineItems:
    """Order lines from JSON: a non-empty list of ``{sku, quantity, unit_price}``.

    >>> parse_items("items", [{"sku": "SKU-003", "quantity": 1, "unit_price": 12.5}])
    (LineItem(sku='SKU-003', quantity=1, unit_price=Decimal('12.5')),)
    """
    if not isinstance(value, list | tuple) or not value:
        raise InvalidEvent(f"field {name!r} must be a non-empty list of order lines, got {value!r}")
    lines = []
    for i, line in enumerate(value):
        where = f"{name}[{i}]"
        if not isinstance(line, Mapping) or sorted(line) != sorted(LINE_KEYS):
            raise InvalidEvent(
                f"{where} must be an object with exactly the keys {LINE_KEYS}, got {line!r}"
            )
        sku, quantity = line["sku"], line["quantity"]
        if not isinstance(sku, str) or not sku.strip():
            raise InvalidEvent(f"{where}.sku must be a non-empty string, got {sku!r}")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise InvalidEvent(f"{where}.quantity must be a whole number >= 1, got {quantity!r}")
        price = parse_money(f"{where}.unit_price", line["unit_price"])
        lines.append(LineItem(sku, quantity, price))
    skus = [line.sku for line in lines]
    if len(set(skus)) < len(skus):
        raise InvalidEvent(f"field {name!r} lists a SKU twice in {skus}; merge those lines")
    return tuple(lines)


def line_total(items: LineItems) -> Decimal:
    return sum((line.quantity * line.unit_price for line in items), Decimal(0))


# -- events (past tense) ---------------------------------------------------------------
class OrderEvent(DomainEvent):
    """Base of the order events: teaches ``from_data`` to parse order lines."""

    FIELD_PARSERS: ClassVar[Mapping[str, Parser]] = {"LineItems": parse_items}


@dataclass(frozen=True)
class OrderPlaced(OrderEvent):
    customer_id: str
    items: LineItems
    total: Money

    def __post_init__(self) -> None:
        # Checked here, not only in decide: a stored or loaded event must be consistent too.
        if self.total != line_total(self.items):
            raise InvalidEvent(
                f"OrderPlaced total {self.total} is not the sum of its lines, "
                f"{line_total(self.items)}; fix the total or the lines"
            )


@dataclass(frozen=True)
class PaymentCharged(OrderEvent):
    amount: Money
    method: str


@dataclass(frozen=True)
class PaymentFailed(OrderEvent):
    reason: str


@dataclass(frozen=True)
class InventoryReserved(OrderEvent):
    warehouse: str


@dataclass(frozen=True)
class InventoryReservationFailed(OrderEvent):
    sku: str  # the line that is out of stock


@dataclass(frozen=True)
class ShipmentCreated(OrderEvent):
    carrier: str


@dataclass(frozen=True)
class ShipmentFailed(OrderEvent):
    carrier: str
    reason: str


@dataclass(frozen=True)
class OrderShipped(OrderEvent):
    tracking_number: str


@dataclass(frozen=True)
class OrderDelivered(OrderEvent):
    pass


@dataclass(frozen=True)
class ShipmentCancelled(OrderEvent):
    reason: str


@dataclass(frozen=True)
class InventoryReleased(OrderEvent):
    warehouse: str


@dataclass(frozen=True)
class PaymentRefunded(OrderEvent):
    amount: Money


@dataclass(frozen=True)
class OrderCancelled(OrderEvent):
    reason: str


# The status each event leaves the order in: the saga's stage, as a learner would say it.
STATUS_AFTER: dict[type[OrderEvent], str] = {
    OrderPlaced: "placed",
    PaymentCharged: "paid",
    PaymentFailed: "payment_failed",
    InventoryReserved: "reserved",
    InventoryReservationFailed: "out_of_stock",
    ShipmentCreated: "shipment_created",
    ShipmentFailed: "shipment_failed",
    OrderShipped: "shipped",
    OrderDelivered: "delivered",
    ShipmentCancelled: "compensating",
    InventoryReleased: "compensating",
    PaymentRefunded: "compensating",
    OrderCancelled: "cancelled",
}
EVENT_TYPES: dict[str, type[DomainEvent]] = {cls.__name__: cls for cls in STATUS_AFTER}


# -- commands (imperative) -------------------------------------------------------------
@dataclass(frozen=True)
class PlaceOrder:
    customer_id: str
    items: LineItems


@dataclass(frozen=True)
class ChargePayment:
    amount: Decimal
    method: str = "card"


@dataclass(frozen=True)
class DeclinePayment:
    reason: str = "card declined"


@dataclass(frozen=True)
class ReserveInventory:
    warehouse: str = "AMS-1"


@dataclass(frozen=True)
class ReportOutOfStock:
    sku: str


@dataclass(frozen=True)
class CreateShipment:
    carrier: str


@dataclass(frozen=True)
class RejectShipment:
    carrier: str
    reason: str = "carrier rejected the parcel"


@dataclass(frozen=True)
class ShipOrder:
    tracking_number: str


@dataclass(frozen=True)
class DeliverOrder:
    pass


@dataclass(frozen=True)
class CancelShipment:
    reason: str = "customer request"


@dataclass(frozen=True)
class ReleaseInventory:
    pass


@dataclass(frozen=True)
class RefundPayment:
    amount: Decimal


@dataclass(frozen=True)
class CancelOrder:
    reason: str = "customer request"


Command = (
    PlaceOrder
    | ChargePayment
    | DeclinePayment
    | ReserveInventory
    | ReportOutOfStock
    | CreateShipment
    | RejectShipment
    | ShipOrder
    | DeliverOrder
    | CancelShipment
    | ReleaseInventory
    | RefundPayment
    | CancelOrder
)


# -- errors ----------------------------------------------------------------------------
class OrderError(DomainError):
    """A command breaks a rule of the orders domain."""


class InvalidOrder(OrderError):
    """A command's values are malformed: bad lines, empty text, a SKU not on the order."""


class StepNotAllowed(OrderError):
    """The order's status does not allow this step (too early, too late, or finished)."""


class WrongAmount(OrderError):
    """A payment that is not the total, or a refund of more than is kept."""


class CompensationPending(OrderError):
    """Money or stock is still held: compensate (release, refund) before this step."""


# -- state -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Order:
    """What the order looks like after ``version`` events."""

    customer_id: str | None = None
    items: LineItems = ()
    total: Decimal = Decimal(0)
    status: str = "new"
    paid: Decimal = Decimal(0)  # money kept: charged minus refunded
    warehouse: str | None = None  # where stock is held for the order; None: none is
    version: int = 0


INITIAL_STATE = Order()


def evolve(state: Order, event: DomainEvent) -> Order:
    """Apply one event; pure, and trusts the event (the rules ran in ``decide``)."""
    if not isinstance(event, OrderEvent) or type(event) not in STATUS_AFTER:
        raise InvalidEvent(f"the orders domain cannot apply {type(event).__name__}: {event!r}")
    # The new state is built once, field by field (``dataclasses.replace`` twice cost 3x).
    customer_id, items, total = state.customer_id, state.items, state.total
    paid, warehouse = state.paid, state.warehouse
    match event:
        case OrderPlaced(customer_id=customer_id, items=items, total=total):
            pass
        case PaymentCharged(amount=amount):
            paid = paid + amount
        case PaymentRefunded(amount=amount):
            paid = paid - amount
        case InventoryReserved(warehouse=warehouse):
            pass
        case InventoryReleased():
            warehouse = None
    return Order(
        customer_id, items, total, STATUS_AFTER[type(event)], paid, warehouse, state.version + 1
    )


# The saga as a state machine: the statuses each command may start from. Compensating
# steps may start from any open status except an active shipment (cancel that first).
_PAYABLE = {"placed", "payment_failed"}
_RESERVABLE = {"paid", "out_of_stock"}
_SHIPPABLE = {"reserved", "shipment_failed"}
_COMPENSABLE = _PAYABLE | _RESERVABLE | _SHIPPABLE | {"compensating"}
ALLOWED_FROM: dict[type, set[str]] = {
    PlaceOrder: {"new"},
    ChargePayment: _PAYABLE,
    DeclinePayment: _PAYABLE,
    ReserveInventory: _RESERVABLE,
    ReportOutOfStock: _RESERVABLE,
    CreateShipment: _SHIPPABLE,
    RejectShipment: _SHIPPABLE,
    ShipOrder: {"shipment_created"},
    DeliverOrder: {"shipped"},
    CancelShipment: {"shipment_created"},
    ReleaseInventory: _COMPENSABLE,
    RefundPayment: _COMPENSABLE,
    CancelOrder: _COMPENSABLE,
}
# The event each command produces when its rules hold (decide builds it).
EVENT_OF: dict[type, type[OrderEvent]] = {
    PlaceOrder: OrderPlaced,
    ChargePayment: PaymentCharged,
    DeclinePayment: PaymentFailed,
    ReserveInventory: InventoryReserved,
    ReportOutOfStock: InventoryReservationFailed,
    CreateShipment: ShipmentCreated,
    RejectShipment: ShipmentFailed,
    ShipOrder: OrderShipped,
    DeliverOrder: OrderDelivered,
    CancelShipment: ShipmentCancelled,
    ReleaseInventory: InventoryReleased,
    RefundPayment: PaymentRefunded,
    CancelOrder: OrderCancelled,
}


def _amount(amount: object) -> Decimal:
    try:
        return parse_money("amount", amount)
    except InvalidEvent as exc:
        raise WrongAmount(str(exc)) from None


def _lines(items: object) -> LineItems:
    if not isinstance(items, tuple | list) or not items:
        raise InvalidOrder(f"items must be a non-empty tuple of LineItem, got {items!r}")
    if not all(isinstance(line, LineItem) for line in items):
        raise InvalidOrder(f"items must be a non-empty tuple of LineItem, got {items!r}")
    try:
        return parse_items("items", [dataclasses.asdict(line) for line in items])
    except InvalidEvent as exc:
        raise InvalidOrder(str(exc)) from None


def check(state: Order, command: Command) -> None:
    """The domain's rules for ``command`` in ``state``; raise an ``OrderError`` if one breaks."""
    name = type(command).__name__
    if type(command) not in ALLOWED_FROM:
        raise OrderError(f"the orders domain has no command {shown(command)}")
    if state.status in ("cancelled", "delivered"):
        raise StepNotAllowed(
            f"cannot {name}: the order is {state.status!r}; "
            "nothing happens to a cancelled or delivered order"
        )
    if state.status not in ALLOWED_FROM[type(command)]:
        allowed = " or ".join(repr(s) for s in sorted(ALLOWED_FROM[type(command)]))
        raise StepNotAllowed(
            f"cannot {name}: the order is {state.status!r}; {name} needs it to be {allowed}"
        )
    for field in dataclasses.fields(command):
        value = getattr(command, field.name)
        if field.type == "str" and (not isinstance(value, str) or not value.strip()):
            raise InvalidOrder(f"{name}.{field.name} must be non-empty text, got {shown(value)}")
    match command:
        case PlaceOrder(items=items):
            _lines(items)
        case ChargePayment(amount=amount) if _amount(amount) != state.total:
            raise WrongAmount(
                f"cannot charge {amount}: the order total is {state.total}; "
                "charge exactly the total"
            )
        case ReportOutOfStock(sku=sku) if sku not in [line.sku for line in state.items]:
            raise InvalidOrder(
                f"cannot report {sku!r} out of stock: the order has only "
                f"{[line.sku for line in state.items]}"
            )
        case ReleaseInventory() if state.warehouse is None:
            raise StepNotAllowed(
                f"cannot release stock: none is held (the order is {state.status!r})"
            )
        case RefundPayment() if state.warehouse is not None:
            raise CompensationPending(
                f"cannot refund while stock is held in "
                f"{state.warehouse!r}: release the inventory first"
            )
        case RefundPayment(amount=amount) if _amount(amount) > state.paid:
            raise WrongAmount(f"cannot refund {amount}: only {state.paid} is kept")
        case CancelOrder() if state.warehouse is not None:
            raise CompensationPending(
                f"cannot cancel while stock is held in {state.warehouse!r}: release it, then refund"
            )
        case CancelOrder() if state.paid:
            raise CompensationPending(f"cannot cancel while {state.paid} is kept: refund it first")


def decide(state: Order, command: Command) -> list[DomainEvent]:
    """The events ``command`` produces, or an ``OrderError`` if a rule forbids it."""
    if not isinstance(state, Order):
        raise OrderError(
            f"the state must be an Order, got {shown(state)}; start from INITIAL_STATE"
        )
    check(state, command)
    match command:
        case PlaceOrder(customer_id=customer_id, items=items):
            lines = _lines(items)
            return [OrderPlaced(customer_id, lines, line_total(lines))]
        case ChargePayment(amount=amount, method=method):
            return [PaymentCharged(_amount(amount), method)]
        case DeclinePayment(reason=reason):
            return [PaymentFailed(reason)]
        case ReserveInventory(warehouse=warehouse):
            return [InventoryReserved(warehouse)]
        case ReportOutOfStock(sku=sku):
            return [InventoryReservationFailed(sku)]
        case CreateShipment(carrier=carrier):
            return [ShipmentCreated(carrier)]
        case RejectShipment(carrier=carrier, reason=reason):
            return [ShipmentFailed(carrier, reason)]
        case ShipOrder(tracking_number=tracking_number):
            return [OrderShipped(tracking_number)]
        case DeliverOrder():
            return [OrderDelivered()]
        case CancelShipment(reason=reason):
            return [ShipmentCancelled(reason)]
        case ReleaseInventory():
            return [InventoryReleased(str(state.warehouse))]
        case RefundPayment(amount=amount):
            return [PaymentRefunded(_amount(amount))]
        case CancelOrder(reason=reason):
            return [OrderCancelled(reason)]
    raise OrderError(f"the orders domain has no command {command!r}")


# A row of the twin's table before the order exists: the state's fields, minus version.
EMPTY_ROW: dict[str, Any] = {
    f.name: getattr(INITIAL_STATE, f.name) for f in dataclasses.fields(Order) if f.name != "version"
}


class OrdersTable:
    """The state-based twin: one row per order, overwritten in place, no history.

    The same rules as ``decide``; the difference is what is kept. After a refund the row
    says ``paid = 0``, and nothing says that money was ever charged, or why it went back.
    """

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def handle(self, order_id: str, command: Command) -> None:
        row = dict(self.rows.get(order_id, EMPTY_ROW))
        check(Order(**row), command)
        # The status a command leaves: the one its event would (one map, STATUS_AFTER).
        row["status"] = STATUS_AFTER[EVENT_OF[type(command)]]
        match command:
            case PlaceOrder(customer_id=customer_id, items=items):
                lines = _lines(items)
                row.update(customer_id=customer_id, items=lines, total=line_total(lines))
            case ChargePayment(amount=amount):
                row["paid"] += _amount(amount)
            case RefundPayment(amount=amount):
                row["paid"] -= _amount(amount)
            case ReserveInventory(warehouse=warehouse):
                row["warehouse"] = warehouse
            case ReleaseInventory():
                row["warehouse"] = None
        self.rows[order_id] = row
