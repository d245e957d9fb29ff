"""The checklist's content: the questions, the costs and the best practices.

Pure data, each item linked to the course notebook that demonstrates it;
``eventsim.choosing.patterns`` scores a system's answers against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Pattern(StrEnum):
    """The three patterns, in the order the course names them."""

    EDA = "EDA"
    EVENT_SOURCING = "event sourcing"
    CQRS = "CQRS"


EDA, ES, CQRS = Pattern.EDA, Pattern.EVENT_SOURCING, Pattern.CQRS

COURSE = (
    "00_start_here.ipynb",
    "01_state_vs_events.ipynb",
    "02_event_store.ipynb",
    "03_time_travel.ipynb",
    "04_projections_cqrs.ipynb",
    "05_eventual_consistency.ipynb",
    "06_event_driven_architecture.ipynb",
    "07_idempotency.ipynb",
    "08_sagas.ipynb",
    "09_snapshots.ipynb",
    "10_schema_evolution.ipynb",
    "11_storage_archiving.ipynb",
    "12_audit_trail.ipynb",
    "14_capstone_migration.ipynb",
)
"""The notebooks that reasons, costs and best practices link to (file names)."""


@dataclass(frozen=True)
class Effect:
    """How a "yes" moves one pattern's score, why, and where the course shows it."""

    pattern: Pattern
    weight: int
    why: str
    notebook: str


@dataclass(frozen=True)
class Question:
    """One checklist question, the effects of answering it "yes", and what a "yes" rules out.

    A pattern in ``rules_out`` is never recommended while the answer is "yes", whatever
    its score: no sum of other needs turns simple CRUD into an event-sourced system.
    """

    key: str
    text: str
    effects: tuple[Effect, ...]
    rules_out: frozenset[Pattern] = frozenset()


@dataclass(frozen=True)
class Alternative:
    """The plainer tool that meets a need when the pattern it would call for is not used."""

    question: str
    instead_of: Pattern
    name: str
    text: str
    notebook: str


@dataclass(frozen=True)
class Cost:
    """A cost a pattern brings; ``question`` set means: only when that answer is "yes"."""

    topic: str
    text: str
    notebook: str
    patterns: frozenset[Pattern]
    question: str | None = None


@dataclass(frozen=True)
class BestPractice:
    """A practice the course demonstrates, and the notebook that demonstrates it."""

    text: str
    notebook: str


def _question(
    key: str,
    text: str,
    *effects: tuple[Pattern, int, str, str],
    rules_out: frozenset[Pattern] = frozenset(),
) -> Question:
    return Question(key, text, tuple(Effect(*effect) for effect in effects), rules_out)


N01, N02, N03, N04, N05, N06, N07, N08, N09, N10, N11, N12, N14 = COURSE[1:]

QUESTIONS: dict[str, Question] = {
    q.key: q
    for q in (
        _question(
            "several_consumers",
            "Several services or teams must react to the same facts.",
            (
                EDA,
                2,
                "publish each fact once; new consumers subscribe, the producer is unchanged",
                N06,
            ),
        ),
        _question(
            "decoupled_in_time",
            "Producers must keep working while a consumer is slow, busy or down.",
            (EDA, 2, "a broker keeps the events until the consumer is back", N06),
        ),
        _question(
            "multi_step_process",
            "A business process spans several services and a failed step must be undone.",
            (EDA, 1, "a saga moves on events and undoes failed steps with compensations", N08),
        ),
        _question(
            "event_centric",
            "The business already speaks in events (placed, paid, shipped, returned).",
            (EDA, 1, "the events the business names are natural messages between services", N06),
            (ES, 1, "those events can be the record itself, not a side effect of it", N01),
        ),
        _question(
            "audit_required",
            "An audit trail of who changed what, and when, is required (by law or contract).",
            (ES, 3, "the log of facts is the audit trail and cannot disagree with the state", N12),
        ),
        _question(
            "state_at_time",
            'You must answer "what was the state at time T?"',
            (ES, 2, "fold the events up to T; a state table has forgotten the past", N03),
        ),
        _question(
            "rebuild_from_history",
            "New reports or services will later need everything that ever happened.",
            (ES, 2, "replay the whole log into a new read model at any time", N04),
        ),
        _question(
            "rich_domain",
            "The domain is complex: rich behaviour and rules, not just forms over data.",
            (ES, 1, "events keep the business intent, not just the new values", N01),
            (CQRS, 1, "the write model guards the rules; read models serve the screens", N04),
        ),
        _question(
            "read_heavy",
            "Reads vastly outnumber writes, or must scale separately from them.",
            (CQRS, 2, "denormalized read models scale without touching the write side", N04),
        ),
        _question(
            "many_read_shapes",
            "The same data is read in differently shaped views (dashboards, search, reports).",
            (CQRS, 2, "one projection per view, each shaped for its query", N04),
        ),
        _question(
            "simple_crud",
            "It is simple CRUD: forms over data, few users, reads look like writes.",
            (EDA, -2, "with few components there is little to decouple", N01),
            (ES, -2, "one row per entity answers every question; a log only adds upkeep", N01),
            (CQRS, -2, "one model serves reads and writes alike; a second is only upkeep", N04),
            rules_out=frozenset({ES}),
        ),
        _question(
            "team_new",
            "The team is new to these patterns and must deliver soon.",
            (ES, -1, "versioned events, upcasting and snapshots are skills to learn first", N10),
            (CQRS, -1, "projection lag and rebuilds surprise teams used to one database", N05),
        ),
        _question(
            "strong_consistency",
            "Every read, everywhere, must show the latest write at once.",
            (EDA, -2, "consumers learn of a fact some time after it happened", N05),
            (CQRS, -2, "read models lag behind the write model", N05),
        ),
        _question(
            "high_write_volume",
            "Writes come in at very high volume (sensor readings, clicks).",
            (ES, -1, "a log of every write grows without bound; it must earn its keep", N11),
        ),
    )
}
"""The checklist, by key, in the order it is shown."""

