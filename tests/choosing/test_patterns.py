"""The pattern checklist: realistic systems, the theory's invariants, links, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventsim import InvalidArgument
from eventsim.choosing import patterns
from eventsim.choosing.patterns import CQRS, EDA, ES, Pattern

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
KEYS = list(patterns.QUESTIONS)

answer_sets = st.fixed_dictionaries({key: st.booleans() for key in KEYS})
questions = st.sampled_from(KEYS)


def chosen(*yes: str) -> frozenset[Pattern]:
    return patterns.recommend(patterns.checklist(*yes)).patterns


def push(question: str, pattern: Pattern) -> int:
    """The question's total weight on the pattern: > 0 toward it, < 0 away, 0 no effect."""
    return sum(e.weight for e in patterns.QUESTIONS[question].effects if e.pattern is pattern)


# -- realistic systems -----------------------------------------------------------------------
def test_with_nothing_ticked_the_answer_is_plain_crud_with_nothing_to_pay() -> None:
    rec = patterns.recommend({})

    assert frozenset() == rec.patterns
    assert "plain CRUD (none of the three)" == rec.verdict
    assert () == rec.reasons
    assert () == rec.warnings


def test_a_bank_ledger_with_an_audit_duty_uses_all_three() -> None:
    rec = patterns.recommend(
        patterns.checklist(
            "audit_required", "state_at_time", "rich_domain", "several_consumers", "read_heavy"
        )
    )

    assert "all three: EDA + event sourcing + CQRS" == rec.verdict
    assert {EDA: 2, ES: 6, CQRS: 3} == rec.scores


def test_a_blog_stays_plain_crud_with_a_cache_even_though_reads_outnumber_writes() -> None:
    rec = patterns.recommend(patterns.checklist("simple_crud", "read_heavy"))

    assert frozenset() == rec.patterns
    assert "plain CRUD (none of the three), with a cache or a read replica" == rec.verdict


def test_a_blog_with_an_audit_duty_gets_an_audit_log_not_event_sourcing() -> None:
    rec = patterns.recommend(patterns.checklist("simple_crud", "read_heavy", "audit_required"))

    assert frozenset() == rec.patterns
    assert rec.scores[ES] > 0  # the audit duty outweighs the push away; the rule still holds
    assert frozenset({ES}) == rec.ruled_out
    assert ["an audit log (or CDC)", "a cache or a read replica"] == [
        a.name for a in rec.alternatives
    ]


def test_simple_crud_with_every_history_need_still_keeps_one_model() -> None:
    rec = patterns.recommend(
        patterns.checklist("simple_crud", "audit_required", "state_at_time", "rebuild_from_history")
    )

    assert ES not in rec.patterns
    assert {"audit_required", "state_at_time"} == {a.question for a in rec.alternatives}


def test_an_order_pipeline_without_an_audit_duty_uses_eda_and_cqrs() -> None:
    yes = ("several_consumers", "decoupled_in_time", "multi_step_process", "many_read_shapes")

    assert frozenset({EDA, CQRS}) == chosen(*yes)


def test_a_telemetry_feed_uses_eda_alone() -> None:
    assert frozenset({EDA}) == chosen("decoupled_in_time", "several_consumers", "high_write_volume")


def test_an_internal_admin_tool_for_a_new_team_stays_plain_crud() -> None:
    assert frozenset() == chosen("simple_crud", "team_new", "strong_consistency", "rich_domain")


def test_patient_records_in_one_application_use_event_sourcing_and_cqrs() -> None:
    assert frozenset({ES, CQRS}) == chosen("audit_required", "state_at_time", "many_read_shapes")


def test_the_checklist_can_recommend_each_combination_of_the_three() -> None:
    # A property of the checklist (each pattern has its own reasons), not a proof that the
    # patterns are independent: that argument is in what each one does (notebook 13).
    verdicts = {patterns.recommend(answers).patterns for answers in patterns.every_checklist()}

    assert 2 ** len(Pattern) == len(verdicts)


