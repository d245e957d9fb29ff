"""The pattern checklist widget: its HTML renderers, and the checkboxes wired to them."""

from __future__ import annotations

import re

import ipywidgets
import pytest

from eventsim import InvalidArgument, widgets
from eventsim.choosing import patterns
from eventsim.choosing.patterns import EDA, ES, Pattern


def links(markup: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', markup)


def panel_of(checklist: ipywidgets.VBox) -> str:
    """The recommendation the checklist shows: the HTML of its Output panel."""
    (shown,) = checklist.children[-1].outputs
    return str(shown["data"]["text/html"])


def boxes_of(checklist: ipywidgets.VBox) -> dict[str, ipywidgets.Checkbox]:
    return dict(zip(patterns.QUESTIONS, checklist.children[1:-1], strict=True))


def test_the_rendered_recommendation_shows_the_verdict_and_the_scores() -> None:
    rec = patterns.recommend(patterns.checklist("several_consumers", "audit_required"))

    markup = widgets.render_recommendation(rec)

    assert "<h4>Recommendation: EDA + event sourcing</h4>" in markup
    assert "Scores: EDA +2, event sourcing +3, CQRS +0" in markup


def test_every_reason_and_every_cost_is_a_list_item_linked_to_its_notebook() -> None:
    rec = patterns.recommend(patterns.checklist("several_consumers", "team_new", "rich_domain"))

    markup = widgets.render_recommendation(rec)

    expected = [r.notebook for r in rec.reasons] + [c.notebook for c in rec.warnings]
    assert expected == links(markup)
    assert len(expected) == markup.count("<li>")


def test_reasons_for_and_against_are_marked_with_up_and_down_arrows() -> None:
    rec = patterns.recommend(patterns.checklist("simple_crud", "read_heavy"))

    markup = widgets.render_recommendation(rec)

    pushes = [r.weight > 0 for r in rec.reasons]
    arrows = re.findall(r"<li>(&#9650;|&#9660;)", markup)
    assert ["&#9650;" if up else "&#9660;" for up in pushes] == arrows


def test_a_ruled_out_pattern_and_each_plainer_tool_are_shown_with_its_link() -> None:
    rec = patterns.recommend(patterns.checklist("simple_crud", "audit_required"))

    markup = widgets.render_recommendation(rec)

    assert "event sourcing is ruled out by a yes to simple_crud" in markup
    assert "<b>an audit log (or CDC)</b> for <code>audit_required</code>" in markup
    assert rec.alternatives[0].notebook in links(markup)


def test_links_open_in_the_same_lab_not_a_new_window() -> None:
    markup = widgets.render_recommendation(patterns.recommend({"audit_required": True}))

    assert "<a href=" in markup and "target=" not in markup


def test_plain_crud_is_rendered_with_no_reasons_and_no_costs() -> None:
    markup = widgets.render_recommendation(patterns.recommend({}))

    assert "Recommendation: plain CRUD (none of the three)" in markup
    assert "No answer calls for any of the three" in markup
    assert [] == links(markup)


def test_text_from_the_data_is_escaped_so_it_cannot_break_the_markup() -> None:
    reason = patterns.Reason("q", EDA, 1, "a <b> & c", "x.ipynb")
    rec = patterns.Recommendation(frozenset({EDA}), dict.fromkeys(Pattern, 0), (reason,), ())

    markup = widgets.render_recommendation(rec)

    assert "a &lt;b&gt; &amp; c" in markup
    assert "<b> &" not in markup


def test_the_best_practices_table_has_one_linked_row_per_practice() -> None:
    markup = widgets.render_best_practices()

    assert [p.notebook for p in patterns.BEST_PRACTICES] == links(markup)
    assert len(patterns.BEST_PRACTICES) + 1 == markup.count("<tr>")


def test_an_html_block_renders_as_its_markup_and_has_a_short_stable_repr() -> None:
    block = widgets.HtmlBlock("<p>hi</p>")

    assert "<p>hi</p>" == block._repr_html_()
    assert "<HTML, 9 characters>" == repr(block)


def test_the_checklist_has_one_checkbox_per_question_ticked_as_given() -> None:
    checklist = widgets.pattern_checklist({"audit_required": True})

    boxes = boxes_of(checklist)
    assert [q.text for q in patterns.QUESTIONS.values()] == [b.description for b in boxes.values()]
    assert ["audit_required"] == [key for key, box in boxes.items() if box.value]


def test_the_panel_starts_with_the_recommendation_for_the_given_answers() -> None:
    checklist = widgets.pattern_checklist({"audit_required": True})

    expected = widgets.render_recommendation(patterns.recommend({"audit_required": True}))
    assert expected == panel_of(checklist)


def test_ticking_and_unticking_a_box_updates_the_recommendation() -> None:
    checklist = widgets.pattern_checklist()
    box = boxes_of(checklist)["audit_required"]

    box.value = True
    ticked = panel_of(checklist)
    box.value = False

    assert f"Recommendation: {ES.value} alone" in ticked
    assert "Recommendation: plain CRUD" in panel_of(checklist)


def test_a_checklist_with_a_bad_answer_is_refused_before_it_is_built() -> None:
    with pytest.raises(InvalidArgument, match="unknown question 'audit'"):
        widgets.pattern_checklist({"audit": True})
    with pytest.raises(InvalidArgument, match="'audit_required' must be True or False"):
        widgets.pattern_checklist({"audit_required": "yes"})  # type: ignore[dict-item]


def test_the_recommendation_is_an_output_the_lab_renders_so_its_links_stay_in_the_lab() -> None:
    # An HTML widget's links bypass JupyterLab and open a second lab; an Output's HTML is
    # rendered by the lab, which opens a linked notebook in a tab (tests/browser clicks one).
    checklist = widgets.pattern_checklist({"several_consumers": True})

    panel = checklist.children[-1]
    assert isinstance(panel, ipywidgets.Output)
    assert [] == [c for c in checklist.children if isinstance(c, ipywidgets.HTML)]
    assert links(panel_of(checklist)), "expected links to notebooks in the recommendation"