COSTS: tuple[Cost, ...] = (
    Cost(
        "eventual consistency",
        "consumers and read models see a fact a little after it happened; "
        "plan for it with read-your-writes and version stamps",
        N05,
        frozenset({EDA, CQRS}),
    ),
    Cost(
        "duplicate deliveries",
        "brokers deliver at least once: every consumer must be idempotent, "
        "with retries and a dead-letter queue",
        N07,
        frozenset({EDA}),
    ),
    Cost(
        "debugging across services",
        "one request becomes many events in many places; trace it with correlation "
        "and causation ids",
        N12,
        frozenset({EDA}),
    ),
    Cost(
        "schema evolution",
        "events are a contract that outlives the code: old shapes must still be read "
        "(upcasting, a schema registry)",
        N10,
        frozenset({EDA, ES}),
    ),
    Cost(
        "storage growth",
        "the log only grows: plan archiving, retention and erasing personal data",
        N11,
        frozenset({ES}),
    ),
    Cost(
        "replay cost",
        "long streams take longer to load; snapshots cap the work",
        N09,
        frozenset({ES}),
    ),
    Cost(
        "concurrent writers",
        "two writers can decide on the same stale state; append with the expected version",
        N02,
        frozenset({ES}),
    ),
    Cost(
        "rebuildable read models",
        "every read model is code plus a checkpoint; when it is wrong, rebuild it",
        N04,
        frozenset({CQRS}),
    ),
    Cost(
        "no distributed rollback",
        "a failed step is undone by compensating events, not by a rollback",
        N08,
        frozenset({EDA}),
        "multi_step_process",
    ),
    Cost(
        "learning curve",
        "budget time to learn; adopt the smallest combination that meets the needs",
        COURSE[0],
        frozenset(Pattern),
        "team_new",
    ),
    Cost(
        "stale reads where fresh ones are required",
        "keep the paths that must be fresh synchronous: read your writes from the write model",
        N05,
        frozenset({EDA, CQRS}),
        "strong_consistency",
    ),
)
"""What each pattern costs you; a recommendation lists the costs of the patterns it picks."""

BEST_PRACTICES: tuple[BestPractice, ...] = (
    BestPractice("Start with EDA alone; add event sourcing or CQRS for a concrete need.", N06),
    BestPractice("Name events as past-tense business facts, not as field updates.", N01),
    BestPractice("Guard each stream's invariants with optimistic concurrency.", N02),
    BestPractice("Make every projection rebuildable from the log, with a checkpoint.", N04),
    BestPractice("Watch projection lag; read your own writes where freshness matters.", N05),
    BestPractice("Make every consumer idempotent: delivery is at least once.", N07),
    BestPractice("Undo across services with compensating events, not rollbacks.", N08),
    BestPractice("Snapshot long-lived streams so loading one stays cheap.", N09),
    BestPractice("Version events from the first one; upcast old shapes on read.", N10),
    BestPractice("Plan retention and archiving; keep personal data erasable.", N11),
    BestPractice("Carry correlation and causation ids so any flow can be traced.", N12),
    BestPractice(
        "Migrate to event sourcing with genesis events, both models side by side until they agree.",
        N14,
    ),
)
"""The course's best practices, each with the notebook that demonstrates it."""

ALTERNATIVES: tuple[Alternative, ...] = (
    Alternative(
        "audit_required",
        ES,
        "an audit log (or CDC)",
        "write who changed what, and when, to an append-only history table in the same "
        "transaction as each change, or capture the changes from the database's own log (CDC)",
        N12,
    ),
    Alternative(
        "state_at_time",
        ES,
        "a history table",
        "keep every version of a row with the time it became valid, and query it as of T",
        N03,
    ),
    Alternative(
        "read_heavy",
        CQRS,
        "a cache or a read replica",
        "serve repeated reads from a cache or a replica of the one database",
        N04,
    ),
)
"""What to use for a need when the pattern it pushes toward is not recommended."""