# -- the theory's invariants -----------------------------------------------------------------
def test_no_question_is_dead_each_changes_the_outcome_in_some_context() -> None:
    contexts = [()] + [(a,) for a in KEYS] + [(a, b) for a in KEYS for b in KEYS if a < b]

    def matters(key: str) -> bool:
        others = (c for c in contexts if key not in c)
        return any(chosen(*context) != chosen(*context, key) for context in others)

    assert [] == [key for key in KEYS if not matters(key)]


def test_an_audit_duty_never_moves_a_system_away_from_event_sourcing() -> None:
    lost = [
        answers
        for answers in patterns.every_checklist()
        if not answers["audit_required"]
        and ES in patterns.recommend(answers).patterns
        and ES not in patterns.recommend(answers | {"audit_required": True}).patterns
    ]

    assert [] == lost


@given(answer_sets, questions)
def test_a_yes_moves_each_pattern_only_in_the_direction_the_question_pushes(
    answers: dict[str, bool], question: str
) -> None:
    before = patterns.recommend(answers | {question: False}).patterns
    after = patterns.recommend(answers | {question: True}).patterns

    for pattern in Pattern:
        if push(question, pattern) > 0:
            assert pattern not in before - after
        elif push(question, pattern) < 0:
            assert pattern not in after - before
        else:
            assert (pattern in before) == (pattern in after)


@given(answer_sets)
def test_simple_crud_never_adds_a_pattern(answers: dict[str, bool]) -> None:
    without = patterns.recommend(answers | {"simple_crud": False}).patterns
    with_crud = patterns.recommend(answers | {"simple_crud": True}).patterns

    assert with_crud <= without


@given(answer_sets)
def test_a_pattern_is_recommended_exactly_when_its_score_is_above_zero(
    answers: dict[str, bool],
) -> None:
    rec = patterns.recommend(answers)

    expected = {p: sum(push(k, p) for k, yes in answers.items() if yes) for p in Pattern}
    ruled_out = {p for k, yes in answers.items() if yes for p in patterns.QUESTIONS[k].rules_out}
    assert expected == rec.scores
    assert frozenset(p for p in Pattern if expected[p] > 0) - ruled_out == rec.patterns


@given(answer_sets)
def test_simple_crud_never_gets_event_sourcing(answers: dict[str, bool]) -> None:
    assert ES not in patterns.recommend(answers | {"simple_crud": True}).patterns


@given(answer_sets)
def test_a_need_gets_its_plainer_tool_exactly_when_its_pattern_is_not_chosen(
    answers: dict[str, bool],
) -> None:
    rec = patterns.recommend(answers)

    expected = [
        a for a in patterns.ALTERNATIVES if answers[a.question] and a.instead_of not in rec.patterns
    ]
    assert expected == list(rec.alternatives)


# -- reasons and costs -----------------------------------------------------------------------
def test_each_yes_gives_one_reason_per_pattern_it_moves_and_a_no_gives_none() -> None:
    rec = patterns.recommend({"rich_domain": True, "audit_required": False})

    expected = [("rich_domain", ES, 1), ("rich_domain", CQRS, 1)]
    assert expected == [(r.question, r.pattern, r.weight) for r in rec.reasons]


def test_reasons_against_a_pattern_are_kept_even_when_it_is_not_chosen() -> None:
    rec = patterns.recommend(patterns.checklist("simple_crud", "read_heavy"))

    assert [("read_heavy", 2), ("simple_crud", -2)] == [
        (r.question, r.weight) for r in rec.reasons if r.pattern is CQRS
    ]


def test_eda_alone_brings_the_costs_of_messaging_but_not_those_of_a_log() -> None:
    rec = patterns.recommend(patterns.checklist("several_consumers"))

    topics = [cost.topic for cost in rec.warnings]
    expected = [
        "eventual consistency",
        "duplicate deliveries",
        "debugging across services",
        "schema evolution",
    ]
    assert expected == topics


def test_event_sourcing_alone_brings_storage_replay_and_concurrency_costs() -> None:
    topics = {cost.topic for cost in patterns.recommend({"audit_required": True}).warnings}

    expected = {"schema evolution", "storage growth", "replay cost", "concurrent writers"}
    assert expected == topics


