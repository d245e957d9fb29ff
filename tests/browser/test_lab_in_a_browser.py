"""The course as a learner sees it: JupyterLab in Chromium, the widgets moved, the prose read.

One lab and one browser page serve every test here (the driver is tests/browser/lab_driver.py).
Each widget test opens the solved notebook that builds the widget, runs it with "Run All",
then moves the control the way a learner does and watches the widget's output change.
Screenshots of what the tests saw are saved in pytest's temporary folder (``screenshots*``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.lab_driver import (
    Lab,
    changes_to,
    chromium,
    course_markdown_cells,
    launched_chromium,
    notebook_calling,
    open_notebook,
    run_all,
    running_lab,
    screenshot,
    set_slider,
    widget_in,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser_executable() -> str:
    return chromium()


@pytest.fixture(scope="module")
def course_markdown() -> list[tuple[str, str]]:
    return course_markdown_cells()


@pytest.fixture(scope="module")
def lab(
    browser_executable: str,
    course_markdown: list[tuple[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("lab"), course_markdown) as lab:
        yield lab


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests save what they saw (PNG), kept with pytest's temporary folders."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser(
    browser_executable: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    with launched_chromium(browser_executable, tmp_path_factory.mktemp("profile")) as context:
        yield context


@pytest.fixture(scope="module")
def page(lab: Lab, browser: BrowserContext) -> Page:
    """The lab's page, open on the file browser; the tests open notebooks from there."""
    page = browser.pages[0] if browser.pages else browser.new_page()
    page.goto(lab.url("lab"))
    page.locator(".jp-DirListing-item").first.wait_for(timeout=60_000)
    return page


_ran: set[str] = set()


def ran_notebook(page: Page, name: str) -> Locator:
    """The notebook open in the lab after one Run All in this session."""
    notebook = open_notebook(page, name)
    if name not in _ran:
        run_all(page, notebook)
        _ran.add(name)
    return notebook


def test_the_time_travel_slider_replays_the_account_to_the_chosen_version(
    page: Page, screenshots: Path
) -> None:
    name, cell = notebook_calling("widgets.time_travel(")
    notebook = ran_notebook(page, name)
    widget = widget_in(notebook, cell)
    slider = widget.locator(".widget-slider")
    shown = widget.locator(".widget-output")
    before = shown.inner_text()

    set_slider(slider, 5)

    after = changes_to(shown, before)
    assert after.startswith("version 5 of "), after[:200]
    screenshot(widget, screenshots, "time_travel")


# The first thing the lag explorer's Output widget shows: its one-sentence summary.
SUMMARY = ".widget-output .jp-OutputArea-output"


def test_the_lag_explorer_reads_out_whole_numbers_and_follows_its_sliders(
    page: Page, screenshots: Path
) -> None:
    name, cell = notebook_calling("widgets.lag_explorer(")
    notebook = ran_notebook(page, name)
    widget = widget_in(notebook, cell)
    rate, cost = widget.locator(".widget-slider").all()
    summary = widget.locator(SUMMARY).first
    before = summary.inner_text()

    assert ["20", "30"] == [s.locator(".widget-readout").inner_text() for s in (rate, cost)]
    set_slider(rate, 50)

    assert changes_to(summary, before).startswith("50 writes/s x 30 ms"), before
    screenshot(widget, screenshots, "lag_explorer")


def test_the_lag_summary_wraps_between_words_at_any_window_width(
    page: Page, screenshots: Path
) -> None:
    name, cell = notebook_calling("widgets.lag_explorer(")
    notebook = ran_notebook(page, name)
    summary = widget_in(notebook, cell).locator(SUMMARY).first
    seen = {}
    try:
        for width in range(600, 960, 30):  # where a line breaks moves with the width
            page.set_viewport_size({"width": width, "height": 900})
            seen[width] = summary.evaluate(LINES_AND_BROKEN_WORDS)
        page.set_viewport_size({"width": 720, "height": 900})
        screenshot(summary, screenshots, "lag_summary_narrow")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})

    wrapped = [width for width, (lines, _) in seen.items() if lines > 1]
    assert len(wrapped) >= 3, f"the summary should wrap in a narrow window: {seen}"
    assert {} == {width: broken for width, (_, broken) in seen.items() if broken}


# Each word of the element's text as a DOM range: a word cut across two lines has boxes
# at two heights. Also how many lines the whole text takes.
LINES_AND_BROKEN_WORDS = """element => {
  const range = document.createRange(), broken = [], tops = new Set();
  const texts = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let text = texts.nextNode(); text; text = texts.nextNode()) {
    for (const match of text.textContent.matchAll(/\\S+/g)) {
      range.setStart(text, match.index);
      range.setEnd(text, match.index + match[0].length);
      const heights = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      heights.forEach(top => tops.add(top));
      if (heights.size > 1) broken.push(match[0]);
    }
  }
  return [tops.size, broken];
}"""


