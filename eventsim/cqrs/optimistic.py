"""An optimistic UI: the client shows what it expects before the write model has answered.

The screen keeps the last state the write model confirmed, plus the events the client
expects its command to produce. It shows both folded together at once, before the
command is even sent; the write model's answer then settles it. When the command is
rejected (a rule, or a conflicting write by someone else), the screen rolls back, and every
read in between showed a state the order was never in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eventsim.domains import orders
from eventsim.events import DomainEvent


@dataclass
class OptimisticScreen:
    """What one client shows of one order, and every state it showed."""

    confirmed: orders.Order
    pending: tuple[DomainEvent, ...] = ()
    reads: list[orders.Order] = field(default_factory=list)

    def shown(self) -> orders.Order:
        state = self.confirmed
        for event in self.pending:
            state = orders.evolve(state, event)
        return state

    def expect(self, command: orders.Command) -> list[DomainEvent]:
        """Apply the command's events to the screen now, before it is sent; return them."""
        events = orders.decide(self.shown(), command)  # the client's copy of the rules
        self.pending = (*self.pending, *events)
        return events

    def read(self) -> orders.Order:
        """The user looks at the screen."""
        self.reads.append(self.shown())
        return self.reads[-1]

    def settle(self, truth: orders.Order) -> bool:
        """The write model answered: show its state; return True if the screen rolled back."""
        rolled_back = self.shown() != truth
        self.confirmed, self.pending = truth, ()
        return rolled_back


def phantom_reads(reads: list[orders.Order], real_states: list[orders.Order]) -> int:
    """How many reads showed a state that is not one the order really went through."""
    return sum(read not in real_states for read in reads)