def test_a_conditional_cost_appears_only_with_its_answer_and_a_pattern_it_concerns() -> None:
    def topics(*yes: str) -> set[str]:
        return {c.topic for c in patterns.recommend(patterns.checklist(*yes)).warnings}

    assert "learning curve" not in topics("several_consumers")
    assert "learning curve" in topics("several_consumers", "team_new")
    assert "learning curve" not in topics("team_new")  # plain CRUD: nothing new to learn
    assert "no distributed rollback" in topics("multi_step_process")
    fresh = "stale reads where fresh ones are required"
    assert fresh in topics("several_consumers", "decoupled_in_time", "strong_consistency")


def test_every_link_points_into_the_course_and_every_notebook_is_linked() -> None:
    effects = [e.notebook for q in patterns.QUESTIONS.values() for e in q.effects]
    costs = [c.notebook for c in patterns.COSTS]
    practices = [p.notebook for p in patterns.BEST_PRACTICES]
    linked = set(effects + costs + practices)

    assert linked <= set(patterns.COURSE)
    assert set(patterns.COURSE) == linked
    written = {path.name for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    assert {"00_start_here.ipynb", "03_time_travel.ipynb"} <= written & set(patterns.COURSE)


def test_the_explanation_names_the_verdict_every_reason_and_every_cost() -> None:
    rec = patterns.recommend(patterns.checklist("several_consumers", "team_new"))

    text = patterns.explain(rec)

    assert text.startswith("Recommendation: EDA alone\n  scores: EDA +2, event sourcing -1")
    for item in (*rec.reasons, *rec.warnings):
        assert item.notebook in text
    assert len(rec.reasons) + len(rec.warnings) + 4 == len(text.splitlines())


def test_the_explanation_names_what_is_ruled_out_and_the_plainer_tools() -> None:
    rec = patterns.recommend(patterns.checklist("simple_crud", "audit_required"))

    text = patterns.explain(rec)

    assert "event sourcing is ruled out by a yes to simple_crud" in text
    assert "Instead of a pattern:\n  an audit log (or CDC) (audit_required, not event" in text
    assert rec.alternatives[0].notebook in text


def test_the_explanation_of_plain_crud_says_no_answer_calls_for_a_pattern() -> None:
    text = patterns.explain(patterns.recommend({}))

    assert "Why: no answer calls for any of the three" in text
    assert "Costs" not in text


def test_the_weights_table_holds_each_questions_push_on_each_pattern() -> None:
    table = patterns.weights()

    assert KEYS == list(table.index)
    assert [p.value for p in Pattern] == list(table.columns)
    assert [3, -2] == [table.loc["audit_required", ES], table.loc["simple_crud", CQRS]]


def test_every_checklist_lists_each_set_of_answers_once_starting_with_all_no() -> None:
    every = list(patterns.every_checklist())

    assert 2 ** len(KEYS) == len({tuple(a.values()) for a in every})
    assert patterns.checklist() == every[0]


# -- bad input -------------------------------------------------------------------------------
def test_an_unknown_question_is_refused_with_the_list_of_valid_ones() -> None:
    with pytest.raises(
        InvalidArgument, match="unknown question 'audit'; .*: several_consumers, .*audit_required, "
    ):
        patterns.recommend({"audit": True})
    with pytest.raises(InvalidArgument, match="unknown question 'audit'"):
        patterns.checklist("audit")


@pytest.mark.parametrize("value", [1, 0, "yes", None, 1.0])
def test_an_answer_that_is_not_true_or_false_is_refused_naming_key_and_value(
    value: object,
) -> None:
    with pytest.raises(InvalidArgument, match=f"'read_heavy' must be True or False, got {value!r}"):
        patterns.recommend({"read_heavy": value})  # type: ignore[dict-item]


def test_answers_that_are_not_a_mapping_are_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"must be a mapping .*got \['read_heavy'\]"):
        patterns.recommend(["read_heavy"])  # type: ignore[arg-type]


def test_recommend_leaves_the_answers_it_was_given_unchanged() -> None:
    answers = {"read_heavy": True}

    patterns.recommend(answers)

    assert {"read_heavy": True} == answers