def test_the_pattern_checklist_follows_its_ticks_and_opens_links_inside_the_lab(
    page: Page, browser: BrowserContext, screenshots: Path
) -> None:
    name, cell = notebook_calling("widgets.pattern_checklist(")
    notebook = ran_notebook(page, name)
    widget = widget_in(notebook, cell)
    boxes = widget.locator(".widget-checkbox input[type=checkbox]")
    panel = widget.locator(".widget-html, .widget-output").last  # the recommendation
    before = panel.inner_text()
    screenshot(widget, screenshots, "pattern_checklist")

    assert boxes.count() > 5
    boxes.nth(0).click()
    assert before != changes_to(panel, before)

    link = panel.locator("a").first
    target = link.inner_text()
    pages = len(browser.pages)
    link.click()

    tab = page.locator(".lm-DockPanel-tabBar .lm-mod-current", has_text=target)
    for _ in range(120):  # a new tab in this lab, or a new browser window: whichever comes
        if tab.count() or len(browser.pages) > pages:
            break
        page.wait_for_timeout(250)
    assert pages == len(browser.pages), "the link opened another browser window"
    assert 1 == tab.count(), f"the link did not open {target} in the lab"


MATHS = "mjx-container, .MathJax, .katex"
MERMAID = ".jp-RenderedMermaid"


@pytest.fixture(scope="module")
def markdown_cells(page: Page, course_markdown: list[tuple[str, str]]) -> Locator:
    """Every markdown cell of the course rendered by the lab, the two controls last."""
    # Written by the lab fixture; only markdown, so its kernel is not waited for.
    notebook = open_notebook(page, "markdown_of_the_course.ipynb", kernel=False)
    cells = notebook.locator(".jp-MarkdownCell")
    # Five hundred cells take the lab a while on a busy machine: expect's default 5 s is
    # too short (the page's own default, 30 s, applies to the waits below).
    expect(cells).to_have_count(len(course_markdown), timeout=60_000)
    # The lab renders cells in order: once the last ones are drawn, all are.
    cells.nth(-2).locator(MATHS).first.wait_for()
    cells.nth(-1).locator(f"{MERMAID} svg, {MERMAID} img").first.wait_for()
    return cells


def test_no_markdown_cell_is_read_as_maths(
    markdown_cells: Locator, course_markdown: list[tuple[str, str]]
) -> None:
    # A pair of dollar signs in prose ("above $2,000 ... $500") is typeset as maths, garbled.
    # MathJax runs on the rendered page, after Markdown has turned \$ and &#36; into $, so
    # only a code span (which MathJax skips) or no sign at all keeps an amount as text.
    found = markdown_cells.evaluate_all(GARBLED)

    garbled = [
        f"{course_markdown[i][0]}: ...{text}..." for i, text in enumerate(found[:-2]) if text
    ]
    assert [] == garbled, (
        "prose typeset as maths: JupyterLab reads a pair of $ as maths even when written \\$ "
        "or &#36;; put amounts in backticks (`$475`) or write them without the sign"
    )
    assert found[-2], "the control cell's maths was not typeset"


# For each cell, the text around its first typeset maths ("" when it has none).
GARBLED = f"""cells => cells.map(c => {{
  const maths = c.querySelector('{MATHS}');
  if (!maths) return '';
  const around = maths.parentElement.textContent, at = around.indexOf(maths.textContent);
  return around.slice(Math.max(0, at - 40), at + 40).replace(/\\s+/g, ' ');
}})"""


def test_every_mermaid_diagram_is_drawn(
    markdown_cells: Locator, course_markdown: list[tuple[str, str]], screenshots: Path
) -> None:
    diagrams = markdown_cells.evaluate_all(
        f"""cells => cells.map(c => [...c.querySelectorAll('{MERMAID}')].map(
          d => !d.classList.contains('jp-mod-warning') && !!d.querySelector('svg, img')))"""
    )
    with_diagrams = [i for i, drawn in enumerate(diagrams) if drawn]
    failed = [i for i in with_diagrams if not all(diagrams[i])]
    # A picture of the first diagram, the control's, and each that failed (screenshots are slow).
    for i in sorted({with_diagrams[0], with_diagrams[-1], *failed}):
        where = re.sub(r"\W+", "_", course_markdown[i][0])
        screenshot(markdown_cells.nth(i), screenshots, f"mermaid_{where}")

    failed = [course_markdown[i][0] for i in failed]
    assert [] == failed, "a Mermaid diagram did not render: open the cell in the lab to see why"
    assert len(course_markdown) - 1 in with_diagrams
