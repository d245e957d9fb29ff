"""Choosing a pattern: a yes/no checklist about a system, scored into EDA, ES and CQRS.

Each pattern answers a different question, so each is scored on its own: every "yes" adds
the weights of its effects (positive pushes toward a pattern, negative away), and a pattern
is recommended when its score is above zero and no "yes" rules it out (simple CRUD rules
out event sourcing). With nothing ticked the answer is plain CRUD: each pattern has to be
earned by a concrete need. A need whose pattern is not recommended gets the plainer tool
that meets it (an audit duty without event sourcing: an audit log or CDC). Every reason
and every cost links to the course notebook that demonstrates it (the checklist itself is
in ``eventsim.choosing.checklist``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import product

import pandas as pd

from eventsim.choosing.checklist import (
    ALTERNATIVES,
    BEST_PRACTICES,
    COSTS,
    COURSE,
    CQRS,
    EDA,
    ES,
    QUESTIONS,
    Alternative,
    BestPractice,
    Cost,
    Effect,
    Pattern,
    Question,
)
from eventsim.errors import InvalidArgument

__all__ = [
    "ALTERNATIVES",
    "BEST_PRACTICES",
    "COSTS",
    "COURSE",
    "CQRS",
    "EDA",
    "ES",
    "QUESTIONS",
    "Alternative",
    "BestPractice",
    "Cost",
    "Effect",
    "Pattern",
    "Question",
    "Reason",
    "Recommendation",
    "checklist",
    "every_checklist",
    "explain",
    "recommend",
    "ruled_out_by",
    "weights",
]


@dataclass(frozen=True)
class Reason:
    """A "yes" answer that pushed one pattern's score up (weight > 0) or down (< 0)."""

    question: str
    pattern: Pattern
    weight: int
    why: str
    notebook: str


@dataclass(frozen=True)
class Recommendation:
    """The patterns to use, each pattern's score, the reasons, the costs taken on, and the
    plainer tools that meet the needs the chosen patterns leave open."""

    patterns: frozenset[Pattern]
    scores: dict[Pattern, int]
    reasons: tuple[Reason, ...]
    warnings: tuple[Cost, ...]
    alternatives: tuple[Alternative, ...] = ()
    ruled_out: frozenset[Pattern] = frozenset()

    @property
    def verdict(self) -> str:
        """The recommendation in words, e.g. "EDA + CQRS" or "plain CRUD (none of the three)"."""
        chosen = [pattern.value for pattern in Pattern if pattern in self.patterns]
        if not chosen:
            words = "plain CRUD (none of the three)"
        elif len(chosen) == 1:
            words = f"{chosen[0]} alone"
        elif len(chosen) == len(Pattern):
            words = "all three: " + " + ".join(chosen)
        else:
            words = " + ".join(chosen)
        extras = " and ".join(alternative.name for alternative in self.alternatives)
        return f"{words}, with {extras}" if extras else words


def _valid_keys() -> str:
    return ", ".join(QUESTIONS)


def _check(answers: Mapping[str, bool]) -> None:
    if not isinstance(answers, Mapping):
        raise InvalidArgument(
            f"answers must be a mapping of question key to True/False, got {answers!r}; "
            "build one with patterns.checklist(...)"
        )
    for key, value in answers.items():
        if key not in QUESTIONS:
            raise InvalidArgument(
                f"unknown question {key!r}; check the spelling, the questions are: {_valid_keys()}"
            )
        if not isinstance(value, bool):
            raise InvalidArgument(f"the answer to {key!r} must be True or False, got {value!r}")


def checklist(*yes: str) -> dict[str, bool]:
    """Every question answered: True for the keys given, False for the rest.

    >>> [key for key, answer in checklist("audit_required").items() if answer]
    ['audit_required']
    """
    for key in yes:
        _check({key: True})
    return {key: key in yes for key in QUESTIONS}


def recommend(answers: Mapping[str, bool]) -> Recommendation:
    """The patterns a system's answers call for, with reasons and costs; missing = "no".

    >>> recommend(checklist("several_consumers", "audit_required")).verdict
    'EDA + event sourcing'
    """
    _check(answers)
    reasons = tuple(
        Reason(question.key, effect.pattern, effect.weight, effect.why, effect.notebook)
        for pattern in Pattern
        for question in QUESTIONS.values()
        if answers.get(question.key, False)
        for effect in question.effects
        if effect.pattern is pattern
    )
    scores = {p: sum(r.weight for r in reasons if r.pattern is p) for p in Pattern}
    ruled_out = {p for key, q in QUESTIONS.items() if answers.get(key, False) for p in q.rules_out}
    chosen = frozenset(p for p, score in scores.items() if score > 0 and p not in ruled_out)
    warnings = tuple(
        cost
        for cost in COSTS
        if cost.patterns & chosen and (cost.question is None or answers.get(cost.question))
    )
    alternatives = tuple(
        alt
        for alt in ALTERNATIVES
        if answers.get(alt.question, False) and alt.instead_of not in chosen
    )
    return Recommendation(chosen, scores, reasons, warnings, alternatives, frozenset(ruled_out))


def ruled_out_by(pattern: Pattern) -> str:
    """The questions whose "yes" rules the pattern out, joined with "or"."""
    return " or ".join(key for key, q in QUESTIONS.items() if pattern in q.rules_out)


def explain(rec: Recommendation) -> str:
    """The recommendation as text: verdict, scores, reasons and costs with their notebooks."""
    scores = ", ".join(f"{pattern.value} {rec.scores[pattern]:+d}" for pattern in Pattern)
    lines = [f"Recommendation: {rec.verdict}", f"  scores: {scores} (above 0 = use it)"]
    lines += [f"  {p.value} is ruled out by a yes to {ruled_out_by(p)}" for p in rec.ruled_out]
    lines.append("Why:" if rec.reasons else "Why: no answer calls for any of the three")
    lines += [
        f"  {r.pattern.value} {r.weight:+d} ({r.question}): {r.why}  -> {r.notebook}"
        for r in rec.reasons
    ]
    if rec.warnings:
        lines.append("Costs you take on:")
        lines += [f"  {c.topic}: {c.text}  -> {c.notebook}" for c in rec.warnings]
    if rec.alternatives:
        lines.append("Instead of a pattern:")
        lines += [
            f"  {a.name} ({a.question}, not {a.instead_of.value}): {a.text}  -> {a.notebook}"
            for a in rec.alternatives
        ]
    return "\n".join(lines)


def weights() -> pd.DataFrame:
    """Each question's push on each pattern: one row per question, one column per pattern."""
    rows = {
        key: {p.value: sum(e.weight for e in q.effects if e.pattern is p) for p in Pattern}
        for key, q in QUESTIONS.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("question")


def every_checklist() -> Iterator[dict[str, bool]]:
    """Every possible set of answers (2 ** number of questions), all "no" first."""
    for answers in product((False, True), repeat=len(QUESTIONS)):
        yield dict(zip(QUESTIONS, answers, strict=True))
