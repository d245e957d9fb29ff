"""Driving a real JupyterLab in a real Chromium, for the browser tests.

The lab serves a copy of the notebooks from a temporary folder, with its own settings, so a
run never saves into the repository, never trusts anything for the user, and never reads
the user's Jupyter settings. The browser is the system's Chromium (Playwright downloads
none); without one the tests fail with a line saying how to install it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Every cell attached to the page (so every markdown cell renders), no news, no update check.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
}


def chromium() -> str:
    """The system Chromium: $EVENTSIM_CHROMIUM, or the first `chromium` on the PATH."""
    found = os.environ.get("EVENTSIM_CHROMIUM") or shutil.which("chromium")
    if not found or not Path(found).is_file():
        pytest.fail(
            "no Chromium found for the browser test: install it with `apt-get install -y "
            "chromium` (Debian/Ubuntu), or set EVENTSIM_CHROMIUM to a Chromium or Chrome binary",
            pytrace=False,
        )
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Lab:
    """A JupyterLab server on 127.0.0.1 with a token, serving ``root``."""

    def __init__(self, home: Path) -> None:
        self.root = home / "notebooks"
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.home = home

    def start(self) -> subprocess.Popen[bytes]:
        settings = self.home / "lab-settings"
        for plugin, values in LAB_SETTINGS.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = os.environ | {
            "JUPYTER_CONFIG_DIR": str(self.home / "config"),
            "JUPYTER_DATA_DIR": str(self.home / "data-dir"),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.home / "workspaces"),
        }
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ]
        with (self.home / "lab.log").open("wb") as log:  # the server keeps its own handle
            return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def wait_until_up(self, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.poll() is not None:
                log = (self.home / "lab.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"JupyterLab exited with {server.returncode}:\n{log}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"JupyterLab did not answer on port {self.port} in {timeout} s")


# Two cells the markdown test needs to see rendered before it can trust what it finds:
# maths meant as maths, and a Mermaid diagram. They come last: the lab renders in order.
CONTROL_MATHS = "Maths on purpose: $x^2 + y^2$."
CONTROL_MERMAID = "```mermaid\nflowchart LR\n  command --> decide --> events --> evolve\n```"
MARKDOWN_NOTEBOOK = "markdown_of_the_course.ipynb"


def course_markdown_cells() -> list[tuple[str, str]]:
    """Every distinct markdown cell of the course, as (notebook and cell, source), then the
    two control cells; the lab serves them as one notebook, MARKDOWN_NOTEBOOK."""
    cells: dict[str, str] = {}
    notebooks = ROOT / "notebooks"
    for path in sorted([*notebooks.glob("*.ipynb"), *notebooks.glob("exercises/*.ipynb")]):
        for index, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "markdown":
                where = f"{path.relative_to(notebooks)} cell {index}"
                cells.setdefault("".join(cell["source"]), where)
    return [
        *((where, source) for source, where in cells.items()),
        ("control", CONTROL_MATHS),
        ("control", CONTROL_MERMAID),
    ]


def markdown_notebook(cells: list[tuple[str, str]]) -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": "markdown", "metadata": {}, "source": s} for _, s in cells],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


@contextmanager
def running_lab(home: Path, markdown: list[tuple[str, str]]) -> Iterator[Lab]:
    """A lab on a copy of notebooks/ plus the course's markdown as one notebook, with data/
    linked beside it (notebooks find it upwards); stopped on leaving."""
    lab = Lab(home)
    lab.root.mkdir()
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, lab.root / notebook.name)
    (lab.root / MARKDOWN_NOTEBOOK).write_text(markdown_notebook(markdown))
    (home / "data").symlink_to(ROOT / "data")
    server = lab.start()
    try:
        lab.wait_until_up(server)
        yield lab
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextmanager
def launched_chromium(executable: str, profile: Path) -> Iterator[BrowserContext]:
    """The system Chromium, headless, with a fresh profile; closed on leaving."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


NOTEBOOK = "#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
RUN_TIMEOUT_MS = 120_000


def notebook_calling(call: str) -> tuple[str, int]:
    """The solved notebook with a code cell calling ``call``, and that cell's index."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        for index, cell in enumerate(cells):
            if cell["cell_type"] == "code" and call in "".join(cell["source"]):
                return path.name, index
    raise AssertionError(f"no notebook in notebooks/ calls {call}")


def open_notebook(page: Page, name: str, *, kernel: bool = True) -> Locator:
    """Open ``name`` from the file browser; with ``kernel``, wait until its kernel is idle."""
    page.locator("#filebrowser .jp-DirListing-itemText", has_text=name).dblclick()
    page.locator(".lm-DockPanel-tabBar .lm-mod-current", has_text=name).wait_for()
    if kernel:
        idle = page.locator(".jp-StatusBar-TextItem", has_text="| Idle")
        idle.wait_for(timeout=RUN_TIMEOUT_MS)
    return page.locator(NOTEBOOK)


def run_all(page: Page, notebook: Locator) -> None:
    """Run > Run All Cells, then wait until every code cell has run (or fail on a traceback)."""
    page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    prompts = f"{NOTEBOOK} .jp-CodeCell .jp-InputArea-prompt"
    done = f"""() => {{
      const tracebacks = [...document.querySelectorAll('{NOTEBOOK} .jp-OutputArea-output')]
        .filter(o => o.textContent.includes('Traceback'));
      if (tracebacks.length) return 'error: ' + tracebacks[0].textContent.slice(-600);
      const prompts = [...document.querySelectorAll('{prompts}')].map(p => p.textContent);
      return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p)) ? 'done' : false;
    }}"""
    outcome = page.wait_for_function(done, timeout=RUN_TIMEOUT_MS, polling=250).json_value()
    assert "done" == outcome, f"Run All stopped: {outcome}"


def widget_in(notebook: Locator, cell: int) -> Locator:
    """The widget that the code cell at ``cell`` displays (its outermost box)."""
    output = notebook.locator(".jp-Cell").nth(cell).locator(".jp-Cell-outputArea")
    widget = output.locator(".jupyter-widgets").first
    widget.wait_for()
    assert "VBox(" not in output.inner_text(), "the widget shows as text, not as a control"
    return widget


def set_slider(slider: Locator, value: int) -> None:
    """Type a value into the slider's readout, as a learner can, and press Enter."""
    readout = slider.locator(".widget-readout")
    readout.click()
    readout.press("Control+a")
    readout.type(str(value))
    readout.press("Enter")


def changes_to(element: Locator, before: str) -> str:
    """Wait until the element's text differs from ``before`` (it may be redrawn); return it."""
    expect(element).not_to_have_text(before)
    return element.inner_text()


def screenshot(element: Locator, folder: Path, name: str) -> None:
    """Save the element as PNG, the window made tall enough to show all of it at once."""
    page = element.page
    size = page.viewport_size or {"width": 1280, "height": 900}
    height = int(element.evaluate("e => e.getBoundingClientRect().height")) + 300
    if height > size["height"]:  # resizing lays the whole lab out again: only when needed
        page.set_viewport_size({"width": size["width"], "height": height})
    try:
        element.scroll_into_view_if_needed()
        element.screenshot(path=folder / f"{name}.png")
    finally:
        if height > size["height"]:
            page.set_viewport_size(size)
