"""The pattern checklist (notebook 13): tick what is true of a system, read the verdict."""

from __future__ import annotations

import html
from collections.abc import Mapping

import ipywidgets

from eventsim.choosing import patterns
from eventsim.widgets.figures import html_output


def _link(notebook: str) -> str:
    # No target="_blank": JupyterLab opens a relative notebook link in a tab of the same
    # lab, while a new browser window would start a second JupyterLab.
    name = html.escape(notebook)
    return f'<a href="{name}">{html.escape(notebook.removesuffix(".ipynb"))}</a>'


def render_recommendation(rec: patterns.Recommendation) -> str:
    """The recommendation as HTML: verdict, scores, reasons and costs linked to notebooks.

    >>> print(render_recommendation(patterns.recommend({"audit_required": True})).splitlines()[1])
    <h4>Recommendation: event sourcing alone</h4>
    """
    scores = ", ".join(f"{p.value} {rec.scores[p]:+d}" for p in patterns.Pattern)
    parts = [
        f"<h4>Recommendation: {html.escape(rec.verdict)}</h4>",
        f"<p>Scores: {html.escape(scores)} (a pattern is used when its score is above 0)</p>",
    ]
    parts += [
        f"<p>{html.escape(p.value)} is ruled out by a yes to "
        f"{html.escape(patterns.ruled_out_by(p))}.</p>"
        for p in patterns.Pattern
        if p in rec.ruled_out
    ]
    if not rec.reasons:
        parts.append("<p>No answer calls for any of the three: one model, one database.</p>")
    else:
        reasons = [
            f"<li>{'&#9650;' if r.weight > 0 else '&#9660;'} {html.escape(r.pattern.value)} "
            f"{r.weight:+d} (<code>{html.escape(r.question)}</code>): "
            f"{html.escape(r.why)} ({_link(r.notebook)})</li>"
            for r in rec.reasons
        ]
        parts += ["<p><b>Why</b></p>", "<ul>", *reasons, "</ul>"]
    if rec.warnings:
        costs = [
            f"<li><b>{html.escape(c.topic)}</b>: {html.escape(c.text)} ({_link(c.notebook)})</li>"
            for c in rec.warnings
        ]
        parts += ["<p><b>Costs you take on</b></p>", "<ul>", *costs, "</ul>"]
    if rec.alternatives:
        plainer = [
            f"<li><b>{html.escape(a.name)}</b> for <code>{html.escape(a.question)}</code>: "
            f"{html.escape(a.text)} ({_link(a.notebook)})</li>"
            for a in rec.alternatives
        ]
        parts += ["<p><b>Instead of a pattern</b></p>", "<ul>", *plainer, "</ul>"]
    return "\n".join(["<div>", *parts, "</div>"])


def render_best_practices() -> str:
    """The course's best practices as an HTML table, each linked to its notebook."""
    rows = [
        f"<tr><td>{html.escape(p.text)}</td><td>{_link(p.notebook)}</td></tr>"
        for p in patterns.BEST_PRACTICES
    ]
    head = "<tr><th>best practice</th><th>shown in</th></tr>"
    return "\n".join(["<table>", head, *rows, "</table>"])


class HtmlBlock(str):
    """A string that a notebook shows rendered as HTML rather than as markup text."""

    def _repr_html_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"<HTML, {len(self)} characters>"


def pattern_checklist(answers: Mapping[str, bool] | None = None) -> ipywidgets.VBox:
    """One checkbox per question and a recommendation that follows every tick."""
    start = patterns.checklist() | dict(answers or {})
    patterns.recommend(start)  # refuses bad answers before any widget is built
    boxes = {
        key: ipywidgets.Checkbox(
            value=start[key],
            description=question.text,
            indent=False,
            layout=ipywidgets.Layout(width="auto"),
        )
        for key, question in patterns.QUESTIONS.items()
    }
    # An Output widget, not an HTML widget: JupyterLab renders its HTML like a cell's output,
    # so a link to a notebook opens in a tab of this lab instead of a second lab in the browser.
    panel = ipywidgets.Output()

    def show(_: object = None) -> None:
        chosen = {key: box.value for key, box in boxes.items()}
        panel.outputs = (html_output(render_recommendation(patterns.recommend(chosen))),)

    for box in boxes.values():
        box.observe(show, names="value")
    show()
    caption = ipywidgets.Label("Tick what is true of your system:")
    return ipywidgets.VBox([caption, *boxes.values(), panel])
